import { describe, it, expect } from 'vitest';
import { PfTracker, DEFAULT_POLICY, type PfSample } from '../../../src/health/state.js';

const up: PfSample = { present: true, bound: true, state: 'up', vfs: 16, ras: { correctable: 0, nonfatal: 0, fatal: 0 }, heartbeat: 'alive', autoReset: false };

function tracker(): PfTracker {
  const t = new PfTracker('0000:70:00.0', DEFAULT_POLICY, 0);
  expect(t.update(up, 0)).toBeUndefined();
  return t;
}

describe('PF health with hysteresis', () => {
  it('turns unhealthy at the first failed heartbeat and healthy only after the recovery time of good samples', () => {
    const t = tracker();
    const tr = t.update({ heartbeat: 'failed', heartbeatFailed: 1 }, 1000);
    expect(tr).toMatchObject({ from: 'healthy', to: 'unhealthy' });
    expect(tr!.reasons).toEqual([{ code: 'heartbeat-failed', text: 'firmware heartbeat failed (queries_failed 1)' }]);
    expect(t.update({ heartbeat: 'alive' }, 1500)).toBeUndefined();
    expect(t.recoverAt()).toBe(1500 + DEFAULT_POLICY.recoverMs);
    // the reasons stay those that made it bad while it recovers
    expect(t.reasons[0].code).toBe('heartbeat-failed');
    expect(t.update({ heartbeat: 'alive' }, 1500 + DEFAULT_POLICY.recoverMs - 1)).toBeUndefined();
    expect(t.update({ heartbeat: 'alive' }, 1500 + DEFAULT_POLICY.recoverMs)).toMatchObject({ from: 'unhealthy', to: 'healthy' });
  });

  it('keeps a flapping heartbeat unhealthy: one transition, and the next bad spell doubles the wait', () => {
    const t = tracker();
    let transitions = 0;
    for (let i = 0; i < 40; i++) if (t.update({ heartbeat: i % 2 ? 'alive' : 'failed' }, 1000 + i * 200)) transitions++;
    expect(transitions).toBe(1);
    expect(t.state).toBe('unhealthy');
    const last = 1000 + 40 * 200;
    expect(t.update({ heartbeat: 'alive' }, last)).toBeUndefined();
    expect(t.update({ heartbeat: 'alive' }, last + DEFAULT_POLICY.recoverMs)?.to).toBe('healthy');
    // bad again within the flap window: twice the wait
    t.update({ heartbeat: 'failed' }, last + 5000);
    expect(t.flaps).toBe(1);
    t.update({ heartbeat: 'alive' }, last + 6000);
    expect(t.update({ heartbeat: 'alive' }, last + 6000 + DEFAULT_POLICY.recoverMs)).toBeUndefined();
    expect(t.update({ heartbeat: 'alive' }, last + 6000 + 2 * DEFAULT_POLICY.recoverMs)?.to).toBe('healthy');
  });

  it('ignores a sample that could not tell (unchecked heartbeat, unread sources): the last known values stand', () => {
    const t = tracker();
    t.update({ heartbeat: 'failed' }, 100);
    t.update({ heartbeat: 'unchecked' }, 200);
    t.update({}, 300);
    expect(t.known.heartbeat).toBe('failed');
    expect(t.state).toBe('unhealthy');
  });

  it('says which fault: state down, in reset after a fault with auto_reset on, fatal error, gone', () => {
    const down = tracker();
    expect(down.update({ state: 'down', ras: null }, 100)!.reasons.map((r) => r.code)).toEqual(['state-down']);
    const reset = tracker();
    reset.update({ autoReset: true, ras: { correctable: 0, nonfatal: 0, fatal: 1 } }, 100);
    expect(reset.reasons.map((r) => r.code)).toEqual(['fatal-error']);
    expect(reset.reasons[0].text).toMatch(/auto_reset is on/);
    expect(reset.update({ state: 'down', ras: null }, 200)).toBeUndefined();
    expect(reset.reasons.map((r) => r.code)).toEqual(['in-reset']);
    const fatal = tracker();
    expect(fatal.update({ heartbeat: 'failed', ras: { correctable: 0, nonfatal: 0, fatal: 2 } }, 100)!.reasons.map((r) => r.code)).toEqual(['heartbeat-failed', 'fatal-error']);
    const gone = tracker();
    expect(gone.update({ present: false }, 100)).toMatchObject({ to: 'gone', reasons: [{ code: 'pf-missing' }] });
    // between the two bad states at once
    expect(gone.update({ present: true, bound: true, state: 'down' }, 200)).toMatchObject({ from: 'gone', to: 'unhealthy' });
    const novf = tracker();
    expect(novf.update({ vfs: 0 }, 100)).toMatchObject({ to: 'gone', reasons: [{ code: 'no-vfs' }] });
  });

  it('is degraded while correctable or non-fatal errors rise, and healthy again after the window without a rise', () => {
    const t = tracker();
    expect(t.update({ ras: { correctable: 1, nonfatal: 0, fatal: 0 } }, 1000)).toMatchObject({ to: 'degraded', reasons: [{ code: 'errors-rising' }] });
    expect(t.update({ ras: { correctable: 1, nonfatal: 0, fatal: 0 } }, 1000 + DEFAULT_POLICY.degradedMs - 1)).toBeUndefined();
    expect(t.update({ ras: { correctable: 1, nonfatal: 0, fatal: 0 } }, 1000 + DEFAULT_POLICY.degradedMs)).toMatchObject({ from: 'degraded', to: 'healthy' });
    // counters cleared by a restart are a new baseline, not a rise
    expect(t.update({ ras: { correctable: 0, nonfatal: 0, fatal: 0 } }, 70_000)).toBeUndefined();
  });

  it('forgets the heartbeat verdict when the device starts again (new files, new counters)', () => {
    const t = tracker();
    t.update({ heartbeat: 'failed' }, 100);
    t.update({ state: 'down' }, 200);
    t.update({ state: 'up' }, 300);
    expect(t.known.heartbeat).toBeNull();
  });
});
