// The health loop: every interval, each PF's sources and the host's device set; transitions withhold or re-admit a
// PF's VFs in the allocator, and a changed device set asks for a rescan.

import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import type { Roots } from '../config/roots.js';
import type { Logger } from '../log.js';
import type { Allocator } from '../sections/allocator.js';
import type { Inventory } from '../platform/discover.js';
import { listDir } from '../platform/fsio.js';
import { readPfTable } from '../platform/pfs.js';
import { parseBdf, formatBdf } from '../platform/pci.js';
import { PfProbe, type PfRef, type Problem } from './probe.js';
import { PfTracker, DEFAULT_POLICY, isWithheld, reasonText, type HealthPolicy, type HealthState, type Reason, type PfSample, type Transition } from './state.js';
import type { HeartbeatReading } from './heartbeat.js';

export type HeartbeatMode = 'auto' | 'debugfs' | 'relay' | 'off';

export interface HealthSettings {
  /** Time between looks, ms; 0 = no health loop and no following the host (upstream's behaviour). */
  intervalMs: number;
  /** A bad PF is re-admitted after its sources stayed good this long (doubled for each flap), ms. */
  recoverMs: number;
  heartbeat: HeartbeatMode;
  /** Where debugfs is mounted. */
  debugfsRoot: string;
}

/** Where heartbeats come from now. */
export type HeartbeatSource = 'debugfs' | 'relay' | 'waiting-for-relay' | 'off';

export interface AffectedHolder {
  section: string;
  pid: number;
  processName: string;
  /** The holder's VFs on this PF (it keeps them: the hardware may recover). */
  bdfs: string[];
}

/** One transition of one PF (an event, a log line, a metric). */
export interface PfHealthChange {
  pf: string;
  from: HealthState;
  to: HealthState;
  reason: string;
  reasons: Reason[];
  /** ISO time. */
  at: string;
  affected: AffectedHolder[];
}

export interface PfHealthView {
  bdf: string;
  driver: string;
  state: HealthState;
  /** Why (empty when healthy). */
  reason: string;
  reasons: Reason[];
  since: string;
  /** A bad PF whose sources are good again: re-admitted at this time if they stay good. */
  recoverAt: string | null;
  transitions: number;
  flaps: number;
  /** Not watched (no sysfs directory for it): why. */
  unwatched: string | null;
  sources: {
    state: 'up' | 'down' | null;
    autoReset: boolean | null;
    sriovNumVfs: number | null;
    ras: { correctable: number; nonfatal: number; fatal: number } | null;
    heartbeat: 'alive' | 'failed' | null;
    heartbeatFailed: number | null;
  };
  /** The PF's VFs in sections, and how many are withheld from new grants now. */
  vfs: { inSections: number; held: number; withheld: number };
  affected: AffectedHolder[];
}

export interface HealthView {
  enabled: boolean;
  intervalMs: number;
  recoverMs: number;
  heartbeat: { mode: HeartbeatMode; source: HeartbeatSource; detail: string; relayLastPush: string | null };
  /** Looks so far; CPU ms of the first (it opens every descriptor) apart; avg, max and busy % (CPU over wall time) after it. */
  poll: { count: number; firstMs: number; lastMs: number; maxMs: number; avgMs: number; busyPct: number; lastAt: string | null };
  host: { changes: number; lastChange: string | null; lastReason: string | null };
  counts: Record<HealthState, number>;
  pfs: PfHealthView[];
}

export interface HealthEvents {
  change: [change: PfHealthChange];
  /** The host's device set changed (VFs or PFs came or went) and has settled: rescan. */
  host: [reason: string];
  /** These PFs are about to be handed out again: read again what must be (capabilities), before they are. */
  readmit: [pfs: string[]];
}

/** A pushed heartbeat reading of one PF (the relay), or why the relay could not read it. */
export interface PushedHeartbeat {
  pf: string;
  reading?: HeartbeatReading;
  error?: string;
}

interface Tracked {
  ref: PfRef;
  probe: PfProbe;
  tracker: PfTracker;
  /** Set when the PF has no sysfs directory (a minimal tree): its health is not watched. */
  unwatched: string | null;
  /** Looked at once (the first look of a PF is a full one). */
  looked: boolean;
  problems: Set<string>;
}

/** A device set change waits this long for more changes before the rescan (SR-IOV on binds VFs one by one), ms. */
const SETTLE_MAX_MS = 3000;
/**
 * Full looks (presence, binding, sriov_numvfs, auto_reset, all RAS counters, the PF table) this often, ms. What they
 * read changes slowly or is seen sooner another way: VFs that come and go change /dev/vfio (which forces a full look),
 * a PF that goes away loses qat/state (likewise); correctable and non-fatal counts only make a PF degraded.
 */
const FULL_EVERY_MS = 15_000;
/**
 * The /dev/vfio listing (4 ms on 4096 entries) this often, ms: every tick's stat of the directory sees entries come
 * and go; the listing only catches an add and a remove within one timestamp tick.
 */
const LIST_EVERY_MS = 30_000;

export class HealthMonitor extends EventEmitter<HealthEvents> {
  private readonly tracked = new Map<string, Tracked>();
  private timer: NodeJS.Timeout | undefined;
  private ticks = 0;
  private readonly fullEvery: number;
  private readonly listEvery: number;
  /** The next tick looks at everything (the device set just changed). */
  private forceFull = false;
  private vfioStat = '';
  private vfioNames = '';
  private pfNames = '';
  private hostPending: { reason: string; since: number; last: number } | undefined;
  /** Problems said once (key -> text), until they clear. */
  private readonly said = new Map<string, string>();
  private hbSource: HeartbeatSource;
  private hbDetail = '';
  private relayLast: number | undefined;
  private relayIntervalMs = 1000;
  /** The first look opens every kept descriptor: it is counted apart (firstMs), the rest is the steady cost. */
  readonly stats = { polls: 0, firstMs: 0, busyMs: 0, lastMs: 0, maxMs: 0, lastAt: 0, steadySince: 0, hostChanges: 0, lastHostChange: 0, lastHostReason: '' };

  constructor(
    private readonly roots: Roots,
    private readonly allocator: Allocator,
    inventory: Inventory,
    readonly settings: HealthSettings,
    private readonly log: Logger,
    private readonly policy: HealthPolicy = { ...DEFAULT_POLICY, recoverMs: settings.recoverMs },
    private readonly clock: () => number = Date.now,
  ) {
    super();
    this.fullEvery = Math.max(1, Math.round(FULL_EVERY_MS / Math.max(1, settings.intervalMs)));
    this.listEvery = Math.max(1, Math.round(LIST_EVERY_MS / Math.max(1, settings.intervalMs)));
    this.hbSource = settings.heartbeat === 'off' || !this.enabled ? 'off' : settings.heartbeat === 'relay' ? 'waiting-for-relay' : 'debugfs';
    this.setInventory(inventory);
    const sig = this.topology(true, true);
    this.vfioStat = sig.stat;
    this.vfioNames = sig.names;
    this.pfNames = sig.pfs;
  }

  get enabled(): boolean {
    return this.settings.intervalMs > 0;
  }

  get heartbeatSource(): HeartbeatSource {
    return this.hbSource;
  }

  /** Look every interval from now on (the first look one interval after start: not in the start-up burst). */
  start(): void {
    if (!this.enabled || this.timer) return;
    this.timer = setInterval(() => this.poll(), this.settings.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    for (const t of this.tracked.values()) t.probe.close();
  }

  /**
   * Watch the PFs of a (new) inventory. PFs that left it stay watched (and listed as gone) until they come back:
   * `qatctl health` keeps telling where they went.
   */
  setInventory(inv: Inventory): void {
    if (!this.enabled) return;
    const now = this.clock();
    const direct = this.hbSource === 'debugfs' ? { debugfsRoot: this.settings.debugfsRoot } : undefined;
    for (const pf of inv.pfs) {
      if (this.tracked.has(pf.bdf)) continue;
      const ref = { bdf: pf.bdf, driver: pf.driver };
      const dir = path.join(this.roots.sys, 'bus', 'pci', 'devices', pf.bdf);
      // a PF table entry without a device directory (a minimal tree) cannot be watched: it is never called gone
      const unwatched = fs.existsSync(dir) ? null : `no sysfs directory ${dir}: its health cannot be watched`;
      if (unwatched) this.sayOnce(`unwatched:${pf.bdf}`, 'info', `PF ${pf.bdf}: ${unwatched}`);
      this.tracked.set(pf.bdf, { ref, probe: new PfProbe(this.roots, ref, direct), tracker: new PfTracker(pf.bdf, this.policy, now), unwatched, looked: false, problems: new Set() });
    }
  }

  /** One look at everything (the timer calls it; tests and benchmarks may too). */
  poll(): void {
    // CPU time, not wall time: on a shared machine a preempted look would look expensive
    const c0 = process.cpuUsage();
    const now = this.clock();
    this.ticks++;
    const full = this.forceFull || this.ticks % this.fullEvery === 1 || this.fullEvery === 1;
    this.forceFull = false;
    try {
      this.watchTopology(full, now);
      const transitions: Array<[Tracked, Transition]> = [];
      let i = 0;
      for (const t of this.tracked.values()) {
        // half of the PFs read errors_fatal on even ticks, the other half on odd ones
        const tr = this.look(t, full || !t.looked, (i++ + this.ticks) % 2 === 0, now);
        if (tr) transitions.push([t, tr]);
      }
      this.checkRelay(now, transitions);
      this.apply(transitions);
      this.maybeHostChanged(now);
    } catch (e) {
      this.sayOnce('poll-error', 'error', `health loop: ${(e as Error).message}`);
    }
    const c = process.cpuUsage(c0);
    const ms = (c.user + c.system) / 1000;
    const end = performance.now();
    const st = this.stats;
    if (st.polls++ === 0) {
      st.firstMs = ms;
      st.steadySince = end;
    } else {
      st.busyMs += ms;
      st.maxMs = Math.max(st.maxMs, ms);
    }
    st.lastMs = ms;
    st.lastAt = now;
  }

  private look(t: Tracked, full: boolean, ras: boolean, now: number): Transition | undefined {
    if (t.unwatched) return undefined;
    t.looked = true;
    const r = t.probe.probe(full, ras);
    this.problems(t, r.problems);
    if (r.heartbeatError) this.heartbeatError(t, r.heartbeatError);
    return t.tracker.update(r.sample, now);
  }

  private problems(t: Tracked, list: Problem[]): void {
    const now = new Set(list.map((p) => p.key));
    for (const p of list) this.sayOnce(p.key, 'warn', `PF ${t.ref.bdf}: ${p.text}`);
    for (const k of t.problems) {
      if (!now.has(k)) {
        this.said.delete(k);
        this.log.info({ event: 'health_source_ok', bdf: t.ref.bdf, key: k }, `PF ${t.ref.bdf}: ${k.replace(/:(value|read)$/, '')} reads well again`);
      }
    }
    t.problems = now;
  }

  private heartbeatError(t: Tracked, errno: string): void {
    if (errno === 'EACCES' || errno === 'EPERM') {
      if (this.settings.heartbeat !== 'auto') {
        this.sayOnce(`hb-denied:${t.ref.bdf}`, 'warn', `PF ${t.ref.bdf}: cannot read its heartbeat under ${this.settings.debugfsRoot} (${errno}); health relies on qat/state and qat_ras`);
        return;
      }
      // the hardened daemon is not root: debugfs is root-only; the privileged relay pushes heartbeats instead
      this.hbSource = 'waiting-for-relay';
      this.hbDetail = `${this.settings.debugfsRoot}: ${errno} (debugfs is root-only)`;
      this.sayOnce('hb-denied', 'info', `heartbeat: cannot read ${this.settings.debugfsRoot} (${errno}: debugfs is root-only); heartbeats come from the relay (qat-heartbeat.service, qatctl heartbeat-relay) once it runs; until then health relies on qat/state and qat_ras`);
      this.setDirect(false);
      return;
    }
    if (errno === 'ENOENT' && t.tracker.known.state === 'up') {
      this.sayOnce(`hb-absent:${t.ref.bdf}`, 'info', `PF ${t.ref.bdf}: no heartbeat files under ${this.settings.debugfsRoot} (debugfs not mounted, or a kernel without the QAT heartbeat); health relies on qat/state and qat_ras`);
    }
  }

  /** Read heartbeats directly or not (probes are rebuilt; trackers keep their memory). */
  private setDirect(on: boolean): void {
    for (const t of this.tracked.values()) {
      t.probe.close();
      t.probe = new PfProbe(this.roots, t.ref, on ? { debugfsRoot: this.settings.debugfsRoot } : undefined);
    }
  }

  /**
   * Heartbeat readings pushed by the privileged relay (admin op `heartbeat`). Judged at once, so detection does not
   * wait for the next tick. Returns what was taken.
   */
  pushHeartbeat(pushed: PushedHeartbeat[], intervalMs: number, from: string): { accepted: number; unknown: string[]; ignored: string | null } {
    if (this.settings.heartbeat === 'off') return { accepted: 0, unknown: [], ignored: 'the daemon runs with --heartbeat=off' };
    if (this.hbSource === 'debugfs') return { accepted: 0, unknown: [], ignored: `the daemon reads ${this.settings.debugfsRoot} itself` };
    const now = this.clock();
    if (this.hbSource !== 'relay') {
      this.log.info({ event: 'heartbeat_relay', from, intervalMs }, `heartbeat: the relay (${from}) pushes readings every ${intervalMs} ms`);
      this.said.delete('hb-relay-silent');
    }
    this.hbSource = 'relay';
    this.hbDetail = from;
    this.relayLast = now;
    this.relayIntervalMs = intervalMs;
    const unknown: string[] = [];
    const transitions: Array<[Tracked, Transition]> = [];
    let accepted = 0;
    for (const p of pushed) {
      const a = parseBdf(p.pf.toLowerCase()) ?? parseBdf(`0000:${p.pf.toLowerCase()}`);
      const bdf = a ? formatBdf(a) : p.pf;
      const t = this.tracked.get(bdf);
      if (!t) { unknown.push(p.pf); continue; }
      accepted++;
      if (t.unwatched || t.tracker.known.state === 'down') continue;
      const sample: PfSample = {};
      if (p.reading) t.probe.judgeReading(p.reading, sample);
      else if (p.error === 'ENOENT' && t.tracker.known.state === 'up') this.heartbeatError(t, 'ENOENT');
      const tr = t.tracker.update(sample, now);
      if (tr) transitions.push([t, tr]);
    }
    this.apply(transitions);
    return { accepted, unknown, ignored: null };
  }

  /** A relay that stopped pushing: its last readings no longer count (said once). */
  private checkRelay(now: number, transitions: Array<[Tracked, Transition]>): void {
    if (this.hbSource !== 'relay' || this.relayLast === undefined) return;
    const stale = Math.max(3000, 3 * this.relayIntervalMs);
    if (now - this.relayLast <= stale) return;
    this.hbSource = 'waiting-for-relay';
    this.sayOnce('hb-relay-silent', 'warn', `heartbeat: no reading from the relay for ${Math.round((now - this.relayLast) / 1000)} s; heartbeats are ignored until it pushes again (health relies on qat/state and qat_ras)`);
    for (const t of this.tracked.values()) {
      const tr = t.tracker.update({ heartbeat: null }, now);
      if (tr) transitions.push([t, tr]);
    }
  }

  /** Withhold or re-admit, then tell (readmissions first ask for capabilities to be read again). */
  private apply(transitions: Array<[Tracked, Transition]>): void {
    if (!transitions.length) return;
    const back = transitions.filter(([, tr]) => isWithheld(tr.from) && !isWithheld(tr.to)).map(([t]) => t.ref.bdf);
    if (back.length) this.emit('readmit', back);
    for (const [t, tr] of transitions) {
      const pf = t.ref.bdf;
      const reason = reasonText(tr.reasons);
      this.allocator.setPfWithheld(pf, isWithheld(tr.to) ? `PF ${pf} is ${tr.to}: ${reason}` : undefined);
      this.emit('change', { pf, from: tr.from, to: tr.to, reason, reasons: tr.reasons, at: new Date(tr.at).toISOString(), affected: this.affected(pf) });
    }
  }

  /** Held sections with VFs of this PF that their holder was given. */
  affected(pf: string): AffectedHolder[] {
    const out: AffectedHolder[] = [];
    for (const s of this.allocator.sections) {
      const h = s.holder;
      if (!h) continue;
      const bdfs = s.plan.devices.filter((d) => d.vf.pf?.bdf === pf && !s.withheld?.includes(d.vf.bdf)).map((d) => d.vf.bdf);
      if (bdfs.length) out.push({ section: s.name, pid: h.pid, processName: h.processName, bdfs });
    }
    return out;
  }

  // ---- following the host -------------------------------------------------------------------------------------

  private topology(full: boolean, list: boolean): { stat: string; names: string; pfs: string } {
    const dir = path.join(this.roots.dev, 'vfio');
    let stat: string;
    try {
      const st = fs.statSync(dir, { bigint: true });
      stat = `${st.ino}:${st.mtimeNs}:${st.ctimeNs}:${st.size}:${st.nlink}`;
    } catch (e) {
      stat = (e as NodeJS.ErrnoException).code ?? 'absent';
    }
    if (!full) return { stat, names: this.vfioNames, pfs: this.pfNames };
    let pfs: string;
    try { pfs = readPfTable(this.roots).map((p) => p.bdf).join(','); } catch (e) { pfs = (e as Error).message; }
    return { stat, names: list ? (listDir(dir) ?? []).join(',') : this.vfioNames, pfs };
  }

  /** The cheap look (a stat of /dev/vfio) every tick; the PF table on full looks, the listing now and then. */
  private watchTopology(full: boolean, now: number): void {
    const list = this.ticks % this.listEvery === 1 || this.listEvery === 1;
    const sig = this.topology(full, list);
    let reason: string | undefined;
    if (sig.stat !== this.vfioStat) reason = `${path.join(this.roots.dev, 'vfio')} changed`;
    else if (sig.names !== this.vfioNames) reason = `${path.join(this.roots.dev, 'vfio')} entries changed`;
    else if (sig.pfs !== this.pfNames) reason = 'the PFs bound to QAT drivers changed';
    // a change seen by the stat: the listing and the PF table are taken at once (the new reference)
    const confirmed = reason && !(full && list) ? this.topology(true, true) : sig;
    this.vfioStat = confirmed.stat;
    this.vfioNames = confirmed.names;
    this.pfNames = confirmed.pfs;
    if (reason) {
      this.forceFull = true;
      if (this.hostPending) this.hostPending.last = now;
      else this.hostPending = { reason, since: now, last: now };
    }
  }

  private maybeHostChanged(now: number): void {
    const p = this.hostPending;
    if (!p) return;
    // wait for a quiet tick (VFs appear one by one), but not for ever
    if (p.last === now && now - p.since < SETTLE_MAX_MS) return;
    this.hostPending = undefined;
    this.stats.hostChanges++;
    this.stats.lastHostChange = now;
    this.stats.lastHostReason = p.reason;
    this.emit('host', p.reason);
  }

  // ---- telling --------------------------------------------------------------------------------------------------

  private sayOnce(key: string, level: 'info' | 'warn' | 'error', text: string): void {
    if (this.said.has(key)) return;
    this.said.set(key, text);
    this.log[level]({ event: 'health_source', key }, text);
  }

  /** The state of every watched PF (the Kubernetes device plugin and `qatctl health` read this). */
  states(): Array<{ pf: string; state: HealthState; reason: string; since: string }> {
    return [...this.tracked.values()].map((t) => ({ pf: t.ref.bdf, state: t.tracker.state, reason: reasonText(t.tracker.reasons), since: new Date(t.tracker.since).toISOString() }));
  }

  snapshot(): HealthView {
    const now = this.clock();
    const counts: Record<HealthState, number> = { healthy: 0, degraded: 0, unhealthy: 0, gone: 0 };
    const pfs: PfHealthView[] = [];
    for (const t of this.tracked.values()) {
      const k = t.tracker.known;
      counts[t.tracker.state]++;
      let inSections = 0;
      let held = 0;
      let withheld = 0;
      for (const s of this.allocator.sections) {
        for (const d of s.plan.devices) {
          if (d.vf.pf?.bdf !== t.ref.bdf) continue;
          inSections++;
          if (s.holder) held++;
          else if (!this.allocator.serves(d)) withheld++;
        }
      }
      const recoverAt = t.tracker.recoverAt();
      pfs.push({
        bdf: t.ref.bdf,
        driver: t.ref.driver,
        state: t.tracker.state,
        reason: reasonText(t.tracker.reasons),
        reasons: t.tracker.reasons,
        since: new Date(t.tracker.since).toISOString(),
        recoverAt: recoverAt === undefined ? null : new Date(recoverAt).toISOString(),
        transitions: t.tracker.transitions,
        flaps: t.tracker.flaps,
        unwatched: t.unwatched,
        sources: {
          state: t.unwatched ? null : k.state,
          autoReset: k.autoReset,
          sriovNumVfs: k.vfs < 0 ? null : k.vfs,
          ras: k.ras,
          heartbeat: k.heartbeat,
          heartbeatFailed: k.heartbeatFailed ?? null,
        },
        vfs: { inSections, held, withheld },
        affected: this.affected(t.ref.bdf),
      });
    }
    const st = this.stats;
    const steady = st.polls > 1 ? Math.max(1, performance.now() - st.steadySince) : 0;
    return {
      enabled: this.enabled,
      intervalMs: this.settings.intervalMs,
      recoverMs: this.policy.recoverMs,
      heartbeat: { mode: this.settings.heartbeat, source: this.hbSource, detail: this.hbDetail || (this.hbSource === 'debugfs' ? this.settings.debugfsRoot : ''), relayLastPush: this.relayLast === undefined ? null : new Date(this.relayLast).toISOString() },
      poll: {
        count: st.polls,
        firstMs: round(st.firstMs),
        lastMs: round(st.lastMs),
        maxMs: round(st.maxMs),
        avgMs: round(st.polls > 1 ? st.busyMs / (st.polls - 1) : 0),
        busyPct: round(steady ? (100 * st.busyMs) / steady : 0, 3),
        lastAt: st.lastAt ? new Date(st.lastAt).toISOString() : null,
      },
      host: { changes: this.stats.hostChanges, lastChange: this.stats.lastHostChange ? new Date(this.stats.lastHostChange).toISOString() : null, lastReason: this.stats.lastHostReason || null },
      counts,
      pfs,
    };
  }
}

function round(n: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}
