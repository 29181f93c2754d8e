// `qatctl devices`: every PF and its VFs with BDF, family, NUMA node, services, IOMMU group and state.

import { parseArgs } from 'node:util';
import type { Command } from '../command.js';
import { VF_STATES, type DevicesView } from '../../admin/views.js';
import type { IdxdInventory } from '../../idxd/inventory.js';
import { renderIdxdInventory } from '../../idxd/render.js';
import { QatmgrError, ErrorCodes } from '../../errors.js';
import { didYouMean } from '../../config/args.js';
import { ADMIN_OPTIONS, applyOutput, ADMIN_OPTIONS_HELP, EXIT_HELP, withAdmin, writeJson, table, STATE_COLOUR } from '../admin-common.js';

const usage = `Usage: qatctl devices [OPTIONS] [--state STATE]

Lists every PF and its VFs: BDF, family, NUMA node, services, IOMMU group, state (free, held,
out-of-service, withheld: its PF is unhealthy or gone, unavailable, unplanned), the section the VF
belongs to and the pid holding it; then one line per PF that is not healthy (qatctl health tells more).

  --state STATE        only VFs in this state
  --all                Intel DSA/IAA devices and work queues too (as 'qatctl accel' shows them)

${ADMIN_OPTIONS_HELP}
${EXIT_HELP}
`;

export const devicesCommand: Command = {
  name: 'devices',
  summary: 'PFs and their VFs: BDF, family, NUMA node, services, IOMMU group, state',
  usage,
  async run(argv, io) {
    const { values } = parseArgs({ args: argv, options: { ...ADMIN_OPTIONS, state: { type: 'string' }, all: { type: 'boolean' } } });
    if (values.help) { io.out.write(usage); return 0; }
    applyOutput(values, io);
    if (values.state !== undefined && !(VF_STATES as readonly string[]).includes(values.state)) {
      throw new QatmgrError(ErrorCodes.QATMGR_E_USAGE, `--state "${values.state}" is not a VF state; use ${VF_STATES.join(', ')}${didYouMean(values.state, VF_STATES)}`);
    }
    const { v, accel } = await withAdmin(values, io, async (c) => ({ v: await c.request<DevicesView>('devices'), accel: values.all ? await c.request<IdxdInventory>('accel') : undefined }));
    if (values.state) for (const p of v.pfs) p.vfs = p.vfs.filter((r) => r.state === values.state);
    if (values.json) { writeJson(io, accel ? { ...v, accel } : v); return 0; }
    const rows = v.pfs.flatMap((p) => p.vfs.map((r) => ({ p, r })));
    io.out.write(table(io,
      ['PF', 'VF', 'FAMILY', 'NODE', 'SERVICES', 'IOMMU', 'STATE', 'SECTION', 'PID', 'REASON'],
      rows.map(({ p, r }) => [p.bdf ?? '(vm)', r.bdf, r.family, r.numaNode, r.services.join(';'), r.iommuGroup, r.state, r.section, r.holderPid, r.reason]),
      rows.map(({ r }) => STATE_COLOUR[r.state]),
    ));
    const n = (st: string): number => rows.filter(({ r }) => r.state === st).length;
    io.out.write(`\n${v.pfs.filter((p) => p.bdf).length} PFs, ${rows.length} VFs: ${n('held')} held, ${n('free')} free, ${n('out-of-service')} out-of-service${n('withheld') ? `, ${n('withheld')} withheld (PF unhealthy or gone)` : ''}${n('unavailable') ? `, ${n('unavailable')} unavailable` : ''}${n('unplanned') ? `, ${n('unplanned')} in no section` : ''}\n`);
    // PFs that are not healthy, one line each (why: qatctl health)
    for (const p of v.pfs) if (p.bdf && p.health && p.health.state !== 'healthy') io.out.write(`PF ${p.bdf} is ${p.health.state}${p.health.reason ? `: ${p.health.reason}` : ''} (qatctl health)\n`);
    if (accel) io.out.write(`\nIntel DSA/IAA:\n${renderIdxdInventory(accel)}`);
    return 0;
  },
};
