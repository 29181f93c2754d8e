// The daemon's pid file: refuse a live qatmgr, replace a stale file, write atomically, remove only our own on exit.

import fs from 'node:fs';
import path from 'node:path';
import { QatmgrError, ErrorCodes, describeSysError, showValue } from '../errors.js';
import { readBounded } from '../config/safe-read.js';
import { createExclusive } from '../platform/exclusive-file.js';

/** True when `pid` is a live process whose command line is a qatmgr (binary `qatmgr` or script `qatmgr.js`). */
export function isQatmgrProcess(pid: number, pidsRoot = '/proc'): boolean {
  const r = readBounded(path.join(pidsRoot, String(pid), 'cmdline'), { maxBytes: 4096, truncate: true });
  if (!r.ok) return false;
  const cmdline = r.data.toString('latin1');
  const args = cmdline.split('\0').filter((a) => a.length > 0).slice(0, 4);
  return args.some((a) => /^qatmgr(\.[cm]?[jt]s)?$/.test(path.basename(a)));
}

export type PidFileState =
  | { kind: 'absent' }
  | { kind: 'live'; pid: number }
  | { kind: 'stale'; pid: number | undefined; reason: string };

/** What the pid file says: absent, a live qatmgr, or stale (dead pid, another program, garbage). */
export function inspectPidFile(file: string, pidsRoot = '/proc', self = process.pid): PidFileState {
  // a pid file is a short line: a symlink, a FIFO or a huge file there is stale, and is replaced, never followed
  const r = readBounded(file, { maxBytes: 64, noFollow: true, truncate: true });
  if (!r.ok) {
    if (r.code === 'ENOENT') return { kind: 'absent' };
    if (r.code === 'ELOOP' || r.code === 'ENOTREG') return { kind: 'stale', pid: undefined, reason: r.why };
    throw new QatmgrError(ErrorCodes.QATMGR_E_PIDFILE, `Cannot read pid file ${file}: ${r.why}`, { path: file });
  }
  const text = r.data.toString('latin1');
  const m = /^\s*([0-9]{1,10})\b/.exec(text);
  if (!m) return { kind: 'stale', pid: undefined, reason: `does not start with a pid (${showValue(text, 32)})` };
  const pid = Number(m[1]);
  if (pid === self) return { kind: 'stale', pid, reason: 'names this process (left over from an earlier boot)' };
  if (!fs.existsSync(path.join(pidsRoot, String(pid)))) return { kind: 'stale', pid, reason: `pid ${pid} is not running` };
  if (!isQatmgrProcess(pid, pidsRoot)) return { kind: 'stale', pid, reason: `pid ${pid} is not a qatmgr` };
  return { kind: 'live', pid };
}

export interface PidFileHandle {
  path: string;
  /** Why an existing file was replaced, for the log; undefined when there was none. */
  replaced: string | undefined;
  /** Remove the file if it still names this process. */
  release(): void;
}

/**
 * Take the pid file for this process: a live qatmgr in it is an error ("Another qatmgr is running"),
 * anything else is replaced. Written to a temporary name and renamed so a reader never sees a partial file.
 */
export function acquirePidFile(file: string, pidsRoot = '/proc', pid = process.pid): PidFileHandle {
  const state = inspectPidFile(file, pidsRoot, pid);
  if (state.kind === 'live') {
    throw new QatmgrError(ErrorCodes.QATMGR_E_PIDFILE, `Another qatmgr is running -- pid=${state.pid} (pid file ${file})`, { path: file, pid: state.pid });
  }
  const tmp = `${file}.${pid}.tmp`;
  try {
    // never through a link planted at the temporary name: created fresh (O_EXCL|O_NOFOLLOW), then renamed over the file
    const fd = createExclusive(tmp, 0o644);
    try { fs.writeSync(fd, `${pid}\n`); } finally { fs.closeSync(fd); }
    fs.renameSync(tmp, file);
  } catch (e) {
    try { fs.unlinkSync(tmp); } catch { /* never created */ }
    throw new QatmgrError(ErrorCodes.QATMGR_E_PIDFILE, `Cannot write pid file ${file}: ${describeSysError(e)}`, { path: file });
  }
  let released = false;
  return {
    path: file,
    replaced: state.kind === 'stale' ? state.reason : undefined,
    release() {
      if (released) return;
      released = true;
      try {
        const mine = readBounded(file, { maxBytes: 64, noFollow: true, truncate: true });
        if (mine.ok && mine.data.toString('latin1').trim() === String(pid)) fs.unlinkSync(file);
      } catch {
        /* already gone, or replaced by a newer instance: not ours to remove */
      }
    },
  };
}
