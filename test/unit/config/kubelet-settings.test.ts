// The kubelet plugin's settings: off by default, defaults when on, and exact errors for bad values.

import { describe, it, expect } from 'vitest';
import { parseDaemonArgs, type Settings } from '../../../src/config/settings.js';
import { isQatmgrError } from '../../../src/errors.js';

function run(argv: string[]): Settings {
  const o = parseDaemonArgs(['--etc-root', '/nonexistent', ...argv], {}, '/work');
  if (o.kind !== 'run') throw new Error(o.kind);
  return o.settings;
}

function err(argv: string[]): string {
  try {
    parseDaemonArgs(['--etc-root', '/nonexistent', ...argv], {});
  } catch (e) {
    if (!isQatmgrError(e)) throw e;
    expect(e.code).toBe('QATMGR_E_CONFIG_VALUE');
    return e.message;
  }
  throw new Error('no error');
}

describe('kubelet plugin settings', () => {
  it('is off by default and, when on, serves /var/lib/kubelet with no managed sections and every other section\'s VFs given directly', () => {
    expect(run([]).kubelet).toBeUndefined();
    expect(run(['--kubelet-plugin']).kubelet).toEqual({ dir: '/var/lib/kubelet', managed: 0, standalone: 'all', healthIntervalMs: 2000 });
    expect(run(['--kubelet-plugin', '--kubelet-dir', 'k', '--kubelet-managed', 'all', '--kubelet-standalone', '0', '--kubelet-health-interval', '500ms']).kubelet)
      .toEqual({ dir: '/work/k', managed: 'all', standalone: 0, healthIntervalMs: 500 });
  });

  it('probes the VFIO group nodes unless --no-vfio-probe', () => {
    expect(run([]).vfioProbe).toBe(true);
    expect(run(['--no-vfio-probe']).vfioProbe).toBe(false);
  });

  it('names the option and value at fault', () => {
    expect(err(['--kubelet-managed', '2'])).toBe('command line: --kubelet-managed needs --kubelet-plugin');
    expect(err(['--kubelet-plugin', '--kubelet-managed', 'two'])).toBe('command line: --kubelet-managed="two" is not a number of sections or \'all\'');
    expect(err(['--kubelet-plugin', '--kubelet-standalone', '-1'])).toBe('command line: --kubelet-standalone="-1" is not a number of sections or \'all\'');
    expect(err(['--kubelet-plugin', '--kubelet-managed', 'all', '--kubelet-standalone', '3'])).toBe('command line: --kubelet-standalone="3" leaves no section: --kubelet-managed=all takes every one');
    expect(err(['--kubelet-plugin', '--kubelet-health-interval', '10ms'])).toContain('command line: --kubelet-health-interval="10ms" is not a duration 50..3600000 ms (a number with a unit');
    expect(err(['--kubelet-plugin', '--kubelet-dir='])).toContain('--kubelet-dir="" is empty');
  });
});
