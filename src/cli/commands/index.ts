// The table of qatctl subcommands (add a command: import it and list it here).

import type { Command } from '../command.js';
import { simulateCommand } from './simulate.js';
import { probeCommand } from './probe.js';
import { doctorCommand } from './doctor.js';
import { migrateCommand } from './migrate.js';
import { selftestCommand } from './selftest.js';
import { provisionCommand } from './provision.js';

export const COMMANDS: Command[] = [probeCommand, simulateCommand, provisionCommand, doctorCommand, migrateCommand, selftestCommand];
