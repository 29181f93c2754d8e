// Check 6: group qat exists, the user belongs to it, and the user's RLIMIT_MEMLOCK covers a section's VFs plus the app.

import type { Roots } from '../../config/roots.js';
import { under } from '../../config/roots.js';
import { readGroups, type ScannedHost } from '../host-scan.js';
import { configuredMemlock, formatBytes, liveMemlock } from '../limits.js';
import { vfsPerSection, type SysconfigState } from '../sysconfig.js';
import { result, type CheckResult, type DoctorUser } from '../types.js';

const MIB = 1024 * 1024;
/** Memory qatlib pins per VF of a section (rings, DMA buffers). */
export const PER_VF_MIB = 16;

export function checkAccess(host: ScannedHost, roots: Roots, user: DoctorUser, sys: SysconfigState, appMemMiB: number): CheckResult[] {
  const out: CheckResult[] = [];
  const groups = readGroups(roots);
  const groupFile = under(roots.etc, 'group');
  const qat = groups?.find((g) => g.name === 'qat');
  if (!qat) {
    out.push(result('access.group', 'FAIL', groups ? `no group qat in ${groupFile}` : `cannot read ${groupFile}`, ['systemd-sysusers /usr/lib/sysusers.d/qat.conf (the qatmgr-ts package ships it; it creates group qat and user qatmgr)', 'systemctl restart qat']));
  } else {
    out.push(result('access.group', 'PASS', `group qat is gid ${qat.gid} (${groupFile}:${qat.line})`));
  }

  const isRoot = user.uid === 0;
  const userGroups = (groups ?? []).filter((g) => g.members.includes(user.name) || g.gid === user.gid).map((g) => g.name);
  const member = qat !== undefined && (qat.members.includes(user.name) || user.gid === qat.gid);
  if (member) out.push(result('access.member', 'PASS', `${user.name} is in group qat`));
  else if (isRoot) out.push(result('access.member', 'PASS', `${user.name} is uid 0: group permissions do not apply (run applications as a member of qat instead)`));
  else if (user.uid === undefined && !user.isInvoker) out.push(result('access.member', 'FAIL', `user ${user.name} is unknown to ${under(roots.etc, 'passwd')}`, [`useradd -G qat ${user.name}`]));
  else out.push(result('access.member', 'FAIL', `${user.name} is not in group qat${qat ? '' : ' (the group does not exist)'}`, [`usermod -aG qat ${user.name}`, 'then log out and in again (group lists are read at login)']));

  const pfsWithVfs = new Set(host.vfs.map((v) => v.pfBdf ?? v.bdf)).size;
  const policy = sys.policy ?? 0;
  const perSection = Math.max(1, Math.min(vfsPerSection(policy, pfsWithVfs), Math.max(1, host.vfs.length)));
  const needMiB = perSection * PER_VF_MIB + appMemMiB;
  const need = needMiB * MIB;
  const arithmetic = `POLICY=${policy}: ${perSection} VF(s) per section x ${PER_VF_MIB} MiB + ${appMemMiB} MiB application = ${needMiB} MiB`;
  const line = `@qat - memlock ${needMiB * 1024}`;
  const fix = [`add to /etc/security/limits.d/qat.conf: ${line}`, 'for a systemd service add LimitMEMLOCK=' + `${needMiB}M to its unit`, 'then log in again'];
  if (isRoot) {
    out.push(result('access.memlock', 'PASS', `${arithmetic}; ${user.name} has CAP_IPC_LOCK, so the limit does not apply`));
    return out;
  }
  const conf = configuredMemlock(roots, user.name, userGroups, false);
  const live = user.isInvoker ? liveMemlock(roots) : undefined;
  if (!conf || conf.bytes < need) {
    const seen = conf ? `${formatBytes(conf.bytes)} from ${conf.source}` : `no memlock line for ${user.name} in limits.conf/limits.d (kernel default, 8 MiB)`;
    out.push(result('access.memlock', 'FAIL', `${arithmetic}; configured: ${seen}`, fix));
  } else if (live !== undefined && live < need) {
    out.push(result('access.memlock', 'WARN', `${arithmetic}; configured ${formatBytes(conf.bytes)} (${conf.source}) but this session has ${formatBytes(live)}`, ['log out and in again (or restart the service) so the configured limit applies']));
  } else {
    out.push(result('access.memlock', 'PASS', `${arithmetic}; configured ${formatBytes(conf.bytes)} (${conf.source})`));
  }
  return out;
}
