// `qatctl health`: every PF's health, why, since when, its sources, withheld VFs and affected holders; --watch follows it.

import { parseArgs } from 'node:util';
import type { Command, CliIo } from '../command.js';
import type { HealthView, PfHealthView } from '../../health/monitor.js';
import type { AdminEvent } from '../../admin/events.js';
import { AdminClient } from '../../admin/client.js';
import { durationOption } from '../../config/numbers.js';
import { QatmgrError, ErrorCodes } from '../../errors.js';
import { ADMIN_OPTIONS, ADMIN_OPTIONS_HELP, EXIT_HELP, adminSocketPath, applyOutput, countOption, timeoutMs, table, formatTime, writeJson } from '../admin-common.js';
import { painter, type Colour } from '../../text/colour.js';

const usage = `Usage: qatctl health [OPTIONS] [--watch [--interval DURATION] [--count N]]

Every PF's health as the daemon sees it: healthy, degraded (correctable or non-fatal errors rising),
unhealthy (heartbeat failed, fatal error, qat/state down, in reset) or gone (removed, unbound, no VFs);
why and since when, what its sources say (qat/state, qat_ras counters, heartbeat, sriov_numvfs,
auto_reset), how many of its VFs are held or withheld from new grants, and the holders affected (they
keep their VFs: the hardware may recover). Unhealthy and gone PFs' VFs are not handed out; a PF is
handed out again once its sources stayed good for the recovery time (longer after each flap).

  --watch              keep watching. On a terminal the view is redrawn every interval; otherwise the
                       view is printed once, then one line per health change and rescan as they happen
                       (with --json: one JSON line per refresh, {"time","health","events"})
  --interval DURATION  time between refreshes with --watch: 500ms, 2s, ... (default 1s, at least 100ms)
  --count N            stop after N refreshes (default: never; Ctrl-C stops)

${ADMIN_OPTIONS_HELP}
${EXIT_HELP}
`;

const STATE_COLOUR: Record<string, Colour | undefined> = { healthy: 'green', degraded: 'yellow', unhealthy: 'red', gone: 'red' };

function ras(p: PfHealthView): string {
  const r = p.sources.ras;
  return r ? `${r.correctable}/${r.nonfatal}/${r.fatal}` : '-';
}

function heartbeat(p: PfHealthView): string {
  const h = p.sources.heartbeat;
  if (h === null) return '-';
  return h === 'failed' && p.sources.heartbeatFailed !== null ? `failed (${p.sources.heartbeatFailed})` : h;
}

function age(iso: string, now: number): string {
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  return s < 60 ? `${s}s` : s < 3600 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export function healthText(io: CliIo, v: HealthView, now = Date.now()): string {
  const paint = painter(io);
  if (!v.enabled) return 'health loop off (--health-interval 0): PFs are not watched and the host is followed only on SIGHUP or qatctl rescan\n';
  const hb = v.heartbeat;
  const hbText = hb.source === 'relay' ? `from the relay (${hb.detail}, last push ${hb.relayLastPush ? formatTime(hb.relayLastPush) : '-'})`
    : hb.source === 'debugfs' ? `read from ${hb.detail}` : hb.source === 'waiting-for-relay' ? `not readable (${hb.detail || 'mode relay'}); waiting for the relay (qat-heartbeat.service)` : 'off';
  let out = `${paint('health', 'bold')}: ${v.counts.healthy} healthy, ${v.counts.degraded} degraded, ${v.counts.unhealthy} unhealthy, ${v.counts.gone} gone; ` +
    `a look every ${v.intervalMs} ms (last ${v.poll.lastMs} ms, busy ${v.poll.busyPct}%), re-admission after ${v.recoverMs} ms good\n`;
  out += `${paint('heartbeat', 'bold')}: ${hbText}\n`;
  out += `${paint('host', 'bold')}: ${v.host.changes} change(s) followed${v.host.lastChange ? `, last ${formatTime(v.host.lastChange)} (${v.host.lastReason})` : ''}\n\n`;
  if (!v.pfs.length) return `${out}no PF watched (a VM, or no PF bound to a QAT driver)\n`;
  out += table(io, ['PF', 'DRIVER', 'STATE', 'SINCE', 'QAT/STATE', 'HEARTBEAT', 'RAS C/NF/F', 'VFS', 'HELD', 'WITHHELD', 'REASON'],
    v.pfs.map((p) => [
      p.bdf, p.driver, p.state, age(p.since, now), p.sources.state ?? '-', heartbeat(p), ras(p), p.vfs.inSections, p.vfs.held, p.vfs.withheld,
      p.unwatched ?? (p.recoverAt ? `${p.reason} (good again: re-admitted at ${formatTime(p.recoverAt)} if it stays so)` : p.reason),
    ]),
    v.pfs.map((p) => STATE_COLOUR[p.state]));
  const affected = v.pfs.flatMap((p) => (p.state === 'unhealthy' || p.state === 'gone' ? p.affected.map((a) => ({ p, a })) : []));
  if (affected.length) {
    out += `\n${paint('Affected holders', 'bold')} (they keep their VFs):\n`;
    out += table(io, ['PF', 'SECTION', 'PID', 'PROCESS', 'VFS ON THIS PF'], affected.map(({ p, a }) => [p.bdf, a.section, a.pid, a.processName, a.bdfs.join(',')]));
  }
  return out;
}

export function eventLine(e: AdminEvent): string {
  return `${formatTime(e.time)}  ${e.kind === 'health' ? `PF ${e.bdfs[0]}` : 'rescan'}  ${e.reason ?? ''}${e.health?.affected.length ? ` (affected: ${e.health.affected.map((a) => `${a.section} pid ${a.pid}`).join(', ')})` : ''}\n`;
}

export const healthCommand: Command = {
  name: 'health',
  summary: 'every PF: healthy, degraded, unhealthy or gone, why, withheld VFs, affected holders (--watch)',
  usage,
  async run(argv, io) {
    const { values } = parseArgs({
      args: argv,
      options: { ...ADMIN_OPTIONS, watch: { type: 'boolean' }, interval: { type: 'string' }, count: { type: 'string' } },
    });
    if (values.help) { io.out.write(usage); return 0; }
    applyOutput(values, io);
    const interval = durationOption('interval', values.interval, 1000, 100, 3_600_000);
    const count = countOption(values.count);
    if ((values.interval !== undefined || values.count !== undefined) && !values.watch) throw new QatmgrError(ErrorCodes.QATMGR_E_USAGE, '--interval and --count go with --watch');
    const client = await AdminClient.connect(adminSocketPath(values, io), timeoutMs(values));
    try {
      if (!values.watch) {
        const v = await client.request<HealthView>('health');
        if (values.json) writeJson(io, v);
        else io.out.write(healthText(io, v));
        return 0;
      }
      return await watch(client, io, values.json === true, interval, count);
    } finally {
      client.close();
    }
  },
};

async function watch(client: AdminClient, io: CliIo, json: boolean, interval: number, count: number): Promise<number> {
  let stop = false;
  const onSig = (): void => { stop = true; };
  process.once('SIGINT', onSig);
  let after = (await client.request<{ lastSeq: number }>('events', { limit: 1 })).lastSeq;
  // on a terminal the last changes stay under the view
  const recent: AdminEvent[] = (await client.request<{ events: AdminEvent[] }>('events', { kinds: ['health', 'rescan'], limit: 10 })).events;
  try {
    for (let i = 0; i < count && !stop; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, interval));
      if (stop) break;
      const [v, ev] = await Promise.all([
        client.request<HealthView>('health'),
        client.request<{ lastSeq: number; events: AdminEvent[] }>('events', { afterSeq: after, kinds: ['health', 'rescan'] }),
      ]);
      after = Math.max(after, ev.lastSeq);
      const now = new Date();
      if (json) io.out.write(`${JSON.stringify({ time: now.toISOString(), health: v, events: ev.events })}\n`);
      else if (io.isTTY) {
        recent.push(...ev.events);
        recent.splice(0, Math.max(0, recent.length - 10));
        io.out.write(`\x1b[H\x1b[2J${healthText(io, v)}${recent.length ? `\nLast changes:\n${recent.map(eventLine).join('')}` : ''}\n${now.toLocaleTimeString()}\n`);
      }
      else if (i === 0) io.out.write(healthText(io, v));
      else for (const e of ev.events) io.out.write(eventLine(e));
    }
  } finally {
    process.off('SIGINT', onSig);
  }
  return 0;
}
