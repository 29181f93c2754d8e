// Daemon settings: upstream flags, precedence command line > environment > file > default, and exact errors.

import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { parseDaemonArgs, type Settings } from '../../../src/config/settings.js';
import { isQatmgrError } from '../../../src/errors.js';
import { tmpDir } from '../../helpers/sim.js';

function withConfig(text: string): string {
  const d = tmpDir();
  const f = path.join(d, 'qat');
  fs.writeFileSync(f, text);
  return f;
}

function run(argv: string[], env: NodeJS.ProcessEnv = {}): Settings {
  const o = parseDaemonArgs(['--etc-root', '/nonexistent', ...argv], env);
  if (o.kind !== 'run') throw new Error(o.kind);
  return o.settings;
}

function err(argv: string[], env: NodeJS.ProcessEnv = {}): string {
  try {
    parseDaemonArgs(['--etc-root', '/nonexistent', ...argv], env);
  } catch (e) {
    if (!isQatmgrError(e)) throw e;
    expect(e.exitStatus).toBe(1);
    return e.message;
  }
  throw new Error('no error');
}

describe('daemon settings', () => {
  it('defaults to policy 0, debug 0, the upstream socket and pid file paths', () => {
    const s = parseDaemonArgs([], {});
    if (s.kind !== 'run') throw new Error();
    expect(s.settings.policy).toBe(0);
    expect(s.settings.socketPath).toBe('/run/qat/qatmgr.sock');
    expect(s.settings.pidFile).toBe('/run/qat/qatmgr.pid');
    expect(s.settings.roots.sys).toBe('/sys');
    expect(s.settings.configPath).toBe('/etc/sysconfig/qat');
  });

  it('takes the command line over the environment over the file', () => {
    const f = withConfig('POLICY=3\n');
    expect(run(['--config', f]).policy).toBe(3);
    expect(run(['--config', f], { POLICY: '2' }).policy).toBe(2);
    expect(run(['--config', f, '-p', '1'], { POLICY: '2' }).policy).toBe(1);
    expect(run(['--config', f, '--policy=4'], { POLICY: '2' }).sources.policy).toBe('cli');
  });

  it('accepts the forms upstream strtol accepts (" 2", "+2") and the -p2 / --debug=2 spellings', () => {
    expect(run(['-p', ' 2']).policy).toBe(2);
    expect(run(['-p', '+2']).policy).toBe(2);
    expect(run(['-p2', '--debug=2']).debug).toBe(2);
  });

  it('names the file, line and value of a bad POLICY', () => {
    const f = withConfig('# comment\n\nPOLICY="abc"\n');
    expect(err(['--config', f])).toBe(`${f}:3: POLICY="abc" is not a number 0..4096`);
  });

  it('rejects an empty POLICY= (which breaks upstream\'s unit) with a clear message', () => {
    const f = withConfig('POLICY=\n');
    expect(err(['--config', f])).toMatch(/qat:1: POLICY="" is empty; expected a number 0..4096/);
  });

  it.each([
    [['--policy', '4097'], 'command line: --policy="4097" is not a number 0..4096'],
    [['--policy', '-1'], 'command line: --policy="-1" is not a number 0..4096'],
    [['-d', '3'], 'command line: --debug="3" is not a number 0..2'],
    [['--idle-timeout', 'soon'], 'command line: --idle-timeout="soon" is not a duration'],
    [['--protocol-version', 'x'], 'command line: --protocol-version="x" is not a 16-bit number'],
  ])('rejects %j', (argv, msg) => {
    expect(err(argv)).toContain(msg);
  });

  it('names the environment as the source of a bad POLICY', () => {
    expect(err([], { POLICY: '1e3' })).toBe('environment: POLICY="1e3" is not a number 0..4096');
  });

  it('fails on an unknown option or a missing value (usage error)', () => {
    for (const argv of [['--bogus'], ['-p']]) {
      try { parseDaemonArgs(argv, {}); expect.unreachable(); } catch (e) { expect(isQatmgrError(e) && e.code).toBe('QATMGR_E_USAGE'); }
    }
  });

  it('acts on -h / -v in command-line order and accepts upstream\'s "-help" spelling', () => {
    expect(parseDaemonArgs(['-v', '-h'], {}).kind).toBe('version');
    expect(parseDaemonArgs(['-h', '-v'], {}).kind).toBe('help');
    expect(parseDaemonArgs(['-help'], {}).kind).toBe('help');
    expect(parseDaemonArgs(['--policy=abc', '--help'], {}).kind).toBe('help');
  });

  it('a missing explicit --config is an error; a missing default file is fine', () => {
    expect(err(['--config', '/nonexistent/qat'])).toMatch(/\/nonexistent\/qat: cannot read: ENOENT/);
    expect(run([]).policy).toBe(0);
  });

  it('takes PIDFILE from the environment and lays the simulator roots under --sim-dir', () => {
    expect(run([], { PIDFILE: '/tmp/x.pid' }).pidFile).toBe('/tmp/x.pid');
    const s = parseDaemonArgs(['--simulate', 'default', '--sim-dir', '/tmp/simx'], {});
    if (s.kind !== 'run') throw new Error();
    expect(s.settings.roots.sys).toBe('/tmp/simx/sys');
    expect(s.settings.socketPath).toBe('/tmp/simx/run/qat/qatmgr.sock');
    expect(s.settings.roots.pids).toBe('/proc');
  });

  it('warns about unknown and repeated keys in the file without failing', () => {
    const f = withConfig('POLICY=1\nFOO=bar\nPOLICY=2\n');
    const s = run(['--config', f]);
    expect(s.policy).toBe(2);
    expect(s.warnings).toEqual([`${f}:2: unknown key FOO ignored`, `${f}:3: POLICY set again; the last value wins`]);
  });

});

describe('operator settings in /etc/sysconfig/qat', () => {
  it('QATMGR_DEBUG, QATMGR_LOG_FORMAT, QATMGR_METRICS_LISTEN, QATMGR_IDLE_TIMEOUT and QATMGR_MAX_CONNECTIONS are read from the file; the command line wins', () => {
    const f = withConfig('QATMGR_DEBUG=1\nQATMGR_LOG_FORMAT=json\nQATMGR_METRICS_LISTEN=127.0.0.1:9464\nQATMGR_IDLE_TIMEOUT=30\nQATMGR_MAX_CONNECTIONS=64\n');
    const s = run(['--config', f]);
    expect(s).toMatchObject({ debug: 1, logFormat: 'json', metricsListen: { host: '127.0.0.1', port: 9464 }, idleTimeoutMs: 30_000, maxConnections: 64, warnings: [] });
    expect(run(['--config', f, '-d', '2', '--idle-timeout', '500ms']).debug).toBe(2);
    expect(run(['--config', f, '--idle-timeout', '500ms']).idleTimeoutMs).toBe(500);
  });

  it('a bad value in the file is an error naming file, line, key and value', () => {
    const f = withConfig('# settings\nQATMGR_IDLE_TIMEOUT=soon\n');
    expect(err(['--config', f])).toBe(`${f}:2: QATMGR_IDLE_TIMEOUT="soon" is not a duration 0..2592000000 ms (a number with a unit (500ms, 2s, 1.5m, 1h); a bare number is seconds, as in systemd units)`);
    expect(err(['--config', withConfig('QATMGR_LOG_TARGET=syslog\n')])).toMatch(/:1: QATMGR_LOG_TARGET="syslog" is not one of auto, console, journal$/);
  });
});

describe('connection limits (issue 18)', () => {
  it('takes --max-connections-per-uid and --admin-idle-timeout, and names a bad value', () => {
    expect(run([]).maxConnectionsPerUid).toBeUndefined();
    expect(run([]).adminIdleTimeoutMs).toBe(600_000);
    const s = run(['--max-connections-per-uid', '8', '--admin-idle-timeout', '30s']);
    expect([s.maxConnectionsPerUid, s.adminIdleTimeoutMs]).toEqual([8, 30_000]);
    expect(err(['--max-connections-per-uid', '0'])).toBe('command line: --max-connections-per-uid="0" is not a number 1..1000000');
    expect(err(['--admin-idle-timeout', '500ms'])).toMatch(/^command line: --admin-idle-timeout="500ms" is not a duration 1000\.\.2592000000 ms/);
  });
});
