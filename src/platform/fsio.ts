// Careful sysfs/devfs reads: no symlink in the last component, no hard-linked files, regular files only, short values only.

import fs from 'node:fs';
import { readBounded } from '../config/safe-read.js';

const { O_RDONLY, O_RDWR, O_NOFOLLOW, O_NONBLOCK } = fs.constants;

/** Most bytes of a file such as `physfn/uevent` (a sysfs attribute is one page; anything longer is not one). */
const MAX_TEXT_FILE = 64 * 1024;

export type ReadResult = { ok: true; text: string } | { ok: false; error: string };

/** One read buffer for every attribute (start-up reads ~12,000 of them on 4096 VFs; one allocation each showed in GC). */
let attrBuf = Buffer.allocUnsafe(4096);

/**
 * Read a small attribute file the way upstream does (O_NOFOLLOW, reject nlink > 1), at most `maxBytes` of it. The open
 * does not block and only a regular file is read: a FIFO or a device node planted in the tree is an error, not a hang.
 */
export function readAttr(p: string, maxBytes = 4096): ReadResult {
  let fd: number;
  try {
    fd = fs.openSync(p, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  } catch (e) {
    return { ok: false, error: (e as NodeJS.ErrnoException).code ?? String(e) };
  }
  try {
    const st = fs.fstatSync(fd);
    if (st.nlink > 1) return { ok: false, error: 'hard-linked' };
    if (st.isDirectory()) return { ok: false, error: 'EISDIR' };
    if (!st.isFile()) return { ok: false, error: 'not a regular file' };
    if (attrBuf.length < maxBytes) attrBuf = Buffer.allocUnsafe(maxBytes);
    const n = fs.readSync(fd, attrBuf, 0, maxBytes, 0);
    return { ok: true, text: attrBuf.toString('latin1', 0, n) };
  } catch (e) {
    return { ok: false, error: (e as NodeJS.ErrnoException).code ?? String(e) };
  } finally {
    fs.closeSync(fd);
  }
}

/** Read a regular file of at most 64 KiB following links (for files such as `physfn/uevent` whose path goes through a link). */
export function readText(p: string): ReadResult {
  const r = readBounded(p, { maxBytes: MAX_TEXT_FILE });
  return r.ok ? { ok: true, text: r.data.toString('latin1') } : { ok: false, error: r.code === 'ENOTREG' || r.code === 'EFBIG' ? r.why : r.code };
}

/** Upstream's availability probe of a VFIO group node: open read-write without following links, reject hard links. */
export function probeOpenRw(p: string): string | undefined {
  let fd: number;
  try {
    fd = fs.openSync(p, O_RDWR | O_NOFOLLOW | O_NONBLOCK);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code ?? String(e);
  }
  try {
    const st = fs.fstatSync(fd);
    if (st.nlink > 1) return 'hard-linked';
    return undefined;
  } finally {
    fs.closeSync(fd);
  }
}

/** Directory entries without dot-entries, in byte order (upstream's alphasort); undefined if unreadable. */
export function listDir(p: string): string[] | undefined {
  try {
    return fs.readdirSync(p).filter((n) => !n.startsWith('.')).sort(byteCompare);
  } catch {
    return undefined;
  }
}

export function byteCompare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Parse a hex attribute like "0x4941\n"; undefined if it is not one. */
export function parseHexAttr(text: string): number | undefined {
  const m = /^\s*(0x)?([0-9a-fA-F]{1,8})\s*$/.exec(text);
  return m ? parseInt(m[2], 16) : undefined;
}
