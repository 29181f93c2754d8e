// qatctl without traps (issue 12): bounded waits, typos that fail, one-line errors with suggestions, help and
// version, one duration syntax, one exit-code table, output that fits the terminal, watch across a restart.

import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon, qatctl, type Daemon } from './admin-harness.js';
import { runCli } from '../helpers/run-cli.js';
import { tmpDir } from '../helpers/sim.js';
import { EXIT, EXIT_TABLE } from '../../src/cli/exit-codes.js';
import { ExitStatus } from '../../src/errors.js';
import { DEFAULT_TIMEOUT_MS } from '../../src/cli/admin-common.js';
import { parseDurationMs } from '../../src/config/numbers.js';
import { writeLedger, LEDGER_FORMAT } from '../../src/sections/ledger.js';
import { processStartTime } from '../../src/platform/processes.js';

// eslint-disable-next-line no-control-regex
const plain = (s: string): string => s.replace(/\x1b\[[0-9;]*m/g, '');

/** A Unix socket that accepts connections and never answers (a hung daemon, or the wrong socket). */
async function silentSocket(): Promise<{ path: string; close: () => void }> {
  const p = path.join(tmpDir('qatctl-silent-'), 'silent.sock');
  const socks: net.Socket[] = [];
  const server = net.createServer((s) => { socks.push(s); });
  await new Promise<void>((r) => server.listen(p, r));
  return { path: p, close: () => { for (const s of socks) s.destroy(); server.close(); } };
}

let d: Daemon;
beforeAll(async () => { d = await startDaemon('4xxx:1x4', ['--policy', '1']); });
afterAll(async () => { await d?.stop(); });

describe('bounded waits', () => {
  it('probe on a socket that never answers gives up after --timeout with exit 3, as for no socket at all', async () => {
    const s = await silentSocket();
    try {
      const t0 = Date.now();
      const r = await runCli(['probe', '--socket', s.path, '--timeout', '300ms']);
      expect(Date.now() - t0).toBeLessThan(5000);
      expect(r.code).toBe(EXIT.UNREACHABLE);
      expect(r.err).toContain('did not answer within 300 ms');
      expect((await runCli(['probe', '--socket', path.join(tmpDir(), 'none.sock')])).code).toBe(EXIT.UNREACHABLE);
    } finally { s.close(); }
  });

  it('an admin command on a daemon that accepts but never answers gives up with exit 3', async () => {
    const s = await silentSocket();
    try {
      const r = await runCli(['status', '--admin-socket', s.path, '--timeout', '300ms']);
      expect(r.code).toBe(EXIT.UNREACHABLE);
      expect(r.err).toContain('did not answer "status" within 300 ms');
    } finally { s.close(); }
  });

  it('the default wait is well under 15 s and every client command documents --timeout', async () => {
    expect(DEFAULT_TIMEOUT_MS).toBeLessThanOrEqual(5000);
    for (const cmd of ['status', 'devices', 'allocations', 'sections', 'events', 'watch', 'metrics', 'release', 'drain', 'undrain', 'rescan', 'probe']) {
      expect((await runCli(['help', cmd])).out, cmd).toContain('--timeout');
    }
  });
});

describe('typos fail instead of passing silently', () => {
  it('devices --state bogus is a usage error listing the states', async () => {
    const r = await runCli(['devices', '--state', 'bogus']);
    expect(r.code).toBe(EXIT.USAGE);
    expect(r.err).toContain('--state "bogus" is not a VF state; use free, held, out-of-service, withheld, unavailable, unplanned');
    expect((await runCli(['devices', '--state', 'helt'])).err).toContain('did you mean held?');
  });

  it('doctor --sim-dir /nonexist and provision --sim-dir /nonexist --dry-run name the missing directory', async () => {
    const doc = await runCli(['doctor', '--sim-dir', '/nonexist']);
    expect(doc.code).toBe(EXIT.USAGE);
    expect(doc.err).toContain('--sim-dir "/nonexist": no such directory');
    const prov = await runCli(['provision', '--sim-dir', '/nonexist', '--dry-run']);
    expect(prov.code).toBe(EXIT.USAGE);
    expect(prov.err).toContain('--sim-dir "/nonexist": no such directory');
    const empty = tmpDir();
    expect((await runCli(['doctor', '--sim-dir', empty])).err).toContain('is not a simulated host (no sim.json');
    expect((await runCli(['doctor', '--firmware-root', '/nonexist/fw'])).err).toContain('--firmware-root "/nonexist/fw": no such directory');
  });

  it('allocations --section SSL_INT_99 or --bdf of an unknown VF is refused (exit 2), naming what exists', async () => {
    const r = await qatctl(['allocations', '--section', 'SSL_INT_99', '--admin-socket', d.adminSocket]);
    expect(r.code).toBe(EXIT.FAILED);
    expect(r.stderr).toContain('--section "SSL_INT_99": no such section; this daemon has SSL_INT_0..SSL_INT_3');
    const b = await qatctl(['allocations', '--bdf', '0000:99:00.1', '--admin-socket', d.adminSocket]);
    expect(b.code).toBe(EXIT.FAILED);
    expect(b.stderr).toContain('0000:99:00.1 is not a VF this daemon serves');
    // a real section that nobody holds is an answer, not an error
    const ok = await qatctl(['allocations', '--section', 'SSL_INT_3', '--admin-socket', d.adminSocket]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('no held section matches');
  });
});

describe('errors in one line, help and version', () => {
  it('an unknown command is one line with "did you mean", not the whole usage', async () => {
    const r = await runCli(['stauts']);
    expect(r.code).toBe(EXIT.USAGE);
    expect(r.err).toBe(`qatctl: unknown command "stauts"; did you mean status? ('qatctl --help' lists the commands)\n`);
    expect(r.out).toBe('');
  });

  it('an unknown option is our own sentence with the option it resembles', async () => {
    const r = await runCli(['devices', '--josn']);
    expect(r.code).toBe(EXIT.USAGE);
    expect(r.err).toBe(`qatctl devices: unknown option --josn; did you mean --json? [QATMGR_E_USAGE] ('qatctl help devices' for usage)\n`);
    expect((await runCli(['probe', '--socket'])).err).toContain('option --socket needs a value');
  });

  it('qatctl help CMD prints what CMD --help prints; help exit-codes prints the table; --version and -V agree', async () => {
    const a = await runCli(['help', 'allocations']);
    const b = await runCli(['allocations', '--help']);
    expect(a.code).toBe(0);
    expect(a.out).toBe(b.out);
    const codes = await runCli(['help', 'exit-codes']);
    for (const [n] of EXIT_TABLE) expect(codes.out).toMatch(new RegExp(`^ *${n}  `, 'm'));
    const v = await runCli(['--version']);
    expect(v.out).toMatch(/^qatctl qatmgr-ts \d+\.\d+\.\d+ \(qatlib protocol 26\.08\)\n$/);
    expect((await runCli(['-V'])).out).toBe(v.out);
    expect((await runCli(['help', 'nope'])).code).toBe(EXIT.USAGE);
  });
});

describe('one duration syntax, one meaning per exit code', () => {
  it('a bare number is seconds everywhere; units ms, s, m, h', async () => {
    expect(parseDurationMs('1')).toBe(1000);
    expect(parseDurationMs('0.5')).toBe(500);
    expect(parseDurationMs('250ms')).toBe(250);
    expect(parseDurationMs('1.5m')).toBe(90_000);
    expect(parseDurationMs('1h')).toBe(3_600_000);
    const w = await qatctl(['watch', '--interval', '1', '--count', '1', '--admin-socket', d.adminSocket]);
    expect(w.code).toBe(0);
    const bad = await runCli(['watch', '--interval', 'soon']);
    expect(bad.err).toContain('a bare number is seconds');
  });

  it('every exit status a qatctl error maps to is in the one table, and each number has one meaning', () => {
    const table = new Set(EXIT_TABLE.map(([n]) => n));
    expect(table.size).toBe(EXIT_TABLE.length);
    for (const [code, status] of Object.entries(ExitStatus)) {
      if (status === undefined || status > 7) continue; // the daemon's own start-up statuses (234, 255)
      expect(table.has(status), code).toBe(true);
    }
  });
});

describe('output', () => {
  it('tables fit the terminal: provision plan, doctor fixes and devices stay within 80 columns', async () => {
    const host = tmpDir('qatctl-width-');
    expect((await runCli(['simulate', '4xxx:2x16,sriov=off', '--out', host, '--force'])).code).toBe(0);
    const wide = await runCli(['provision', '--sim-dir', host, '--dry-run']);
    expect(Math.max(...wide.out.split('\n').map((l) => l.length))).toBeGreaterThan(120);
    const fit = await runCli(['provision', '--sim-dir', host, '--dry-run'], { tty: { columns: 80 } });
    expect(Math.max(...plain(fit.out).split('\n').map((l) => l.length))).toBeLessThanOrEqual(80);
    expect(fit.out).toContain('…');
    fs.rmSync(path.join(host, 'etc', 'group'), { force: true });
    const doc = await runCli(['doctor', '--sim-dir', host], { tty: { columns: 80 } });
    expect(Math.max(...plain(doc.out).split('\n').map((l) => l.length))).toBeLessThanOrEqual(80);
    expect(doc.out).toMatch(/\x1b\[3[123]mPASS|\x1b\[3[123]mFAIL/);
    const dev = await runCli(['devices', '--admin-socket', d.adminSocket], { tty: { columns: 80 } });
    expect(Math.max(...plain(dev.out).split('\n').map((l) => l.length))).toBeLessThanOrEqual(80);
    const full = await runCli(['devices', '-o', 'wide', '--admin-socket', d.adminSocket], { tty: { columns: 80 } });
    expect(Math.max(...plain(full.out).split('\n').map((l) => l.length))).toBeGreaterThan(80);
  });

  it('-o json is --json, --no-headers drops the header line, -o bogus is refused', async () => {
    const a = await runCli(['sections', '-o', 'json', '--admin-socket', d.adminSocket]);
    const b = await runCli(['sections', '--json', '--admin-socket', d.adminSocket]);
    expect(JSON.parse(a.out)).toEqual(JSON.parse(b.out));
    const n = await runCli(['devices', '--no-headers', '--admin-socket', d.adminSocket]);
    expect(n.out.split('\n')[0]).toMatch(/^0000:6b:00\.0\s+0000:6b:00\.1\s/);
    expect((await runCli(['devices', '-o', 'bogus', '--admin-socket', d.adminSocket])).err).toContain('-o "bogus" is not an output format; use wide or json');
  });

  it('probe shows service names and the same instance list as sections --instances', async () => {
    const p = await qatctl(['probe', '--json', '--socket', d.socket]);
    expect(p.code).toBe(0);
    const got = JSON.parse(p.stdout) as { section: string; devices: Array<{ serviceNames: string[]; instanceNames: string[] }> };
    const s = JSON.parse((await qatctl(['sections', '--json', '--admin-socket', d.adminSocket])).stdout) as { sections: Array<{ name: string; vfs: Array<{ instances: string[] }> }> };
    const sec = s.sections.find((x) => x.name === got.section)!;
    expect(got.devices.map((x) => x.instanceNames)).toEqual(sec.vfs.map((v) => v.instances));
    expect(got.devices[0].serviceNames.length).toBeGreaterThan(0);
    const text = await qatctl(['probe', '--socket', d.socket]);
    expect(text.stdout).toMatch(/SERVICES/);
    expect(text.stdout).toContain(sec.vfs[0].instances.join(','));
  });

  it('watch survives a daemon restart: it says the daemon is unreachable, then shows it again', async () => {
    const w = await startDaemon('4xxx:1x2');
    const p = qatctl(['watch', '--interval', '200ms', '--count', '40', '--admin-socket', w.adminSocket]);
    await new Promise((r) => setTimeout(r, 600));
    w.proc.kill('SIGKILL');
    await new Promise((r) => w.proc.once('exit', r));
    await new Promise((r) => setTimeout(r, 600));
    // a new daemon on the same simulated host and run directory
    const again = (await import('node:child_process')).spawn(process.execPath, [path.join(import.meta.dirname, '..', '..', 'dist', 'daemon', 'qatmgr.js'), '--foreground', '--simulate', '4xxx:1x2', '--sim-dir', w.dir], { stdio: 'ignore' });
    try {
      const r = await p;
      expect(r.code).toBe(0);
      const out = r.stdout;
      const down = out.indexOf('qatmgr not reachable');
      expect(down).toBeGreaterThan(0);
      expect(out.slice(down)).toMatch(/qatmgr 0\.2\.0 pid \d+/);
    } finally {
      again.kill('SIGTERM');
      await new Promise((r) => again.once('exit', r));
      fs.rmSync(w.dir, { recursive: true, force: true });
    }
  });
});

describe('when the daemon does not answer', () => {
  it('status and allocations say "not running (socket-activated)" when only the socket listens, and list the ledger', async () => {
    const run = tmpDir('qatctl-offline-');
    const sock = path.join(run, 'qatmgr.sock');
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(sock, r));
    try {
      writeLedger(path.join(run, 'qatmgr.ledger'), {
        format: LEDGER_FORMAT, bootId: null, daemonPid: 1, writtenAt: new Date().toISOString(),
        entries: [{ section: 'SSL_INT_2', vfs: ['0000:6b:00.3'], pid: process.pid, startTime: processStartTime('/proc', process.pid)!, uid: 0, gid: 0, processName: 'nginx', since: Date.now(), adopted: false }],
      }, { fsync: false });
      const s = await runCli(['status', '--run-dir', run]);
      expect(s.code).toBe(EXIT.UNREACHABLE);
      expect(s.out).toContain(`qatmgr: not running (socket-activated: ${sock} listens`);
      const a = await runCli(['allocations', '--run-dir', run]);
      expect(a.out).toContain('1 section(s) held by live processes');
      expect(a.out).toMatch(/SSL_INT_2\s+0000:6b:00\.3\s+\d+\s+0\s+nginx\s+\S+\s+yes/);
      const j = JSON.parse((await runCli(['allocations', '--json', '--run-dir', run])).out);
      expect(j).toMatchObject({ running: false, socketActivated: true, ledger: { state: 'ok', held: [{ section: 'SSL_INT_2', alive: true }] } });
    } finally { server.close(); }
  });

  it('doctor never connects to the client socket (that would start a socket-activated service)', async () => {
    const host = tmpDir('qatctl-doc-');
    expect((await runCli(['simulate', 'default', '--out', host, '--force'])).code).toBe(0);
    const sock = path.join(host, 'run', 'qat', 'qatmgr.sock');
    fs.mkdirSync(path.dirname(sock), { recursive: true });
    let connections = 0;
    const server = net.createServer((c) => { connections++; c.destroy(); });
    await new Promise<void>((r) => server.listen(sock, r));
    try {
      const r = await runCli(['doctor', '--sim-dir', host]);
      expect(r.out).toMatch(/stack\.service +qat\.service enabled .*listens \(socket-activated: qat\.service starts on the first client\)/);
      expect(connections).toBe(0);
    } finally { server.close(); }
  });
});
