// Live-process facts through Roots.pids: a process's start time (stat field 22) and the boot id, to tell "same process" from "same pid".

import fs from 'node:fs';
import path from 'node:path';
import type { OpenFn } from './fd-reserve.js';
import { readBounded } from '../config/safe-read.js';

const { O_RDONLY } = fs.constants;

// read on every grant (the ledger records the owner's start time): open/read/close into one buffer, instead of
// readFileSync's open/fstat/read/read/close and a fresh buffer (bench: ~40 % less time in processStartTime)
let statBuf = Buffer.allocUnsafe(4096);

function readSmall(p: string, open: OpenFn): string {
  const fd = open(p, O_RDONLY);
  try {
    let n = 0;
    for (;;) {
      const r = fs.readSync(fd, statBuf, n, statBuf.length - n, null);
      if (r === 0) break;
      n += r;
      if (n === statBuf.length) {
        // /proc/<pid>/stat is one line of at most a few hundred bytes: anything past 64 KiB is not one
        if (n >= MAX_STAT_BYTES) break;
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

const MAX_STAT_BYTES = 64 * 1024;
const openSync: OpenFn = (p, flags, mode) => fs.openSync(p, flags, mode);

/**
 * What /proc says about a pid: alive with its start time (field 22 of stat, clock ticks since boot, as text), gone
 * (no such process), or unknown (the read failed for another reason, e.g. EMFILE: the process may well be alive, so
 * callers that free resources must not take this as an exit).
 */
export type StartTime = { kind: 'alive'; startTime: string } | { kind: 'gone' } | { kind: 'unknown'; error: string };

/**
 * Read a process's start time. The command name (field 2) may hold spaces and parentheses, so fields are counted
 * after the last ')'. `open` lets the caller supply descriptors from a reserve (see FdReserve).
 */
export function readStartTime(pidsRoot: string, pid: number, open: OpenFn = openSync): StartTime {
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
  // after ") " come fields 3 (state), 4, ...: field 22 is the 20th of them
  const rest = text.slice(close + 2).split(' ');
  const st = rest[22 - 3];
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
