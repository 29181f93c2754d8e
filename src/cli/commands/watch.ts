// `qatctl watch`: a live table of who holds what, redrawn in place on a terminal, printed periodically otherwise.

import { parseArgs } from 'node:util';
import type { Command } from '../command.js';
import type { AllocationsView, StatusView } from '../../admin/views.js';
import { AdminClient } from '../../admin/client.js';
import { durationOption, formatMs } from '../../config/numbers.js';
import { ErrorCodes, isQatmgrError } from '../../errors.js';
import { ADMIN_OPTIONS, applyOutput, ADMIN_OPTIONS_HELP, EXIT_HELP, adminSocketPath, formatAge, formatTime, timeoutMs, countOption } from '../admin-common.js';
import { painter } from '../../text/colour.js';
import { allocationsTable, refusalsTable } from './allocations.js';

const usage = `Usage: qatctl watch [OPTIONS] [--interval DURATION] [--count N]

A live view: a status line, the allocations table and the recent refusals, refreshed every interval.
On a terminal the screen is redrawn in place; otherwise (a pipe, a log) each refresh is printed after a
"--- TIME ---" separator. When the daemon restarts, the view says so and reconnects at the next refresh. With --json every refresh is one JSON line {"time","status","allocations"}.
Stops after --count refreshes, or on Ctrl-C.

  --interval DURATION  time between refreshes: 500ms, 2s, or bare seconds (default 2s, at least 100ms)
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
    applyOutput(values, io);
    const interval = durationOption('interval', values.interval, 2000, 100, 3_600_000);
    const count = countOption(values.count);
    const paint = painter(io);
    const socket = adminSocketPath(values, io);
    const wait = timeoutMs(values);
    // the first connection must work (exit 3 otherwise, like every command); later ones are retried each interval,
    // so a daemon restart (systemctl restart qat, a crash and Restart=) shows as a line and the view comes back
    let client: AdminClient | undefined = await AdminClient.connect(socket, wait);
    let stop = false;
    const onSig = (): void => { stop = true; };
    process.once('SIGINT', onSig);
    const show = (text: string, now: Date): void => {
      io.out.write(io.isTTY ? `\x1b[H\x1b[2J${text}` : `--- ${formatTime(now.toISOString(), new Date(0))} ---\n${text}`);
    };
    try {
      for (let i = 0; i < count && !stop; i++) {
        if (i > 0) await new Promise((r) => setTimeout(r, interval));
        if (stop) break;
        const now = new Date();
        let s: StatusView;
        let a: AllocationsView;
        try {
          client ??= await AdminClient.connect(socket, wait);
          [s, a] = await Promise.all([client.request<StatusView>('status'), client.request<AllocationsView>('allocations', { refusals: 5 })]);
        } catch (e) {
          if (!isQatmgrError(e) || e.code !== ErrorCodes.QATMGR_E_ADMIN_UNREACHABLE) throw e;
          client?.close();
          client = undefined;
          if (values.json) io.out.write(`${JSON.stringify({ time: now.toISOString(), error: { code: e.code, message: e.message } })}\n`);
          else show(`${paint('qatmgr not reachable', 'red')} (${e.message}); retrying every ${formatMs(interval)}   ${formatTime(now.toISOString())}\n`, now);
          continue;
        }
        if (values.json) {
          io.out.write(`${JSON.stringify({ time: now.toISOString(), status: s, allocations: a })}\n`);
          continue;
        }
        let text = `${paint(`qatmgr ${s.version}`, 'bold')} pid ${s.pid}, up ${formatAge(s.uptimeSeconds)}, policy ${s.policy}: ` +
          `${s.sections.held}/${s.sections.total} sections held, ${s.sections.outOfService} out-of-service, ${s.connections.open} connections   ${formatTime(now.toISOString())}\n\n`;
        text += a.allocations.length ? allocationsTable(io, a.allocations, values.wide === true) : 'no section held\n';
        if (a.refusals.length) text += `\n${paint('Recent refusals:', 'bold')}\n${refusalsTable(io, a.refusals)}`;
        show(text, now);
      }
    } finally {
      process.off('SIGINT', onSig);
      client?.close();
    }
    return 0;
  },
};
