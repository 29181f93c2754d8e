// `qatctl provision`: apply /etc/sysconfig/qat to the QAT PFs (services, SR-IOV, vfio-pci, permissions), or print the plan.

import { parseArgs } from 'node:util';
import path from 'node:path';
import type { Command } from '../command.js';
import { rootsFromOptions, checkRootOptions, under, type Roots } from '../../config/roots.js';
import { parseDurationMs } from '../../config/numbers.js';
import { QatmgrError, ErrorCodes, isQatmgrError } from '../../errors.js';
import { provision } from '../../provision/index.js';
import { renderReport } from '../../provision/render.js';
import { FAULT_HELP } from '../../sim/faults.js';
import { chooseKernelFs } from '../../sim/index.js';

const usage = `Usage: qatctl provision [OPTIONS]

Applies ServicesEnabled (and KernelVfs/LKCF_LIST) from the settings file to every QAT PF: services
(state down, cfg_services, state up), SR-IOV (sriov_numvfs = sriov_totalvfs), VFs bound to vfio-pci
(driver_override + bind), /dev/vfio/<group> nodes and <dev>/hugepages/qat given to group qat.
Waits for the QAT driver first. Plans, then applies; a failure rolls back every PF already changed.
A second run plans nothing. Run by qat.service as: ExecStartPre=+/usr/bin/qatctl provision

Options:
  --dry-run              print the plan and exit (nothing written; readiness checked once, no wait)
  --permissions-only     only give existing vfio-pci VF nodes /dev/vfio/<group> to the group with g+rw
                         (upstream's 'qat_init.sh reload-permissions', for a udev rule on SUBSYSTEM=="vfio")
  --config FILE          settings file (default <etc-root>/sysconfig/qat; missing is fine unless given)
  --accel-config FILE    Intel IAA/DSA configuration in accel-config's JSON (save-config output); default:
                         AccelConfig= of the settings file, else <etc-root>/accel-config/accel-config.conf if present
  --timeout DURATION     how long to wait for the driver (default 20s; ms, s or m suffix)
  --group GROUP          group for /dev/vfio nodes and hugepages (name in <etc-root>/group or a gid;
                         default QAT_USER_GROUP or qat)
  --policy N             POLICY to check against the VF count (default: env POLICY, then the file)
  --json                 print the report as JSON
  --sysfs-root DIR       sysfs (default /sys)
  --dev-root DIR         device nodes (default /dev)
  --proc-root DIR        procfs for /proc/modules (default /proc)
  --etc-root DIR         configuration root (default /etc)
  --run-dir DIR          where the lock file goes (default /run/qat)
  --sim-dir DIR          all roots inside a simulated host (qatctl simulate --out DIR)
  --bind-retries N       attempts per VF bind (default 5)
  --retry-delay DURATION pause between bind attempts (default 1s)
  -h, --help             this help

Settings file keys: ServicesEnabled (e.g. sym;asym, any order/case), POLICY, KernelVfs (VF addresses kept
on the kernel VF driver, e.g. "0000:6b:00.1 0000:70:00.1"), LKCF_LIST (upstream's name: regular expressions
over VF addresses; also read from the environment), QAT_USER_GROUP, IaaCrypto (one kernel wq per IAA device
bound to iaa_crypto, e.g. IaaCrypto="sync_mode=async zswap=deflate-iaa"), AccelConfig (a JSON file).
See docs/provisioning.md and docs/idxd.md.

A simulated host (roots inside a directory with sim.json) is driven through the simulator's kernel
model, which applies the kernel's rules and effects.
${FAULT_HELP}

Exit status: 0 done or nothing to do; 1 bad usage or settings (message names file:line);
2 a step failed and everything was rolled back; 3 driver not ready within --timeout (nothing changed);
5 a step failed and the rollback was incomplete (the message lists what is left);
6 VFs the plan would remove or rebind are open by a process, or IAA/DSA wqs it would unbind have clients
(named; nothing changed);
7 another provisioning run holds <run-dir>/provision.lock.
`;

function duration(v: string | undefined, name: string, dflt: number): number {
  if (v === undefined) return dflt;
  const n = parseDurationMs(v);
  if (n === undefined) throw new QatmgrError(ErrorCodes.QATMGR_E_USAGE, `--${name} "${v}" is not a duration (e.g. 20s, 500ms)`);
  return n;
}

export const provisionCommand: Command = {
  name: 'provision',
  summary: 'apply ServicesEnabled, SR-IOV, vfio-pci bindings and permissions to the QAT PFs (qat_init.sh done right)',
  usage,
  async run(argv, io) {
    const { values } = parseArgs({
      args: argv,
      options: {
        'dry-run': { type: 'boolean' },
        'permissions-only': { type: 'boolean' },
        config: { type: 'string' },
        'accel-config': { type: 'string' },
        timeout: { type: 'string' },
        group: { type: 'string' },
        policy: { type: 'string' },
        json: { type: 'boolean' },
        'sysfs-root': { type: 'string' },
        'dev-root': { type: 'string' },
        'proc-root': { type: 'string' },
        'etc-root': { type: 'string' },
        'run-dir': { type: 'string' },
        'sim-dir': { type: 'string' },
        'bind-retries': { type: 'string' },
        'retry-delay': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: false,
    });
    if (values.help) {
      io.out.write(usage);
      return 0;
    }
    checkRootOptions(values, io.cwd);
    const roots: Roots = rootsFromOptions(values, io.cwd);
    const retries = values['bind-retries'] === undefined ? 5 : Number(values['bind-retries']);
    if (!Number.isInteger(retries) || retries < 1 || retries > 100) throw new QatmgrError(ErrorCodes.QATMGR_E_USAGE, `--bind-retries "${values['bind-retries']}" is not 1..100`);
    const json = values.json === true;
    try {
      const report = await provision({
        roots,
        kfs: chooseKernelFs(roots, io.env),
        configPath: values.config ? path.resolve(io.cwd, values.config) : under(roots.etc, 'sysconfig', 'qat'),
        configExplicit: values.config !== undefined,
        accelConfigPath: values['accel-config'] !== undefined ? path.resolve(io.cwd, values['accel-config']) : undefined,
        env: io.env,
        cliPolicy: values.policy,
        cliGroup: values.group,
        dryRun: values['dry-run'] === true,
        permissionsOnly: values['permissions-only'] === true,
        timeoutMs: duration(values.timeout, 'timeout', 20_000),
        retryDelayMs: duration(values['retry-delay'], 'retry-delay', 1000),
        bindRetries: retries,
        progress: (line) => io.err.write(`qatctl provision: ${line}\n`),
        log: json ? undefined : (line) => io.err.write(`qatctl provision: ${line}\n`),
      });
      io.out.write(json ? `${JSON.stringify(report, null, 2)}\n` : renderReport(report, io.isTTY ? io.columns : undefined));
      return 0;
    } catch (e) {
      if (json && isQatmgrError(e)) {
        io.out.write(`${JSON.stringify({ error: { code: e.code, message: e.message, ...e.details } }, null, 2)}\n`);
      }
      throw e;
    }
  },
};
