// The daemon flags of the admin feature: --admin-socket and --metrics-listen, with errors naming the value.

import { describe, it, expect } from 'vitest';
import { parseDaemonArgs, type Settings } from '../../../src/config/settings.js';

function settings(argv: string[]): Settings {
  const o = parseDaemonArgs([...argv, '--config', '/dev/null'], {}, '/w');
  if (o.kind !== 'run') throw new Error(o.kind);
  return o.settings;
}

function message(argv: string[]): string {
  try { settings(argv); } catch (e) { return (e as Error).message; }
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
    expect(message(['--metrics-listen', '0.0.0.0:9464'])).toBe('command line: --metrics-listen="0.0.0.0:9464" is not a loopback address; metrics are only served on 127.0.0.0/8, ::1 or localhost (unless --metrics-allow-network)');
    expect(settings(['--metrics-listen', '0.0.0.0:9464', '--metrics-allow-network'])).toMatchObject({ metricsListen: { host: '0.0.0.0', port: 9464 }, metricsAllowNetwork: true });
    expect(message(['--metrics-listen', '[::]:9464'])).toContain('is not a loopback address');
    expect(message(['--metrics-listen', '10.0.0.1:80'])).toContain('is not a loopback address');
    expect(message(['--metrics-listen', '9464'])).toContain('--metrics-listen="9464" is not HOST:PORT');
    expect(message(['--metrics-listen', '127.0.0.1:70000'])).toContain('is not HOST:PORT');
  });
});
