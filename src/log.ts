// The pino logger: one structured line per event, errors (and warnings) on stderr, the rest on stdout.

import { createRequire } from 'node:module';
import type pinoType from 'pino';
import type { Logger } from 'pino';

export type { Logger } from 'pino';

type Pino = typeof pinoType;
type Level = pinoType.Level;

// pino is loaded on the first line actually written, not at start-up: loading it costs ~20 ms of start-up and
// ~8 MB of RSS, and a daemon at the default level (warn) usually writes nothing (bench/README "Performance").
const requireCjs = createRequire(import.meta.url);
let pinoModule: Pino | undefined;
function loadPino(): Pino {
  return (pinoModule ??= requireCjs('pino') as Pino);
}

const LEVEL_VALUES: Record<string, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity };

/**
 * A Logger that builds the real pino logger (`make`) only when a line at an enabled level is written or when
 * anything else than a level method, `level`, `isLevelEnabled` or `flush` is used; then it forwards everything.
 */
function lazyLogger(level: Level | 'silent', make: () => Logger): Logger {
  let real: Logger | undefined;
  const bound = new Map<PropertyKey, unknown>();
  const materialise = (): Logger => (real ??= make());
  const threshold = LEVEL_VALUES[level] ?? LEVEL_VALUES.info;
  const noop = (): void => {};
  const forward = (r: Logger, prop: PropertyKey): unknown => {
    const v = Reflect.get(r, prop) as unknown;
    if (typeof v !== 'function') return v;
    let b = bound.get(prop);
    if (b === undefined) { b = (v as (...a: unknown[]) => unknown).bind(r); bound.set(prop, b); }
    return b;
  };
  return new Proxy({} as Logger, {
    get(_t, prop) {
      if (real) return forward(real, prop);
      if (prop === 'level') return level;
      if (prop === 'isLevelEnabled') return (l: string) => (LEVEL_VALUES[l] ?? Infinity) >= threshold;
      if (prop === 'flush') return noop; // nothing written yet, nothing to flush
      if (typeof prop === 'string' && prop !== 'silent' && prop in LEVEL_VALUES) {
        if (LEVEL_VALUES[prop] < threshold) return noop;
        return (...args: unknown[]) => (materialise()[prop as Level] as (...a: unknown[]) => void)(...args);
      }
      return forward(materialise(), prop);
    },
    set(_t, prop, value) {
      bound.delete(prop);
      return Reflect.set(materialise(), prop, value);
    },
    has(_t, prop) {
      return Reflect.has(materialise(), prop);
    },
  });
}

/** Upstream `--debug` levels: 0 = errors (and our warnings), 1 = info, 2 = debug. */
export function levelForDebug(debug: number): Level {
  if (debug >= 2) return 'debug';
  if (debug === 1) return 'info';
  return 'warn';
}

export interface LoggerOptions {
  level: Level | 'silent';
  name?: string;
  /** Where info/debug go (default stdout) and where warn/error go (default stderr). */
  out?: NodeJS.WritableStream | number;
  err?: NodeJS.WritableStream | number;
}

export function createLogger(opts: LoggerOptions): Logger {
  return lazyLogger(opts.level, () => makeLogger(opts));
}

function makeLogger(opts: LoggerOptions): Logger {
  const pino = loadPino();
  const out = typeof opts.out === 'number' || opts.out === undefined
    ? pino.destination({ fd: typeof opts.out === 'number' ? opts.out : 1, sync: true })
    : opts.out;
  const err = typeof opts.err === 'number' || opts.err === undefined
    ? pino.destination({ fd: typeof opts.err === 'number' ? opts.err : 2, sync: true })
    : opts.err;
  const streams = pino.multistream(
    [
      { level: 'trace', stream: out },
      { level: 'warn', stream: err },
    ],
    { dedupe: true },
  );
  return pino(
    {
      level: opts.level,
      name: opts.name ?? 'qatmgr',
      base: { pid: undefined, hostname: undefined },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    streams,
  );
}

/**
 * Build the real logger now: pino's modules are required and its destinations set up. The daemon calls it once it
 * serves, so that no log line written later (at the open-file limit, say) needs a descriptor to load a module.
 */
export function preloadLogger(log: Logger): void {
  // any property besides the level methods makes the lazy logger build the real one
  void log.levels;
}

/** A logger that drops everything (for pure code under test and library use). */
export function silentLogger(): Logger {
  return lazyLogger('silent', () => loadPino()({ level: 'silent' }));
}

/**
 * Keeps a flood of identical warnings (every refused SECTION_GET of a busy host) to one line per key and window:
 * `take(key)` answers whether to log now and how many lines were held back since the last one logged.
 */
export class LogThrottle {
  private readonly last = new Map<string, { at: number; held: number }>();

  constructor(private readonly windowMs: number, private readonly now: () => number = Date.now) {}

  take(key: string): { log: boolean; held: number } {
    const t = this.now();
    const e = this.last.get(key);
    if (e && t - e.at < this.windowMs) {
      e.held++;
      return { log: false, held: e.held };
    }
    const held = e?.held ?? 0;
    this.last.set(key, { at: t, held: 0 });
    return { log: true, held };
  }
}

/**
 * Per-event log lines that clients can cause (refusals, malformed frames, limits, timeouts) go through this: at most
 * one line per key and second, and the next line written says how many were held back (`suppressed`), so a flood
 * from any number of clients costs a few lines a second.
 */
export class ThrottledLog {
  private readonly throttle: LogThrottle;

  constructor(private readonly log: Logger, private readonly windowMs = 1000, now: () => number = Date.now) {
    this.throttle = new LogThrottle(windowMs, now);
  }

  /** Write the line unless one with `key` went out within the window; `note` is added to the held-back count. */
  write(level: 'info' | 'warn' | 'error', key: string, fields: Record<string, unknown>, msg: string, note = ''): boolean {
    if (!this.log.isLevelEnabled(level)) return false;
    const t = this.throttle.take(key);
    if (!t.log) return false;
    const more = t.held ? ` (${t.held} more like it in the last ${this.windowMs === 1000 ? 'second' : `${this.windowMs} ms`} not logged${note})` : '';
    this.log[level]({ ...fields, suppressed: t.held }, `${msg}${more}`);
    return true;
  }
}
