// `qatctl kubelet`: the device plugin of a running daemon: pools, resources and their registration, reservations.

import { parseArgs } from 'node:util';
import type { Command, CliIo } from '../command.js';
import type { KubeletView } from '../../kubelet/index.js';
import type { PodRef } from '../../sections/allocator.js';
import { ADMIN_OPTIONS, ADMIN_OPTIONS_HELP, EXIT_HELP, withAdmin, writeJson, table, formatTime } from '../admin-common.js';
import { painter } from '../../text/colour.js';

const usage = `Usage: qatctl kubelet [OPTIONS]

The kubelet device plugin of the running daemon (qatmgr --kubelet-plugin): which sections go to pods in
managed mode, which give their VFs to pods directly, which serve the host; each resource with its socket,
its registration with the kubelet (or why it is not registered), ListAndWatch streams and healthy devices;
each reservation (sections kept for one container) with its pod, socket and holders; the last Pod Resources
answer. Exit status 2 when the plugin is off.

${ADMIN_OPTIONS_HELP}
${EXIT_HELP}
`;

/** ns/name/container when the kubelet named the pod, else its UID, else "-". */
export function podLabel(p: PodRef | null | undefined): string | null {
  if (!p) return null;
  if (p.name !== null) return `${p.namespace ?? '?'}/${p.name}/${p.container ?? '?'}`;
  return p.uid ? `pod ${p.uid.slice(0, 8)}` : null;
}

function render(io: CliIo, v: KubeletView): string {
  const paint = painter(io);
  const list = (l: string[]): string => (l.length ? `${l.length} (${l.length > 4 ? `${l.slice(0, 2).join(', ')} … ${l.at(-1)}` : l.join(', ')})` : '0');
  let out = `${paint('kubelet', 'bold')}        ${v.kubeletDir} (device plugins in ${v.devicePluginsDir})\n`;
  out += `${paint('pools', 'bold')}          managed ${list(v.pools.managed)}, VFs given directly from ${list(v.pools.standalone)}, host ${list(v.pools.host)}\n`;
  out += `${paint('pod resources', 'bold')}  ${v.podResources.error ?? (v.podResources.lastListAt ? `${v.podResources.pods} pods at ${formatTime(v.podResources.lastListAt)}` : 'not asked yet')}\n\n`;
  out += table(io, ['RESOURCE', 'SOCKET', 'REGISTRATION', 'STREAMS', 'DEVICES', 'HEALTHY'], v.resources.map((r) => [
    r.name, r.endpoint, r.registration.state === 'registered' ? `registered ${r.registration.registeredAt ? formatTime(r.registration.registeredAt) : ''}`.trim() : `${r.registration.state}: ${r.registration.error ?? ''}`,
    r.streams, r.devices, r.healthy,
  ]), v.resources.map((r) => (r.registration.state !== 'registered' ? 'red' : r.healthy < r.devices ? 'yellow' : undefined)));
  if (v.reservations.length) {
    out += `\n${table(io, ['RESERVATION', 'SECTIONS', 'POD', 'CONTAINER ID', 'SINCE', 'HELD BY', 'SOCKET'], v.reservations.map((r) => [
      r.key, r.sections.join(','), podLabel(r.pod) ?? '(not bound yet)', r.pod.containerId?.slice(0, 12) ?? '-', formatTime(r.since),
      r.held.map((h) => `${h.section}:${h.pid}`).join(' ') || '-', r.socketError ? `ERROR ${r.socketError}` : r.socket,
    ]), v.reservations.map((r) => (r.socketError ? 'red' : undefined)))}`;
  }
  const sick = v.pfs.filter((p) => p.state !== 'healthy');
  if (sick.length) out += `\n${sick.map((p) => paint(`PF ${p.bdf}: ${p.state}${p.reason ? ` (${p.reason})` : ''}`, 'red')).join('\n')}\n`;
  return out;
}

export const kubeletCommand: Command = {
  name: 'kubelet',
  summary: 'the kubelet device plugin: pools, resources, registration, reservations of pods',
  usage,
  async run(argv, io) {
    const { values } = parseArgs({ args: argv, options: ADMIN_OPTIONS });
    if (values.help) { io.out.write(usage); return 0; }
    const v = await withAdmin(values, io, (c) => c.request<KubeletView>('kubelet'));
    if (values.json) { writeJson(io, v); return 0; }
    io.out.write(render(io, v));
    return 0;
  },
};
