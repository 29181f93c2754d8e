// Descriptors held in reserve: work that must not fail at the open-file limit (the ledger's writes, a grant's /proc read) still gets one.

import fs from 'node:fs';

const { O_RDONLY, O_DIRECTORY } = fs.constants;

export type OpenFn = (p: string, flags: number, mode?: number) => number;

function isFdLimit(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'EMFILE' || code === 'ENFILE';
}

/**
 * Holds `size` descriptors on a directory (cheap, harmless placeholders). `open` is fs.openSync, except that at
 * EMFILE/ENFILE it gives one placeholder back to the kernel and tries once more: the freed slot is the lowest free
 * descriptor and nothing else runs on the main thread in between, so the retry gets it. `refill` takes placeholders
 * again once descriptors were closed. The caller decides what the reserve is for; it only ever shrinks by opens
 * that would otherwise have failed.
 */
export class FdReserve {
  private readonly held: number[] = [];
  /** Opens that succeeded only by using a placeholder. */
  used = 0;

  constructor(private readonly placeholder: string, private readonly size = 2) {
    this.refill();
  }

  get available(): number {
    return this.held.length;
  }

  readonly open: OpenFn = (p, flags, mode) => {
    try {
      return fs.openSync(p, flags, mode);
    } catch (e) {
      if (!isFdLimit(e) || this.held.length === 0) throw e;
      fs.closeSync(this.held.pop()!);
      this.used++;
      return fs.openSync(p, flags, mode);
    }
  };

  /** Take placeholders back up to the reserve's size (stops quietly at the limit). */
  refill(): void {
    while (this.held.length < this.size) {
      try {
        this.held.push(fs.openSync(this.placeholder, O_RDONLY | O_DIRECTORY));
      } catch {
        return;
      }
    }
  }

  close(): void {
    for (const fd of this.held.splice(0)) {
      try { fs.closeSync(fd); } catch { /* already closed */ }
    }
  }
}
