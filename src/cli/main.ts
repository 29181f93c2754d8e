// qatctl: dispatch to a subcommand, print errors with their code, map them to exit statuses (src/cli/exit-codes.ts).

import type { CliIo, Command } from '../cli/command.js';
import { COMMANDS } from './commands/index.js';
import { isQatmgrError } from '../errors.js';
import { renderTable } from '../text/table.js';
import { didYouMean, usageErrorFromParseArgs } from '../config/args.js';
import { versionLine } from '../version.js';
import { EXIT, exitHelp } from './exit-codes.js';

export function mainUsage(): string {
  const rows = COMMANDS.map((c) => [c.name, c.summary]);
  return `Usage: qatctl COMMAND [OPTIONS]
       qatctl help [COMMAND | exit-codes]
       qatctl --version

Inspect and manage the QAT manager (qatmgr-ts) and the host it serves.

Commands:
${renderTable(['command', 'what it does'], rows).split('\n').slice(1).map((l) => (l ? `  ${l}` : l)).join('\n')}
Run 'qatctl help COMMAND' (or 'qatctl COMMAND --help') for a command's options.
Exit status: 0 success, 1 bad usage, 2 refused or failed, 3 unreachable or no answer, 4 not allowed;
the whole table: 'qatctl help exit-codes'.
`;
}

/** The long option names a command's usage text mentions (for "did you mean"). */
export function optionsOf(cmd: Command): string[] {
  return [...new Set([...cmd.usage.matchAll(/--([a-z][a-z0-9-]*)/g)].map((m) => m[1]))];
}

function unknownCommand(io: CliIo, name: string): number {
  io.err.write(`qatctl: unknown command "${name}"${didYouMean(name, COMMANDS.map((c) => c.name))} ('qatctl --help' lists the commands)\n`);
  return EXIT.USAGE;
}

function help(io: CliIo, topic: string | undefined): number {
  if (topic === undefined) { io.out.write(mainUsage()); return EXIT.OK; }
  if (topic === 'exit-codes') { io.out.write(exitHelp()); return EXIT.OK; }
  const cmd = COMMANDS.find((c) => c.name === topic);
  if (!cmd) return unknownCommand(io, topic);
  io.out.write(cmd.usage);
  return EXIT.OK;
}

export async function runQatctl(argv: string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) { io.out.write(mainUsage()); return EXIT.USAGE; }
  if (name === '--help' || name === '-h') return help(io, undefined);
  if (name === 'help') return help(io, rest[0]);
  if (name === '--version' || name === '-V' || name === '-v') {
    io.out.write(`qatctl ${versionLine()}\n`);
    return EXIT.OK;
  }
  const cmd = COMMANDS.find((c) => c.name === name);
  if (!cmd) return unknownCommand(io, name);
  try {
    return await cmd.run(rest, io);
  } catch (e) {
    const err = usageErrorFromParseArgs(e, optionsOf(cmd)) ?? e;
    if (isQatmgrError(err)) {
      const hint = err.code === 'QATMGR_E_USAGE' ? ` ('qatctl help ${name}' for usage)` : '';
      io.err.write(`qatctl ${name}: ${err.message} [${err.code}]${hint}\n`);
      return err.exitStatus;
    }
    io.err.write(`qatctl ${name}: ${(err as Error).stack ?? String(err)}\n`);
    return EXIT.USAGE;
  }
}
