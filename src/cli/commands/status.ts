// `qatctl status`: version, policy, uptime, section and device counts, ledger state of the running daemon.

import { parseArgs } from 'node:util';
import type { Command } from '../command.js';
import { orOffline } from '../offline.js';
import type { StatusView } from '../../admin/views.js';
import { ADMIN_OPTIONS, applyOutput, ADMIN_OPTIONS_HELP, EXIT_HELP, withAdmin, writeJson, formatAge } from '../admin-common.js';
import { painter } from '../../text/colour.js';

const usage = `Usage: qatctl status [OPTIONS]

Shows the running daemon: version, policy, uptime, sections (total, held, free, out of service), devices,
client connections, ledger state, sockets and the size of the event ring.

${ADMIN_OPTIONS_HELP}
${EXIT_HELP}
`;

export function statusLines(s: StatusView): Array<[string, string]> {
  const c = s.sections;
  return [
    ['daemon', `qatmgr ${s.version} (protocol ${s.protocolVersion}, admin API v${s.apiVersion}), pid ${s.pid}`],
    ['uptime', `${formatAge(s.uptimeSeconds)} (since ${s.startedAt})`],
    ['policy', String(s.policy)],
    ['sections', `${c.total} total, ${c.held} held, ${c.free} free, ${c.outOfService} out-of-service`],
    ['devices', `${s.devices.pfs} PFs, ${s.devices.vfs} VFs (${s.devices.outOfService} out-of-service, ${s.devices.unavailable} unavailable)${s.vm ? ', in a VM' : ''}`],
    ['health', describeHealth(s.health)],
    ['connections', `${s.connections.open} open (${s.connections.accepted} accepted, ${s.connections.rejected} rejected)`],
    ['ledger', describeLedger(s.ledger)],
    ['socket', s.socket],
    ['admin socket', s.adminSocket],
    ['metrics', s.metricsListen ? `http://${s.metricsListen}/metrics` : 'off (qatctl metrics reads them over the admin socket)'],
    ['events', `${s.events.size} recorded (ring of ${s.events.capacity}, last #${s.events.lastSeq})`],
  ];
}

export const statusCommand: Command = {
  name: 'status',
  summary: 'the daemon: version, policy, uptime, sections held/free, devices, ledger',
  usage,
  async run(argv, io) {
    const { values } = parseArgs({ args: argv, options: ADMIN_OPTIONS });
    if (values.help) { io.out.write(usage); return 0; }
    applyOutput(values, io);
    return orOffline('status', values, io, async () => {
      const s = await withAdmin(values, io, (c) => c.request<StatusView>('status'));
      if (values.json) { writeJson(io, s); return 0; }
      const paint = painter(io);
      const lines = statusLines(s);
      const w = Math.max(...lines.map(([k]) => k.length));
      for (const [k, v] of lines) io.out.write(`${paint(k.padEnd(w), 'bold')}  ${v}\n`);
      return 0;
    });
  },
};

/** One line for the ledger object the daemon reports (shape owned by src/sections/ledger.ts; unknown fields are ignored). */
function describeLedger(l: unknown): string {
  if (l === null || l === undefined) return 'not present';
  const o = l as { path?: string; held?: number; adopted?: number; watchedOwners?: number; writeErrors?: number; restored?: { adopted?: number; gone?: number; problem?: string | null } };
  const parts = [`${o.held ?? 0} held`, `${o.adopted ?? 0} adopted`, `${o.watchedOwners ?? 0} owners watched`];
  if (o.writeErrors) parts.push(`${o.writeErrors} WRITE ERRORS`);
  const r = o.restored;
  if (r) parts.push(`at start: ${r.adopted ?? 0} adopted, ${r.gone ?? 0} owners gone${r.problem ? `, problem: ${r.problem}` : ''}`);
  return `${o.path ?? '?'}: ${parts.join(', ')}`;
}

/** "2 PFs: 1 healthy, 1 unhealthy; heartbeat from the relay; a look every 500 ms" */
function describeHealth(h: StatusView['health'] | undefined): string {
  if (!h) return 'not reported';
  if (!h.enabled) return 'off (--health-interval 0)';
  const parts = Object.entries(h.pfs).filter(([, n]) => n > 0).map(([st, n]) => `${n} ${st}`);
  return `${parts.join(', ') || 'no PF watched'}; heartbeat: ${h.heartbeat}; a look every ${h.intervalMs} ms (qatctl health)`;
}
