// qatctl: dispatch to a subcommand, print errors with their code, map them to exit statuses.

import type { CliIo } from './command.js';
import { COMMANDS } from './commands/index.js';
import { isQatmgrError } from '../errors.js';
import { renderTable } from '../text/table.js';

export const VERSION = '0.1.0';

export function mainUsage(): string {
  const rows = COMMANDS.map((c) => [c.name, c.summary]);
  return `Usage: qatctl COMMAND [OPTIONS]

Inspect and manage the QAT manager (qatmgr-ts) and the host it serves.

Commands:
${renderTable(['command', 'what it does'], rows).split('\n').slice(1).map((l) => (l ? `  ${l}` : l)).join('\n')}
Run 'qatctl COMMAND --help' for a command's options. Exit status: 0 success, 1 failure or bad usage,
other values as each command documents.
`;
}

export async function runQatctl(argv: string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.out.write(mainUsage());
    return name === undefined ? 1 : 0;
  }
  if (name === '--version' || name === '-v') {
    io.out.write(`qatctl ${VERSION}\n`);
    return 0;
  }
  const cmd = COMMANDS.find((c) => c.name === name);
  if (!cmd) {
    io.err.write(`qatctl: unknown command "${name}"\n\n${mainUsage()}`);
    return 1;
  }
  try {
    return await cmd.run(rest, io);
  } catch (e) {
    if (isQatmgrError(e)) {
      io.err.write(`qatctl ${name}: ${e.message} [${e.code}]\n`);
      return e.exitStatus;
    }
    const err = e as NodeJS.ErrnoException;
    if (err && err.code && String(err.code).startsWith('ERR_PARSE_ARGS')) {
      io.err.write(`qatctl ${name}: ${err.message}\nRun 'qatctl ${name} --help' for usage.\n`);
      return 1;
    }
    io.err.write(`qatctl ${name}: ${(e as Error).stack ?? String(e)}\n`);
    return 1;
  }
}
