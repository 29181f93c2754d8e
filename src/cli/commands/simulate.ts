// `qatctl simulate SPEC --out DIR`: write a simulated QAT host for the daemon and the other tools.

import { parseArgs } from 'node:util';
import path from 'node:path';
import type { Command } from '../command.js';
import { parseSimSpec, generateHost, SPEC_HELP, inject, INJECT_HELP } from '../../sim/index.js';
import { QatmgrError, ErrorCodes } from '../../errors.js';
import { parseDurationMs } from '../../config/numbers.js';

const usage = `Usage: qatctl simulate SPEC --out DIR [--force] [--json]
       qatctl simulate --inject KIND PF [--sim-dir DIR] [--reset-time DURATION] [--count N] [--period DURATION] [--json]

Writes a simulated QAT host under DIR: DIR/sys (sysfs), DIR/dev (vfio nodes), DIR/proc (modules,
cmdline), DIR/etc, DIR/run/qat. Serve it with:
  qatmgr --foreground --sysfs-root DIR/sys --dev-root DIR/dev --run-dir DIR/run/qat

${SPEC_HELP}

Options:
  --out DIR    where to write (required)
  --force      replace a simulated host already in DIR (a non-simulated directory is never touched)
  --json       print the host description as JSON

Fault injection into a simulated host, while a daemon serves it or not (watch with qatctl health --watch
and qatctl events):
  --inject KIND PF         apply fault KIND to PF
  --sim-dir DIR            the simulated host (default ./.qatmgr-sim, where 'npm start' puts it)
  --reset-time DURATION    how long a reset keeps the device down (default 300ms)
  --count N, --period DURATION   heartbeat-flap: N fail/ok cycles (default 5), changes DURATION apart (default 200ms)
${INJECT_HELP}
`;

export const simulateCommand: Command = {
  name: 'simulate',
  summary: 'write a simulated QAT host (sysfs, /dev/vfio, /proc) for the daemon and tests',
  usage,
  async run(argv, io) {
    const { values, positionals } = parseArgs({
      args: argv,
      options: {
        out: { type: 'string' }, force: { type: 'boolean' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
        inject: { type: 'string' }, 'sim-dir': { type: 'string' }, 'reset-time': { type: 'string' }, count: { type: 'string' }, period: { type: 'string' },
      },
      allowPositionals: true,
    });
    if (values.help) { io.out.write(usage); return 0; }
    if (values.inject !== undefined) return injectFault(values, positionals, io);
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

function duration(name: string, v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  const ms = parseDurationMs(v);
  if (ms === undefined || ms > 600_000) throw new QatmgrError(ErrorCodes.QATMGR_E_USAGE, `--${name} "${v}" is not a duration up to 10m (e.g. 300ms, 2s)`);
  return ms;
}

async function injectFault(values: { inject?: string; 'sim-dir'?: string; 'reset-time'?: string; count?: string; period?: string; json?: boolean; out?: string }, positionals: string[], io: Parameters<Command['run']>[1]): Promise<number> {
  if (positionals.length !== 1) throw new QatmgrError(ErrorCodes.QATMGR_E_USAGE, `--inject ${values.inject} needs exactly one PF (a BDF such as 0000:70:00.0, or an index), got ${positionals.length}`);
  if (values.out !== undefined) throw new QatmgrError(ErrorCodes.QATMGR_E_USAGE, '--inject works on an existing simulated host: give it with --sim-dir, not --out');
  const count = values.count === undefined ? undefined : /^[1-9][0-9]{0,3}$/.test(values.count) ? Number(values.count) : NaN;
  if (Number.isNaN(count)) throw new QatmgrError(ErrorCodes.QATMGR_E_USAGE, `--count "${values.count}" is not a number 1..9999`);
  const dir = path.resolve(io.cwd, values['sim-dir'] ?? '.qatmgr-sim');
  const r = await inject(dir, values.inject!, positionals[0], {
    resetMs: duration('reset-time', values['reset-time'], 300),
    flapCount: count,
    flapPeriodMs: duration('period', values.period, 200),
    onStep: values.json ? undefined : (l) => io.out.write(`${l}\n`),
  });
  if (values.json) io.out.write(`${JSON.stringify(r, null, 2)}\n`);
  return 0;
}
