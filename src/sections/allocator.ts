// Section ownership: first-fit grants, owner = connection, release on SECTION_PUT or disconnect, with events for observers.

import { EventEmitter } from 'node:events';
import type { PlannedSection, PlannedDevice } from './plan.js';

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
}

export type ReleaseReason = 'put' | 'disconnect' | 'forced' | 'owner-exited';

export interface Section {
  index: number;
  name: string;
  plan: PlannedSection;
  holder: Holder | null;
}

export interface AllocatorEvents {
  grant: [section: Section, holder: Holder];
  release: [section: Section, holder: Holder, reason: ReleaseReason];
  refuse: [holder: Holder, reason: string];
  /** A section held again after a daemon restart for a process that still lives (ledger). */
  adopt: [section: Section, holder: Holder];
}

export class Allocator extends EventEmitter<AllocatorEvents> {
  readonly sections: Section[];
  /** VFs taken out of service (by bdf): their sections are not granted to new clients. */
  private readonly outOfService = new Map<string, string>();

  constructor(plan: PlannedSection[]) {
    super();
    this.sections = plan.map((p) => ({ index: p.index, name: p.name, plan: p, holder: null }));
  }

  /** Devices a client of this section is given: VFs that could not be opened are left out (no shifting of others). */
  servedDevices(s: Section): PlannedDevice[] {
    return s.plan.devices.filter((d) => d.vf.unavailable === undefined);
  }

  /** At least one of the section's VFs can be handed out (checked on every grant: no array built for it). */
  hasUsableVf(s: Section): boolean {
    return s.plan.devices.some((d) => d.vf.unavailable === undefined);
  }

  /** Why a free section cannot be granted, or undefined when it can. */
  blockedReason(s: Section): string | undefined {
    for (const d of s.plan.devices) {
      const why = this.outOfService.get(d.vf.bdf);
      if (why !== undefined) return `VF ${d.vf.bdf} is out of service${why ? ` (${why})` : ''}`;
    }
    if (!this.hasUsableVf(s)) return `no usable VF (${s.plan.devices.map((d) => `${d.vf.bdf}: ${d.vf.unavailable}`).join(', ')})`;
    return undefined;
  }

  /**
   * Set by the ledger: a section adopted for this very process (same pid and start time) that a new connection
   * of it should get back instead of a second section.
   */
  adoptedClaim: ((holder: Holder) => Section | undefined) | undefined;

  /**
   * Set by the ledger: make a grant durable before it is answered. Called with the section already naming its new
   * holder; a returned reason refuses the grant (the section goes back to its previous holder, or free).
   */
  commitGrant: ((section: Section, holder: Holder) => string | undefined) | undefined;

  /** Why the last acquire() returned null (for the refusal's log line). */
  lastRefusal = '';

  /** First-fit grant: the lowest-numbered free, grantable section; null (and a 'refuse' event) when none. */
  acquire(holder: Holder): Section | null {
    const claimed = this.adoptedClaim?.(holder);
    if (claimed && claimed.holder?.adopted) return this.take(claimed, holder);
    for (const s of this.sections) {
      if (s.holder === null && this.blockedReason(s) === undefined) return this.take(s, holder);
    }
    return this.refuse(holder, this.refusalReason());
  }

  private take(s: Section, holder: Holder): Section | null {
    const before = s.holder;
    s.holder = holder;
    const why = this.commitGrant?.(s, holder);
    if (why !== undefined) {
      s.holder = before;
      return this.refuse(holder, why);
    }
    this.emit('grant', s, holder);
    return s;
  }

  private refuse(holder: Holder, reason: string): null {
    this.lastRefusal = reason;
    this.emit('refuse', holder, reason);
    return null;
  }

  /** Human reason for "No section available" (all held, by whom; or out of service). */
  refusalReason(): string {
    const held = this.sections.filter((s) => s.holder !== null);
    const blocked = this.sections.filter((s) => s.holder === null && this.blockedReason(s) !== undefined);
    const parts: string[] = [];
    if (held.length) {
      const pids = [...new Set(held.map((s) => s.holder!.pid))];
      parts.push(`${held.length} of ${this.sections.length} sections held (pids ${pids.slice(0, 10).join(', ')}${pids.length > 10 ? ', …' : ''})`);
    }
    if (blocked.length) parts.push(`${blocked.length} unavailable: ${this.blockedReason(blocked[0])}${blocked.length > 1 ? ', …' : ''}`);
    return parts.join('; ') || 'no sections';
  }

  /** Hold a free section for a process from before a daemon restart (ledger); false if it is taken. */
  adopt(s: Section, holder: Holder): boolean {
    if (s.holder !== null) return false;
    s.holder = { ...holder, adopted: true };
    this.emit('adopt', s, s.holder);
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
    s.holder = null;
    this.emit('release', s, h, reason);
    return true;
  }

  /** Release whatever section index `index` holds, whoever holds it (admin force-release). */
  forceRelease(index: number): Holder | null {
    const s = this.sections[index];
    if (!s || !s.holder) return null;
    const h = s.holder;
    s.holder = null;
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
