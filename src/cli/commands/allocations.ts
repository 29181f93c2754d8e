// `qatctl allocations`: one row per held section with its holder's facts, then the recent refusals and why.

import { parseArgs } from 'node:util';
import type { Command, CliIo } from '../command.js';
import { orOffline } from '../offline.js';
import type { AllocationsView, DevicesView, HolderView } from '../../admin/views.js';
import type { AdminEvent } from '../../admin/events.js';
import { normaliseBdf } from '../../admin/views.js';
import { QatmgrError, ErrorCodes } from '../../errors.js';
import { ADMIN_OPTIONS, applyOutput, ADMIN_OPTIONS_HELP, EXIT_HELP, withAdmin, writeJson, table, formatAge, formatTime, nodes } from '../admin-common.js';
import { painter } from '../../text/colour.js';
import { podLabel } from './kubelet.js';

const usage = `Usage: qatctl allocations [OPTIONS] [--bdf BDF] [--pid PID] [--section NAME]

One row per held section: section, VFs, holder pid, user, process (comm), systemd unit or container (for a
Kubernetes pod in managed mode: namespace/pod/container),
NUMA nodes the process may run on vs. the VFs' nodes and whether the section is local to it (yes: every
VF on one of its nodes; with NumaAware on, as decided at the grant), since when, requests served. Then the most recent
refusals ("No section available") with the reason: who held the sections, which VFs were out of service.
"(adopted)" after the time marks a section held by a process from before a daemon restart (from the ledger).

Answers "who holds 0000:6b:01.0, since when, from which service?":  qatctl allocations --bdf 0000:6b:01.0

  --bdf BDF            only the section holding this VF (dddd:bb:dd.f or bb:dd.f)
  --pid PID            only sections held by this process
  --section NAME       only this section (SSL_INT_n or n)
  --wide               add the shares the holder counts against, the command line and instance names
  --refusals N         how many recent refusals to show (default 5; 0 hides them)

${ADMIN_OPTIONS_HELP}
${EXIT_HELP}
`;

export function filterAllocations(rows: HolderView[], f: { bdf?: string; pid?: string; section?: string }): HolderView[] {
  let out = rows;
  if (f.bdf !== undefined) {
    const bdf = normaliseBdf(f.bdf);
    if (!bdf) throw new QatmgrError(ErrorCodes.QATMGR_E_USAGE, `--bdf "${f.bdf}" is not a PCI address (dddd:bb:dd.f)`);
    out = out.filter((r) => r.bdfs.includes(bdf));
  }
  if (f.pid !== undefined) {
    if (!/^\d+$/.test(f.pid)) throw new QatmgrError(ErrorCodes.QATMGR_E_USAGE, `--pid "${f.pid}" is not a process id`);
    out = out.filter((r) => r.pid === Number(f.pid));
  }
  if (f.section !== undefined) out = out.filter((r) => r.section === f.section || String(r.index) === f.section);
  return out;
}

/**
 * A --section or --bdf that names nothing this daemon serves is a mistake, not an empty answer: refuse it (exit 2)
 * and say what exists. `total` sections are SSL_INT_0..total-1; `vfs` are the daemon's VFs (asked only for --bdf).
 */
export function checkFilterNames(f: { bdf?: string; section?: string }, total: number, vfs: string[] | undefined): void {
  if (f.section !== undefined) {
    const m = /^(?:SSL_INT_)?([0-9]+)$/.exec(f.section);
    if (!m || Number(m[1]) >= total) {
      throw new QatmgrError(ErrorCodes.QATMGR_E_ADMIN_NOT_FOUND, `--section "${f.section}": no such section; this daemon has ${total ? `SSL_INT_0..SSL_INT_${total - 1}` : 'no sections'}`);
    }
  }
  if (f.bdf !== undefined && vfs) {
    const bdf = normaliseBdf(f.bdf);
    if (bdf && !vfs.includes(bdf)) throw new QatmgrError(ErrorCodes.QATMGR_E_ADMIN_NOT_FOUND, `--bdf "${f.bdf}": ${bdf} is not a VF this daemon serves ('qatctl devices' lists them)`);
  }
}

export function allocationsTable(io: CliIo, rows: HolderView[], wide: boolean): string {
  const header = ['SECTION', 'VFS', 'PID', 'USER', 'PROCESS', 'UNIT/CONTAINER', 'CPU NODES', 'VF NODES', 'LOCAL', 'SINCE', 'HELD', 'REQS'];
  if (wide) header.push('SHARES', 'INSTANCES', 'COMMAND');
  return table(io, header, rows.map((r) => {
    const cells = [r.section, r.bdfs.join(','), r.pid, r.user, r.comm ?? `${r.processName} (gone)`, podLabel(r.pod) ?? r.container ?? r.unit, nodes(r.clientNodes ?? r.numaNodes), nodes(r.vfNumaNodes),
      r.local === null ? '-' : r.local ? 'yes' : 'no', `${formatTime(r.since)}${r.adopted ? ' (adopted)' : ''}`, formatAge(r.heldSeconds), r.requests];
    if (wide) cells.push(r.shares.join(',') || '-', r.instances.join(','), r.cmdline);
    return cells;
  }), rows.map((r) => (!r.alive ? 'red' : r.local === false ? 'yellow' : undefined)));
}

export function refusalsTable(io: CliIo, events: AdminEvent[]): string {
  const heldBy = (e: AdminEvent): string => {
    const h = e.detail?.holders ?? [];
    if (!h.length) return '-';
    return `${h.slice(0, 4).map((x) => `${x.processName}[${x.pid}]${x.sections > 1 ? `x${x.sections}` : ''}`).join(' ')}${h.length > 4 ? ' …' : ''}`;
  };
  return table(io, ['TIME', 'PID', 'UID', 'PROCESS', 'HELD BY', 'WHY'], events.map((e) => [formatTime(e.time), e.pid, e.uid, e.processName, heldBy(e), e.reason]), events.map(() => 'red'));
}

export const allocationsCommand: Command = {
  name: 'allocations',
  summary: 'who holds which section/VF: pid, user, process, unit, NUMA, since; recent refusals',
  usage,
  async run(argv, io) {
    const { values } = parseArgs({
      args: argv,
      options: { ...ADMIN_OPTIONS, bdf: { type: 'string' }, pid: { type: 'string' }, section: { type: 'string' }, wide: { type: 'boolean' }, refusals: { type: 'string' } },
    });
    if (values.help) { io.out.write(usage); return 0; }
    applyOutput(values, io);
    const nRef = values.refusals === undefined ? 5 : /^\d+$/.test(values.refusals) ? Number(values.refusals) : NaN;
    if (!(nRef >= 0 && nRef <= 1000)) throw new QatmgrError(ErrorCodes.QATMGR_E_USAGE, `--refusals "${values.refusals}" is not a number 0..1000`);
    return orOffline('allocations', values, io, async () => {
      const { v, vfs } = await withAdmin(values, io, async (c) => ({
        v: await c.request<AllocationsView>('allocations', { refusals: nRef }),
        vfs: values.bdf === undefined ? undefined : (await c.request<DevicesView>('devices')).pfs.flatMap((p) => p.vfs.map((r) => r.bdf)),
      }));
      v.allocations = filterAllocations(v.allocations, values);
      checkFilterNames(values, v.sections.total, vfs);
      if (values.json) { writeJson(io, v); return 0; }
      const paint = painter(io);
      if (v.allocations.length === 0) {
        io.out.write(values.bdf || values.pid || values.section ? 'no held section matches\n' : `no section held (${v.sections.total} free or out of service)\n`);
      } else {
        io.out.write(allocationsTable(io, v.allocations, values.wide === true));
        io.out.write(`\n${v.sections.held} of ${v.sections.total} sections held\n`);
      }
      if (nRef > 0 && v.refusals.length) {
        io.out.write(`\n${paint('Recent refusals ("No section available"):', 'bold')}\n`);
        io.out.write(refusalsTable(io, v.refusals));
      }
      return 0;
    });
  },
};
