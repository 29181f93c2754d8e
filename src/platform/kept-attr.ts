// A sysfs/debugfs attribute read again and again through one kept descriptor (pread at offset 0 re-runs the show).

import fs from 'node:fs';
import type { ReadResult } from './fsio.js';

const { O_RDONLY, O_NOFOLLOW, O_NONBLOCK } = fs.constants;

/** One buffer for every kept attribute: values are a few bytes, and reads never overlap (one thread). */
const buf = Buffer.allocUnsafe(64);

/**
 * Polling a file by path costs open+read+close (~6-9 µs each in Node here); a kept descriptor costs one pread
 * (~1 µs). A kernel attribute that goes away answers ENODEV (sysfs) or EIO (debugfs) on its old descriptor, and a
 * simulated one is emptied before it is removed: either way the descriptor is dropped and the path opened again,
 * so a file that was re-created (a device that restarted) is read from its new self. The open refuses what fsio's
 * readAttr refuses (a link in the last component, a hard-linked file, anything but a regular file) and does not block
 * (a FIFO planted in the tree is an error, not a hang). Values longer than 64 bytes are cut (none of ours is).
 */
export class KeptAttr {
  private fd = -1;
  /** The path was opened again since the last call of `reopened()` (the file went away or was re-created). */
  private renewed = false;

  constructor(readonly path: string) {}

  read(): ReadResult {
    if (this.fd >= 0) {
      const r = this.pread();
      if (r !== undefined) return r;
      this.close();
      this.renewed = true;
    }
    const err = this.open();
    if (err) return { ok: false, error: err };
    return this.pread() ?? { ok: true, text: '' };
  }

  /** True once after the descriptor was replaced (a sign the file was removed and created again). */
  reopened(): boolean {
    const r = this.renewed;
    this.renewed = false;
    return r;
  }

  close(): void {
    if (this.fd < 0) return;
    try { fs.closeSync(this.fd); } catch { /* already closed */ }
    this.fd = -1;
  }

  private open(): string | undefined {
    let fd: number;
    try {
      fd = fs.openSync(this.path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
    } catch (e) {
      return (e as NodeJS.ErrnoException).code ?? String(e);
    }
    try {
      const st = fs.fstatSync(fd);
      const bad = st.isDirectory() ? 'EISDIR' : st.nlink > 1 ? 'hard-linked' : !st.isFile() ? 'not a regular file' : undefined;
      if (bad) {
        fs.closeSync(fd);
        return bad;
      }
    } catch (e) {
      fs.closeSync(fd);
      return (e as NodeJS.ErrnoException).code ?? String(e);
    }
    this.fd = fd;
    return undefined;
  }

  /** undefined: the descriptor is stale (error or empty read). */
  private pread(): ReadResult | undefined {
    try {
      const n = fs.readSync(this.fd, buf, 0, buf.length, 0);
      if (n === 0) return undefined;
      return { ok: true, text: buf.toString('latin1', 0, n) };
    } catch {
      return undefined;
    }
  }
}
