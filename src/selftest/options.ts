// Parsing of selftest's --size and --duration values, with errors that name the bad value.

import { QatmgrError, ErrorCodes } from '../errors.js';
import { durationOption } from '../config/numbers.js';

/** Payload sizes the selftest uses when --size is not given. */
export const DEFAULT_SIZES = [64, 4096, 65536];
/** libusdm allocates at most 4 MiB per block; the compressed copy needs room too. */
export const MAX_SIZE = 2 * 1024 * 1024;

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, kb: 1024, kib: 1024, m: 1 << 20, mb: 1 << 20, mib: 1 << 20 };

/** "4096", "4k", "64KiB", "1M", or a comma list of those. */
export function parseSizes(text: string): number[] {
  return text.split(',').map((part) => {
    const m = /^\s*([0-9]+)\s*([a-z]*)\s*$/i.exec(part);
    const unit = m ? UNITS[m[2].toLowerCase()] : undefined;
    const n = m && unit !== undefined ? Number(m[1]) * unit : NaN;
    if (!Number.isSafeInteger(n) || n < 1 || n > MAX_SIZE) {
      throw new QatmgrError(ErrorCodes.QATMGR_E_USAGE, `--size: "${part.trim()}" is not a size between 1 and ${MAX_SIZE} bytes (e.g. 4096, 4k, 1M)`, { value: part });
    }
    return n;
  });
}

/** --duration: the common duration syntax (bare seconds or with a unit), 1 ms .. 1 h. */
export function parseDuration(text: string): number {
  return durationOption('duration', text, 250, 1, 3_600_000);
}
