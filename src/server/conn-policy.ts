// Connection policy as plain code (no sockets): admission with per-uid caps and idle-first eviction, output bounds.
//
// Kept apart from net.Socket so that another I/O loop (an epoll loop through koffi) can apply the same rules: the
// caller reports connections, uids, request times and unsent bytes; this answers accept/evict/refuse and flow/hold/close.

export interface AdmissionLimits {
  /** Connections open at once. */
  max: number;
  /** Connections one uid may hold at once. */
  perUid: number;
  /** Connections root may hold at once (default perUid). */
  perRoot?: number;
  /** Slots that only root may take (admin socket: an unprivileged flood must never lock root out). */
  reservedForRoot?: number;
}

export interface PolicyConn {
  uid: number;
  /** Time (ms, any monotonic clock) of the last complete request; the accept time before the first. */
  lastRequestAt: number;
  /** Never closed to make room: a section holder (closing it would release VFs that a live process uses). */
  pinned(): boolean;
}

export type Admission<C> =
  | { kind: 'accept' }
  | { kind: 'evict'; victim: C; why: string }
  | { kind: 'refuse'; why: string };

/** Admin socket: connections open at once, how many only root may use, how many one other user may hold. */
export const ADMIN_MAX_CONNECTIONS = 64;
export const ADMIN_RESERVED_FOR_ROOT = 16;
export const ADMIN_MAX_PER_UID = 8;
/** Metrics HTTP listener: scrapes open at once (Prometheus holds one or two). */
export const METRICS_MAX_CONNECTIONS = 16;

/** The per-uid cap when none is configured: all but a few slots (64 of 1024), so one user never takes them all. */
export function defaultPerUid(max: number): number {
  return Math.max(1, max - Math.min(64, Math.floor(max / 4)));
}

export class ConnectionTable<C extends PolicyConn> {
  private readonly all = new Set<C>();
  private readonly byUid = new Map<number, number>();
  private unprivileged = 0;

  constructor(readonly limits: AdmissionLimits) {}

  get size(): number {
    return this.all.size;
  }

  countFor(uid: number): number {
    return this.byUid.get(uid) ?? 0;
  }

  values(): IterableIterator<C> {
    return this.all.values();
  }

  /**
   * Room for one more connection of `uid`? When a cap is reached, the connection idle longest (no complete request
   * for the longest time) that holds nothing is named to be closed first; only when every candidate is pinned is the
   * newcomer refused.
   */
  admit(uid: number): Admission<C> {
    const { max, perUid, perRoot = perUid, reservedForRoot = 0 } = this.limits;
    const mine = this.countFor(uid);
    if (mine >= (uid === 0 ? perRoot : perUid)) {
      return this.makeRoom((c) => c.uid === uid, `uid ${uid} has ${mine} connections, the most one uid may hold`);
    }
    if (uid !== 0 && reservedForRoot > 0 && this.unprivileged >= max - reservedForRoot) {
      return this.makeRoom((c) => c.uid !== 0, `the ${max - reservedForRoot} connections open to users other than root are in use (${reservedForRoot} are kept for root)`);
    }
    // an unprivileged newcomer never displaces a root connection
    if (this.all.size >= max) return this.makeRoom((c) => uid === 0 || c.uid !== 0, `${this.all.size} connections open, the most allowed`);
    return { kind: 'accept' };
  }

  private makeRoom(candidate: (c: C) => boolean, why: string): Admission<C> {
    let victim: C | undefined;
    for (const c of this.all) {
      if (!candidate(c) || c.pinned()) continue;
      if (victim === undefined || c.lastRequestAt < victim.lastRequestAt) victim = c;
    }
    return victim ? { kind: 'evict', victim, why } : { kind: 'refuse', why };
  }

  add(c: C): void {
    this.all.add(c);
    this.byUid.set(c.uid, this.countFor(c.uid) + 1);
    if (c.uid !== 0) this.unprivileged++;
  }

  delete(c: C): boolean {
    if (!this.all.delete(c)) return false;
    const n = this.countFor(c.uid) - 1;
    if (n > 0) this.byUid.set(c.uid, n);
    else this.byUid.delete(c.uid);
    if (c.uid !== 0) this.unprivileged--;
    return true;
  }
}

export interface OutputBounds {
  /** Stop reading (and answering) while more than this many reply bytes wait to be sent. */
  holdAbove: number;
  /** Close a connection with more than this many bytes waiting: its peer does not read. */
  closeAbove: number;
}

/** Client socket: libqat has one small request in flight; 64 KiB of waiting replies means the peer stopped reading. */
export const CLIENT_OUTPUT: OutputBounds = { holdAbove: 64 * 1024, closeAbove: 1024 * 1024 };
/** Admin socket: one answer on 4096 sections is a few MB; more than 16 MiB waiting is a reader that does not read. */
export const ADMIN_OUTPUT: OutputBounds = { holdAbove: 1024 * 1024, closeAbove: 16 * 1024 * 1024 };

export type OutputState = 'flow' | 'hold' | 'close';

export function outputState(unsent: number, b: OutputBounds): OutputState {
  if (unsent > b.closeAbove) return 'close';
  if (unsent > b.holdAbove) return 'hold';
  return 'flow';
}
