// A fixed-size ring of recent events (grants, releases, refusals, drains, PF health changes, rescans) for qatctl events.

import type { Allocator, Holder, Section, ReleaseReason, ReshapeInfo } from '../sections/allocator.js';
import type { HealthMonitor, PfHealthChange } from '../health/monitor.js';

export type EventKind = 'grant' | 'release' | 'forced-release' | 'refusal' | 'drain' | 'undrain' | 'health' | 'rescan';

export const EVENT_KINDS: EventKind[] = ['grant', 'release', 'forced-release', 'refusal', 'drain', 'undrain', 'health', 'rescan'];

export interface AdminEvent {
  /** Increasing number, unique for the daemon's life (clients ask for events after a seq). */
  seq: number;
  /** ISO time. */
  time: string;
  kind: EventKind;
  section: string | null;
  pid: number | null;
  uid: number | null;
  processName: string | null;
  bdfs: string[];
  /** put | disconnect | forced | owner-exited for releases; the refusal, drain, health or rescan reason otherwise. */
  reason: string | null;
  /** Refusals: who held the sections at the time, and which VFs were out of service. */
  detail?: RefusalDetail;
  /** Health changes: the PF, its old and new state, why, and the holders affected. */
  health?: HealthDetail;
  /** Rescans: what asked for it and how the sections changed. */
  rescan?: ReshapeInfo;
}

export interface HealthDetail {
  pf: string;
  from: string;
  to: string;
  reasons: string[];
  affected: Array<{ section: string; pid: number }>;
}

export interface RefusalDetail {
  held: number;
  total: number;
  /** Distinct holders (at most 16). */
  holders: Array<{ pid: number; processName: string; sections: number }>;
  outOfService: string[];
}

export const DEFAULT_EVENT_CAPACITY = 4096;

export class EventRing {
  private readonly buf: AdminEvent[] = [];
  private head = 0;
  private nextSeq = 1;
  /** Counters that survive the ring's wrap-around (metrics). */
  readonly totals = { grants: 0, releases: 0, forced: 0, refusals: 0, adoptions: 0, releasesByReason: {} as Record<string, number>, refusalsByReason: {} as Record<string, number>, numa: { local: 0, remote: 0, unknown: 0 }, healthTransitions: {} as Record<string, number>, rescans: 0 };

  constructor(readonly capacity = DEFAULT_EVENT_CAPACITY) {}

  push(e: Omit<AdminEvent, 'seq' | 'time'>): AdminEvent {
    const ev: AdminEvent = { seq: this.nextSeq++, time: new Date().toISOString(), ...e };
    if (this.buf.length < this.capacity) this.buf.push(ev);
    else {
      this.buf[this.head] = ev;
      this.head = (this.head + 1) % this.capacity;
    }
    return ev;
  }

  /** Events oldest first, optionally only those after `afterSeq`, of some kinds, the last `limit`. */
  list(opts: { afterSeq?: number; kinds?: EventKind[]; limit?: number } = {}): AdminEvent[] {
    const all = this.buf.length < this.capacity ? this.buf.slice() : [...this.buf.slice(this.head), ...this.buf.slice(0, this.head)];
    let out = all;
    if (opts.afterSeq !== undefined) out = out.filter((e) => e.seq > opts.afterSeq!);
    if (opts.kinds && opts.kinds.length) out = out.filter((e) => opts.kinds!.includes(e.kind));
    if (opts.limit !== undefined && out.length > opts.limit) out = out.slice(out.length - opts.limit);
    return out;
  }

  get size(): number {
    return this.buf.length;
  }

  get lastSeq(): number {
    return this.nextSeq - 1;
  }
}

function bdfsOf(s: Section): string[] {
  return s.plan.devices.map((d) => d.vf.bdf);
}

/** A refusal's reason as a metric label: every section held, some out of service, or no section planned at all. */
export function refusalKind(a: Allocator): 'all-held' | 'out-of-service' | 'no-sections' {
  const c = a.counts();
  if (c.total === 0) return 'no-sections';
  return c.blocked > 0 ? 'out-of-service' : 'all-held';
}

/** Who held what when a SECTION_GET was refused (computed only on refusals, never per request). */
export function refusalDetail(a: Allocator): RefusalDetail {
  const byPid = new Map<number, { pid: number; processName: string; sections: number }>();
  let held = 0;
  const oos = new Set<string>();
  for (const s of a.sections) {
    const h = s.holder;
    if (h) {
      held++;
      const e = byPid.get(h.pid);
      if (e) e.sections++;
      else byPid.set(h.pid, { pid: h.pid, processName: h.processName, sections: 1 });
    }
    for (const d of s.plan.devices) if (a.isOutOfService(d.vf.bdf)) oos.add(d.vf.bdf);
  }
  return { held, total: a.sections.length, holders: [...byPid.values()].slice(0, 16), outOfService: [...oos] };
}

/** Record the allocator's events in the ring; returns a function that stops recording. */
export function recordAllocatorEvents(a: Allocator, ring: EventRing): () => void {
  const onGrant = (s: Section, h: Holder): void => {
    ring.totals.grants++;
    if (h.adopted) ring.totals.adoptions++;
    // grants whose client nodes were looked up (NumaAware on)
    else if (h.local !== undefined) ring.totals.numa[h.local === null ? 'unknown' : h.local ? 'local' : 'remote']++;
    ring.push({ kind: 'grant', section: s.name, pid: h.pid, uid: h.uid, processName: h.processName, bdfs: bdfsOf(s), reason: h.adopted ? 'adopted' : null });
  };
  const onRelease = (s: Section, h: Holder, reason: ReleaseReason): void => {
    if (reason === 'forced') ring.totals.forced++;
    else ring.totals.releases++;
    ring.totals.releasesByReason[reason] = (ring.totals.releasesByReason[reason] ?? 0) + 1;
    ring.push({ kind: reason === 'forced' ? 'forced-release' : 'release', section: s.name, pid: h.pid, uid: h.uid, processName: h.processName, bdfs: bdfsOf(s), reason });
  };
  const onRefuse = (h: Holder, reason: string, byRule: boolean): void => {
    ring.totals.refusals++;
    const why = byRule ? 'rule' : refusalKind(a);
    ring.totals.refusalsByReason[why] = (ring.totals.refusalsByReason[why] ?? 0) + 1;
    ring.push({ kind: 'refusal', section: null, pid: h.pid, uid: h.uid, processName: h.processName, bdfs: [], reason, detail: refusalDetail(a) });
  };
  a.on('grant', onGrant);
  // sections held again after a restart (ledger) count as grants with reason 'adopted'
  a.on('adopt', onGrant);
  a.on('release', onRelease);
  a.on('refuse', onRefuse);
  return () => {
    a.off('grant', onGrant);
    a.off('adopt', onGrant);
    a.off('release', onRelease);
    a.off('refuse', onRefuse);
  };
}

/** Record PF health changes and rescans (every reshape of the sections) in the ring; returns a function that stops. */
export function recordHealthEvents(monitor: HealthMonitor, a: Allocator, ring: EventRing): () => void {
  const onChange = (c: PfHealthChange): void => {
    ring.totals.healthTransitions[c.to] = (ring.totals.healthTransitions[c.to] ?? 0) + 1;
    ring.push({
      kind: 'health', section: null, pid: null, uid: null, processName: null, bdfs: [c.pf],
      reason: `${c.from} -> ${c.to}${c.reason ? `: ${c.reason}` : ''}`,
      health: { pf: c.pf, from: c.from, to: c.to, reasons: c.reasons.map((r) => r.code), affected: c.affected.map((x) => ({ section: x.section, pid: x.pid })) },
    });
  };
  const onReshape = (r: ReshapeInfo): void => {
    ring.totals.rescans++;
    ring.push({ kind: 'rescan', section: null, pid: null, uid: null, processName: null, bdfs: [], reason: `${r.trigger}: ${r.sectionsBefore} -> ${r.sectionsAfter} sections`, rescan: r });
  };
  monitor.on('change', onChange);
  a.on('reshape', onReshape);
  return () => {
    monitor.off('change', onChange);
    a.off('reshape', onReshape);
  };
}
