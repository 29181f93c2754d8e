import { describe, it, expect } from 'vitest';
import {
  debugfsDirName, heartbeatVerdict, kstrtobool, parseCounter, parseHeartbeatStatus, parseOnOff, parseState, rasResetAccepted,
} from '../../../src/kernel/health.js';

describe('the QAT driver health values (src/kernel/health.ts)', () => {
  it('reads qat/state, auto_reset, counters and heartbeat/status as the kernel prints them, NUL included', () => {
    expect(parseState('up\n')).toBe('up');
    expect(parseState('down\n')).toBe('down');
    expect(parseState('sideways\n')).toBeUndefined();
    expect(parseOnOff('on\n')).toBe(true);
    expect(parseOnOff('off\n')).toBe(false);
    expect(parseOnOff('1\n')).toBeUndefined();
    expect(parseCounter('17\n')).toBe(17);
    expect(parseCounter('3\n\0')).toBe(3);
    expect(parseCounter('-1\n')).toBeUndefined();
    expect(parseCounter('')).toBeUndefined();
    expect(parseHeartbeatStatus('0\n\0')).toBe('alive');
    expect(parseHeartbeatStatus('-1\n\0')).toBe('not-alive');
    expect(parseHeartbeatStatus('1\n')).toBeUndefined();
  });

  it('names the debugfs directory qat_<class>_<PF BDF>', () => {
    expect(debugfsDirName('4xxx', '0000:6b:00.0')).toBe('qat_4xxx_0000:6b:00.0');
  });

  it('takes a -1 for a failure only when queries_failed rose: a refused (too frequent) check counts nothing', () => {
    expect(heartbeatVerdict('alive', { sent: 5, failed: 0 }, { sent: 4, failed: 0 })).toBe('alive');
    expect(heartbeatVerdict('not-alive', { sent: 6, failed: 1 }, { sent: 5, failed: 0 })).toBe('failed');
    // another reader's check raised queries_sent, ours was refused as too frequent
    expect(heartbeatVerdict('not-alive', { sent: 9, failed: 1 }, { sent: 6, failed: 1 })).toBe('unchecked');
    // counters start again from 0 with a restarted device
    expect(heartbeatVerdict('not-alive', { sent: 0, failed: 0 }, { sent: 6, failed: 1 })).toBe('unchecked');
    expect(heartbeatVerdict('not-alive', undefined, undefined)).toBe('failed');
    expect(heartbeatVerdict('not-alive', { sent: 3, failed: 0 }, undefined)).toBe('unchecked');
  });

  it('accepts auto_reset values as kstrtobool does and reset_error_counters only as "1" plus one byte', () => {
    for (const t of ['1', 'y', 'Yes', 'true', 'on\n', 'ON']) expect(kstrtobool(t), t).toBe(true);
    for (const t of ['0', 'n', 'no', 'false', 'off\n', 'oFF']) expect(kstrtobool(t), t).toBe(false);
    for (const t of ['', 'o', 'ox', '2', 'maybe']) expect(kstrtobool(t), t).toBeUndefined();
    expect(rasResetAccepted('1\n')).toBe(true);
    expect(rasResetAccepted('1')).toBe(false);
    expect(rasResetAccepted('11\n')).toBe(false);
    expect(rasResetAccepted('0\n')).toBe(false);
  });
});
