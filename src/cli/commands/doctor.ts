// `qatctl doctor`: check a host for the in-tree QAT stack (devices, firmware, modules, IOMMU, access, OOT leftovers).

import { parseArgs } from 'node:util';
import path from 'node:path';
import type { Command } from '../command.js';
import { ROOT_OPTIONS, rootsFromOptions, checkRootOptions, type Roots } from '../../config/roots.js';
import { QatmgrError, ErrorCodes } from '../../errors.js';
import { parseIntInRange } from '../../config/numbers.js';
import { resolveUser, runDoctor } from '../../doctor/run.js';
import { renderReport } from '../../doctor/render.js';
import { painter } from '../../text/colour.js';
import { serviceSet, SERVICE_ORDER } from '../../doctor/services.js';

const usage = `Usage: qatctl doctor [OPTIONS]

Checks that this host is ready for the in-tree QAT driver + qatlib + qatmgr, and what is left
of Intel's out-of-tree package. One line per check: PASS / WARN / FAIL, what was seen, and the fix.

Checks: devices (GEN4+ vs legacy PCI ids), firmware, modules.loaded, modules.oot, cmdline.iommu,
cmdline.iommu-pt, cmdline.vfio-ids, cmdline.noiommu, vfio.groups, vfio.binding, vfio.nodes,
access.group, access.member, access.memlock, oot.service, oot.conf, oot.icp-root, oot.libs,
stack.service, stack.sysconfig, stack.policy, stack.services, stack.expect; on hosts with Intel DSA/IAA (or
IaaCrypto=/AccelConfig= set): idxd.modules, idxd.iommu-sm, idxd.wqs, idxd.nodes, idxd.zswap, idxd.portability.

Options:
  --sim-dir DIR          check a simulated host (qatctl simulate ... --out DIR): all roots under DIR
  --sysfs-root DIR       sysfs (default /sys)
  --dev-root DIR         device nodes (default /dev)
  --proc-root DIR        kernel facts: modules, cmdline (default /proc)
  --etc-root DIR         configuration (default /etc)
  --firmware-root DIR    firmware (default /lib/firmware)
  --run-dir DIR          qatmgr's run directory (default /run/qat)
  --socket PATH          qatmgr's socket (default <run-dir>/qatmgr.sock)
  --user NAME            check access for this user (default: the invoking user)
  --expect LIST          services the applications need, e.g. dc,sym,asym
  --app-mem MIB          memory the application pins besides 16 MiB per VF (default 64)
  --json                 print the report as JSON
  -h, --help             this text

Exit status: 0 no FAIL (warnings allowed), 2 at least one FAIL, 1 bad usage.
`;

export const doctorCommand: Command = {
  name: 'doctor',
  summary: 'check the host for the in-tree QAT stack and OOT leftovers (PASS/WARN/FAIL with fixes)',
  usage,
  async run(argv, io) {
    const { values, positionals } = parseArgs({
      args: argv,
      options: {
        ...ROOT_OPTIONS, socket: { type: 'string' }, user: { type: 'string' }, expect: { type: 'string' },
        'app-mem': { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: true,
    });
    if (values.help) { io.out.write(usage); return 0; }
    if (positionals.length) throw new QatmgrError(ErrorCodes.QATMGR_E_USAGE, `doctor takes no arguments (got "${positionals[0]}")`);
    checkRootOptions(values, io.cwd);
    const roots: Roots = rootsFromOptions(values, io.cwd);
    const expect: string[] = [];
    if (values.expect !== undefined) {
      for (const raw of values.expect.split(/[,;]/).map((s) => s.trim()).filter(Boolean)) {
        const set = serviceSet(raw);
        if (set.size === 0) throw new QatmgrError(ErrorCodes.QATMGR_E_USAGE, `--expect: unknown service "${raw}"; use ${SERVICE_ORDER.join(', ')} (or cy)`);
        for (const s of set) if (!expect.includes(s)) expect.push(s);
      }
    }
    let appMemMiB = 64;
    if (values['app-mem'] !== undefined) {
      const v = parseIntInRange(values['app-mem'], 0, 1 << 20);
      if (v === undefined) throw new QatmgrError(ErrorCodes.QATMGR_E_USAGE, `--app-mem ${values['app-mem']} is not a number of MiB (0..1048576)`);
      appMemMiB = v;
    }
    const report = await runDoctor({
      roots,
      user: resolveUser(roots, values.user),
      expect,
      socketPath: values.socket ? path.resolve(io.cwd, values.socket) : path.join(roots.run, 'qatmgr.sock'),
      appMemMiB,
      env: io.env,
      connectTimeoutMs: 1000,
    });
    io.out.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : renderReport(report, painter(io), io.isTTY && !io.wide ? io.columns : undefined));
    return report.summary.fail ? 2 : 0;
  },
};
