// `qatctl devices`: every PF and its VFs with BDF, family, NUMA node, services, IOMMU group and state.

import { parseArgs } from 'node:util';
import type { Command } from '../command.js';
import { VF_STATES, type DevicesView } from '../../admin/views.js';
import { QatmgrError, ErrorCodes } from '../../errors.js';
import { didYouMean } from '../../config/args.js';
import { ADMIN_OPTIONS, applyOutput, ADMIN_OPTIONS_HELP, EXIT_HELP, withAdmin, writeJson, table, STATE_COLOUR } from '../admin-common.js';

const usage = `Usage: qatctl devices [OPTIONS] [--state STATE]

Lists every PF and its VFs: BDF, family, NUMA node, services, IOMMU group, state (free, held,
out-of-service, unavailable, unplanned), the section the VF belongs to and the pid holding it.

  --state STATE        only VFs in this state

${ADMIN_OPTIONS_HELP}
${EXIT_HELP}
`;

export const devicesCommand: Command = {
  name: 'devices',
  summary: 'PFs and their VFs: BDF, family, NUMA node, services, IOMMU group, state',
  usage,
  async run(argv, io) {
    const { values } = parseArgs({ args: argv, options: { ...ADMIN_OPTIONS, state: { type: 'string' } } });
    if (values.help) { io.out.write(usage); return 0; }
    applyOutput(values, io);
    if (values.state !== undefined && !(VF_STATES as readonly string[]).includes(values.state)) {
      throw new QatmgrError(ErrorCodes.QATMGR_E_USAGE, `--state "${values.state}" is not a VF state; use ${VF_STATES.join(', ')}${didYouMean(values.state, VF_STATES)}`);
    }
    const v = await withAdmin(values, io, (c) => c.request<DevicesView>('devices'));
    if (values.state) for (const p of v.pfs) p.vfs = p.vfs.filter((r) => r.state === values.state);
    if (values.json) { writeJson(io, v); return 0; }
    const rows = v.pfs.flatMap((p) => p.vfs.map((r) => ({ p, r })));
    io.out.write(table(io,
      ['PF', 'VF', 'FAMILY', 'NODE', 'SERVICES', 'IOMMU', 'STATE', 'SECTION', 'PID', 'REASON'],
      rows.map(({ p, r }) => [p.bdf ?? '(vm)', r.bdf, r.family, r.numaNode, r.services.join(';'), r.iommuGroup, r.state, r.section, r.holderPid, r.reason]),
      rows.map(({ r }) => STATE_COLOUR[r.state]),
    ));
    const n = (st: string): number => rows.filter(({ r }) => r.state === st).length;
    io.out.write(`\n${v.pfs.filter((p) => p.bdf).length} PFs, ${rows.length} VFs: ${n('held')} held, ${n('free')} free, ${n('out-of-service')} out-of-service${n('unavailable') ? `, ${n('unavailable')} unavailable` : ''}${n('unplanned') ? `, ${n('unplanned')} in no section` : ''}\n`);
    return 0;
  },
};
