// The daemon process: start-up errors with their exit statuses, socket safety and permissions, clean SIGTERM.

import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { startDaemon, runDaemonToExit, hostArgs, canConnect } from '../helpers/daemon.js';
import { simHost, tmpDir } from '../helpers/sim.js';
import { QatClient } from '../../src/client/qatclient.js';

describe('daemon start-up and shutdown', () => {
  it('prints the upstream version and the usage', async () => {
    expect((await runDaemonToExit(['--version'])).stdout).toBe('qatmgr-ts 0.2.0 (qatlib protocol 26.08)\n');
    const h = await runDaemonToExit(['-h']);
    expect(h.code).toBe(0);
    expect(h.stdout).toMatch(/--policy=POLICY/);
  });

  it('exits 1 naming the file and line of a bad POLICY, before touching the socket', async () => {
    const host = simHost('4xxx:1x2');
    fs.writeFileSync(path.join(host.roots.etc, 'sysconfig', 'qat'), 'ServicesEnabled=sym;asym\nPOLICY=abc\n');
    const r = await runDaemonToExit(['--foreground', ...hostArgs(host)]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${host.roots.etc}/sysconfig/qat:2: POLICY="abc" is not a number 0..4096`);
    expect(fs.existsSync(path.join(host.roots.run, 'qatmgr.sock'))).toBe(false);
  });

  it('an unknown option exits 1 with one line in our words and a pointer to --help', async () => {
    const r = await runDaemonToExit(['--frobnicate']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("qatmgr: unknown option --frobnicate\nRun 'qatmgr --help' for the options.\n");
  });

  it('a misspelt option is answered with the option it resembles', async () => {
    const r = await runDaemonToExit(['--polcy=2']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('qatmgr: unknown option --polcy; did you mean --policy?');
    const m = await runDaemonToExit(['--socket']);
    expect(m.stderr).toContain('qatmgr: option --socket needs a value');
  });

  it('exits 234 when the policy is larger than the VF count', async () => {
    const host = simHost('4xxx:2x16');
    const r = await runDaemonToExit(['--foreground', ...hostArgs(host), '--policy', '33']);
    expect(r.code).toBe(234);
    expect(r.stderr).toMatch(/Policy 33 is greater than the number of available devices \(32 VFs\)/);
  });

  it('exits 255 when there is no QAT VF to serve', async () => {
    const host = simHost('4xxx:1x2,driver=none');
    const r = await runDaemonToExit(['--foreground', ...hostArgs(host)]);
    expect(r.code).toBe(255);
    expect(r.stderr).toMatch(/No QAT device found under .*\/dev\/vfio/);
  });

  it('exits 1 for a simulator spec it cannot build, naming the spec', async () => {
    const r = await runDaemonToExit(['--foreground', '--simulate', '5xxx:1x1', '--sim-dir', path.join(tmpDir(), 's')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/simulator spec "5xxx:1x1": unknown family "5xxx"/);
  });

  it('never steals the socket of a live daemon, and replaces a stale one', async () => {
    const a = await startDaemon('4xxx:1x2');
    try {
      const r = await runDaemonToExit(['--foreground', ...hostArgs(a.host)]);
      expect(r.code).toBe(255);
      // the second daemon stops at the run directory's lock, before it looks at the socket
      expect(r.stderr).toContain(`Another qatmgr is running -- pid=${a.proc.pid}: it holds the run directory ${a.host.roots.run}`);
      expect(r.stderr).toContain('[QATMGR_E_RUN_DIR_BUSY]');
      expect(await canConnect(a.socket)).toBe(true);
    } finally {
      await a.stop('SIGKILL');
    }
    // SIGKILL leaves the socket file behind: the next daemon takes it over
    expect(fs.existsSync(a.socket)).toBe(true);
    const b = await startDaemon(a.host);
    const c = await QatClient.connect(b.socket);
    expect(await c.sectionGet('SSL')).toBe('SSL_INT_0');
    await c.close();
    await b.stop();
  });

  it('refuses to remove a non-socket file at the socket path', async () => {
    const host = simHost('4xxx:1x2');
    fs.writeFileSync(path.join(host.roots.run, 'qatmgr.sock'), 'precious');
    const r = await runDaemonToExit(['--foreground', ...hostArgs(host)]);
    expect(r.code).toBe(255);
    expect(r.stderr).toMatch(/exists and is not a socket; refusing to remove it/);
    expect(fs.readFileSync(path.join(host.roots.run, 'qatmgr.sock'), 'utf8')).toBe('precious');
  });

  it('creates the socket with mode 0660 and the configured group', async () => {
    const host = simHost('4xxx:1x2');
    fs.writeFileSync(path.join(host.roots.etc, 'group'), 'root:x:0:\nqat:x:4242:\n');
    const d = await startDaemon(host);
    try {
      const st = fs.statSync(d.socket);
      expect(st.mode & 0o777).toBe(0o660);
      expect(st.gid).toBe(4242);
    } finally {
      await d.stop();
    }
  });

  it('rejects a --socket-group that does not exist', async () => {
    const host = simHost('4xxx:1x2');
    const r = await runDaemonToExit(['--foreground', ...hostArgs(host), '--socket-group', 'nosuchgroup']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--socket-group="nosuchgroup" is not a group in/);
  });

  it('on SIGTERM closes the listener, unlinks the socket and exits 0', async () => {
    const d = await startDaemon('4xxx:1x2');
    const held = await QatClient.connect(d.socket);
    await held.sectionGet('SSL');
    expect(await d.stop('SIGTERM')).toBe(0);
    expect(fs.existsSync(d.socket)).toBe(false);
    expect(held.isClosed || (await held.numDevices().then(() => false, () => true))).toBe(true);
  });

  it('serves a simulated host of its own with --simulate and says where the socket is', async () => {
    const dir = path.join(tmpDir(), 'sim');
    const { spawn } = await import('node:child_process');
    const { QATMGR } = await import('../helpers/daemon.js');
    const p = spawn(process.execPath, [QATMGR, '--foreground', '--simulate', 'default', '--sim-dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (x) => { out += x; });
    const sock = path.join(dir, 'run', 'qat', 'qatmgr.sock');
    for (let i = 0; i < 200 && !(await canConnect(sock)); i++) await new Promise((r) => setTimeout(r, 25));
    const c = await QatClient.connect(sock);
    expect((await c.handshake('SSL')).devices).toHaveLength(2);
    await c.close();
    p.kill('SIGINT');
    await new Promise((r) => p.on('exit', r));
    expect(out).toContain(`serving 16 sections, 0 held, 32 VFs, 2 PFs on ${sock}`);
    void net;
  });
});
