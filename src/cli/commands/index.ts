// The table of qatctl subcommands (add a command: import it and list it here).

import type { Command } from '../command.js';
import { simulateCommand } from './simulate.js';
import { probeCommand } from './probe.js';
import { doctorCommand } from './doctor.js';
import { migrateCommand } from './migrate.js';
import { selftestCommand } from './selftest.js';
import { provisionCommand } from './provision.js';
import { statusCommand } from './status.js';
import { devicesCommand } from './devices.js';
import { allocationsCommand } from './allocations.js';
import { sectionsCommand } from './sections.js';
import { eventsCommand } from './events.js';
import { watchCommand } from './watch.js';
import { metricsCommand } from './metrics.js';
import { releaseCommand, drainCmd, undrainCmd, rescanCommand } from './release.js';
import { completionCommand } from './completion.js';
import { accelCommand } from './accel.js';

export const COMMANDS: Command[] = [
  statusCommand, devicesCommand, allocationsCommand, sectionsCommand, eventsCommand, watchCommand, metricsCommand,
  releaseCommand, drainCmd, undrainCmd, rescanCommand, probeCommand, simulateCommand, provisionCommand, doctorCommand, migrateCommand, selftestCommand, accelCommand,
];
COMMANDS.push(completionCommand(() => COMMANDS));
