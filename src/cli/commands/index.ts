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
import { kubeletCommand } from './kubelet.js';
import { accelCommand } from './accel.js';
import { healthCommand } from './health.js';
import { heartbeatRelayCommand } from './heartbeat-relay.js';

export const COMMANDS: Command[] = [
  statusCommand, devicesCommand, healthCommand, allocationsCommand, sectionsCommand, eventsCommand, watchCommand, metricsCommand,
  kubeletCommand, releaseCommand, drainCmd, undrainCmd, rescanCommand, probeCommand, simulateCommand, provisionCommand, doctorCommand, migrateCommand, selftestCommand, accelCommand,
  heartbeatRelayCommand,
];
COMMANDS.push(completionCommand(() => COMMANDS));
