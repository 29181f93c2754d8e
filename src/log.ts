// The pino logger: one structured line per event, errors (and warnings) on stderr, the rest on stdout.

import fs from 'node:fs';
import { isatty } from 'node:tty';
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
  /** json (default): one JSON object per line; text: the message, then its fields as key=value. */
  format?: 'json' | 'text';
  /** Prefix every line with its syslog priority (`<4>`), which journald reads from a service's stdout/stderr. */
  journal?: boolean;
  /** Start text lines with the time and level (a terminal; the journal records both itself). */
  stamp?: boolean;
}

/** syslog priority of each pino level (sd-daemon(3) prefixes). */
export const SYSLOG_PRIORITY: Record<string, number> = { trace: 7, debug: 7, info: 6, warn: 4, error: 3, fatal: 2 };

export function createLogger(opts: LoggerOptions): Logger {
  return lazyLogger(opts.level, () => makeLogger(opts));
}

/** The fields of a JSON log line as ` key=value` pairs (strings with blanks or quotes JSON-quoted). */
function textFields(o: Record<string, unknown>): string {
  let out = '';
  for (const [k, v] of Object.entries(o)) {
    if (k === 'level' || k === 'time' || k === 'msg' || k === 'name' || v === undefined || v === null) continue;
    let t: string;
    if (typeof v === 'string') t = /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
    else if (Array.isArray(v) && v.every((x) => typeof x !== 'object')) t = v.join(',');
    else if (k === 'err' && typeof v === 'object') t = JSON.stringify((v as { message?: string }).message ?? v);
    else t = JSON.stringify(v);
    out += ` ${k}=${t}`;
  }
  return out;
}

/** Turn one pino JSON line into our text line: `[time LEVEL ]message  key=value ...`. */
export function formatTextLine(json: string, stamp: boolean): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const msg = String(o.msg ?? '');
  const fields = textFields(o);
  const head = stamp ? `${String(o.time ?? '').slice(11, 23)} ${String(o.level ?? '').toUpperCase().padEnd(5)} ` : '';
  return `${head}${msg}${fields ? ` ${fields}` : ''}\n`;
}

/** A synchronous line destination for one level: optional text formatting and priority prefix. */
function lineDestination(target: NodeJS.WritableStream | number, level: string, opts: LoggerOptions): { write(line: string): void } {
  const prefix = opts.journal ? `<${SYSLOG_PRIORITY[level]}>` : '';
  const text = opts.format === 'text';
  const stamp = opts.stamp === true;
  return {
    write(line: string) {
      const body = text ? formatTextLine(line, stamp) : line;
      const out = prefix ? prefix + body.replace(/\n(?=.)/g, `\n${prefix}`) : body;
      if (typeof target === 'number') {
        try { fs.writeSync(target, out); } catch { /* a closed stderr must not kill the daemon */ }
      } else {
        target.write(out);
      }
    },
  };
}

function makeLogger(opts: LoggerOptions): Logger {
  const pino = loadPino();
  const outTarget = opts.out ?? 1;
  const errTarget = opts.err ?? 2;
  let streams: Array<{ level: Level; stream: { write(s: string): void } }>;
  if (!opts.journal && opts.format !== 'text') {
    // plain JSON lines: pino's own sync destinations, the fast path at --debug=2
    const dest = (t: NodeJS.WritableStream | number): { write(s: string): void } => (typeof t === 'number' ? pino.destination({ fd: t, sync: true }) : t);
    streams = [{ level: 'trace', stream: dest(outTarget) }, { level: 'warn', stream: dest(errTarget) }];
  } else {
    // one destination per level, so each line knows its priority (multistream with dedupe picks exactly one)
    streams = (['trace', 'info', 'warn', 'error', 'fatal'] as const).map((level) => ({
      level,
      stream: lineDestination(level === 'trace' || level === 'info' ? outTarget : errTarget, level === 'trace' ? 'debug' : level, opts),
    }));
  }
  return pino(
    {
      level: opts.level,
      name: opts.name ?? 'qatmgr',
      base: { pid: undefined, hostname: undefined },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    pino.multistream(streams as Parameters<typeof pino.multistream>[0], { dedupe: true }),
  );
}

/**
/**
 * Build the real logger now: pino's modules are required and its destinations set up. The daemon calls it once it
 * serves, so that no log line written later (at the open-file limit, say) needs a descriptor to load a module.
 */
export function preloadLogger(log: Logger): void {
  // any property besides the level methods makes the lazy logger build the real one
  void log.levels;
}

/**
 * Where and how the daemon logs: the journal when asked (`--log-target=journal`) or when JOURNAL_STREAM names our
 * stderr (systemd's StandardError=journal); text on a terminal and in the journal, JSON for pipes and files.
 */
export function resolveLogOutput(format: 'auto' | 'json' | 'text', target: 'auto' | 'console' | 'journal', env: NodeJS.ProcessEnv, fd = 2): Pick<LoggerOptions, 'format' | 'journal' | 'stamp'> {
  let journal = target === 'journal';
  const tty = isatty(fd);
  try {
    const st = fs.fstatSync(fd);
    const m = /^([0-9]+):([0-9]+)$/.exec(env.JOURNAL_STREAM ?? '');
    if (target === 'auto' && m && Number(m[1]) === st.dev && Number(m[2]) === st.ino) journal = true;
  } catch {
    /* closed stderr: keep the defaults */
  }
  const fmt = format !== 'auto' ? format : journal || tty ? 'text' : 'json';
  return { format: fmt, journal, stamp: fmt === 'text' && !journal };
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
