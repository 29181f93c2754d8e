// Number parsing with upstream's strtol rules (base 10, leading blanks and a sign allowed, whole string consumed).

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

/** Parse a duration: plain milliseconds, or with a unit suffix ms/s/m. */
export function parseDurationMs(text: string): number | undefined {
  const m = /^\s*([0-9]+(?:\.[0-9]+)?)\s*(ms|s|m)?\s*$/.exec(text);
  if (!m) return undefined;
  const v = Number(m[1]);
  const unit = m[2] ?? 'ms';
  const ms = unit === 'ms' ? v : unit === 's' ? v * 1000 : v * 60_000;
  return Number.isFinite(ms) ? Math.round(ms) : undefined;
}
