// Per-PF health from samples, with hysteresis: worse at once, better only after the PF stayed good long enough.

export type HealthState = 'healthy' | 'degraded' | 'unhealthy' | 'gone';

/** Worst first: a state is withheld from new grants when it is unhealthy or gone. */
export const HEALTH_STATES: readonly HealthState[] = ['healthy', 'degraded', 'unhealthy', 'gone'];

export type ReasonCode =
  | 'pf-missing' | 'pf-unbound' | 'no-vfs' | 'state-down' | 'in-reset' | 'heartbeat-failed' | 'fatal-error' | 'errors-rising';

export interface Reason {
  code: ReasonCode;
  text: string;
}

export interface RasCounts {
  correctable: number;
  nonfatal: number;
  fatal: number;
}

/**
 * What one look at a PF found. A field left undefined was not looked at this time (or could not be read): the last
 * known value stands. `ras` null = no `qat_ras/` (device down, or a kernel before 6.7).
 */
export interface PfSample {
  /** The PF's device exists. */
  present?: boolean;
  /** Its QAT driver is bound (`qat/` exists). */
  bound?: boolean;
  state?: 'up' | 'down';
  autoReset?: boolean | null;
  /** sriov_numvfs. */
  vfs?: number;
  ras?: RasCounts | null;
  /** A verdict from a heartbeat read ('unchecked' keeps the last one); null = no heartbeat to go by now. */
  heartbeat?: 'alive' | 'failed' | 'unchecked' | null;
  /** queries_failed with the verdict, for reasons. */
  heartbeatFailed?: number;
}

/** The last known value of each source of a PF (vfs -1: not read yet). */
export interface KnownSources {
  present: boolean;
  bound: boolean;
  state: 'up' | 'down';
  autoReset: boolean | null;
  vfs: number;
  ras: RasCounts | null;
  heartbeat: 'alive' | 'failed' | null;
  heartbeatFailed: number | undefined;
}

export interface HealthPolicy {
  /** A bad PF is re-admitted after its sources stayed good this long, ms. */
  recoverMs: number;
  /** Each return to bad within `flapWindowMs` doubles the wait, up to `maxRecoverMs`. */
  flapWindowMs: number;
  maxRecoverMs: number;
  /** Correctable or non-fatal errors rising make a PF degraded for this long, ms. */
  degradedMs: number;
  /** A PF down within this long of a fault, with auto_reset on, is taken to be resetting, ms. */
  resetWindowMs: number;
}

export const DEFAULT_POLICY: HealthPolicy = { recoverMs: 3000, flapWindowMs: 60_000, maxRecoverMs: 60_000, degradedMs: 60_000, resetWindowMs: 30_000 };

export interface Transition {
  from: HealthState;
  to: HealthState;
  reasons: Reason[];
  at: number;
}

const BAD = new Set<HealthState>(['unhealthy', 'gone']);
export const isWithheld = (s: HealthState): boolean => BAD.has(s);
const rank = (s: HealthState): number => HEALTH_STATES.indexOf(s);

/** The last known value of every source of one PF, and the health they add up to. */
export class PfTracker {
  state: HealthState = 'healthy';
  reasons: Reason[] = [];
  since: number;
  transitions = 0;
  /** Returns to bad within the flap window (each doubles the wait for recovery). */
  flaps = 0;
  /** The last known value of each source. */
  readonly known: KnownSources;
  /** When the sources last turned good after being bad (recovery counts from here). */
  private goodSince: number | undefined;
  private badEntries: number[] = [];
  private lastFaultAt: number | undefined;
  private prevRas: RasCounts | null = null;
  private lastRiseAt: number | undefined;

  constructor(readonly pf: string, readonly policy: HealthPolicy, now: number) {
    this.since = now;
    this.known = { present: true, bound: true, state: 'up', autoReset: null, vfs: -1, ras: null, heartbeat: null, heartbeatFailed: undefined };
  }

  /** When a bad PF will be re-admitted if its sources stay good (undefined: not bad, or not good yet). */
  recoverAt(): number | undefined {
    return isWithheld(this.state) && this.goodSince !== undefined ? this.goodSince + this.recoverNeed() : undefined;
  }

  recoverNeed(): number {
    return Math.min(this.policy.recoverMs * 2 ** this.flaps, this.policy.maxRecoverMs);
  }

  /** Take a sample; returns the transition when the state changes. */
  update(s: PfSample, now: number): Transition | undefined {
    this.merge(s, now);
    const c = this.condition(now);
    const cur = this.state;
    if (c.state === cur) {
      this.reasons = c.reasons;
      this.goodSince = undefined;
      return undefined;
    }
    // worse, between the two bad states, or degraded -> healthy: at once
    if (rank(c.state) > rank(cur) || isWithheld(c.state) || !isWithheld(cur)) return this.enter(c.state, c.reasons, now);
    // bad -> better: only once the sources stayed good for the recovery time (the reasons stay those that made it bad)
    this.goodSince ??= now;
    if (now - this.goodSince < this.recoverNeed()) return undefined;
    return this.enter(c.state, c.reasons, now);
  }

  private enter(to: HealthState, reasons: Reason[], now: number): Transition {
    const from = this.state;
    if (isWithheld(to) && !isWithheld(from)) {
      this.badEntries = this.badEntries.filter((t) => now - t < this.policy.flapWindowMs);
      this.flaps = this.badEntries.length;
      this.badEntries.push(now);
    }
    this.state = to;
    this.reasons = reasons;
    this.since = now;
    this.goodSince = undefined;
    this.transitions++;
    return { from, to, reasons, at: now };
  }

  private merge(s: PfSample, now: number): void {
    const k = this.known;
    if (s.present !== undefined) k.present = s.present;
    if (s.bound !== undefined) k.bound = s.bound;
    if (s.autoReset !== undefined) k.autoReset = s.autoReset;
    if (s.vfs !== undefined) k.vfs = s.vfs;
    if (s.state !== undefined) {
      // a device that starts again has fresh heartbeat files and counters: what they said before no longer counts
      if (s.state === 'up' && k.state === 'down') k.heartbeat = null;
      k.state = s.state;
    }
    if (s.heartbeat !== undefined && s.heartbeat !== 'unchecked') {
      k.heartbeat = s.heartbeat;
      if (s.heartbeatFailed !== undefined) k.heartbeatFailed = s.heartbeatFailed;
      if (s.heartbeat === 'failed') this.lastFaultAt = now;
    }
    if (s.ras !== undefined) {
      const p = this.prevRas;
      if (s.ras && p && (s.ras.correctable > p.correctable || s.ras.nonfatal > p.nonfatal)) this.lastRiseAt = now;
      if (s.ras && s.ras.fatal > 0) this.lastFaultAt = now;
      // counters start again from 0 when the device starts: the new values are the new baseline
      this.prevRas = s.ras;
      k.ras = s.ras;
    }
  }

  /** The state the known values add up to, with every reason of that state. */
  condition(now: number): { state: HealthState; reasons: Reason[] } {
    const k = this.known;
    if (!k.present) return { state: 'gone', reasons: [{ code: 'pf-missing', text: 'not in the system any more' }] };
    if (!k.bound) return { state: 'gone', reasons: [{ code: 'pf-unbound', text: 'not bound to its QAT driver' }] };
    const bad: Reason[] = [];
    if (k.state === 'down') {
      const resetting = k.autoReset === true && this.lastFaultAt !== undefined && now - this.lastFaultAt < this.policy.resetWindowMs;
      bad.push(resetting
        ? { code: 'in-reset', text: 'resetting after a fault (qat/auto_reset on): its VFs come back when it is up' }
        : { code: 'state-down', text: `qat/state is down${k.autoReset === true ? ' (qat/auto_reset is on: if it is resetting, it comes back by itself)' : ''}` });
    } else {
      if (k.heartbeat === 'failed') bad.push({ code: 'heartbeat-failed', text: `firmware heartbeat failed${k.heartbeatFailed !== undefined ? ` (queries_failed ${k.heartbeatFailed})` : ''}` });
      if (k.ras && k.ras.fatal > 0) {
        bad.push({ code: 'fatal-error', text: `fatal error (qat_ras/errors_fatal ${k.ras.fatal})${k.autoReset === true ? '; auto_reset is on: it resets itself' : '; reset it: qat/state down, then up'}` });
      }
    }
    if (bad.length) return { state: 'unhealthy', reasons: bad };
    if (k.vfs === 0) return { state: 'gone', reasons: [{ code: 'no-vfs', text: 'no VFs (sriov_numvfs 0)' }] };
    if (this.lastRiseAt !== undefined && now - this.lastRiseAt < this.policy.degradedMs && k.ras) {
      return { state: 'degraded', reasons: [{ code: 'errors-rising', text: `errors rising (qat_ras/errors_correctable ${k.ras.correctable}, errors_nonfatal ${k.ras.nonfatal})` }] };
    }
    return { state: 'healthy', reasons: [] };
  }
}

/** "heartbeat failed (queries_failed 3); fatal error (...)" */
export function reasonText(reasons: Reason[]): string {
  return reasons.map((r) => r.text).join('; ');
}
