// `qatctl release SECTION`, `qatctl drain BDF`, `qatctl undrain BDF`: the root-only changes of the admin API.

import { parseArgs } from 'node:util';
import type { Command } from '../command.js';
import { QatmgrError, ErrorCodes } from '../../errors.js';
import { ADMIN_OPTIONS, applyOutput, ADMIN_OPTIONS_HELP, EXIT_HELP, withAdmin, writeJson } from '../admin-common.js';

const releaseUsage = `Usage: qatctl release [OPTIONS] SECTION

Takes a section away from its holder (root only). SECTION is a name (SSL_INT_3) or an index (3).
The section is free at once; the old holder's next request is answered BAD (its connection stays open).

${ADMIN_OPTIONS_HELP}
${EXIT_HELP}
`;

interface ReleaseResult {
  section: string;
  bdfs: string[];
  previousHolder: { pid: number; uid: number; processName: string; since: string; requests: number };
}

export const releaseCommand: Command = {
  name: 'release',
  summary: 'force-release a section from its holder (root)',
  usage: releaseUsage,
  async run(argv, io) {
    const { values, positionals } = parseArgs({ args: argv, options: ADMIN_OPTIONS, allowPositionals: true });
    if (values.help) { io.out.write(releaseUsage); return 0; }
    applyOutput(values, io);
    if (positionals.length !== 1) throw new QatmgrError(ErrorCodes.QATMGR_E_USAGE, `expected one SECTION, got ${positionals.length}; see 'qatctl release --help'`);
    const r = await withAdmin(values, io, (c) => c.request<ReleaseResult>('release', { section: positionals[0] }));
    if (values.json) { writeJson(io, r); return 0; }
    const h = r.previousHolder;
    io.out.write(`released ${r.section} (${r.bdfs.join(', ')}) from pid ${h.pid} "${h.processName}" (uid ${h.uid}, held since ${h.since}, ${h.requests} requests); its next request gets BAD\n`);
    return 0;
  },
};

function drainCommand(name: 'drain' | 'undrain'): Command {
  const usage = name === 'drain'
    ? `Usage: qatctl drain [OPTIONS] [--reason TEXT] BDF

Takes a VF out of service (root only): the section it belongs to is not granted to new clients.
A process holding that section now keeps it undisturbed. Undo with 'qatctl undrain BDF'.

  --reason TEXT        why (shown in devices, sections, events and refusal reasons)

${ADMIN_OPTIONS_HELP}
${EXIT_HELP}
`
    : `Usage: qatctl undrain [OPTIONS] BDF

Puts a drained VF back in service (root only): its section can be granted again.

${ADMIN_OPTIONS_HELP}
${EXIT_HELP}
`;
  return {
    name,
    summary: name === 'drain' ? 'take a VF out of service: no new grants of its section (root)' : 'put a drained VF back in service (root)',
    usage,
    async run(argv, io) {
      const { values, positionals } = parseArgs({ args: argv, options: { ...ADMIN_OPTIONS, reason: { type: 'string' } }, allowPositionals: true });
      if (values.help) { io.out.write(usage); return 0; }
      applyOutput(values, io);
      if (positionals.length !== 1) throw new QatmgrError(ErrorCodes.QATMGR_E_USAGE, `expected one BDF, got ${positionals.length}; see 'qatctl ${name} --help'`);
      if (name === 'undrain' && values.reason !== undefined) throw new QatmgrError(ErrorCodes.QATMGR_E_USAGE, '--reason is for drain only');
      const r = await withAdmin(values, io, (c) => c.request<{ bdf: string; section: string; changed: boolean; holderPid: number | null }>(name, { bdf: positionals[0], reason: values.reason }));
      if (values.json) { writeJson(io, r); return 0; }
      const what = name === 'drain' ? 'out of service' : 'in service';
      io.out.write(`${r.bdf} (${r.section}) ${r.changed ? 'is now' : 'was already'} ${what}${r.holderPid !== null ? `; pid ${r.holderPid} keeps holding ${r.section}` : ''}\n`);
      return 0;
    },
  };
}

export const drainCmd = drainCommand('drain');
export const undrainCmd = drainCommand('undrain');

const rescanUsage = `Usage: qatctl rescan [OPTIONS]

Makes the daemon re-read its settings and devices, as SIGHUP or 'systemctl reload qat' do (root only).
Held sections keep their VFs; new VFs become available; VFs that disappeared are withdrawn from free
sections. A scan that fails (e.g. no device left) changes nothing and exits 2.

${ADMIN_OPTIONS_HELP}
${EXIT_HELP}
`;

interface RescanResult {
  sectionsBefore: number;
  sectionsAfter: number;
  addedVfs: string[];
  removedVfs: string[];
  withdrawnVfs: string[];
}

export const rescanCommand: Command = {
  name: 'rescan',
  summary: 're-read settings and devices now, keeping held sections (root)',
  usage: rescanUsage,
  async run(argv, io) {
    const { values, positionals } = parseArgs({ args: argv, options: ADMIN_OPTIONS, allowPositionals: true });
    if (values.help) { io.out.write(rescanUsage); return 0; }
    applyOutput(values, io);
    if (positionals.length) throw new QatmgrError(ErrorCodes.QATMGR_E_USAGE, `rescan takes no arguments; see 'qatctl rescan --help'`);
    const r = await withAdmin(values, io, (c) => c.request<RescanResult>('rescan', {}));
    if (values.json) { writeJson(io, r); return 0; }
    io.out.write(`rescan: ${r.sectionsBefore} -> ${r.sectionsAfter} sections, ${r.addedVfs.length} VF(s) added${r.addedVfs.length ? ` (${r.addedVfs.join(', ')})` : ''}, ${r.removedVfs.length} removed${r.withdrawnVfs.length ? `, withdrawn from free sections: ${r.withdrawnVfs.join(', ')}` : ''}\n`);
    return 0;
  },
};
