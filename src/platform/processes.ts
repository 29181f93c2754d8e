// Live-process facts through Roots.pids: start time (stat field 22) and boot id to tell "same process" from "same pid"; comm and systemd unit; a client's CPUs, groups, cgroup.

import fs from 'node:fs';
import path from 'node:path';
import { parseCpuList } from './cpus.js';
import type { OpenFn } from './fd-reserve.js';
import { readBounded } from '../config/safe-read.js';

const { O_RDONLY } = fs.constants;
const openSync: OpenFn = (p, flags, mode) => fs.openSync(p, flags, mode);
/** /proc/<pid>/stat and friends are a line or a few: anything past 64 KiB is not one of them. */
const MAX_PROC_FILE = 64 * 1024;

// read on every grant (the ledger records the owner's start time): open/read/close into one buffer, instead of
// readFileSync's open/fstat/read/read/close and a fresh buffer (bench: ~40 % less time in processStartTime)
let statBuf = Buffer.allocUnsafe(4096);

function readSmall(p: string, open: OpenFn = openSync): string {
  const fd = open(p, O_RDONLY);
  try {
    let n = 0;
    for (;;) {
      const r = fs.readSync(fd, statBuf, n, statBuf.length - n, null);
      if (r === 0) break;
      n += r;
      if (n === statBuf.length) {
        if (n >= MAX_PROC_FILE) break;
        const bigger = Buffer.allocUnsafe(statBuf.length * 2);
        statBuf.copy(bigger, 0, 0, n);
        statBuf = bigger;
      }
    }
    return statBuf.toString('latin1', 0, n);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * The fields of /proc/<pid>/stat from field 3 on (index 0 = field 3): the command name (field 2) may hold spaces and
 * parentheses, so fields are counted after the last ')'. Gone (no such process), or unknown (the read failed for
 * another reason, e.g. EMFILE: the process may well be alive). `open` lets a caller supply descriptors from a reserve.
 */
function readStat(pidsRoot: string, pid: number, open: OpenFn): { kind: 'ok'; fields: string[] } | { kind: 'gone' } | { kind: 'unknown'; error: string } {
  if (!Number.isInteger(pid) || pid <= 0) return { kind: 'gone' };
  let text: string;
  try {
    text = readSmall(path.join(pidsRoot, String(pid), 'stat'), open);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    return code === 'ENOENT' || code === 'ESRCH' ? { kind: 'gone' } : { kind: 'unknown', error: code };
  }
  const close = text.lastIndexOf(')');
  if (close < 0) return { kind: 'unknown', error: 'unreadable stat line' };
  return { kind: 'ok', fields: text.slice(close + 2).split(' ') };
}

/** Field `n` (1-based, n >= 3) of /proc/<pid>/stat as text; undefined when the process does not exist or cannot be read. */
function statField(pidsRoot: string, pid: number, n: number): string | undefined {
  const r = readStat(pidsRoot, pid, openSync);
  const f = r.kind === 'ok' ? r.fields[n - 3] : undefined;
  return f !== undefined && /^[0-9]+$/.test(f) ? f : undefined;
}

/**
 * What /proc says about a pid: alive with its start time (field 22 of stat, clock ticks since boot, as text), gone
 * (no such process), or unknown (the read failed for another reason: callers that free resources must not take
 * this as an exit).
 */
export type StartTime = { kind: 'alive'; startTime: string } | { kind: 'gone' } | { kind: 'unknown'; error: string };

export function readStartTime(pidsRoot: string, pid: number, open: OpenFn = openSync): StartTime {
  const r = readStat(pidsRoot, pid, open);
  if (r.kind !== 'ok') return r;
  const st = r.fields[22 - 3];
  return st !== undefined && /^[0-9]+$/.test(st) ? { kind: 'alive', startTime: st } : { kind: 'unknown', error: 'unreadable stat line' };
}

/** Start time of a live process, as text; undefined when it does not exist or cannot be read. */
export function processStartTime(pidsRoot: string, pid: number): string | undefined {
  const r = readStartTime(pidsRoot, pid);
  return r.kind === 'alive' ? r.startTime : undefined;
}

/** True when `pid` runs and is the same process that had `startTime` (not a reused pid). */
export function isSameProcess(pidsRoot: string, pid: number, startTime: string): boolean {
  return processStartTime(pidsRoot, pid) === startTime;
}

/**
 * False only when the process is known to be gone or replaced by another one; a failed read (EMFILE, ...) keeps it
 * alive. For code that frees what the process holds: freeing on a failed read would hand its VFs out twice.
 */
export function mayBeSameProcess(pidsRoot: string, pid: number, startTime: string, open: OpenFn = openSync): boolean {
  const r = readStartTime(pidsRoot, pid, open);
  return r.kind === 'unknown' || (r.kind === 'alive' && r.startTime === startTime);
}

/** This boot's id (a ledger from another boot names processes that no longer exist); undefined if unreadable. */
export function bootId(pidsRoot: string): string | undefined {
  const r = readBounded(path.join(pidsRoot, 'sys', 'kernel', 'random', 'boot_id'), { maxBytes: 64 });
  const t = r.ok ? r.data.toString('latin1').trim() : '';
  return /^[0-9a-f-]{1,64}$/.test(t) ? t : undefined;
}

/** The unified (v2) cgroup path of a /proc/<pid>/cgroup text, else the first controller's. */
export function cgroupPath(text: string): string | null {
  let first: string | null = null;
  for (const line of text.split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    if (m[1] === '0' && m[2] === '') return m[3];
    if (first === null && (m[2] === 'name=systemd' || m[2].includes('cpu'))) first = m[3];
  }
  return first;
}

/** Split a cgroup path into the systemd unit and container it names (either may be null). */
export function unitAndContainer(cg: string): { unit: string | null; container: string | null } {
  const parts = cg.split('/').filter(Boolean);
  let container: string | null = null;
  const short = (id: string): string => id.slice(0, 12);
  for (const p of parts) {
    let m: RegExpExecArray | null;
    if ((m = /^docker-([0-9a-f]{12,})\.scope$/.exec(p))) container = `docker:${short(m[1])}`;
    else if ((m = /^libpod-(?:conmon-)?([0-9a-f]{12,})\.scope$/.exec(p))) container = `podman:${short(m[1])}`;
    else if ((m = /^cri-containerd-([0-9a-f]{12,})\.scope$/.exec(p))) container = `containerd:${short(m[1])}`;
    else if ((m = /^crio-([0-9a-f]{12,})\.scope$/.exec(p))) container = `crio:${short(m[1])}`;
    else if ((m = /^lxc\.payload\.(.+)$/.exec(p))) container = `lxc:${m[1]}`;
  }
  const i = parts.indexOf('docker');
  if (container === null && i >= 0 && parts[i + 1] && /^[0-9a-f]{12,}$/.test(parts[i + 1])) container = `docker:${short(parts[i + 1])}`;
  if (container === null && parts.some((p) => p.startsWith('kubepods'))) {
    const last = parts[parts.length - 1];
    container = `kubepods:${short(last.replace(/^(cri-containerd-|crio-|docker-)/, '').replace(/\.scope$/, ''))}`;
  }
  // the innermost systemd unit that is not a slice
  let unit: string | null = null;
  for (const p of parts) if (/\.(service|scope|socket|mount|swap|target)$/.test(p)) unit = p;
  return { unit, container };
}

/** comm and systemd unit (or container) of a live process, for log lines; nulls when it is gone. */
export function processLabel(pidsRoot: string, pid: number): { comm: string | null; unit: string | null } {
  if (!Number.isInteger(pid) || pid <= 0) return { comm: null, unit: null };
  const dir = path.join(pidsRoot, String(pid));
  let comm: string | null = null;
  let cg: string | null = null;
  try { comm = readSmall(path.join(dir, 'comm')).replace(/\n$/, ''); } catch { /* gone */ }
  try { cg = cgroupPath(readSmall(path.join(dir, 'cgroup'))); } catch { /* gone */ }
  const uc = cg === null ? { unit: null, container: null } : unitAndContainer(cg);
  return { comm, unit: uc.container ?? uc.unit };
}

/** What a grant may need to know about a client process; each field is read only when asked for. */
export interface ClientProcess {
  /** `Cpus_allowed_list` of /proc/<pid>/status: the affinity mask, already narrowed by the cpuset cgroup. */
  cpusAllowed: number[] | null;
  /** Supplementary groups (`Groups:` of status). */
  groups: number[] | null;
  cgroup: string | null;
}

function statusLine(text: string, key: string): string | undefined {
  const at = text.indexOf(`\n${key}:`);
  if (at < 0) return undefined;
  const start = at + key.length + 2;
  const end = text.indexOf('\n', start);
  return text.slice(start, end < 0 ? text.length : end).trim();
}

function tryRead(p: string): string | undefined {
  try {
    return readSmall(p);
  } catch {
    return undefined;
  }
}

/**
 * Read the facts a grant needs about `pid` under Roots.pids, each only when asked for: the CPUs from `affinity` (the
 * sched_getaffinity system call: ~1 us against ~15 us for /proc/<pid>/status, measured in bench/numa.ts) or else from
 * `status`, the groups from `status`, the cgroup from `cgroup`. A process that is gone (or hidden) yields nulls.
 */
export function readClientProcess(
  pidsRoot: string, pid: number, want: { cpus: boolean; groups: boolean; cgroup: boolean }, affinity?: (pid: number) => number[] | undefined,
): ClientProcess {
  const out: ClientProcess = { cpusAllowed: null, groups: null, cgroup: null };
  if (!Number.isInteger(pid) || pid <= 0) return out;
  const dir = path.join(pidsRoot, String(pid));
  let cpusFromStatus = want.cpus;
  if (want.cpus && affinity) {
    const cpus = affinity(pid);
    if (cpus !== undefined) {
      out.cpusAllowed = cpus;
      cpusFromStatus = false;
    }
  }
  if (cpusFromStatus || want.groups) {
    const st = tryRead(path.join(dir, 'status'));
    if (st !== undefined) {
      const cpus = cpusFromStatus ? statusLine(st, 'Cpus_allowed_list') : undefined;
      if (cpus !== undefined) out.cpusAllowed = parseCpuList(cpus) ?? null;
      const groups = want.groups ? statusLine(st, 'Groups') : undefined;
      if (groups !== undefined) out.groups = groups === '' ? [] : groups.split(/\s+/).map(Number).filter(Number.isInteger);
    }
  }
  if (want.cgroup) {
    const cg = tryRead(path.join(dir, 'cgroup'));
    if (cg !== undefined) out.cgroup = cgroupPath(cg);
  }
  return out;
}

/** The CPU `pid` ran on last (/proc/<pid>/stat field 39); undefined when unknown. */
export function processCurrentCpu(pidsRoot: string, pid: number): number | undefined {
  const f = statField(pidsRoot, pid, 39);
  return f === undefined ? undefined : Number(f);
}
