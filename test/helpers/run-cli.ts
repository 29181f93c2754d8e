// Runs qatctl in-process with captured stdout/stderr (for command tests).

import { Writable } from 'node:stream';
import { runQatctl } from '../../src/cli/main.js';

export interface CliRun {
  code: number;
  out: string;
  err: string;
}

function sink(): { stream: Writable; text: () => string } {
  let buf = '';
  const stream = new Writable({ write(chunk, _enc, cb) { buf += String(chunk); cb(); } });
  return { stream, text: () => buf };
}

/** `tty` runs the command as on a terminal of that many columns (colour, tables narrowed to fit). */
export async function runCli(argv: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; tty?: { columns: number } } = {}): Promise<CliRun> {
  const out = sink();
  const err = sink();
  const code = await runQatctl(argv, { out: out.stream, err: err.stream, env: opts.env ?? {}, cwd: opts.cwd ?? process.cwd(), isTTY: opts.tty !== undefined, columns: opts.tty?.columns });
  return { code, out: out.text(), err: err.text() };
}
