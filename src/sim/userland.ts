// The user-space side of a simulated host that doctor inspects: group qat, limits, firmware, sysconfig, unit link.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Roots } from '../config/roots.js';
import type { SimHost } from './spec.js';
import { kernelDefaultServices } from './spec.js';
import { FIRMWARE_FILES } from '../kernel/firmware.js';

/** gid the simulated `qat` group gets when the simulator may chown (root); otherwise the caller's own gid. */
export const SIM_QAT_GID = 994;
/** An unprivileged application user of the simulated host, member of qat. */
export const SIM_APP_USER = { name: 'qatuser', uid: 1001, gid: 1001 };
/** memlock granted to group qat by the simulated limits.d file (KiB). */
export const SIM_MEMLOCK_KIB = 262144;
const MARK = '# written by the qatmgr-ts simulator';


function write(p: string, text: string): void {
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, text);
}

/** Owner group for the qat-owned nodes: SIM_QAT_GID when chown works, else the caller's gid. */
function pickGid(probe: string): number {
  try {
    fs.chownSync(probe, -1, SIM_QAT_GID);
    return SIM_QAT_GID;
  } catch {
    return process.getgid?.() ?? 0;
  }
}

/**
 * Give every /dev/vfio group node to group qat, mode 0660 (as provisioning does on a real host); the container node
 * 0666. Returns the gid used.
 */
export function shareVfioNodes(roots: Roots): number {
  const vfioDir = path.join(roots.dev, 'vfio');
  const nodes = fs.readdirSync(vfioDir).filter((n) => n !== 'vfio').map((n) => path.join(vfioDir, n));
  const gid = pickGid(path.join(vfioDir, 'vfio'));
  fs.chmodSync(path.join(vfioDir, 'vfio'), 0o666);
  for (const n of nodes) {
    if (gid === SIM_QAT_GID) fs.chownSync(n, -1, gid);
    fs.chmodSync(n, 0o660);
  }
  return gid;
}

/** Write group/passwd, limits, firmware, sysconfig and the enabled qat.service link; give /dev/vfio/<g> group qat, 0660. */
export function writeUserland(roots: Roots, host: SimHost): void {
  const gid = shareVfioNodes(roots);
  const me = os.userInfo().username;
  const members = [SIM_APP_USER.name, ...(me !== 'root' && me !== SIM_APP_USER.name ? [me] : [])];
  const { etc } = roots;
  write(path.join(etc, 'group'), `root:x:0:\n${SIM_APP_USER.name}:x:${SIM_APP_USER.gid}:\nqat:x:${gid}:${members.join(',')}\n`);
  write(path.join(etc, 'passwd'), `root:x:0:0:root:/root:/bin/sh\n${SIM_APP_USER.name}:x:${SIM_APP_USER.uid}:${SIM_APP_USER.gid}::/home/${SIM_APP_USER.name}:/bin/sh\n`);
  write(path.join(etc, 'security', 'limits.d', 'qat.conf'), `${MARK}\n@qat - memlock ${SIM_MEMLOCK_KIB}\n`);
  write(path.join(etc, 'ld.so.conf'), 'include /etc/ld.so.conf.d/*.conf\n');
  fs.mkdirSync(path.join(etc, 'ld.so.conf.d'), { recursive: true });
  for (const fam of new Set(host.pfs.map((p) => p.family))) {
    for (const f of FIRMWARE_FILES[fam]) write(path.join(roots.firmware, f), `simulated ${f}\n`);
  }
  const sysconfig = path.join(etc, 'sysconfig', 'qat');
  let old = '';
  try { old = fs.readFileSync(sysconfig, 'utf8'); } catch { /* absent */ }
  if (old === '' || old.startsWith(MARK)) {
    const uniform = host.pfs.length > 0 && host.pfs.every((p) => p.services === host.pfs[0].services) ? host.pfs[0].services : undefined;
    const isDefault = host.pfs.every((p, i) => p.services === kernelDefaultServices(i));
    write(sysconfig, `${MARK}\nPOLICY=0\n${!isDefault && uniform ? `ServicesEnabled=${uniform}\n` : ''}`);
  }
  const wants = path.join(etc, 'systemd', 'system', 'multi-user.target.wants', 'qat.service');
  fs.mkdirSync(path.dirname(wants), { recursive: true });
  fs.rmSync(wants, { force: true });
  fs.symlinkSync('/lib/systemd/system/qat.service', wants);
}
