// The run directory belongs to one daemon: checked (a real directory, ours, writable by nobody else) and locked before anything in it is read or written.

import fs from 'node:fs';
import path from 'node:path';
import { QatmgrError, ErrorCodes, describeSysError } from '../errors.js';
import { tryLockExclusive } from '../native/libc.js';
import { readBounded } from '../config/safe-read.js';

export const LOCK_NAME = 'qatmgr.lock';

const { O_RDWR, O_CREAT, O_NOFOLLOW, O_NONBLOCK } = fs.constants;

export interface RunDirLock {
  dir: string;
  path: string;
  /** Held for the life of the process: the kernel drops the lock when it ends, however it ends. */
  fd: number;
  /** Clean exit: remove the lock file while still holding it, then let go. */
  release(): void;
}

function runDirError(dir: string, what: string): QatmgrError {
  return new QatmgrError(ErrorCodes.QATMGR_E_RUN_DIR, `run directory ${dir} ${what}`, { path: dir });
}

/**
 * Why `st` (the run directory, or a file in it) may not be trusted: another user could replace what the daemon
 * writes there. Owner must be this process's user or root; no write bit for group or others.
 */
export function untrustedReason(st: fs.Stats, euid: number): string | undefined {
  if (st.uid !== euid && st.uid !== 0) return `is owned by uid ${st.uid}, not by this daemon's user (uid ${euid}) or root`;
  if (st.mode & 0o022) return `is writable by ${st.mode & 0o020 ? 'its group' : 'others'} (mode ${(st.mode & 0o7777).toString(8).padStart(4, '0')}); another user could replace the ledger or plant links in it`;
  return undefined;
}

/**
 * Make sure `dir` exists (mode 0755 when created), is a directory this daemon may trust, and take `qatmgr.lock` in
 * it with flock(LOCK_EX|LOCK_NB). A second daemon on the same directory gets QATMGR_E_RUN_DIR_BUSY naming the holder
 * and has touched nothing but the lock file's open. Call before the pid file, the ledger or the sockets are looked at.
 */
export function lockRunDir(dir: string, pid = process.pid, euid = process.geteuid?.() ?? 0): RunDirLock {
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  } catch (e) {
    throw runDirError(dir, `cannot be created: ${describeSysError(e)}`);
  }
  let st: fs.Stats;
  try {
    st = fs.statSync(dir);
  } catch (e) {
    throw runDirError(dir, `cannot be examined: ${describeSysError(e)}`);
  }
  if (!st.isDirectory()) throw runDirError(dir, 'is not a directory');
  const why = untrustedReason(st, euid);
  if (why) throw runDirError(dir, why);

  const p = path.join(dir, LOCK_NAME);
  // a daemon that exits removes the file while it holds the lock: whoever locked the removed file meanwhile must
  // see that the path now names another file (or none), and try again on the new one
  for (let attempt = 1; ; attempt++) {
    const held = lockOnce(dir, p, pid, euid, attempt === 4);
    if (held) return held;
  }
}

function sameFile(fd: number, p: string): boolean {
  try {
    const a = fs.fstatSync(fd);
    const b = fs.lstatSync(p);
    return a.ino === b.ino && a.dev === b.dev;
  } catch {
    return false;
  }
}

function lockOnce(dir: string, p: string, pid: number, euid: number, last = false): RunDirLock | undefined {
  let fd: number;
  try {
    fd = fs.openSync(p, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK, 0o640);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw runDirError(dir, code === 'ELOOP' ? `holds a symbolic link at ${LOCK_NAME}; remove it` : `cannot be locked: ${p}: ${describeSysError(e)}`);
  }
  const lst = fs.fstatSync(fd);
  if (!lst.isFile() || untrustedReason(lst, euid)) {
    fs.closeSync(fd);
    throw runDirError(dir, `holds a ${LOCK_NAME} that is not a regular file of this daemon's user; remove it`);
  }
  const r = tryLockExclusive(fd);
  if (r === 'busy') {
    fs.closeSync(fd);
    const text = readBounded(p, { maxBytes: 32, noFollow: true, truncate: true });
    const m = text.ok ? /^([0-9]{1,10})\n/.exec(text.data.toString('latin1')) : null;
    throw new QatmgrError(
      ErrorCodes.QATMGR_E_RUN_DIR_BUSY,
      `Another qatmgr is running${m ? ` -- pid=${m[1]}` : ''}: it holds the run directory ${dir} (lock ${p}); this one changed nothing there`,
      { path: dir, pid: m ? Number(m[1]) : undefined },
    );
  }
  if (r !== 'locked') {
    fs.closeSync(fd);
    throw runDirError(dir, `cannot be locked: flock(${p}): ${r}`);
  }
  if (!sameFile(fd, p)) {
    fs.closeSync(fd);
    if (last) throw runDirError(dir, `cannot be locked: ${p} keeps being replaced`);
    return undefined;
  }
  // the holder's pid, for the message a second daemon prints (the lock itself is what counts)
  try {
    fs.ftruncateSync(fd, 0);
    fs.writeSync(fd, `${pid}\n`, 0);
  } catch {
    /* the lock is held; the pid text is only a courtesy */
  }
  let released = false;
  return {
    dir, path: p, fd,
    release() {
      if (released) return;
      released = true;
      try { if (sameFile(fd, p)) fs.unlinkSync(p); } catch { /* already gone */ }
      try { fs.closeSync(fd); } catch { /* already closed */ }
    },
  };
}
