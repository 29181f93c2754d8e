// `qatctl accel`: the Intel DSA/IAA devices, groups, engines and wqs of this host (read from sysfs, no daemon needed).

import { parseArgs } from 'node:util';
import type { Command } from '../command.js';
import { ROOT_OPTIONS, rootsFromOptions } from '../../config/roots.js';
import { RealKernelFs } from '../../platform/kernelfs.js';
import { readIdxdInventory } from '../../idxd/inventory.js';
import { renderIdxdInventory } from '../../idxd/render.js';
import { QatmgrError, ErrorCodes } from '../../errors.js';
import { writeJson } from '../admin-common.js';

const usage = `Usage: qatctl accel [OPTIONS]

Lists the Intel DSA and IAA devices of this host (/sys/bus/dsa): state, groups, engines, work queues with
mode, size, threshold, priority, type, name, driver and /dev node, the last command status decoded, then
iaa_crypto (sync_mode, verify_compress, wqs bound, deflate-iaa registered) and zswap's compressor.
Reads sysfs directly; 'qatctl devices --all' shows the same next to QAT through the daemon.

Options:
  --json                 every attribute as read (shape in schemas/accel.json)
  --sim-dir DIR          a simulated host (qatctl simulate ... --out DIR)
  --sysfs-root DIR       sysfs (default /sys)
  --dev-root DIR         device nodes (default /dev)
  --proc-root DIR        procfs: modules, crypto (default /proc)
  -h, --help             this help

Exit status: 0 listed (also when there is no device), 1 bad usage.
`;

export const accelCommand: Command = {
  name: 'accel',
  summary: 'Intel DSA/IAA devices, groups, engines and work queues, iaa_crypto and zswap (from sysfs)',
  usage,
  async run(argv, io) {
    const { values, positionals } = parseArgs({ args: argv, options: { ...ROOT_OPTIONS, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, allowPositionals: true });
    if (values.help) { io.out.write(usage); return 0; }
    if (positionals.length) throw new QatmgrError(ErrorCodes.QATMGR_E_USAGE, `accel takes no arguments (got "${positionals[0]}")`);
    const inv = readIdxdInventory(new RealKernelFs(), rootsFromOptions(values, io.cwd));
    if (values.json) writeJson(io, inv);
    else io.out.write(renderIdxdInventory(inv));
    return 0;
  },
};
