// Number parsing with upstream's strtol rules (base 10, leading blanks and a sign allowed, whole string consumed), and durations.

import { QatmgrError, ErrorCodes } from '../errors.js';

/** Parse like upstream's `strtol(s, &end, 10)` + "whole string consumed" check; undefined when invalid. */
export function parseCInt(text: string): number | undefined {
  const m = /^[ \t\n\v\f\r]*([+-]?)([0-9]+)$/.exec(text);
  if (!m) return undefined;
  const v = Number(m[2]);
  if (!Number.isSafeInteger(v)) return undefined;
  return m[1] === '-' ? -v : v;
}

/** Parse a whole decimal number in [min, max]; undefined when invalid or out of range. */
export function parseIntInRange(text: string, min: number, max: number): number | undefined {
  const v = parseCInt(text);
  if (v === undefined || v < min || v > max) return undefined;
  return v;
}

/** The one duration syntax of every option and setting, for help texts. */
export const DURATION_HELP = 'a number with a unit (500ms, 2s, 1.5m, 1h); a bare number is seconds, as in systemd units';

/** Parse a duration: a number with a unit ms/s/m/h, or a bare number of seconds (systemd's rule). */
export function parseDurationMs(text: string): number | undefined {
  const m = /^\s*([0-9]+(?:\.[0-9]+)?)\s*(ms|s|m|h|min)?\s*$/.exec(text);
  if (!m) return undefined;
  const v = Number(m[1]);
  const factor: Record<string, number> = { ms: 1, s: 1000, m: 60_000, min: 60_000, h: 3_600_000 };
  const ms = v * factor[m[2] ?? 's'];
  return Number.isFinite(ms) ? Math.round(ms) : undefined;
}

/** parseDurationMs within [minMs, maxMs], or a usage error naming the option and value. */
export function durationOption(name: string, text: string | undefined, dfltMs: number, minMs: number, maxMs: number): number {
  if (text === undefined) return dfltMs;
  const ms = parseDurationMs(text);
  if (ms === undefined || ms < minMs || ms > maxMs) {
    throw new QatmgrError(ErrorCodes.QATMGR_E_USAGE, `--${name} "${text}" is not a duration from ${formatMs(minMs)} to ${formatMs(maxMs)} (${DURATION_HELP})`, { value: text });
  }
  return ms;
}

/** 1500 -> "1.5s", 250 -> "250ms", 0 -> "0s". */
export function formatMs(ms: number): string {
  if (ms === 0) return '0s';
  if (ms < 1000) return `${ms}ms`;
  if (ms < 60_000 || ms % 60_000 !== 0) return `${ms / 1000}s`;
  if (ms < 3_600_000 || ms % 3_600_000 !== 0) return `${ms / 60_000}m`;
  return `${ms / 3_600_000}h`;
}
