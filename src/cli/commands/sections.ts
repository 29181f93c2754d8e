// `qatctl sections`: the full plan, every section with its VFs, state and holder; NumaAware and the shares.

import { parseArgs } from 'node:util';
import type { Command, CliIo } from '../command.js';
import type { SectionsView, ShareRow } from '../../admin/views.js';
import { ADMIN_OPTIONS, applyOutput, ADMIN_OPTIONS_HELP, EXIT_HELP, withAdmin, writeJson, table, STATE_COLOUR, nodes } from '../admin-common.js';

const usage = `Usage: qatctl sections [OPTIONS]

Shows the plan the POLICY produced: every section (SSL_INT_n), its state (free, held, out-of-service),
its holder, its VFs with their NUMA nodes, and its instance names. Then NumaAware and the shares: per
unit, uid, group or process name its reservation (min), cap (max), the sections it holds, how many free
sections are kept for it now, and the file and line it comes from.

  --instances          list instance names instead of counting them

${ADMIN_OPTIONS_HELP}
${EXIT_HELP}
`;

export const sectionsCommand: Command = {
  name: 'sections',
  summary: 'the full plan: every section, its VFs, state and holder',
  usage,
  async run(argv, io) {
    const { values } = parseArgs({ args: argv, options: { ...ADMIN_OPTIONS, instances: { type: 'boolean' } } });
    if (values.help) { io.out.write(usage); return 0; }
    applyOutput(values, io);
    const v = await withAdmin(values, io, (c) => c.request<SectionsView>('sections'));
    if (values.json) { writeJson(io, v); return 0; }
    io.out.write(table(io,
      ['SECTION', 'STATE', 'PID', 'NAME', 'VFS', 'NODES', 'INSTANCES', 'REASON'],
      v.sections.map((s) => {
        const inst = s.vfs.flatMap((f) => f.instances);
        return [s.name, s.state, s.holderPid, s.processName, s.vfs.map((f) => f.bdf).join(','), nodes([...new Set(s.vfs.map((f) => f.numaNode))]),
          values.instances ? inst.join(',') : inst.length, s.reason];
      }),
      v.sections.map((s) => STATE_COLOUR[s.state]),
    ));
    const held = v.sections.filter((s) => s.state === 'held').length;
    io.out.write(`\npolicy ${v.policy}: ${v.sections.length} sections, ${held} held; NumaAware=${v.numaAware}\n`);
    if (v.shares.length) io.out.write(`\n${sharesTable(io, v.shares)}`);
    return 0;
  },
};

export function sharesTable(io: CliIo, shares: ShareRow[]): string {
  return table(io, ['SHARE', 'MIN', 'MAX', 'HELD', 'RESERVED', 'FROM'],
    shares.map((r) => [r.subject, r.min, r.max ?? '-', r.held, r.reserved, r.where]),
    shares.map((r) => (r.max !== null && r.held >= r.max ? 'yellow' : undefined)));
}
