import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runMode } from '../../../src/daemonize/daemonize.js';
import { acquirePidFile, inspectPidFile } from '../../../src/daemonize/pidfile.js';

const fixture = path.resolve('test/fixtures/qatmgr.ts');
let dir: string;
const started: number[] = [];

function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...process.env, ...extra };
  delete e.NOTIFY_SOCKET;
  delete e.LISTEN_FDS;
  delete e.LISTEN_PID;
  return e;
}

function runParent(extra: Record<string, string> = {}) {
  const sock = path.join(dir, 'qatmgr.sock');
  const pidFile = path.join(dir, 'qatmgr.pid');
  const r = spawnSync(process.execPath, ['--import', 'tsx', fixture, sock, pidFile], { env: env(extra), encoding: 'utf8', timeout: 20_000 });
  if (fs.existsSync(pidFile)) started.push(Number(fs.readFileSync(pidFile, 'utf8')));
  return { ...r, sock, pidFile };
}

function ask(sock: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = net.connect(sock);
    let r = '';
    c.on('data', (d) => (r += d));
    c.on('end', () => resolve(r));
    c.on('error', reject);
  });
}

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qat-daemonize-'));
});
afterEach(async () => {
  for (const pid of started.splice(0)) {
    try { process.kill(pid, 'SIGTERM'); } catch { /* gone */ }
  }
  await new Promise((r) => setTimeout(r, 100));
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('run mode', () => {
  it('stays in the foreground with --foreground, under systemd, and daemonises otherwise', () => {
    expect(runMode(true, {})).toBe('foreground');
    expect(runMode(false, { NOTIFY_SOCKET: '/run/systemd/notify' })).toBe('systemd');
    expect(runMode(false, { LISTEN_FDS: '1', LISTEN_PID: '42' }, 42)).toBe('systemd');
    expect(runMode(false, { LISTEN_FDS: '1', LISTEN_PID: '43' }, 42)).toBe('daemon-parent');
    expect(runMode(false, {})).toBe('daemon-parent');
    expect(runMode(false, { QATMGR_DAEMON_REPORT_FD: '3' })).toBe('daemon-child');
  });
});

describe('background mode', () => {
  it('the parent exits 0 only once the detached daemon serves, and the daemon keeps serving with a pid file', async () => {
    const r = runParent();
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const pid = Number(fs.readFileSync(r.pidFile, 'utf8'));
    expect(pid).toBeGreaterThan(0);
    expect(pid).not.toBe(r.pid);
    const reply = await ask(r.sock);
    expect(reply).toBe(`pid ${pid} cwd / umask 117`);
  });

  it('prints the daemon\'s whole error (not 63 bytes) and exits 1 when it cannot serve', () => {
    const r = runParent({ FIXTURE_START: 'long-error' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('cannot bind');
    expect(r.stderr).toContain('END-OF-MESSAGE\nsecond line');
    expect(r.stderr).toContain('[QATMGR_E_SOCKET]');
    expect(fs.existsSync(r.pidFile)).toBe(false);
  });

  it('names the exit status when the daemon dies before saying anything', () => {
    const r = runParent({ FIXTURE_START: 'crash' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/the daemon \(pid [0-9]+\) exited with status 7 before it was serving/);
  });

  it('refuses to start a second daemon while the first one lives, naming its pid', () => {
    const first = runParent();
    expect(first.status).toBe(0);
    const pid = Number(fs.readFileSync(first.pidFile, 'utf8'));
    const second = runParent();
    expect(second.status).toBe(1);
    expect(second.stderr).toContain(`Another qatmgr is running -- pid=${pid}`);
    expect(Number(fs.readFileSync(first.pidFile, 'utf8'))).toBe(pid);
  });

  it('removes its pid file on SIGTERM', async () => {
    const r = runParent();
    const pid = Number(fs.readFileSync(r.pidFile, 'utf8'));
    process.kill(pid, 'SIGTERM');
    for (let i = 0; i < 50 && fs.existsSync(r.pidFile); i++) await new Promise((res) => setTimeout(res, 50));
    expect(fs.existsSync(r.pidFile)).toBe(false);
  });
});

describe('pid file', () => {
  it('replaces a stale file whose pid is not a qatmgr', () => {
    const file = path.join(dir, 'qatmgr.pid');
    const sleeper = spawn('sleep', ['30']);
    try {
      fs.writeFileSync(file, `${sleeper.pid}\n`);
      expect(inspectPidFile(file)).toEqual({ kind: 'stale', pid: sleeper.pid, reason: `pid ${sleeper.pid} is not a qatmgr` });
      const h = acquirePidFile(file);
      expect(h.replaced).toBe(`pid ${sleeper.pid} is not a qatmgr`);
      expect(fs.readFileSync(file, 'utf8')).toBe(`${process.pid}\n`);
      h.release();
      expect(fs.existsSync(file)).toBe(false);
    } finally {
      sleeper.kill();
    }
  });

  it('replaces a file naming a dead pid or holding garbage', () => {
    const file = path.join(dir, 'qatmgr.pid');
    fs.writeFileSync(file, '99999999\n');
    expect(inspectPidFile(file)).toMatchObject({ kind: 'stale', reason: 'pid 99999999 is not running' });
    fs.writeFileSync(file, 'hello');
    expect(inspectPidFile(file)).toMatchObject({ kind: 'stale', pid: undefined });
  });

  it('does not remove a pid file that a newer instance has taken over', () => {
    const file = path.join(dir, 'qatmgr.pid');
    const h = acquirePidFile(file);
    fs.writeFileSync(file, '12345\n');
    h.release();
    expect(fs.readFileSync(file, 'utf8')).toBe('12345\n');
  });

  it('reports an unwritable pid file with its path', () => {
    expect(() => acquirePidFile(path.join(dir, 'missing-dir', 'qatmgr.pid'))).toThrow(/Cannot write pid file .*missing-dir\/qatmgr.pid: ENOENT/);
  });
});
