// The pino logger: one structured line per event, errors (and warnings) on stderr, the rest on stdout.

import pino, { type Logger } from 'pino';

export type { Logger } from 'pino';

/** Upstream `--debug` levels: 0 = errors (and our warnings), 1 = info, 2 = debug. */
export function levelForDebug(debug: number): pino.Level {
  if (debug >= 2) return 'debug';
  if (debug === 1) return 'info';
  return 'warn';
}

export interface LoggerOptions {
  level: pino.Level | 'silent';
  name?: string;
  /** Where info/debug go (default stdout) and where warn/error go (default stderr). */
  out?: NodeJS.WritableStream | number;
  err?: NodeJS.WritableStream | number;
}

export function createLogger(opts: LoggerOptions): Logger {
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

/** A logger that drops everything (for pure code under test and library use). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
