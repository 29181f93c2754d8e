// Reading files we do not own: regular files only, opened without blocking (a FIFO never hangs us), never more than a bound.

import fs from 'node:fs';

const { O_RDONLY, O_NOFOLLOW, O_NONBLOCK } = fs.constants;

export type BoundedRead =
  | { ok: true; data: Buffer }
  /** `code` is an errno name, or one of ours: ENOTREG (not a regular file), EFBIG (longer than the bound), EMLINK (hard-linked). */
  | { ok: false; code: string; why: string };

export interface BoundedReadOptions {
  /** Most bytes accepted; a longer file is refused (EFBIG) unless `truncate`. */
  maxBytes: number;
  /** Refuse a symlink in the last component (O_NOFOLLOW); default false. */
  noFollow?: boolean;
  /** Refuse a file with more than one hard link (upstream's rule for sysfs attributes); default false. */
  singleLink?: boolean;
  /** Return the first `maxBytes` of a longer file instead of refusing it. */
  truncate?: boolean;
  /** Read a character device too, within the bound (`--config /dev/null` is an empty file; /dev/zero is too long). */
  allowCharDevice?: boolean;
}

function describeMode(st: fs.Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  if (st.isSymbolicLink()) return 'a symbolic link';
  return 'not a regular file';
}

const READ_CHUNK = 64 * 1024;

/**
 * Read a whole file of at most `maxBytes`. The open never blocks (O_NONBLOCK: a FIFO without a writer would otherwise
 * hang the open), and anything but a regular file is refused before a byte is read (/dev/zero would never end).
 * The size is not taken from fstat: procfs and sysfs report 0 or 4096 whatever they hold, so the read goes to EOF.
 */
export function readBounded(p: string, opts: BoundedReadOptions): BoundedRead {
  let fd: number;
  try {
    fd = fs.openSync(p, O_RDONLY | O_NONBLOCK | (opts.noFollow ? O_NOFOLLOW : 0));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
    // O_NOFOLLOW on a symlink fails with ELOOP
    return { ok: false, code, why: code === 'ELOOP' && opts.noFollow ? 'is a symbolic link (not followed)' : `cannot read: ${code} from open` };
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile() && !(opts.allowCharDevice && st.isCharacterDevice())) return { ok: false, code: 'ENOTREG', why: `is ${describeMode(st)}, not a regular file` };
    if (opts.singleLink && st.nlink > 1) return { ok: false, code: 'EMLINK', why: `has ${st.nlink} hard links` };
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const want = Math.min(READ_CHUNK, opts.maxBytes + 1 - total);
      if (want <= 0) break;
      const b = Buffer.allocUnsafe(want);
      const n = fs.readSync(fd, b, 0, want, null);
      if (n === 0) break;
      chunks.push(n === want ? b : b.subarray(0, n));
      total += n;
    }
    const data = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, total);
    if (total > opts.maxBytes) {
      if (opts.truncate) return { ok: true, data: data.subarray(0, opts.maxBytes) };
      return { ok: false, code: 'EFBIG', why: `is longer than ${opts.maxBytes} bytes` };
    }
    return { ok: true, data };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
    return { ok: false, code, why: `cannot read: ${code} from read` };
  } finally {
    fs.closeSync(fd);
  }
}
