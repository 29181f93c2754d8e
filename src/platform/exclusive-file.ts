// Create a temporary file that is certainly new: whatever sits at its name (a stale file, a planted symlink) is removed, never followed.

import fs from 'node:fs';
import type { OpenFn } from './fd-reserve.js';

const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = fs.constants;

/**
 * Open `p` for writing as a new file (O_CREAT|O_EXCL|O_NOFOLLOW: the open fails rather than follow a link or reuse a
 * file). A leftover at the name is unlinked first (unlinking a symlink removes the link, not its target). `extraFlags`
 * adds e.g. O_APPEND; `open` lets a descriptor reserve supply the descriptor.
 */
export function createExclusive(p: string, mode: number, extraFlags = 0, open: OpenFn = fs.openSync): number {
  try {
    fs.unlinkSync(p);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  return open(p, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | extraFlags, mode);
}
