#!/usr/bin/env node
// Entry point of the qatctl command.
import { runQatctl } from '../src/cli/main.js';
import { processIo } from '../src/cli/command.js';

process.title = 'qatctl';

// a closed pipe (qatctl devices | head) ends the command quietly instead of crashing on EPIPE
process.stdout.on('error', (e: NodeJS.ErrnoException) => { if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0); throw e; });

runQatctl(process.argv.slice(2), processIo()).then(
  (code) => { process.exitCode = code; },
  (e: unknown) => { process.stderr.write(`qatctl: ${String(e)}\n`); process.exitCode = 1; },
);
