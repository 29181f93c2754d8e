// The daemon flags of the admin feature: --admin-socket and --metrics-listen, with errors naming the value.

import { describe, it, expect } from 'vitest';
import { parseDaemonArgs, type Settings } from '../../../src/config/settings.js';

function settings(argv: string[], env: NodeJS.ProcessEnv = {}): Settings {
  const o = parseDaemonArgs([...argv, '--config', '/dev/null'], env, '/w');
  if (o.kind !== 'run') throw new Error(o.kind);
  return o.settings;
}

function message(argv: string[], env: NodeJS.ProcessEnv = {}): string {
  try { settings(argv, env); } catch (e) { return (e as Error).message; }
  return 'no error';
}

describe('admin settings', () => {
  it('puts the admin socket in the run directory by default; a path or none overrides it', () => {
    expect(settings(['--run-dir', '/r']).adminSocketPath).toBe('/r/qatmgr-admin.sock');
    expect(settings(['--admin-socket', 'a.sock']).adminSocketPath).toBe('/w/a.sock');
    expect(settings(['--admin-socket', 'none']).adminSocketPath).toBeNull();
    expect(message(['--admin-socket', '/r/x.sock', '--socket', '/r/x.sock'])).toContain('--admin-socket="/r/x.sock" is the client socket');
  });

  it('metrics are off by default and accept loopback HOST:PORT forms', () => {
    expect(settings([]).metricsListen).toBeUndefined();
    expect(settings(['--metrics-listen', '127.0.0.1:9464']).metricsListen).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(settings(['--metrics-listen', '[::1]:0']).metricsListen).toEqual({ host: '::1', port: 0 });
    expect(settings(['--metrics-listen', 'localhost:80']).metricsListen).toEqual({ host: 'localhost', port: 80 });
  });

  it('refuses non-loopback and malformed listen addresses with QATMGR_E_CONFIG_VALUE naming the value', () => {
    expect(message(['--metrics-listen', '0.0.0.0:9464'])).toBe('command line: --metrics-listen="0.0.0.0:9464" is not a loopback address; metrics are served on 127.0.0.0/8, ::1 or localhost unless --metrics-allow-remote (QATMGR_METRICS_ALLOW_REMOTE=yes) is given');
    expect(message(['--metrics-listen', '[::]:9464'])).toContain('is not a loopback address');
    expect(message(['--metrics-listen', '10.0.0.1:80'])).toContain('is not a loopback address');
    expect(message(['--metrics-listen', '9464'])).toContain('--metrics-listen="9464" is not HOST:PORT');
    expect(message(['--metrics-listen', '127.0.0.1:70000'])).toContain('is not HOST:PORT');
  });

  it('a non-loopback metrics address is accepted only when the operator allows it explicitly', () => {
    expect(settings(['--metrics-listen', '0.0.0.0:9464', '--metrics-allow-remote']).metricsListen).toEqual({ host: '0.0.0.0', port: 9464 });
    expect(settings(['--metrics-listen', '0.0.0.0:9464'], { QATMGR_METRICS_ALLOW_REMOTE: 'yes' }).metricsAllowRemote).toBe(true);
    expect(message(['--metrics-listen', '0.0.0.0:9464'], { QATMGR_METRICS_ALLOW_REMOTE: 'maybe' })).toBe('environment: QATMGR_METRICS_ALLOW_REMOTE="maybe" is not one of yes, no');
  });
});
