import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DAEMON, holdSection, spawnDaemon, waitConnectable, type Holder, type Proc } from '../helpers/lifecycle-daemon.js';
import { makeSim, relaySim, type SimFixture } from '../helpers/lifecycle-sim.js';
import { startNotifyListener, type NotifyListener } from '../helpers/notify-listener.js';

let sim: SimFixture;
let daemons: Proc[] = [];
let holders: Holder[] = [];
let listener: NotifyListener | undefined;
let socket: string;
const extraPids: number[] = [];

beforeEach(() => {
  sim = makeSim('4xxx:2x4', 'qat-sd-');
  socket = path.join(sim.roots.run, 'qatmgr.sock');
});
afterEach(async () => {
  for (const h of holders) await h.kill();
  for (const d of daemons) if (d.proc.exitCode === null && d.proc.signalCode === null) { d.proc.kill('SIGKILL'); await d.exited; }
  for (const p of extraPids.splice(0)) { try { process.kill(p, 'SIGKILL'); } catch { /* gone */ } }
  listener?.close();
  listener = undefined;
  holders = [];
  daemons = [];
  sim.cleanup();
});

function notifyEnv(extra: Record<string, string> = {}): Record<string, string> {
  listener = startNotifyListener(path.join(sim.dir, 'notify'));
  return { NOTIFY_SOCKET: listener.address, ...extra };
}

describe('under a service manager (NOTIFY_SOCKET)', () => {
  it('sends READY=1 with the status line only once the socket accepts connections', async () => {
    const env = notifyEnv();
    const d = spawnDaemon(sim.args, env, false);
    daemons.push(d);
    const ready = await listener!.waitFor((m) => m.startsWith('READY=1'), 10_000);
    expect(ready).toBe('READY=1\nSTATUS=4 sections, 0 held, 8 VFs, 2 PFs');
    // READY came after listen(): the socket accepts at this very moment
    expect(await waitConnectable(socket, 200)).toBeLessThan(200);
    // no fork under a service manager: the daemon is the process that was started, with a pid file
    expect(fs.readFileSync(path.join(sim.roots.run, 'qatmgr.pid'), 'utf8')).toBe(`${d.pid}\n`);
  });

  it('keeps STATUS= current as sections are granted and released', async () => {
    const d = spawnDaemon(sim.args, notifyEnv());
    daemons.push(d);
    await listener!.waitFor((m) => m.startsWith('READY=1'));
    const h = await holdSection(socket);
    holders.push(h);
    await listener!.waitFor((m) => m === 'STATUS=4 sections, 1 held, 8 VFs, 2 PFs');
    await h.kill();
    holders = [];
    await listener!.waitFor((m) => m === 'STATUS=4 sections, 0 held, 8 VFs, 2 PFs' && listener!.messages.indexOf(m) > 0);
  });

  it('feeds the watchdog at half of WATCHDOG_USEC', async () => {
    const d = spawnDaemon(sim.args, notifyEnv({ WATCHDOG_USEC: '200000' }));
    daemons.push(d);
    await listener!.waitFor((m) => m.startsWith('READY=1'));
    await new Promise((r) => setTimeout(r, 550));
    expect(listener!.messages.filter((m) => m === 'WATCHDOG=1').length).toBeGreaterThanOrEqual(4);
  });

  it('sends STOPPING=1 on SIGTERM and leaves no socket and no pid file, but keeps the ledger', async () => {
    const d = spawnDaemon(sim.args, notifyEnv(), false);
    daemons.push(d);
    await listener!.waitFor((m) => m.startsWith('READY=1'));
    const h = await holdSection(socket);
    holders.push(h);
    d.proc.kill('SIGTERM');
    expect((await d.exited).code).toBe(0);
    expect(listener!.messages.some((m) => m.startsWith('STOPPING=1'))).toBe(true);
    expect(fs.readdirSync(sim.roots.run)).toEqual(['qatmgr.ledger']);
    // the client still lives and keeps its VFs: the ledger still names it for the next daemon
    expect(JSON.parse(fs.readFileSync(path.join(sim.roots.run, 'qatmgr.ledger'), 'utf8')).entries.map((e: { pid: number }) => e.pid)).toEqual([h.pid]);
  });

  it('on SIGHUP sends RELOADING=1 then READY=1, adds new VFs and keeps a held section\'s VFs', async () => {
    const d = spawnDaemon(sim.args, notifyEnv());
    daemons.push(d);
    await listener!.waitFor((m) => m.startsWith('READY=1'));
    const h = await holdSection(socket);
    holders.push(h);
    relaySim(sim, '4xxx:2x8');
    const n = listener!.messages.length;
    d.proc.kill('SIGHUP');
    await listener!.waitFor((m) => m.startsWith('READY=1') && listener!.messages.indexOf(m) >= n);
    const after = listener!.messages.slice(n);
    expect(after[0]).toMatch(/^RELOADING=1/);
    expect(after.find((m) => m.startsWith('READY=1'))).toBe('READY=1\nSTATUS=8 sections, 1 held, 16 VFs, 2 PFs');
    const r = await d.waitLog((l) => l.event === 'rescan');
    expect(r).toMatchObject({ sectionsBefore: 4, sectionsAfter: 8, added: 8, removed: 0 });
    // the holder still has its section; a newcomer gets another one, disjoint from it
    const n2 = await holdSection(socket);
    holders.push(n2);
    expect(n2.section).not.toBe(h.section);
    for (const vf of n2.vfs) expect(h.vfs).not.toContain(vf);
  });

  it('keeps serving the previous devices when a rescan fails, and says why', async () => {
    const d = spawnDaemon(sim.args, notifyEnv());
    daemons.push(d);
    await listener!.waitFor((m) => m.startsWith('READY=1'));
    fs.rmSync(path.join(sim.roots.dev, 'vfio'), { recursive: true });
    d.proc.kill('SIGHUP');
    const line = await d.waitLog((l) => l.event === 'rescan_failed');
    expect(line.msg).toMatch(/still serving the previous devices: .*vfio/);
    const h = await holdSection(socket);
    holders.push(h);
    expect(h.section).toBe('SSL_INT_0');
  });
});

describe('socket activation', () => {
  it.skipIf(!fs.existsSync('/usr/bin/systemd-socket-activate'))('is started by the first connection, serves it on fd 3, and never unlinks the manager\'s socket', async () => {
    fs.mkdirSync(sim.roots.run, { recursive: true });
    const mgr = spawn('/usr/bin/systemd-socket-activate', ['-l', socket, '--fdname=qat.socket', process.execPath, DAEMON, '--foreground', '-d', '1', ...sim.args], { stdio: ['ignore', 'pipe', 'pipe'] });
    extraPids.push(mgr.pid!);
    for (let i = 0; i < 100 && !fs.existsSync(socket); i++) await new Promise((r) => setTimeout(r, 20));
    const h = await holdSection(socket);
    holders.push(h);
    expect(h.section).toBe('SSL_INT_0');
    // systemd-socket-activate execs the daemon in its own process
    mgr.kill('SIGTERM');
    await new Promise((r) => mgr.once('exit', r));
    expect(fs.existsSync(socket)).toBe(true);
  });
});

describe('socket activation of metrics (qat-metrics.socket)', () => {
  it.skipIf(!fs.existsSync('/usr/bin/systemd-socket-activate'))('serves Prometheus metrics on the TCP listener systemd passes as qat-metrics.socket, next to the client socket', async () => {
    fs.mkdirSync(sim.roots.run, { recursive: true });
    const port = 20000 + Math.floor(Math.random() * 20000);
    const mgr = spawn('/usr/bin/systemd-socket-activate', ['-l', socket, '-l', `127.0.0.1:${port}`, '--fdname=qat.socket:qat-metrics.socket', process.execPath, DAEMON, '--foreground', ...sim.args], { stdio: ['ignore', 'pipe', 'pipe'] });
    extraPids.push(mgr.pid!);
    for (let i = 0; i < 100 && !fs.existsSync(socket); i++) await new Promise((r) => setTimeout(r, 20));
    const h = await holdSection(socket);
    holders.push(h);
    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toMatch(/^qatmgr_sections\{state="held"\} 1$/m);
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    mgr.kill('SIGTERM');
    await new Promise((r) => mgr.once('exit', r));
  });
});

describe('background mode (no --foreground, no service manager)', () => {
  it('the starting process exits 0 once the detached daemon serves; the pid file names the daemon', async () => {
    const r = spawnSync(process.execPath, [DAEMON, ...sim.args], { encoding: 'utf8', timeout: 15_000, env: { ...process.env, NOTIFY_SOCKET: '', LISTEN_FDS: '' } });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const pid = Number(fs.readFileSync(path.join(sim.roots.run, 'qatmgr.pid'), 'utf8'));
    extraPids.push(pid);
    expect(pid).not.toBe(r.pid);
    const h = await holdSection(socket);
    holders.push(h);
    expect(h.section).toBe('SSL_INT_0');
    process.kill(pid, 'SIGTERM');
    // the daemon unlinks the socket, then the pid file, then exits: wait for the exit before looking
    const alive = (): boolean => {
      try { return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8')); } catch { return false; } // a zombie has exited
    };
    for (let i = 0; i < 250 && alive(); i++) await new Promise((res) => setTimeout(res, 20));
    expect(alive()).toBe(false);
    expect(fs.existsSync(socket)).toBe(false);
    expect(fs.existsSync(path.join(sim.roots.run, 'qatmgr.pid'))).toBe(false);
  });

  it('prints the daemon\'s whole start-up error and exits 1', () => {
    fs.rmSync(path.join(sim.roots.dev, 'vfio'), { recursive: true });
    const r = spawnSync(process.execPath, [DAEMON, ...sim.args], { encoding: 'utf8', timeout: 15_000, env: { ...process.env, NOTIFY_SOCKET: '', LISTEN_FDS: '' } });
    expect(r.status, `stderr: ${r.stderr}`).toBe(1);
    expect(r.stderr).toContain(`${path.join(sim.roots.dev, 'vfio')}: cannot list VFIO groups (is vfio-pci loaded?) [QATMGR_E_NO_VFIO_DIR]`);
    expect(fs.existsSync(path.join(sim.roots.run, 'qatmgr.pid'))).toBe(false);
  });

  it('refuses to start while another qatmgr serves the same run directory', async () => {
    const first = spawnSync(process.execPath, [DAEMON, ...sim.args], { encoding: 'utf8', timeout: 15_000, env: { ...process.env, NOTIFY_SOCKET: '', LISTEN_FDS: '' } });
    expect(first.status).toBe(0);
    const pid = Number(fs.readFileSync(path.join(sim.roots.run, 'qatmgr.pid'), 'utf8'));
    extraPids.push(pid);
    const second = spawnSync(process.execPath, [DAEMON, ...sim.args], { encoding: 'utf8', timeout: 15_000, env: { ...process.env, NOTIFY_SOCKET: '', LISTEN_FDS: '' } });
    expect(second.status).toBe(1);
    expect(second.stderr).toContain(`Another qatmgr is running -- pid=${pid}`);
    void net;
  });
});
