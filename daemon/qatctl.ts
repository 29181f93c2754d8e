#!/usr/bin/env node
// Entry point of the qatctl command.
import { runQatctl } from '../src/cli/main.js';
import { processIo } from '../src/cli/command.js';

runQatctl(process.argv.slice(2), processIo()).then(
  (code) => { process.exitCode = code; },
  (e: unknown) => { process.stderr.write(`qatctl: ${String(e)}\n`); process.exitCode = 1; },
);
