// `qatctl metrics`: the daemon's Prometheus metrics, read over the admin socket (no HTTP listener needed).

import { parseArgs } from 'node:util';
import type { Command } from '../command.js';
import { ADMIN_OPTIONS, applyOutput, ADMIN_OPTIONS_HELP, EXIT_HELP, withAdmin, writeJson } from '../admin-common.js';

const usage = `Usage: qatctl metrics [OPTIONS]

Prints the daemon's metrics in the Prometheus text format: sections held/free, per-VF held, handshakes,
requests by type, BAD replies by text, refusals, releases, open connections, request latency histogram,
ledger adoptions, admin requests. The same text is served on --metrics-listen when the daemon has one.
With --json: {"contentType": ..., "text": ...}.

${ADMIN_OPTIONS_HELP}
${EXIT_HELP}
`;

export const metricsCommand: Command = {
  name: 'metrics',
  summary: 'Prometheus metrics of the daemon (text exposition)',
  usage,
  async run(argv, io) {
    const { values } = parseArgs({ args: argv, options: ADMIN_OPTIONS });
    if (values.help) { io.out.write(usage); return 0; }
    applyOutput(values, io);
    const r = await withAdmin(values, io, (c) => c.request<{ contentType: string; text: string }>('metrics'));
    if (values.json) writeJson(io, r);
    else io.out.write(r.text);
    return 0;
  },
};
