// The daemon's pid file: refuse a live qatmgr, replace a stale file, write atomically, remove only our own on exit.

import fs from 'node:fs';
import path from 'node:path';
import { QatmgrError, ErrorCodes, describeSysError } from '../errors.js';

/** True when `pid` is a live process whose command line is a qatmgr (binary `qatmgr` or script `qatmgr.js`). */
export function isQatmgrProcess(pid: number, pidsRoot = '/proc'): boolean {
  let cmdline: string;
  try {
    cmdline = fs.readFileSync(path.join(pidsRoot, String(pid), 'cmdline'), 'latin1');
  } catch {
    return false;
  }
  const args = cmdline.split('\0').filter((a) => a.length > 0).slice(0, 4);
  return args.some((a) => /^qatmgr(\.[cm]?[jt]s)?$/.test(path.basename(a)));
}

export type PidFileState =
  | { kind: 'absent' }
  | { kind: 'live'; pid: number }
  | { kind: 'stale'; pid: number | undefined; reason: string };

/** What the pid file says: absent, a live qatmgr, or stale (dead pid, another program, garbage). */
export function inspectPidFile(file: string, pidsRoot = '/proc', self = process.pid): PidFileState {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'absent' };
    throw new QatmgrError(ErrorCodes.QATMGR_E_PIDFILE, `Cannot read pid file ${file}: ${describeSysError(e)}`, { path: file });
  }
  const m = /^\s*([0-9]+)/.exec(text);
  if (!m) return { kind: 'stale', pid: undefined, reason: `does not start with a pid (${JSON.stringify(text.slice(0, 32))})` };
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
    fs.writeFileSync(tmp, `${pid}\n`, { mode: 0o644 });
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
        if (fs.readFileSync(file, 'utf8').trim() === String(pid)) fs.unlinkSync(file);
      } catch {
        /* already gone, or replaced by a newer instance: not ours to remove */
      }
    },
  };
}
