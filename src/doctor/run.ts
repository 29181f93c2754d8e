// Runs every doctor check in a fixed order and sums up the statuses.

import os from 'node:os';
import type { Roots } from '../config/roots.js';
import { scanHost, readPasswd } from './host-scan.js';
import { readSysconfig } from './sysconfig.js';
import { checkDevices, checkFirmware } from './checks/hardware.js';
import { checkCmdline, checkModules } from './checks/kernel.js';
import { checkVfio } from './checks/vfio.js';
import { checkAccess } from './checks/access.js';
import { checkIcpRoot, checkOotConf, checkOotLibs, checkOotService } from './checks/leftovers.js';
import { checkExpect, checkPolicy, checkService, checkServices, checkSysconfig } from './checks/stack.js';
import { checkIdxd } from './checks/idxd.js';
import type { DoctorOptions, DoctorReport, DoctorUser } from './types.js';

/** The user doctor checks for: `name` from <etc>/passwd, or the invoker when no name is given. */
export function resolveUser(roots: Roots, name: string | undefined): DoctorUser {
  const me = os.userInfo();
  const target = name ?? me.username;
  const isInvoker = target === me.username;
  const pw = readPasswd(roots).find((p) => p.name === target);
  if (pw) return { name: target, uid: pw.uid, gid: pw.gid, isInvoker };
  if (isInvoker) return { name: target, uid: me.uid, gid: me.gid, isInvoker };
  return { name: target, uid: undefined, gid: undefined, isInvoker: false };
}

export async function runDoctor(opts: DoctorOptions): Promise<DoctorReport> {
  const { roots } = opts;
  const host = scanHost(roots);
  const sys = readSysconfig(roots);
  const results = [
    checkDevices(host, roots),
    checkFirmware(host, roots),
    ...checkModules(host, roots),
    ...checkCmdline(host, roots),
    ...checkVfio(host, roots, sys),
    ...checkAccess(host, roots, opts.user, sys, opts.appMemMiB),
    checkOotService(roots),
    checkOotConf(roots),
    checkIcpRoot(roots, opts.env),
    checkOotLibs(roots, opts.env),
    await checkService(roots, opts.socketPath, opts.connectTimeoutMs),
    checkSysconfig(sys),
    checkPolicy(host, sys),
    checkServices(host, sys),
    checkExpect(host, opts.expect),
    ...checkIdxd(roots, sys),
  ];
  const count = (s: string): number => results.filter((r) => r.status === s).length;
  return { results, summary: { pass: count('PASS'), warn: count('WARN'), fail: count('FAIL') } };
}
