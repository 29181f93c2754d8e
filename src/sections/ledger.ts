// The allocation ledger: every grant and release written durably under the run directory, so a restarted daemon keeps sections that live processes still hold.

import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../log.js';
import type { Allocator, Holder, Section } from './allocator.js';
import { OwnerWatch, type WatchMethod } from './owner-watch.js';
import { bootId as readBootId, processStartTime, isSameProcess } from '../platform/processes.js';
import { describeSysError } from '../errors.js';
import { checkReservation, type ReservationEntry } from './reservations.js';

/**
 * On disk: a journal. The first line is a JSON header holding a snapshot of every held section; each later line is
 * one event appended with a single write(2): `{"g":{entry}}` (grant or adoption) or `{"r":section,"pid":n}` (release).
 * The daemon compacts it (header with a fresh snapshot, atomic rename) at start and whenever it grows long, so a grant
 * costs one small append instead of rewriting the whole file. Version 1 (a single JSON document) is still read.
 *
 * Version 3 is version 2 plus `reservations` in the header (sections kept for Kubernetes containers, the kubelet
 * plugin's managed mode). Reservations change rarely (a pod start or end), so each change compacts the journal
 * (a fresh header) rather than adding a line kind. A ledger is written as version 3 only while it holds a
 * reservation, so a host without the plugin keeps writing version 2 (an older daemon can still read it).
 */
export const LEDGER_FORMAT = 'qatmgr-ledger/2';
export const LEDGER_FORMAT_RESERVATIONS = 'qatmgr-ledger/3';
const READABLE_FORMATS = new Set(['qatmgr-ledger/1', LEDGER_FORMAT, LEDGER_FORMAT_RESERVATIONS]);
/** Compact once the journal holds this many event lines (or four per section, if more). */
const COMPACT_AFTER = 1024;
export const LEDGER_NAME = 'qatmgr.ledger';

export interface LedgerEntry {
  section: string;
  vfs: string[];
  pid: number;
  /** /proc/<pid>/stat field 22 at grant time; null when the process was already gone (never adopted). */
  startTime: string | null;
  uid: number;
  gid: number;
  processName: string;
  /** Epoch ms of the original grant. */
  since: number;
  adopted: boolean;
}

export interface LedgerData {
  format: typeof LEDGER_FORMAT | typeof LEDGER_FORMAT_RESERVATIONS;
  bootId: string | null;
  daemonPid: number;
  writtenAt: string;
  entries: LedgerEntry[];
  /** Version 3 only. */
  reservations?: ReservationEntry[];
}

export type LedgerRead =
  | { kind: 'absent' }
  | { kind: 'ok'; data: LedgerData }
  | { kind: 'corrupt' | 'foreign'; reason: string };

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);

function checkEntry(e: unknown, i: number): string | undefined {
  if (typeof e !== 'object' || e === null) return `entries[${i}] is not an object`;
  const o = e as Record<string, unknown>;
  if (typeof o.section !== 'string' || o.section === '') return `entries[${i}].section is not a name`;
  if (!Array.isArray(o.vfs) || !o.vfs.every((v) => typeof v === 'string')) return `entries[${i}].vfs is not a list of PCI addresses`;
  if (!isInt(o.pid) || o.pid < 0) return `entries[${i}].pid is not a process id`;
  if (o.startTime !== null && (typeof o.startTime !== 'string' || !/^[0-9]+$/.test(o.startTime))) return `entries[${i}].startTime is not a clock-tick count`;
  if (!isInt(o.uid) || !isInt(o.gid)) return `entries[${i}].uid/gid are not numbers`;
  if (typeof o.processName !== 'string') return `entries[${i}].processName is not text`;
  if (!isInt(o.since)) return `entries[${i}].since is not a time`;
  return undefined;
}

/** Parse and validate ledger text (pure): the header's snapshot, then every journal line replayed in order. */
export function parseLedger(text: string, currentBootId: string | undefined): LedgerRead {
  const nl = text.indexOf('\n');
  const headText = nl < 0 ? text : text.slice(0, nl);
  let raw: unknown;
  try {
    raw = JSON.parse(headText);
  } catch (e) {
    // a version-1 ledger is one pretty-printed JSON document over many lines
    try {
      raw = JSON.parse(text);
    } catch {
      return { kind: 'corrupt', reason: `not JSON (${(e as Error).message})` };
    }
    return parseDocument(raw, [], currentBootId);
  }
  const lines = nl < 0 ? [] : text.slice(nl + 1).split('\n');
  // a last line without its newline is a write torn by a crash of the machine: it never happened
  if (lines.length && !text.endsWith('\n')) lines.pop();
  return parseDocument(raw, lines.filter((l) => l !== ''), currentBootId);
}

function parseDocument(raw: unknown, events: string[], currentBootId: string | undefined): LedgerRead {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { kind: 'corrupt', reason: 'not a JSON object' };
  const o = raw as Record<string, unknown>;
  if (typeof o.format !== 'string' || !READABLE_FORMATS.has(o.format)) return { kind: 'foreign', reason: `format ${JSON.stringify(o.format)} is not ${LEDGER_FORMAT}` };
  if (currentBootId !== undefined && typeof o.bootId === 'string' && o.bootId !== currentBootId) {
    return { kind: 'foreign', reason: `written during another boot (${o.bootId}); its processes are gone` };
  }
  if (!Array.isArray(o.entries)) return { kind: 'corrupt', reason: 'entries is not a list' };
  for (let i = 0; i < o.entries.length; i++) {
    const why = checkEntry(o.entries[i], i);
    if (why) return { kind: 'corrupt', reason: why };
  }
  const reservations = o.format === LEDGER_FORMAT_RESERVATIONS ? o.reservations : undefined;
  if (reservations !== undefined) {
    if (!Array.isArray(reservations)) return { kind: 'corrupt', reason: 'reservations is not a list' };
    for (let i = 0; i < reservations.length; i++) {
      const why = checkReservation(reservations[i], `reservations[${i}]`);
      if (why) return { kind: 'corrupt', reason: why };
    }
  }
  const held = new Map<string, LedgerEntry>();
  for (const e of o.entries as LedgerEntry[]) held.set(e.section, { ...e, adopted: e.adopted === true });
  for (let i = 0; i < events.length; i++) {
    let ev: { g?: unknown; r?: unknown; pid?: unknown };
    try {
      ev = JSON.parse(events[i]);
    } catch (e) {
      return { kind: 'corrupt', reason: `journal line ${i + 2} is not JSON (${(e as Error).message})` };
    }
    if (ev && typeof ev === 'object' && ev.g !== undefined) {
      const why = checkEntry(ev.g, i);
      if (why) return { kind: 'corrupt', reason: `journal line ${i + 2}: ${why.replace(/^entries\[\d+\]/, 'grant')}` };
      const g = ev.g as LedgerEntry;
      held.set(g.section, { ...g, adopted: g.adopted === true });
    } else if (ev && typeof ev === 'object' && typeof ev.r === 'string') {
      const cur = held.get(ev.r);
      if (cur && (ev.pid === undefined || ev.pid === cur.pid)) held.delete(ev.r);
    } else {
      return { kind: 'corrupt', reason: `journal line ${i + 2} is neither a grant nor a release` };
    }
  }
  const data: LedgerData = {
    format: reservations?.length ? LEDGER_FORMAT_RESERVATIONS : LEDGER_FORMAT,
    bootId: typeof o.bootId === 'string' ? o.bootId : null,
    daemonPid: isInt(o.daemonPid) ? o.daemonPid : 0,
    writtenAt: typeof o.writtenAt === 'string' ? o.writtenAt : '',
    entries: [...held.values()],
  };
  if (reservations?.length) data.reservations = reservations as ReservationEntry[];
  return { kind: 'ok', data };
}

export function readLedger(file: string, currentBootId: string | undefined): LedgerRead {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'absent' };
    return { kind: 'corrupt', reason: `cannot be read: ${describeSysError(e)}` };
  }
  return parseLedger(text, currentBootId);
}

/**
 * Replace the ledger atomically with a compacted journal (the header line alone): temporary file, rename over it. With `fsync` (the default) the data and
 * the directory are flushed before returning; without it the caller flushes later (see `flushLedger`).
 * A restarted daemon sees the new content as soon as the rename returns (the page cache survives any process
 * crash); fsync only adds durability across a kernel crash or power loss.
 */
export function writeLedger(file: string, data: LedgerData, opts: { fsync?: boolean } = {}): void {
  const tmp = `${file}.tmp`;
  const fd = fs.openSync(tmp, 'w', 0o640);
  try {
    fs.writeSync(fd, `${JSON.stringify(data)}\n`);
    if (opts.fsync !== false) fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  if (opts.fsync !== false) fsyncDirSync(path.dirname(file));
}

function fsyncDirSync(dir: string): void {
  try {
    const dfd = fs.openSync(dir, 'r');
    try { fs.fsyncSync(dfd); } finally { fs.closeSync(dfd); }
  } catch {
    /* a directory fsync is not supported everywhere; the rename itself is atomic */
  }
}

const TMPFS_MAGIC = 0x01021994;

/** True when `dir` is on tmpfs (memory only: fsync there is a no-op). */
function isTmpfs(dir: string): boolean {
  try {
    return fs.statfsSync(dir).type === TMPFS_MAGIC;
  } catch {
    return false;
  }
}

/** fsync the ledger file and its directory on the thread pool (never blocks the event loop). */
export async function flushLedger(file: string): Promise<void> {
  const fh = await fs.promises.open(file, 'r');
  try { await fh.sync(); } finally { await fh.close(); }
  try {
    const dh = await fs.promises.open(path.dirname(file), 'r');
    try { await dh.sync(); } finally { await dh.close(); }
  } catch {
    /* see fsyncDirSync */
  }
}

/** Move a bad ledger out of the way (kept for inspection); returns where it went. */
export function moveAside(file: string, kind: string, now = new Date()): string {
  const to = `${file}.${kind}-${now.toISOString().replace(/[:.]/g, '-')}`;
  fs.renameSync(file, to);
  return to;
}

export interface Adoption {
  section: string;
  pid: number;
  uid: number;
  vfs: string[];
  watch: WatchMethod;
}

export interface RestoreReport {
  adopted: Adoption[];
  /** Entries whose process is gone (their sections are free again). */
  gone: Array<{ section: string; pid: number; reason: string }>;
  /** VFs a live owner holds that are in no section now (removed device or another policy). */
  orphanVfs: string[];
  problem?: { kind: 'corrupt' | 'foreign' | 'unreadable'; reason: string; movedTo?: string };
  /** Reservations the previous daemon kept for Kubernetes containers (the kubelet plugin takes them over). */
  reservations: ReservationEntry[];
}

/** What the last restore found, in numbers (for status views). */
export interface RestoreSummary {
  adopted: number;
  gone: number;
  orphanVfs: number;
  problem: RestoreReport['problem'] | null;
}

export interface LedgerOptions {
  file: string;
  pidsRoot: string;
  allocator: Allocator;
  log: Logger;
  watch?: OwnerWatch;
  pid?: number;
  /** The current reservations, written into every snapshot (set by the kubelet plugin; none by default). */
  reservations?: () => ReservationEntry[];
}

export class Ledger {
  private readonly startTimes = new Map<number, string | null>();
  /** Start times of processes that hold sections through open connections, with how many they hold. */
  private readonly livePids = new Map<number, { startTime: string; refs: number }>();
  private readonly watch: OwnerWatch;
  private readonly bootId: string | undefined;
  private nextAdoptedConn = -1;
  private attached = false;
  private muted = false;
  private closed = false;
  private lastRestore: RestoreSummary | null = null;
  private dirty = false;
  private flushing: Promise<void> | undefined;
  /** Writes that failed (reported once each in the log). */
  writeErrors = 0;
  private readonly onTmpfs: boolean;
  /** The ledger opened for appending journal lines; undefined until the first compaction. */
  private fd: number | undefined;
  private journalLines = 0;

  constructor(private readonly opts: LedgerOptions) {
    this.watch = opts.watch ?? new OwnerWatch({ pidsRoot: opts.pidsRoot });
    this.bootId = readBootId(opts.pidsRoot);
    this.onTmpfs = isTmpfs(path.dirname(opts.file));
  }

  get file(): string {
    return this.opts.file;
  }

  /** The ledger as it should be on disk now: one entry per held section, and the reservations if any. */
  snapshot(): LedgerData {
    const entries: LedgerEntry[] = [];
    for (const s of this.opts.allocator.sections) if (s.holder) entries.push(this.entryFor(s, s.holder));
    const reservations = this.opts.reservations?.() ?? [];
    const data: LedgerData = { format: reservations.length ? LEDGER_FORMAT_RESERVATIONS : LEDGER_FORMAT, bootId: this.bootId ?? null, daemonPid: this.opts.pid ?? process.pid, writtenAt: new Date().toISOString(), entries };
    if (reservations.length) data.reservations = reservations;
    return data;
  }

  /** Let `list` supply the reservations of every snapshot from now on (the kubelet plugin, once it starts). */
  setReservations(list: () => ReservationEntry[]): void {
    this.opts.reservations = list;
  }

  /** A reservation was made, changed or ended: write the whole ledger now (atomic rename), before the caller answers. */
  reservationsChanged(): void {
    this.persist();
  }

  /**
   * Rewrite the ledger as one header line holding the current snapshot (atomic rename) and reopen it for appending.
   * Done at start, after a restore, when the journal grows long, and after an append failed.
   */
  private compact(): void {
    this.closeFd();
    try {
      writeLedger(this.opts.file, this.snapshot(), { fsync: false });
      this.fd = fs.openSync(this.opts.file, 'a');
      this.journalLines = 0;
    } catch (e) {
      this.closeFd();
      this.writeFailed(e);
      return;
    }
    this.scheduleFlush();
  }

  /**
   * Record one event now, synchronously, before the reply leaves (visible at once to a restarted daemon: the page
   * cache survives any process crash): one appended line, or a compaction when the journal is due for one.
   */
  private record(event: string): void {
    if (this.muted) return;
    if (this.fd === undefined || this.journalLines >= Math.max(COMPACT_AFTER, 4 * this.opts.allocator.sections.length)) {
      this.compact();
      return;
    }
    try {
      fs.writeSync(this.fd, event);
      this.journalLines++;
    } catch (e) {
      this.writeFailed(e);
      this.compact();
      return;
    }
    this.scheduleFlush();
  }

  /** Write the whole ledger now (start-up, restore). */
  persist(): void {
    if (this.muted) return;
    this.compact();
  }

  private writeFailed(e: unknown): void {
    this.writeErrors++;
    this.opts.log.error({ event: 'ledger_write_failed', path: this.opts.file, err: describeSysError(e) }, `cannot write the allocation ledger ${this.opts.file}: ${describeSysError(e)}; a restart would forget current allocations`);
  }

  private closeFd(): void {
    if (this.fd === undefined) return;
    try { fs.closeSync(this.fd); } catch { /* already closed */ }
    this.fd = undefined;
  }

  /**
   * fsync off the event loop: a disk-backed run directory costs 10-90 ms per fsync on a loaded machine, which must
   * not stall every connection; on tmpfs (where /run/qat lives on a host) fsync does nothing, so it is skipped.
   * At most one flush runs; writes during it are flushed by one more.
   */
  private scheduleFlush(): void {
    if (this.onTmpfs) return;
    this.dirty = true;
    if (this.flushing) return;
    this.flushing = (async () => {
      while (this.dirty) {
        this.dirty = false;
        try {
          await flushLedger(this.opts.file);
        } catch (e) {
          this.opts.log.warn({ event: 'ledger_fsync_failed', path: this.opts.file, err: describeSysError(e) }, `cannot fsync the allocation ledger: ${describeSysError(e)}`);
        }
      }
    })().finally(() => { this.flushing = undefined; });
  }

  private entryFor(s: Section, h: Holder): LedgerEntry {
    return {
      section: s.name,
      vfs: s.plan.devices.map((d) => d.vf.bdf),
      pid: h.pid,
      startTime: this.startTimes.get(h.connId) ?? null,
      uid: h.uid,
      gid: h.gid,
      processName: h.processName,
      since: h.since,
      adopted: h.adopted === true,
    };
  }

  /** Resolves once every write so far has been fsync'd (shutdown, tests). */
  async flushed(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  /**
   * Read the previous daemon's ledger and hold again every section whose owner still lives (same pid and start
   * time); watch those owners and free their sections when they exit. A corrupt or foreign ledger is moved aside.
   */
  restore(): RestoreReport {
    const { allocator, log, file } = this.opts;
    const report: RestoreReport = { adopted: [], gone: [], orphanVfs: [], reservations: [] };
    const read = readLedger(file, this.bootId);
    this.lastRestore = { adopted: 0, gone: 0, orphanVfs: 0, problem: null };
    if (read.kind === 'absent') return report;
    if (read.kind !== 'ok') {
      let movedTo: string | undefined;
      try {
        movedTo = moveAside(file, read.kind);
      } catch (e) {
        log.error({ event: 'ledger_move_failed', path: file, err: describeSysError(e) }, `cannot move the ${read.kind} ledger ${file} aside: ${describeSysError(e)}`);
      }
      report.problem = { kind: read.kind, reason: read.reason, movedTo };
      this.lastRestore.problem = report.problem;
      log.error({ event: 'ledger_rejected', kind: read.kind, path: file, reason: read.reason, movedTo }, `allocation ledger ${file} is ${read.kind}: ${read.reason}; moved to ${movedTo ?? '(could not move)'}; starting with no adopted sections`);
      return report;
    }

    report.reservations = read.data.reservations ?? [];
    // kept on disk as they were until the kubelet plugin takes them over (setReservations), or for ever without it
    if (!this.opts.reservations && report.reservations.length) this.opts.reservations = () => report.reservations;
    this.muted = true;
    try {
      const byVf = new Map<string, Section>();
      for (const s of allocator.sections) for (const d of s.plan.devices) byVf.set(d.vf.bdf, s);
      for (const e of read.data.entries) {
        if (e.startTime === null || e.pid <= 0) {
          report.gone.push({ section: e.section, pid: e.pid, reason: 'its start time was never known' });
          continue;
        }
        const now = processStartTime(this.opts.pidsRoot, e.pid);
        if (now !== e.startTime) {
          report.gone.push({ section: e.section, pid: e.pid, reason: now === undefined ? 'process exited' : 'pid now belongs to another process' });
          continue;
        }
        // hold every section that contains one of the owner's VFs: normally exactly the section it had
        const targets = new Set<Section>();
        for (const bdf of e.vfs) {
          const s = byVf.get(bdf);
          if (s) targets.add(s);
          else report.orphanVfs.push(bdf);
        }
        const holder: Holder = {
          connId: this.nextAdoptedConn--,
          pid: e.pid,
          uid: e.uid,
          gid: e.gid,
          processName: e.processName,
          since: e.since,
          requests: 0,
          adopted: true,
        };
        const held: Section[] = [];
        for (const s of targets) {
          if (s.holder && s.holder.pid === e.pid) {
            held.push(s);
            continue;
          }
          if (allocator.adopt(s, holder)) {
            this.startTimes.set(holder.connId, e.startTime);
            held.push(s);
          } else {
            log.warn({ event: 'adopt_conflict', section: s.name, pid: e.pid }, `section ${s.name} overlaps VFs of pid ${e.pid} but is already held by pid ${s.holder?.pid}`);
          }
        }
        if (held.length === 0) continue;
        const connId = holder.connId;
        const method = this.watch.watch(e.pid, e.startTime, () => this.ownerExited(connId, e.pid));
        for (const s of held) {
          report.adopted.push({ section: s.name, pid: e.pid, uid: e.uid, vfs: s.plan.devices.map((d) => d.vf.bdf), watch: method });
          log.info({ event: 'adopt', section: s.name, pid: e.pid, uid: e.uid, bdf: s.plan.devices.map((d) => d.vf.bdf), watch: method, since: new Date(e.since).toISOString() }, `section ${s.name} adopted: still held by pid ${e.pid} from before the restart`);
        }
        if (targets.size > 1 || (held[0] && held[0].name !== e.section)) {
          log.warn({ event: 'adopt_relayout', pid: e.pid, was: e.section, now: held.map((s) => s.name) }, `pid ${e.pid} held ${e.section}; the sections changed since, so ${held.map((s) => s.name).join(', ')} stay held until it exits`);
        }
      }
      for (const g of report.gone) log.info({ event: 'ledger_gone', section: g.section, pid: g.pid, reason: g.reason }, `section ${g.section} of pid ${g.pid} is free again: ${g.reason}`);
      if (report.orphanVfs.length) log.warn({ event: 'adopt_orphan_vfs', bdf: report.orphanVfs }, `live processes hold VFs that are in no section now: ${report.orphanVfs.join(', ')}`);
    } finally {
      this.muted = this.closed;
    }
    this.lastRestore = { adopted: report.adopted.length, gone: report.gone.length, orphanVfs: report.orphanVfs.length, problem: null };
    this.persist();
    return report;
  }

  private ownerExited(connId: number, pid: number): void {
    const { allocator, log } = this.opts;
    for (const s of allocator.sections) {
      if (s.holder?.connId === connId && allocator.release(s, connId, 'owner-exited')) {
        log.debug({ event: 'adopted_owner_exited', section: s.name, pid }, `adopted owner pid ${pid} of ${s.name} exited`);
      }
    }
  }

  /** Record every grant and release from now on (synchronously, before the reply leaves). */
  attach(): void {
    if (this.attached) return;
    this.attached = true;
    const { allocator } = this.opts;
    // a process from before the restart that connects again gets its own adopted section back
    allocator.adoptedClaim = (h) => {
      const mine = allocator.sections.filter((s) => s.holder?.adopted && s.holder.pid === h.pid);
      if (mine.length === 0) return undefined;
      const st = processStartTime(this.opts.pidsRoot, h.pid);
      const s = mine.find((x) => st !== undefined && this.startTimes.get(x.holder!.connId) === st);
      if (s) this.opts.log.info({ event: 'adopted_reclaimed', section: s.name, pid: h.pid }, `pid ${h.pid} connected again and gets back its adopted section ${s.name}`);
      return s;
    };
    allocator.on('grant', (s, h) => {
      this.startTimes.set(h.connId, this.startTimeOf(h.pid));
      this.record(`{"g":${JSON.stringify(this.entryFor(s, h))}}\n`);
    });
    allocator.on('release', (s, h) => {
      if (!h.adopted) this.dropPidRef(h.pid);
      if (!allocator.sections.some((x) => x.holder?.connId === h.connId)) this.startTimes.delete(h.connId);
      this.record(`{"r":${JSON.stringify(s.name)},"pid":${h.pid}}\n`);
    });
    allocator.on('adopt', (s) => {
      if (s.holder) this.record(`{"g":${JSON.stringify(this.entryFor(s, s.holder))}}\n`);
    });
  }

  /**
   * Start time of a process being granted a section. While the same pid already holds a section through an open
   * connection, that process is alive, so it is the same process and its start time is known: reuse it instead of
   * reading /proc again (one open/read/close less per grant for processes with several connections).
   */
  private startTimeOf(pid: number): string | null {
    const known = this.livePids.get(pid);
    if (known) {
      known.refs++;
      return known.startTime;
    }
    const startTime = processStartTime(this.opts.pidsRoot, pid) ?? null;
    if (startTime !== null) this.livePids.set(pid, { startTime, refs: 1 });
    return startTime;
  }

  private dropPidRef(pid: number): void {
    const known = this.livePids.get(pid);
    if (known && --known.refs <= 0) this.livePids.delete(pid);
  }

  /** For `qatctl status`: where the ledger is, what it holds, what the last start found. */
  describe(): { path: string; held: number; adopted: number; watchedOwners: number; writeErrors: number; restored: RestoreSummary | null } {
    const held = this.opts.allocator.sections.filter((s) => s.holder !== null);
    return {
      path: this.opts.file,
      held: held.length,
      adopted: held.filter((s) => s.holder?.adopted).length,
      watchedOwners: this.watch.size,
      writeErrors: this.writeErrors,
      restored: this.lastRestore,
    };
  }

  /** Owners being watched (adopted processes still alive). */
  get watchedOwners(): number {
    return this.watch.size;
  }

  /**
   * Stop recording and watching. Called before the daemon closes its connections on shutdown: those closes are
   * not releases (the processes keep their VFs), so the ledger keeps naming them for the next daemon.
   */
  close(): void {
    this.muted = true;
    this.closed = true;
    this.closeFd();
    this.watch.close();
  }
}

/** Same-process test exported for callers that only have a ledger entry. */
export function entryOwnerLives(pidsRoot: string, e: LedgerEntry): boolean {
  return e.startTime !== null && isSameProcess(pidsRoot, e.pid, e.startTime);
}
