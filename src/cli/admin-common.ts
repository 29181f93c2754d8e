// What every admin qatctl command shares: socket options, the admin connection, colour on a TTY, time formatting.

import path from 'node:path';
import type { CliIo } from './command.js';
import { AdminClient } from '../admin/client.js';
import { durationOption } from '../config/numbers.js';
import { QatmgrError, ErrorCodes } from '../errors.js';
import { renderTable, type Cell } from '../text/table.js';
import { painter, type Colour } from '../text/colour.js';

export const DEFAULT_RUN_DIR = '/run/qat';

/** parseArgs options every admin command accepts. */
export const ADMIN_OPTIONS = {
  'admin-socket': { type: 'string' },
  socket: { type: 'string' },
  'run-dir': { type: 'string' },
  timeout: { type: 'string' },
  json: { type: 'boolean' },
  output: { type: 'string', short: 'o' },
  'no-headers': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** How long a client command waits for the daemon (connect, and each answer) unless --timeout says otherwise. */
export const DEFAULT_TIMEOUT_MS = 5000;

export const ADMIN_OPTIONS_HELP = `Where the daemon is (first match wins):
  --admin-socket PATH  the admin socket
  --run-dir DIR        the daemon's run directory: DIR/qatmgr-admin.sock
  --socket PATH        the client socket: the admin socket next to it (qatmgr-admin.sock)
  $QATMGR_ADMIN_SOCKET, else ${DEFAULT_RUN_DIR}/qatmgr-admin.sock
  --timeout DURATION   give up when the daemon does not answer within this (default 5s; exit 3)
Output:
  --json, -o json      machine-readable JSON (schemas/ in the source tree describe it)
  -o wide              every column whole (tables are narrowed to a terminal's width otherwise), extra columns
  --no-headers         tables without their header line
  -h, --help           this help`;

export const EXIT_HELP = `Exit status: 0 success; 1 bad usage; 2 the daemon refused the request (unknown section or VF,
section not held, ...); 3 the daemon is not running or does not answer within --timeout; 4 not allowed (not root).
Every command uses the same numbers: 'qatctl help exit-codes'.`;

export interface AdminOptionValues {
  'admin-socket'?: string;
  socket?: string;
  'run-dir'?: string;
  timeout?: string;
  json?: boolean;
  output?: string;
  'no-headers'?: boolean;
  wide?: boolean;
  help?: boolean;
}

/** Apply -o json|wide and --no-headers: -o json is --json, -o wide is --wide; table layout choices go on `io`. */
export function applyOutput<T extends AdminOptionValues>(v: T, io: CliIo): T {
  if (v.output !== undefined) {
    if (v.output === 'json') v.json = true;
    else if (v.output === 'wide') v.wide = true;
    else throw new QatmgrError(ErrorCodes.QATMGR_E_USAGE, `-o "${v.output}" is not an output format; use wide or json`);
  }
  io.wide = v.wide === true;
  io.noHeaders = v['no-headers'] === true;
  return v;
}

/** --count of a watching command: a positive whole number, or Infinity when not given. */
export function countOption(v: string | undefined): number {
  if (v === undefined) return Infinity;
  if (!/^\d+$/.test(v) || Number(v) === 0) throw new QatmgrError(ErrorCodes.QATMGR_E_USAGE, `--count "${v}" is not a positive number`);
  return Number(v);
}

/** --timeout in ms (the common duration syntax), 100 ms .. 10 min. */
export function timeoutMs(v: { timeout?: string }): number {
  return durationOption('timeout', v.timeout, DEFAULT_TIMEOUT_MS, 100, 600_000);
}

export function adminSocketPath(v: AdminOptionValues, io: CliIo): string {
  if (v['admin-socket']) return path.resolve(io.cwd, v['admin-socket']);
  if (v['run-dir']) return path.resolve(io.cwd, v['run-dir'], 'qatmgr-admin.sock');
  if (v.socket) return path.join(path.dirname(path.resolve(io.cwd, v.socket)), 'qatmgr-admin.sock');
  if (io.env.QATMGR_ADMIN_SOCKET) return io.env.QATMGR_ADMIN_SOCKET;
  return path.join(DEFAULT_RUN_DIR, 'qatmgr-admin.sock');
}

/** Connect, run `fn`, always disconnect. Connection errors are QatmgrErrors (exit 3). */
export async function withAdmin<T>(v: AdminOptionValues, io: CliIo, fn: (c: AdminClient) => Promise<T>): Promise<T> {
  const c = await AdminClient.connect(adminSocketPath(v, io), timeoutMs(v));
  try {
    return await fn(c);
  } finally {
    c.close();
  }
}

export function writeJson(io: CliIo, value: unknown): void {
  io.out.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** An aligned table with an optional colour per row (applied after alignment so widths stay right). */
export function table(io: CliIo, header: string[], rows: Cell[][], colours?: Array<Colour | undefined>): string {
  const paint = painter(io);
  const width = io.isTTY && !io.wide ? io.columns : undefined;
  const lines = renderTable(header, rows, { width, noHeaders: io.noHeaders }).split('\n');
  const first = io.noHeaders ? -1 : 0;
  return lines.map((l, i) => (l === '' ? l : i === first ? paint(l, 'bold') : paint(l, colours?.[i - first - 1]))).join('\n');
}

export const STATE_COLOUR: Record<string, Colour | undefined> = { held: 'yellow', free: 'green', 'out-of-service': 'red', withheld: 'red', unavailable: 'red', unplanned: 'dim' };

/** 3725 -> "1h02m", 75 -> "1m15s". */
export function formatAge(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  return `${Math.floor(s / 86400)}d${String(Math.floor((s % 86400) / 3600)).padStart(2, '0')}h`;
}

/** ISO time -> local "HH:MM:SS" for tables (today) or "YYYY-MM-DD HH:MM:SS". */
export function formatTime(iso: string, now = new Date()): string {
  const d = new Date(iso);
  const pad = (n: number): string => String(n).padStart(2, '0');
  const hms = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  return d.toDateString() === now.toDateString() ? hms : `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${hms}`;
}

/** "0,1" for a node list, "-" when unknown. */
export function nodes(list: number[] | null | undefined): string {
  return list && list.length ? list.join(',') : '-';
}
