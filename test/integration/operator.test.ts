// The daemon as an operator meets it (issue 12): process name, logs at -d 1 / -d 2, journal priorities, background
// mode on a simulated host, errors printed once; and an npm package that installs working commands.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { QATMGR, ROOT, startDaemon, type RunningDaemon } from '../helpers/daemon.js';
import { QatClient } from '../../src/client/qatclient.js';
import { createLogger, formatTextLine } from '../../src/log.js';
import { tmpDir } from '../helpers/sim.js';

const running: RunningDaemon[] = [];
afterAll(async () => { await Promise.all(running.map((d) => d.stop())); });

function collect(): { stream: Writable; text: () => string } {
  let buf = '';
  return { stream: new Writable({ write(c, _e, cb) { buf += String(c); cb(); } }), text: () => buf };
}

/** The daemon's JSON log lines at `-d level` after one client handshake and disconnect. */
async function oneHandshakeLogged(spec: string, level: string): Promise<Array<Record<string, unknown>>> {
  const d = await startDaemon(spec, ['-d', level]);
  running.push(d);
  const c = await QatClient.connect(d.socket);
  await c.handshake('SSL');
  await c.close();
  await new Promise((r) => setTimeout(r, 200));
  return d.stdout().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('the daemon process', () => {
  it('is called qatmgr in ps, pidof and systemctl status (comm and argv), not node', async () => {
    const d = await startDaemon('4xxx:1x2');
    running.push(d);
    expect(fs.readFileSync(`/proc/${d.proc.pid}/comm`, 'utf8').trim()).toBe('qatmgr');
    expect(fs.readFileSync(`/proc/${d.proc.pid}/cmdline`, 'latin1').split('\0')[0].trim()).toBe('qatmgr');
  });

  it('at -d 1 writes one summary line at start (no line per VF) and names holders by comm on grant and release', async () => {
    const lines = await oneHandshakeLogged('4xxx:2x16', '1');
    expect(lines.filter((l) => l.event === 'device')).toEqual([]);
    const ready = lines.filter((l) => l.event === 'ready');
    expect(ready).toHaveLength(1);
    expect(String(ready[0].msg)).toMatch(/^qatmgr-ts 0\.2\.0 \(qatlib protocol 26\.08\) serving on .*: 16 sections, 0 held, 32 VFs, 2 PFs; policy 0; admin /);
    const grant = lines.find((l) => l.event === 'grant')!;
    expect(grant.comm).toBe(fs.readFileSync('/proc/self/comm', 'utf8').trim());
    expect(String(grant.msg)).toContain(`granted to pid ${process.pid} (${String(grant.comm)}`);
    expect(String(lines.find((l) => l.event === 'release')!.msg)).toMatch(/^Force release of section SSL_INT_0: pid \d+ \(.*\) disconnected$/);
  });

  it('at -d 2 lists every VF and logs each request with its reply in hex', async () => {
    const lines = await oneHandshakeLogged('4xxx:1x2', '2');
    expect(lines.filter((l) => l.event === 'device')).toHaveLength(2);
    const req = lines.find((l) => l.event === 'request' && l.type === 'SECTION_GET')!;
    expect(req.replyHex).toMatch(/^[0-9a-f]+$/);
    expect(String(req.replyHex).length).toBe(Number(req.replyLen) * 2);
  });

  it('without -f on a simulated host it backgrounds itself, and a start-up error is printed once', () => {
    const dir = tmpDir('qatmgr-bg-');
    const errFile = path.join(dir, 'err.txt');
    const fd = fs.openSync(errFile, 'w');
    const ok = spawnSync(process.execPath, [QATMGR, '--simulate', '4xxx:1x2', '--sim-dir', path.join(dir, 'h')], { stdio: ['ignore', 'ignore', fd] });
    expect(ok.status).toBe(0);
    const pid = Number(fs.readFileSync(path.join(dir, 'h', 'run', 'qat', 'qatmgr.pid'), 'utf8'));
    try {
      expect(fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim()).toBe('qatmgr');
    } finally { process.kill(pid, 'SIGTERM'); }
    // the error goes to a file both the waiting parent and the daemon could write: it must appear once
    const bad = spawnSync(process.execPath, [QATMGR, '--simulate', '4xxx:1x2', '--sim-dir', path.join(dir, 'h2'), '-p', '999'], { stdio: ['ignore', 'ignore', fd] });
    fs.closeSync(fd);
    expect(bad.status).toBe(1);
    expect(fs.readFileSync(errFile, 'utf8').match(/Policy 999 is greater/g)).toHaveLength(1);
  });
});

describe('logs', () => {
  it('for the journal, every line starts with its syslog priority', () => {
    const out = collect();
    const err = collect();
    const log = createLogger({ level: 'debug', out: out.stream, err: err.stream, journal: true, format: 'text' });
    log.debug({ event: 'a' }, 'detail');
    log.info({ event: 'grant', section: 'SSL_INT_0' }, 'granted');
    log.warn({ event: 'w' }, 'careful');
    log.error({ event: 'e' }, 'broken');
    expect(out.text()).toBe('<7>detail  event=a\n<6>granted  event=grant section=SSL_INT_0\n');
    expect(err.text()).toBe('<4>careful  event=w\n<3>broken  event=e\n');
  });

  it('the text format is the message, then the fields as key=value, with the time and level on a terminal', () => {
    const line = JSON.stringify({ level: 'warn', time: '2026-12-02T10:11:12.345Z', name: 'qatmgr', event: 'x', bdf: ['0000:6b:00.1', '0000:6b:00.2'], why: 'two words', msg: 'hello' });
    expect(formatTextLine(line, false)).toBe('hello  event=x bdf=0000:6b:00.1,0000:6b:00.2 why="two words"\n');
    expect(formatTextLine(line, true)).toBe('10:11:12.345 WARN  hello  event=x bdf=0000:6b:00.1,0000:6b:00.2 why="two words"\n');
  });
});

describe('the npm package', () => {
  it('packs only runtime files, and npm install -g of it gives working qatmgr and qatctl', () => {
    const dest = tmpDir('qatmgr-pack-');
    // the tree is built by npm test; --ignore-scripts keeps prepack's clean rebuild away from the other suites' dist/
    const pack = spawnSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dest], { cwd: ROOT, encoding: 'utf8' });
    expect(pack.status, pack.stderr).toBe(0);
    const [info] = JSON.parse(pack.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
    const files = info.files.map((f) => f.path);
    expect(files).toContain('dist/daemon/qatmgr.js');
    expect(files).toContain('units/qat.service');
    expect(files).toContain('proto/deviceplugin/v1beta1/api.proto');
    expect(files.filter((f) => /^(test|bench|src|native|scripts)\//.test(f) || f.endsWith('.map') || f.endsWith('.ts'))).toEqual([]);
    // every compiled file has its source (no stale output of an older build)
    expect(files.filter((f) => f.startsWith('dist/') && !fs.existsSync(path.join(ROOT, f.replace(/^dist\//, '').replace(/\.js$/, '.ts'))))).toEqual([]);
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.prepack).toContain('build');
    const prefix = path.join(dest, 'prefix');
    const inst = spawnSync('npm', ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', path.join(dest, info.filename)], { encoding: 'utf8', env: { ...process.env, npm_config_loglevel: 'error' } });
    expect(inst.status, inst.stderr).toBe(0);
    const v = spawnSync(path.join(prefix, 'bin', 'qatmgr'), ['--version'], { encoding: 'utf8' });
    expect(v.stdout).toMatch(/^qatmgr-ts \d+\.\d+\.\d+ \(qatlib protocol 26\.08\)\n$/);
    const c = spawnSync(path.join(prefix, 'bin', 'qatctl'), ['--version'], { encoding: 'utf8', cwd: os.tmpdir() });
    expect(c.stdout).toMatch(/^qatctl qatmgr-ts /);
  }, 120_000);
});
