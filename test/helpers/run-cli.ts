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

export async function runCli(argv: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliRun> {
  const out = sink();
  const err = sink();
  const code = await runQatctl(argv, { out: out.stream, err: err.stream, env: opts.env ?? {}, cwd: opts.cwd ?? process.cwd(), isTTY: false });
  return { code, out: out.text(), err: err.text() };
}
