// `qatctl simulate SPEC --out DIR`: write a simulated QAT host for the daemon and the other tools.

import { parseArgs } from 'node:util';
import path from 'node:path';
import type { Command } from '../command.js';
import { parseSimSpec, generateHost, SPEC_HELP } from '../../sim/index.js';
import { QatmgrError, ErrorCodes } from '../../errors.js';

const usage = `Usage: qatctl simulate SPEC --out DIR [--force] [--json]

Writes a simulated QAT host under DIR: DIR/sys (sysfs), DIR/dev (vfio nodes), DIR/proc (modules,
cmdline), DIR/etc, DIR/run/qat. Serve it with:
  qatmgr --foreground --sysfs-root DIR/sys --dev-root DIR/dev --run-dir DIR/run/qat

${SPEC_HELP}

Options:
  --out DIR    where to write (required)
  --force      replace a simulated host already in DIR (a non-simulated directory is never touched)
  --json       print the host description as JSON
`;

export const simulateCommand: Command = {
  name: 'simulate',
  summary: 'write a simulated QAT host (sysfs, /dev/vfio, /proc) for the daemon and tests',
  usage,
  async run(argv, io) {
    const { values, positionals } = parseArgs({
      args: argv,
      options: { out: { type: 'string' }, force: { type: 'boolean' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
    });
    if (values.help) { io.out.write(usage); return 0; }
    if (positionals.length !== 1) throw new QatmgrError(ErrorCodes.QATMGR_E_USAGE, 'simulate needs exactly one SPEC (e.g. 4xxx:2x16)');
    if (!values.out) throw new QatmgrError(ErrorCodes.QATMGR_E_USAGE, 'simulate needs --out DIR');
    const host = parseSimSpec(positionals[0]);
    const t0 = performance.now();
    const g = generateHost(path.resolve(io.cwd, values.out), host, { force: values.force });
    const ms = performance.now() - t0;
    const vfs = host.pfs.reduce((a, p) => a + p.vfs.length, 0) + host.guestVfs.length;
    if (values.json) {
      io.out.write(`${JSON.stringify({ dir: g.dir, roots: g.roots, host }, null, 2)}\n`);
    } else {
      const idxd = host.idxd ? `, ${host.idxd.devices.filter((d) => d.type === 'iax').length} IAA, ${host.idxd.devices.filter((d) => d.type === 'dsa').length} DSA` : '';
      io.out.write(`simulated host in ${g.dir}: ${host.pfs.length} PFs, ${vfs} VFs${idxd}, ${host.numaNodes} NUMA node(s), ${host.cpus} CPUs (${ms.toFixed(0)} ms)\n`);
      io.out.write(`serve it: qatmgr --foreground --sysfs-root ${g.roots.sys} --dev-root ${g.roots.dev} --run-dir ${g.roots.run}\n`);
    }
    return 0;
  },
};
