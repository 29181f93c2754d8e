// The allocation ledger: every grant and release written durably under the run directory, so a restarted daemon keeps sections that live processes still hold.

import fs from 'node:fs';
import path from 'node:path';
import { LogThrottle, type Logger } from '../log.js';
import type { Allocator, Holder, Section } from './allocator.js';
import { OwnerWatch, type WatchMethod } from './owner-watch.js';
import { bootId as readBootId, processStartTime, readStartTime, isSameProcess } from '../platform/processes.js';
import { FdReserve } from '../platform/fd-reserve.js';
import { createExclusive } from '../platform/exclusive-file.js';
import { readBounded } from '../config/safe-read.js';
import { describeSysError, showValue } from '../errors.js';
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

/** A line (or header entry) that could not be trusted, with what it still reveals about the holder. */
export interface LedgerDamage {
  /** 1-based line of the file (the header is line 1). */
  line: number;
  reason: string;
  pid?: number;
  section?: string;
}

export type LedgerRead =
  | { kind: 'absent' }
  /** `damage`: lines skipped because they could not be trusted; every other entry was kept. */
  | { kind: 'ok'; data: LedgerData; damage: LedgerDamage[] }
  | { kind: 'corrupt' | 'foreign'; reason: string };

/** Most bytes of a ledger read at start (4096 sections and a full journal take about 5 MB). */
export const MAX_LEDGER_BYTES = 64 * 1024 * 1024;

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

/** What a rejected entry still says about its holder (for the report: a live owner must not vanish silently). */
function clues(e: unknown): { pid?: number; section?: string } {
  if (typeof e !== 'object' || e === null) return {};
  const o = e as Record<string, unknown>;
  return {
    pid: isInt(o.pid) && o.pid > 0 ? o.pid : undefined,
    section: typeof o.section === 'string' && /^[A-Za-z0-9_]{1,32}$/.test(o.section) ? o.section : undefined,
  };
}

/** JSON.parse's messages quote the text they choke on: a ledger symlinked to /etc/passwd must not reach a log. */
function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

/**
 * Parse ledger text (pure): the header's snapshot, then every journal line replayed in order. A line that cannot be
 * trusted is skipped and reported, never the whole ledger: a bad release line at worst keeps a section held by a
 * live process until it exits, which is the safe side. Reasons never quote the file's content.
 */
export function parseLedger(text: string, currentBootId: string | undefined): LedgerRead {
  const nl = text.indexOf('\n');
  const headText = nl < 0 ? text : text.slice(0, nl);
  const head = parseJson(headText);
  if (!head.ok) {
    // a version-1 ledger is one pretty-printed JSON document over many lines
    const whole = parseJson(text);
    if (whole.ok) return parseDocument(whole.value, [], currentBootId, 1);
  }
  const lines = nl < 0 ? [] : text.slice(nl + 1).split('\n');
  // a last line without its newline is a write torn by a crash of the machine: it never happened
  if (lines.length && !text.endsWith('\n')) lines.pop();
  if (!head.ok) {
    // the snapshot is lost; the journal lines after it are still worth reading (a grant line is a whole entry)
    const r = parseDocument({ format: LEDGER_FORMAT, entries: [] }, lines, currentBootId, 2);
    if (r.kind !== 'ok') return r;
    if (r.data.entries.length === 0 && r.damage.length === lines.filter((l) => l !== '').length) {
      return { kind: 'corrupt', reason: `line 1 is not JSON and no journal line could be read (${text.length} bytes)` };
    }
    r.damage.unshift({ line: 1, reason: 'the header (snapshot) is not JSON; only the journal lines after it were read' });
    return r;
  }
  return parseDocument(head.value, lines, currentBootId, 2);
}

function parseDocument(raw: unknown, events: string[], currentBootId: string | undefined, firstLine: number): LedgerRead {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { kind: 'corrupt', reason: 'not a JSON object' };
  const o = raw as Record<string, unknown>;
  if (typeof o.format !== 'string' || !READABLE_FORMATS.has(o.format)) return { kind: 'foreign', reason: `format ${typeof o.format === 'string' ? showValue(o.format, 40) : typeof o.format} is not ${LEDGER_FORMAT}` };
  if (currentBootId !== undefined && typeof o.bootId === 'string' && o.bootId !== currentBootId) {
    return { kind: 'foreign', reason: `written during another boot (${showValue(o.bootId, 40)}); its processes are gone` };
  }
  const damage: LedgerDamage[] = [];
  let reservations = o.format === LEDGER_FORMAT_RESERVATIONS ? o.reservations : undefined;
  if (reservations !== undefined) {
    // a bad reservation list costs the reservations only (the kubelet plugin rebuilds them from the Pod Resources API)
    const why = !Array.isArray(reservations) ? 'reservations is not a list'
      : reservations.map((r, i) => checkReservation(r, `reservations[${i}]`)).find((w) => w !== undefined);
    if (why) {
      damage.push({ line: 1, reason: why });
      reservations = undefined;
    }
  }
  const held = new Map<string, LedgerEntry>();
  if (!Array.isArray(o.entries)) damage.push({ line: 1, reason: 'entries is not a list' });
  else {
    o.entries.forEach((e: unknown, i: number) => {
      const why = checkEntry(e, i);
      if (why) damage.push({ line: 1, reason: why, ...clues(e) });
      else held.set((e as LedgerEntry).section, { ...(e as LedgerEntry), adopted: (e as LedgerEntry).adopted === true });
    });
  }
  for (let i = 0; i < events.length; i++) {
    const line = i + firstLine;
    if (events[i] === '') continue;
    const parsed = parseJson(events[i]);
    if (!parsed.ok) { damage.push({ line, reason: 'not JSON' }); continue; }
    const ev = parsed.value as { g?: unknown; r?: unknown; pid?: unknown } | null;
    if (ev && typeof ev === 'object' && ev.g !== undefined) {
      const why = checkEntry(ev.g, 0);
      if (why) { damage.push({ line, reason: why.replace(/^entries\[\d+\]/, 'grant'), ...clues(ev.g) }); continue; }
      const g = ev.g as LedgerEntry;
      held.set(g.section, { ...g, adopted: g.adopted === true });
    } else if (ev && typeof ev === 'object' && typeof ev.r === 'string' && (ev.pid === undefined || isInt(ev.pid))) {
      const cur = held.get(ev.r);
      if (cur && (ev.pid === undefined || ev.pid === cur.pid)) held.delete(ev.r);
    } else {
      damage.push({ line, reason: 'neither a grant nor a release', ...(ev && typeof ev === 'object' ? clues({ pid: ev.pid, section: ev.r }) : {}) });
    }
  }
  const kept = (reservations as ReservationEntry[] | undefined) ?? [];
  const data: LedgerData = {
    format: kept.length ? LEDGER_FORMAT_RESERVATIONS : LEDGER_FORMAT,
    bootId: typeof o.bootId === 'string' ? o.bootId : null,
    daemonPid: isInt(o.daemonPid) ? o.daemonPid : 0,
    writtenAt: typeof o.writtenAt === 'string' ? o.writtenAt : '',
    entries: [...held.values()],
  };
  if (kept.length) data.reservations = kept;
  return { kind: 'ok', data, damage };
}

/**
 * Read the ledger without following a link and only if it is a regular file (a FIFO or /dev/zero planted there is
 * "foreign", never read); a ledger longer than MAX_LEDGER_BYTES is read up to that point and reported.
 */
export function readLedger(file: string, currentBootId: string | undefined): LedgerRead {
  let r = readBounded(file, { maxBytes: MAX_LEDGER_BYTES, noFollow: true });
  let truncated = false;
  if (!r.ok && r.code === 'EFBIG') {
    r = readBounded(file, { maxBytes: MAX_LEDGER_BYTES, noFollow: true, truncate: true });
    truncated = true;
  }
  if (!r.ok) {
    if (r.code === 'ENOENT') return { kind: 'absent' };
    if (r.code === 'ELOOP' || r.code === 'ENOTREG') return { kind: 'foreign', reason: r.why };
    return { kind: 'corrupt', reason: r.why };
  }
  const text = r.data.toString('utf8');
  // cut at the last whole line: the rest past the bound is not read
  const out = parseLedger(truncated ? text.slice(0, text.lastIndexOf('\n') + 1) : text, currentBootId);
  if (truncated && out.kind === 'ok') out.damage.push({ line: 0, reason: `longer than ${MAX_LEDGER_BYTES} bytes; lines past that were not read` });
  return out;
}

/**
 * Replace the ledger atomically with a compacted journal (the header line alone): a fresh temporary file (never one
 * that was there before, never through a link), rename over it. With `fsync` (the default) the data and the
 * directory are flushed before returning. A restarted daemon sees the new content as soon as the rename returns (the
 * page cache survives any process crash); fsync only adds durability across a kernel crash or power loss.
 */
export function writeLedger(file: string, data: LedgerData, opts: { fsync?: boolean } = {}): void {
  const tmp = `${file}.tmp`;
  const fd = createExclusive(tmp, 0o640);
  try {
    writeAll(fd, `${JSON.stringify(data)}\n`);
    if (opts.fsync !== false) fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  if (opts.fsync !== false) fsyncDirSync(path.dirname(file));
}

/** Write the whole text (normally one write(2)); a short write is continued, so a full disk surfaces as its errno. */
function writeAll(fd: number, text: string): void {
  const b = Buffer.from(text);
  for (let off = 0; off < b.length;) {
    const n = fs.writeSync(fd, b, off);
    if (n <= 0) throw Object.assign(new Error(`write returned ${n}`), { code: 'EIO', syscall: 'write' });
    off += n;
  }
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

const fsyncFd = (fd: number): Promise<void> => new Promise((resolve, reject) => fs.fsync(fd, (e) => (e ? reject(e) : resolve())));

/** Move a bad ledger out of the way (kept for inspection); returns where it went. A link or FIFO is moved, never followed. */
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
  /** Lines that could not be trusted (skipped; every other entry was restored); `alive` when the pid they name runs. */
  damaged: Array<LedgerDamage & { alive?: boolean }>;
  problem?: { kind: 'corrupt' | 'foreign' | 'unreadable' | 'damaged'; reason: string; movedTo?: string };
  /** Reservations the previous daemon kept for Kubernetes containers (the kubelet plugin takes them over). */
  reservations: ReservationEntry[];
}

/** What the last restore found, in numbers (for status views). */
export interface RestoreSummary {
  adopted: number;
  gone: number;
  orphanVfs: number;
  damaged: number;
  problem: RestoreReport['problem'] | null;
}

export interface LedgerOptions {
  file: string;
  pidsRoot: string;
  allocator: Allocator;
  log: Logger;
  watch?: OwnerWatch;
  pid?: number;
  /** Descriptors kept for the ledger's own opens at the fd limit (default: two on the ledger's directory). */
  reserve?: FdReserve;
  /** The current reservations, written into every snapshot (set by the kubelet plugin; none by default). */
  reservations?: () => ReservationEntry[];
}

/** Damage lines logged one by one at restore (the rest are counted): a ruined file must not flood the log. */
const MAX_DAMAGE_LINES_LOGGED = 20;
/** A failed write is retried (compaction) this often until it succeeds: durability comes back without a restart. */
const REPAIR_RETRY_MS = 1000;

export class Ledger {
  private readonly startTimes = new Map<number, string | null>();
  /** Start times of processes that hold sections through open connections, with how many they hold. */
  private readonly livePids = new Map<number, { startTime: string; refs: number }>();
  private readonly watch: OwnerWatch;
  private readonly bootId: string | undefined;
  private readonly reserve: FdReserve;
  private nextAdoptedConn = -1;
  private attached = false;
  private muted = false;
  private closed = false;
  private lastRestore: RestoreSummary | null = null;
  private dirty = false;
  private dirDirty = false;
  private flushing: Promise<void> | undefined;
  /** Descriptors replaced while an fsync may still use them: closed when the flush ends. */
  private readonly retired: number[] = [];
  /** Writes that failed (reported once each in the log, rate-limited). */
  writeErrors = 0;
  /** Grants refused because they could not be recorded. */
  refusedGrants = 0;
  private readonly onTmpfs: boolean;
  /** The ledger opened for appending journal lines; undefined until the first compaction. */
  private fd: number | undefined;
  /** The directory, kept open to fsync renames (disk-backed run directories only). */
  private dirFd: number | undefined;
  private journalLines = 0;
  /** The file on disk is behind memory (a failed write): the next record compacts, and a timer retries. */
  private needsRepair = false;
  private repairTimer: NodeJS.Timeout | undefined;
  private readonly throttle = new LogThrottle(1000);

  constructor(private readonly opts: LedgerOptions) {
    const dir = path.dirname(opts.file);
    this.reserve = opts.reserve ?? new FdReserve(dir);
    this.watch = opts.watch ?? new OwnerWatch({ pidsRoot: opts.pidsRoot, open: this.reserve.open });
    this.bootId = readBootId(opts.pidsRoot);
    this.onTmpfs = isTmpfs(dir);
    if (!this.onTmpfs) {
      try { this.dirFd = fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY); } catch { /* fsync of renames is best effort */ }
    }
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
   * Rewrite the ledger as one header line holding the current snapshot (fresh temporary file, rename) and keep that
   * descriptor for appending. Descriptors: the temporary's open may use the reserve; the old journal's is closed
   * after, so the count stays the same. Returns why it failed, or undefined.
   */
  private compact(): string | undefined {
    const file = this.opts.file;
    const tmp = `${file}.tmp`;
    let fd: number | undefined;
    try {
      fd = createExclusive(tmp, 0o640, fs.constants.O_APPEND, this.reserve.open);
      writeAll(fd, `${JSON.stringify(this.snapshot())}\n`);
      fs.renameSync(tmp, file);
    } catch (e) {
      if (fd !== undefined) {
        try { fs.closeSync(fd); } catch { /* gone */ }
        try { fs.unlinkSync(tmp); } catch { /* never created */ }
      }
      this.reserve.refill();
      this.writeFailed(e);
      return describeSysError(e);
    }
    const old = this.fd;
    this.fd = fd;
    this.journalLines = 0;
    if (this.needsRepair) {
      this.needsRepair = false;
      this.opts.log.warn({ event: 'ledger_write_restored', path: file, writeErrors: this.writeErrors }, `the allocation ledger ${file} is written again and holds every current allocation`);
    }
    if (old !== undefined) this.retire(old);
    this.reserve.refill();
    this.dirDirty = true;
    this.scheduleFlush();
    return undefined;
  }

  /**
   * Record one event now, synchronously, before the reply leaves (visible at once to a restarted daemon: the page
   * cache survives any process crash): one appended line, or a compaction when the journal is due for one or the
   * file fell behind. Returns why the event is not on disk, or undefined.
   */
  private record(event: string): string | undefined {
    if (this.muted) return undefined;
    if (this.fd === undefined || this.needsRepair || this.journalLines >= Math.max(COMPACT_AFTER, 4 * this.opts.allocator.sections.length)) {
      return this.compact();
    }
    try {
      writeAll(this.fd, event);
      this.journalLines++;
    } catch (e) {
      // a short write may have left part of a line: only a fresh snapshot puts the file right again
      this.writeFailed(e);
      return this.compact();
    }
    this.scheduleFlush();
    return undefined;
  }

  /** Write the whole ledger now (start-up, restore). */
  persist(): void {
    if (this.muted) return;
    this.compact();
  }

  private writeFailed(e: unknown): void {
    this.writeErrors++;
    this.needsRepair = true;
    this.scheduleRepair();
    const t = this.throttle.take('write_failed');
    if (!t.log) return;
    this.opts.log.error({ event: 'ledger_write_failed', path: this.opts.file, err: describeSysError(e), suppressed: t.held },
      `cannot write the allocation ledger ${this.opts.file}: ${describeSysError(e)}; grants are refused until it is written again (retried every ${REPAIR_RETRY_MS} ms)${heldBack(t.held)}`);
  }

  private scheduleRepair(): void {
    if (this.repairTimer || this.closed) return;
    this.repairTimer = setTimeout(() => {
      this.repairTimer = undefined;
      if (this.needsRepair && !this.muted) this.compact();
    }, REPAIR_RETRY_MS);
    this.repairTimer.unref();
  }

  /** Close a descriptor that an fsync in flight may still use: now, or when the flush ends. */
  private retire(fd: number): void {
    if (this.flushing) { this.retired.push(fd); return; }
    try { fs.closeSync(fd); } catch { /* already closed */ }
  }

  /**
   * fsync off the event loop, on the descriptors already open (no open(2) on the thread pool): a disk-backed run
   * directory costs 10-90 ms per fsync on a loaded machine, which must not stall every connection; on tmpfs (where
   * /run/qat lives on a host) fsync does nothing, so it is skipped. At most one flush runs; writes during it are
   * flushed by one more.
   */
  private scheduleFlush(): void {
    if (this.onTmpfs) return;
    this.dirty = true;
    if (this.flushing) return;
    this.flushing = (async () => {
      while (this.dirty) {
        this.dirty = false;
        const fd = this.fd;
        const dir = this.dirDirty ? this.dirFd : undefined;
        this.dirDirty = false;
        try {
          if (fd !== undefined) await fsyncFd(fd);
          if (dir !== undefined) await fsyncFd(dir);
        } catch (e) {
          this.opts.log.warn({ event: 'ledger_fsync_failed', path: this.opts.file, err: describeSysError(e) }, `cannot fsync the allocation ledger: ${describeSysError(e)}`);
        }
      }
    })().finally(() => {
      this.flushing = undefined;
      for (const fd of this.retired.splice(0)) {
        try { fs.closeSync(fd); } catch { /* already closed */ }
      }
      this.reserve.refill();
    });
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
   * time); watch those owners and free their sections when they exit. A corrupt or foreign ledger is moved aside; a
   * damaged one (some lines bad) gives up only its bad lines, is kept aside for inspection and written afresh.
   */
  restore(): RestoreReport {
    const { allocator, log, file } = this.opts;
    const report: RestoreReport = { adopted: [], gone: [], orphanVfs: [], damaged: [], reservations: [] };
    const read = readLedger(file, this.bootId);
    this.lastRestore = { adopted: 0, gone: 0, orphanVfs: 0, damaged: 0, problem: null };
    if (read.kind === 'absent') return report;
    if (read.kind !== 'ok') {
      report.problem = { kind: read.kind, reason: read.reason, movedTo: this.setAside(read.kind) };
      this.lastRestore.problem = report.problem;
      log.error({ event: 'ledger_rejected', kind: read.kind, path: file, reason: read.reason, movedTo: report.problem.movedTo }, `allocation ledger ${file} is ${read.kind}: ${read.reason}; moved to ${report.problem.movedTo ?? '(could not move)'}; starting with no adopted sections`);
      // a fresh, empty ledger in its place at once (unless the old one could not be moved: it stays for inspection)
      if (report.problem.movedTo) this.persist();
      return report;
    }
    if (read.damage.length) {
      report.damaged = read.damage.map((d) => (d.pid !== undefined ? { ...d, alive: readStartTime(this.opts.pidsRoot, d.pid).kind !== 'gone' } : d));
      const live = report.damaged.filter((d) => d.alive);
      const movedTo = this.setAside('damaged');
      report.problem = { kind: 'damaged', reason: `${read.damage.length} line(s) could not be trusted and were skipped; ${read.data.entries.length} entries kept`, movedTo };
      log.error({ event: 'ledger_damaged', path: file, skipped: read.damage.length, kept: read.data.entries.length, liveOwners: live.map((d) => d.pid), movedTo },
        `allocation ledger ${file}: ${report.problem.reason}; the damaged file is kept as ${movedTo ?? '(could not move)'}`);
      report.damaged.slice(0, MAX_DAMAGE_LINES_LOGGED).forEach((d) => {
        const owner = d.pid !== undefined ? `; it names pid ${d.pid}${d.section ? ` (${d.section})` : ''}, which ${d.alive ? 'is alive: its VFs may still be in use, check it with qatctl allocations' : 'is gone'}` : '';
        log[d.alive ? 'error' : 'warn']({ event: 'ledger_line_skipped', path: file, line: d.line, reason: d.reason, pid: d.pid, section: d.section, alive: d.alive }, `allocation ledger ${file}${d.line > 0 ? ` line ${d.line}` : ''}: ${d.reason}${owner}`);
      });
      if (report.damaged.length > MAX_DAMAGE_LINES_LOGGED) log.warn({ event: 'ledger_line_skipped', path: file, more: report.damaged.length - MAX_DAMAGE_LINES_LOGGED }, `allocation ledger ${file}: ${report.damaged.length - MAX_DAMAGE_LINES_LOGGED} more skipped lines not listed`);
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
        const now = readStartTime(this.opts.pidsRoot, e.pid, this.reserve.open);
        if (now.kind === 'gone' || (now.kind === 'alive' && now.startTime !== e.startTime)) {
          report.gone.push({ section: e.section, pid: e.pid, reason: now.kind === 'gone' ? 'process exited' : 'pid now belongs to another process' });
          continue;
        }
        if (now.kind === 'unknown') {
          // cannot tell: holding the VFs of a process that may be gone is safe, handing out VFs it may use is not
          log.warn({ event: 'adopt_unverified', section: e.section, pid: e.pid, err: now.error }, `cannot check pid ${e.pid} (${now.error}); ${e.section} stays held until it is seen to exit`);
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
    this.lastRestore = { adopted: report.adopted.length, gone: report.gone.length, orphanVfs: report.orphanVfs.length, damaged: report.damaged.length, problem: report.problem ?? null };
    this.persist();
    return report;
  }

  /** Move the ledger aside for inspection; undefined (logged) when it cannot be moved. */
  private setAside(kind: string): string | undefined {
    try {
      return moveAside(this.opts.file, kind);
    } catch (e) {
      this.opts.log.error({ event: 'ledger_move_failed', path: this.opts.file, err: describeSysError(e) }, `cannot move the ${kind} ledger ${this.opts.file} aside: ${describeSysError(e)}`);
      return undefined;
    }
  }

  private ownerExited(connId: number, pid: number): void {
    const { allocator, log } = this.opts;
    for (const s of allocator.sections) {
      if (s.holder?.connId === connId && allocator.release(s, connId, 'owner-exited')) {
        log.debug({ event: 'adopted_owner_exited', section: s.name, pid }, `adopted owner pid ${pid} of ${s.name} exited`);
      }
    }
  }

  /**
   * From now on every grant is on disk before it is answered (the allocator's commit hook: a grant that cannot be
   * recorded is refused) and every release is recorded (a failed one is repaired by the next compaction).
   */
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
    allocator.commitGrant = (s, h) => this.commitGrant(s, h);
    allocator.on('release', (s, h) => {
      if (!h.adopted) this.dropPidRef(h.pid);
      if (!allocator.sections.some((x) => x.holder?.connId === h.connId)) this.startTimes.delete(h.connId);
      this.record(`{"r":${JSON.stringify(s.name)},"pid":${h.pid}}\n`);
    });
    allocator.on('adopt', (s) => {
      if (s.holder) this.record(`{"g":${JSON.stringify(this.entryFor(s, s.holder))}}\n`);
    });
  }

  /** Record a grant (the section already names its new holder); a reason means it is not on disk and must be refused. */
  private commitGrant(s: Section, h: Holder): string | undefined {
    const known = this.livePids.get(h.pid);
    let startTime: string | null;
    if (known) {
      // the same pid holds a section over an open connection, so it is alive and this is its start time
      startTime = known.startTime;
    } else {
      const r = readStartTime(this.opts.pidsRoot, h.pid, this.reserve.open);
      this.reserve.refill();
      if (r.kind === 'unknown') return this.refuse(`cannot read the start time of pid ${h.pid} (${r.error})`);
      // not visible in /proc (another pid namespace): recorded without a start time, so never adopted after a restart
      startTime = r.kind === 'alive' ? r.startTime : null;
    }
    this.startTimes.set(h.connId, startTime);
    const why = this.record(`{"g":${JSON.stringify(this.entryFor(s, h))}}\n`);
    if (why !== undefined) {
      this.startTimes.delete(h.connId);
      return this.refuse(`the allocation ledger ${this.opts.file} cannot be written (${why})`);
    }
    if (startTime !== null) {
      if (known) known.refs++;
      else this.livePids.set(h.pid, { startTime, refs: 1 });
    }
    return undefined;
  }

  private refuse(reason: string): string {
    this.refusedGrants++;
    return reason;
  }

  private dropPidRef(pid: number): void {
    const known = this.livePids.get(pid);
    if (known && --known.refs <= 0) this.livePids.delete(pid);
  }

  /** For `qatctl status`: where the ledger is, what it holds, what the last start found. */
  describe(): { path: string; held: number; adopted: number; watchedOwners: number; writeErrors: number; refusedGrants: number; durable: boolean; restored: RestoreSummary | null } {
    const held = this.opts.allocator.sections.filter((s) => s.holder !== null);
    return {
      path: this.opts.file,
      held: held.length,
      adopted: held.filter((s) => s.holder?.adopted).length,
      watchedOwners: this.watch.size,
      writeErrors: this.writeErrors,
      refusedGrants: this.refusedGrants,
      durable: !this.needsRepair,
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
    if (this.repairTimer) clearTimeout(this.repairTimer);
    this.repairTimer = undefined;
    for (const fd of [this.fd, this.dirFd]) if (fd !== undefined) this.retire(fd);
    this.fd = undefined;
    this.dirFd = undefined;
    if (!this.flushing) this.reserve.close();
    else void this.flushing.then(() => this.reserve.close());
    this.watch.close();
  }
}

function heldBack(n: number): string {
  return n ? ` (${n} more like it in the last second not logged)` : '';
}

/** Same-process test exported for callers that only have a ledger entry. */
export function entryOwnerLives(pidsRoot: string, e: LedgerEntry): boolean {
  return e.startTime !== null && isSameProcess(pidsRoot, e.pid, e.startTime);
}
