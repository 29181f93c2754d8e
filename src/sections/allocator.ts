// Section ownership: first-fit grants (or NumaAware / share rules), owner = connection, release on SECTION_PUT or disconnect, with events.

import { EventEmitter } from 'node:events';
import type { PlannedSection, PlannedDevice } from './plan.js';
import type { NumaMode } from '../config/settings.js';
import type { ShareRule } from '../config/shares.js';
import { matchingShares } from './shares.js';

/** What the edge learned about a client before its grant (read once per connection); absent = not looked up. */
export interface ClientFacts {
  /** NUMA nodes the process may run on, the one to serve it from first; null = unknown (gone, hidden /proc). */
  nodes?: number[] | null;
  /** Its cgroup path (for unit shares). */
  cgroup?: string | null;
  /** Supplementary groups (for group shares). */
  groups?: number[] | null;
}

/** The opt-in grant rules; NO_RULES is upstream's first fit. */
export interface GrantRules {
  numa: NumaMode;
  shares: ShareRule[];
}

export const NO_RULES: GrantRules = Object.freeze({ numa: 'off', shares: [] as ShareRule[] }) as GrantRules;

/** A grant, or why there is none; `byRule` = refused by NumaAware=strict, a cap or a reservation (not plain exhaustion). */
export type Grant = { section: Section; reason?: undefined; byRule?: undefined } | { section: null; reason: string; byRule: boolean };

export interface Holder {
  /** Connection id (the owner); unique for the daemon's life. */
  connId: number;
  pid: number;
  uid: number;
  gid: number;
  /** Process name sent in SECTION_GET. */
  processName: string;
  /** Epoch ms of the grant. */
  since: number;
  /** Requests served on the connection while it held the section. */
  requests: number;
  /** Held by a process from before a daemon restart (adopted from the ledger). */
  adopted?: boolean;
  /** What the edge read about the client (NumaAware, unit and group shares). */
  client?: ClientFacts;
  /** Every VF of the section is on a node the client may run on; null = its nodes are unknown; absent = not looked up. */
  local?: boolean | null;
  /** Indices (into the rules' shares) of the shares this holder counts against; set by the allocator. */
  shares?: readonly number[];
  /** The Kubernetes pod and container of the holder (managed mode of the kubelet plugin); names may come later. */
  pod?: PodRef;
}

/** A container of a Kubernetes pod: ids from its cgroup, names from the kubelet (null until known). */
export interface PodRef {
  uid: string | null;
  containerId: string | null;
  namespace: string | null;
  name: string | null;
  container: string | null;
}

export type ReleaseReason = 'put' | 'disconnect' | 'forced' | 'owner-exited';

export interface Section {
  index: number;
  name: string;
  plan: PlannedSection;
  holder: Holder | null;
  /** VFs of the section not handed out to the current holder because their PF was withheld at the grant. */
  withheld?: string[];
}

/** What a rescan did to the sections (the 'reshape' event), for observers that index them. */
export interface ReshapeInfo {
  trigger: string;
  sectionsBefore: number;
  sectionsAfter: number;
}

export interface AllocatorEvents {
  grant: [section: Section, holder: Holder];
  release: [section: Section, holder: Holder, reason: ReleaseReason];
  /** `byRule`: refused by NumaAware=strict, a cap or a reservation (not plain exhaustion). */
  refuse: [holder: Holder, reason: string, byRule: boolean];
  /** A section held again after a daemon restart for a process that still lives (ledger). */
  adopt: [section: Section, holder: Holder];
  /** The section list was rebuilt (a rescan): indexes built from it must be rebuilt. */
  reshape: [info: ReshapeInfo];
}

export class Allocator extends EventEmitter<AllocatorEvents> {
  readonly sections: Section[];
  /** VFs taken out of service (by bdf): their sections are not granted to new clients. */
  private readonly outOfService = new Map<string, string>();
  /** PFs whose VFs are not handed out (health: unhealthy or gone), by PF bdf, with the reason naming the PF. */
  private readonly withheldPfs = new Map<string, string>();
  private rules: GrantRules = NO_RULES;
  /** Sections held per share (index = share index). */
  private shareHeld: number[] = [];
  /** The NUMA nodes of each planned section's VFs, sorted (plans are replaced on rescan, so keyed by plan). */
  private readonly planNodes = new WeakMap<PlannedSection, number[]>();
  /** Sections kept for someone else (by name, with who): no grant takes them unless asked for among a reservation's. */
  private readonly kept = new Map<string, string>();

  constructor(plan: PlannedSection[]) {
    super();
    this.sections = plan.map((p) => ({ index: p.index, name: p.name, plan: p, holder: null }));
  }

  /**
   * A device is handed out: its VF could be opened and its PF is not withheld. A section is served with the VFs that
   * are (no shifting of others); one whose VFs are all left out is not granted.
   */
  serves(d: PlannedDevice): boolean {
    return d.vf.unavailable === undefined && (this.withheldPfs.size === 0 || d.vf.pf === undefined || !this.withheldPfs.has(d.vf.pf.bdf));
  }

  /** Devices a client of this section is given. */
  servedDevices(s: Section): PlannedDevice[] {
    return s.plan.devices.filter((d) => this.serves(d));
  }

  /** At least one of the section's VFs can be handed out (checked on every grant: no array built for it). */
  hasUsableVf(s: Section): boolean {
    return s.plan.devices.some((d) => this.serves(d));
  }

  /** Why a free section cannot be granted, or undefined when it can. */
  blockedReason(s: Section): string | undefined {
    for (const d of s.plan.devices) {
      const why = this.outOfService.get(d.vf.bdf);
      if (why !== undefined) return `VF ${d.vf.bdf} is out of service${why ? ` (${why})` : ''}`;
    }
    if (!this.hasUsableVf(s)) {
      const pfs = new Set<string>();
      for (const d of s.plan.devices) {
        const why = d.vf.pf ? this.withheldPfs.get(d.vf.pf.bdf) : undefined;
        if (why !== undefined) pfs.add(why);
      }
      if (pfs.size) return [...pfs].join('; ');
      return `no usable VF (${s.plan.devices.map((d) => `${d.vf.bdf}: ${d.vf.unavailable}`).join(', ')})`;
    }
    return undefined;
  }

  /**
   * Withhold a PF's VFs from new grants (`reason` names the PF and why, e.g. "PF 0000:70:00.0 is unhealthy: heartbeat
   * failed"), or hand them out again (undefined). Current holders keep what they were given.
   */
  setPfWithheld(pfBdf: string, reason: string | undefined): void {
    if (reason === undefined) this.withheldPfs.delete(pfBdf);
    else this.withheldPfs.set(pfBdf, reason);
  }

  /** Why a PF's VFs are withheld, if they are. */
  pfWithheld(pfBdf: string): string | undefined {
    return this.withheldPfs.get(pfBdf);
  }

  /**
   * Set by the ledger: a section adopted for this very process (same pid and start time) that a new connection
   * of it should get back instead of a second section.
   */
  adoptedClaim: ((holder: Holder) => Section | undefined) | undefined;

  /** The rules grants follow now. */
  get grantRules(): GrantRules {
    return this.rules;
  }

  /**
   * Follow `rules` from the next grant on (start-up, reload). Held sections stay where they are: their holders are
   * counted against the new shares, and a holder above a new cap keeps what it has (no new grant until it is below).
   */
  configure(rules: GrantRules): void {
    this.rules = rules;
    this.shareHeld = rules.shares.map(() => 0);
    for (const s of this.sections) if (s.holder) this.countIn(s.holder);
  }

  /** The sorted NUMA nodes of a section's VFs. */
  nodesOf(s: Section): number[] {
    let n = this.planNodes.get(s.plan);
    if (!n) {
      n = [...new Set(s.plan.devices.map((d) => d.vf.numaNode))].sort((a, b) => a - b);
      this.planNodes.set(s.plan, n);
    }
    return n;
  }

  /** Sections held now per share (same order as the rules' shares). */
  sharesHeld(): readonly number[] {
    return this.shareHeld;
  }

  /** Match a holder against the current shares and count it in each. */
  private countIn(h: Holder): void {
    const shares = this.rules.shares;
    h.shares = shares.length ? matchingShares(shares, h) : undefined;
    if (h.shares) for (const j of h.shares) this.shareHeld[j]++;
  }

  private hold(s: Section, h: Holder): void {
    s.holder = h;
    s.withheld = this.withheldNow(s);
    this.countIn(h);
  }

  /** The section's VFs a grant now leaves out because their PF is withheld (undefined: none is). */
  private withheldNow(s: Section): string[] | undefined {
    return this.withheldPfs.size ? s.plan.devices.filter((d) => d.vf.unavailable === undefined && !this.serves(d)).map((d) => d.vf.bdf) : undefined;
  }

  private vacate(s: Section): Holder {
    const h = s.holder!;
    s.holder = null;
    s.withheld = undefined;
    // h.shares were matched against the current rules (configure() rematches every holder)
    if (h.shares && this.rules.shares.length) for (const j of h.shares) this.shareHeld[j]--;
    return h;
  }

  /**
   * Set by the ledger: make a grant durable before it is answered. Called with the section already naming its new
   * holder; a returned reason refuses the grant (the section goes back to its previous holder, or free).
   */
  commitGrant: ((section: Section, holder: Holder) => string | undefined) | undefined;

  /**
   * Grant a section: first fit, or by the configured rules, over the sections not kept for someone else; a refusal
   * says why (and emits 'refuse'). With `among` (a kubelet reservation's sections), first fit among those only, kept
   * or not: the kubelet decided who gets them, so NumaAware and shares do not (the holder still counts in shares).
   * Every grant is made durable (commitGrant) before it is answered.
   */
  tryAcquire(holder: Holder, among?: readonly Section[]): Grant {
    const claimed = this.adoptedClaim?.(holder);
    if (claimed && claimed.holder?.adopted && (among === undefined || among.includes(claimed))) return this.commit(claimed, holder);
    if (among) {
      for (const s of among) {
        if (s.holder === null && this.blockedReason(s) === undefined) return this.commit(s, holder);
      }
      return this.refuse(holder, this.refusalReason(among), false);
    }
    const r = this.rules;
    if (r.numa === 'off' && r.shares.length === 0) {
      for (const s of this.sections) {
        if (s.holder === null && this.blockedReason(s) === undefined && (this.kept.size === 0 || !this.kept.has(s.name))) return this.commit(s, holder);
      }
      return this.refuse(holder, this.refusalReason(), false);
    }
    return this.grantByRules(holder);
  }

  /** Keep a section for `who` (e.g. "the kubelet plugin"): plain grants no longer take it; undefined gives it back. */
  keep(name: string, who: string | undefined): void {
    if (who === undefined) this.kept.delete(name);
    else this.kept.set(name, who);
  }

  /** For whom a section is kept, or undefined. */
  keptFor(name: string): string | undefined {
    return this.kept.get(name);
  }

  /** Hold `s` for `holder` once the ledger has recorded it; if it cannot, put back what was there and refuse. */
  private commit(s: Section, holder: Holder): Grant {
    const before = s.holder;
    if (before) this.vacate(s);
    this.hold(s, holder);
    const why = this.commitGrant?.(s, holder);
    if (why !== undefined) {
      this.vacate(s);
      if (before) this.hold(s, before);
      return this.refuse(holder, why, false);
    }
    this.emit('grant', s, holder);
    return { section: s };
  }

  /** First-fit grant (upstream): the lowest-numbered free, grantable section; null (and a 'refuse' event) when none. */
  acquire(holder: Holder, among?: readonly Section[]): Section | null {
    return this.tryAcquire(holder, among).section;
  }

  private refuse(holder: Holder, reason: string, byRule: boolean): Grant {
    this.emit('refuse', holder, reason, byRule);
    return { section: null, reason, byRule };
  }

  /**
   * Caps first (any share the client counts against that is full refuses it), then reservations (the free sections
   * left after this grant must cover every other share's unmet minimum), then NUMA: a section all of whose VFs are on
   * the client's first node, else on any of its nodes, else (prefer) the first free one or (strict) a refusal.
   * One pass over the sections, stopped as soon as the answer cannot change.
   */
  private grantByRules(holder: Holder): Grant {
    const { numa, shares } = this.rules;
    const mine = shares.length ? matchingShares(shares, holder) : [];
    for (const j of mine) {
      const max = shares[j].max;
      if (max !== undefined && this.shareHeld[j] >= max) return this.refuse(holder, `${shares[j].label} holds its maximum of ${max}`, true);
    }
    let reserved = 0;
    for (let j = 0; j < shares.length; j++) {
      const left = shares[j].min - this.shareHeld[j];
      if (left > 0) reserved += mine.includes(j) ? left - 1 : left;
    }
    const nodes = numa === 'off' ? undefined : holder.client?.nodes;
    const byNode = nodes !== undefined && nodes !== null && nodes.length > 0;
    let first = -1;
    let local = -1;
    let preferred = -1;
    let free = 0;
    const list = this.sections;
    for (let i = 0; i < list.length; i++) {
      const s = list[i];
      if (s.holder !== null || this.blockedReason(s) !== undefined || this.kept.has(s.name)) continue;
      free++;
      if (first < 0) first = i;
      if (byNode && preferred < 0) {
        const sn = this.nodesOf(s);
        if (sn.every((n) => n === nodes[0])) preferred = i;
        if (local < 0 && sn.every((n) => nodes.includes(n))) local = i;
      }
      if (free > reserved && (!byNode || preferred >= 0)) break;
    }
    if (free === 0) return this.refuse(holder, this.refusalReason(), false);
    if (free <= reserved) return this.refuse(holder, this.reservedReason(free, mine), true);
    let pick = first;
    if (byNode) {
      pick = preferred >= 0 ? preferred : local;
      if (pick < 0 && numa === 'strict') {
        return this.refuse(holder, `no free section on NUMA node${nodes.length > 1 ? 's' : ''} ${nodes.join(',')} (NumaAware=strict; ${free} free on other nodes)`, true);
      }
      if (pick < 0) pick = first;
    }
    const s = list[pick];
    if (numa !== 'off' && holder.client?.nodes !== undefined) holder.local = byNode ? pick === preferred || pick === local : null;
    return this.commit(s, holder);
  }

  private reservedReason(free: number, mine: readonly number[]): string {
    const owed = this.rules.shares
      .map((r, j) => ({ r, j, left: r.min - this.shareHeld[j] }))
      .filter((x) => x.left > 0 && !mine.includes(x.j))
      .map((x) => `${x.r.label}: min ${x.r.min}, holds ${this.shareHeld[x.j]}`);
    return `the ${free} free section${free === 1 ? ' is' : 's are'} reserved (${owed.join('; ')})`;
  }

  /** Human reason for "No section available" among `among` (default: all; all held, by whom; out of service; kept). */
  refusalReason(among: readonly Section[] = this.sections): string {
    const held = among.filter((s) => s.holder !== null);
    const blocked = among.filter((s) => s.holder === null && this.blockedReason(s) !== undefined);
    const parts: string[] = [];
    if (held.length) {
      const pids = [...new Set(held.map((s) => s.holder!.pid))];
      parts.push(`${held.length} of ${among.length} sections held (pids ${pids.slice(0, 10).join(', ')}${pids.length > 10 ? ', …' : ''})`);
    }
    if (blocked.length) parts.push(`${blocked.length} out-of-service: ${this.blockedReason(blocked[0])}${blocked.length > 1 ? ', …' : ''}`);
    if (among === this.sections && this.kept.size) {
      const free = among.filter((s) => s.holder === null && this.kept.has(s.name));
      if (free.length) parts.push(`${free.length} free but kept for ${this.kept.get(free[0].name)}${new Set(free.map((s) => this.kept.get(s.name))).size > 1 ? ' and others' : ''}`);
    }
    return parts.join('; ') || 'no sections';
  }

  /** Hold a free section for a process from before a daemon restart (ledger); false if it is taken. */
  adopt(s: Section, holder: Holder): boolean {
    if (s.holder !== null) return false;
    this.hold(s, { ...holder, adopted: true });
    this.emit('adopt', s, s.holder!);
    return true;
  }

  /** Sections held by processes from before a restart (no connection of ours). */
  adoptedSections(): Section[] {
    return this.sections.filter((s) => s.holder?.adopted === true);
  }

  /** Release a section if `connId` holds it. */
  release(s: Section, connId: number, reason: ReleaseReason): boolean {
    const h = s.holder;
    if (!h || h.connId !== connId) return false;
    this.vacate(s);
    this.emit('release', s, h, reason);
    return true;
  }

  /** Release whatever section index `index` holds, whoever holds it (admin force-release). */
  forceRelease(index: number): Holder | null {
    const s = this.sections[index];
    if (!s || !s.holder) return null;
    const h = this.vacate(s);
    this.emit('release', s, h, 'forced');
    return h;
  }

  /** Mark a VF in or out of service; returns false for an unknown VF. */
  setOutOfService(bdf: string, reason: string | undefined): boolean {
    const known = this.sections.some((s) => s.plan.devices.some((d) => d.vf.bdf === bdf));
    if (!known) return false;
    if (reason === undefined) this.outOfService.delete(bdf);
    else this.outOfService.set(bdf, reason);
    return true;
  }

  isOutOfService(bdf: string): boolean {
    return this.outOfService.has(bdf);
  }

  counts(): { total: number; held: number; free: number; blocked: number } {
    let held = 0;
    let blocked = 0;
    for (const s of this.sections) {
      if (s.holder) held++;
      else if (this.blockedReason(s) !== undefined) blocked++;
    }
    return { total: this.sections.length, held, free: this.sections.length - held - blocked, blocked };
  }
}
