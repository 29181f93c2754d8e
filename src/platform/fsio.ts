// Careful sysfs/devfs reads: no symlink in the last component, no hard-linked files, short values only.

import fs from 'node:fs';

const { O_RDONLY, O_RDWR, O_NOFOLLOW } = fs.constants;

export type ReadResult = { ok: true; text: string } | { ok: false; error: string };

/** Read a small attribute file the way upstream does (O_NOFOLLOW, reject nlink > 1). */
export function readAttr(p: string, maxBytes = 4096): ReadResult {
  let fd: number;
  try {
    fd = fs.openSync(p, O_RDONLY | O_NOFOLLOW);
  } catch (e) {
    return { ok: false, error: (e as NodeJS.ErrnoException).code ?? String(e) };
  }
  try {
    const st = fs.fstatSync(fd);
    if (st.nlink > 1) return { ok: false, error: 'hard-linked' };
    if (st.isDirectory()) return { ok: false, error: 'EISDIR' };
    const buf = Buffer.alloc(maxBytes);
    const n = fs.readSync(fd, buf, 0, maxBytes, 0);
    return { ok: true, text: buf.toString('latin1', 0, n) };
  } catch (e) {
    return { ok: false, error: (e as NodeJS.ErrnoException).code ?? String(e) };
  } finally {
    fs.closeSync(fd);
  }
}

/** Read a file following links (for files such as `physfn/uevent` whose path goes through a link). */
export function readText(p: string): ReadResult {
  try {
    return { ok: true, text: fs.readFileSync(p, 'latin1') };
  } catch (e) {
    return { ok: false, error: (e as NodeJS.ErrnoException).code ?? String(e) };
  }
}

/** Upstream's availability probe of a VFIO group node: open read-write without following links, reject hard links. */
export function probeOpenRw(p: string): string | undefined {
  let fd: number;
  try {
    fd = fs.openSync(p, O_RDWR | O_NOFOLLOW);
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
