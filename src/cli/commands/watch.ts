// `qatctl watch`: a live table of who holds what, redrawn in place on a terminal, printed periodically otherwise.

import { parseArgs } from 'node:util';
import type { Command } from '../command.js';
import type { AllocationsView, StatusView } from '../../admin/views.js';
import { AdminClient } from '../../admin/client.js';
import { parseDurationMs } from '../../config/numbers.js';
import { QatmgrError, ErrorCodes } from '../../errors.js';
import { ADMIN_OPTIONS, ADMIN_OPTIONS_HELP, EXIT_HELP, adminSocketPath, formatAge } from '../admin-common.js';
import { painter } from '../../text/colour.js';
import { allocationsTable, refusalsTable } from './allocations.js';

const usage = `Usage: qatctl watch [OPTIONS] [--interval DURATION] [--count N]

A live view: a status line, the allocations table and the recent refusals, refreshed every interval.
On a terminal the screen is redrawn in place; otherwise (a pipe, a log) each refresh is printed after a
"--- TIME ---" separator. With --json every refresh is one JSON line {"time","status","allocations"}.
Stops after --count refreshes, or on Ctrl-C.

  --interval DURATION  time between refreshes: 500ms, 2s, ... (default 2s, at least 100ms)
  --count N            stop after N refreshes (default: never)
  --wide               add command lines and instance names

${ADMIN_OPTIONS_HELP}
${EXIT_HELP}
`;

export const watchCommand: Command = {
  name: 'watch',
  summary: 'live, refreshing view of status and allocations (--interval, --count)',
  usage,
  async run(argv, io) {
    const { values } = parseArgs({
      args: argv,
      options: { ...ADMIN_OPTIONS, interval: { type: 'string' }, count: { type: 'string' }, wide: { type: 'boolean' } },
    });
    if (values.help) { io.out.write(usage); return 0; }
    const interval = values.interval === undefined ? 2000 : parseDurationMs(values.interval);
    if (interval === undefined || interval < 100) throw new QatmgrError(ErrorCodes.QATMGR_E_USAGE, `--interval "${values.interval}" is not a duration of at least 100ms`);
    const count = values.count === undefined ? Infinity : /^\d+$/.test(values.count) && Number(values.count) > 0 ? Number(values.count) : NaN;
    if (Number.isNaN(count)) throw new QatmgrError(ErrorCodes.QATMGR_E_USAGE, `--count "${values.count}" is not a positive number`);
    const paint = painter(io);
    const client = await AdminClient.connect(adminSocketPath(values, io));
    let stop = false;
    const onSig = (): void => { stop = true; };
    process.once('SIGINT', onSig);
    try {
      for (let i = 0; i < count && !stop; i++) {
        if (i > 0) await new Promise((r) => setTimeout(r, interval));
        if (stop) break;
        const [s, a] = await Promise.all([client.request<StatusView>('status'), client.request<AllocationsView>('allocations', { refusals: 5 })]);
        const now = new Date();
        if (values.json) {
          io.out.write(`${JSON.stringify({ time: now.toISOString(), status: s, allocations: a })}\n`);
          continue;
        }
        let text = `${paint(`qatmgr ${s.version}`, 'bold')} pid ${s.pid}, up ${formatAge(s.uptimeSeconds)}, policy ${s.policy}: ` +
          `${s.sections.held}/${s.sections.total} sections held, ${s.sections.blocked} out of service, ${s.connections.open} connections   ${now.toLocaleTimeString()}\n\n`;
        text += a.allocations.length ? allocationsTable(io, a.allocations, values.wide === true) : 'no section held\n';
        if (a.refusals.length) text += `\n${paint('Recent refusals:', 'bold')}\n${refusalsTable(io, a.refusals)}`;
        io.out.write(io.isTTY ? `\x1b[H\x1b[2J${text}` : `--- ${now.toISOString()} ---\n${text}`);
      }
    } finally {
      process.off('SIGINT', onSig);
      client.close();
    }
    return 0;
  },
};
