// Intel DSA/IAA checks: idxd and iaa_crypto loaded, IOMMU scalable mode, wqs enabled and bound, /dev/<type> nodes
// for the group, zswap on deflate-iaa when IAA crypto is set up, and where IAA-compressed data can be read back.

import type { Roots } from '../../config/roots.js';
import { under } from '../../config/roots.js';
import { RealKernelFs } from '../../platform/kernelfs.js';
import { readIdxdInventory, type IdxdInventory } from '../../idxd/inventory.js';
import { IAA_ALGORITHM } from '../../kernel/idxd.js';
import { readCmdline, readGroups } from '../host-scan.js';
import type { SysconfigState } from '../sysconfig.js';
import { result, type CheckResult } from '../types.js';

const GRUB = '/etc/default/grub';
const MAX_LISTED = 4;
const list = (xs: string[]): string => (xs.length <= MAX_LISTED ? xs.join(', ') : `${xs.slice(0, MAX_LISTED).join(', ')} and ${xs.length - MAX_LISTED} more`);

/** IAA crypto is intended: IaaCrypto= is set, or a wq is (or is meant to be) bound to iaa_crypto. */
function cryptoIntended(inv: IdxdInventory, sys: SysconfigState): boolean {
  const v = sys.file?.values.get('IaaCrypto')?.value.trim();
  if (v && !/^(off|no|0|false)$/i.test(v)) return true;
  return inv.iaaCrypto.wqs.length > 0 || inv.devices.some((d) => d.wqs.some((w) => w.driverName === 'crypto'));
}

/** The idxd checks; none when the host has no DSA/IAA device and nothing asks for one. */
export function checkIdxd(roots: Roots, sys: SysconfigState): CheckResult[] {
  const inv = readIdxdInventory(new RealKernelFs(), roots);
  const configured = sys.file?.values.has('IaaCrypto') || sys.file?.values.has('AccelConfig');
  if (inv.devices.length === 0 && !configured) return [];
  const out: CheckResult[] = [];
  const crypto = cryptoIntended(inv, sys);
  const iaa = inv.devices.filter((d) => d.type === 'iax');

  // modules
  const missing: string[] = [];
  if (inv.modules.idxd !== 'Live' && !inv.bus) missing.push('idxd');
  if (crypto && iaa.length > 0 && !inv.iaaCrypto.loaded) missing.push('iaa_crypto');
  if (missing.length) {
    out.push(result('idxd.modules', 'FAIL', `not loaded: ${missing.join(', ')}`, [`modprobe ${missing.join(' ')}`, `make it persistent: printf '%s\\n' ${missing.join(' ')} > /etc/modules-load.d/idxd.conf`]));
  } else {
    out.push(result('idxd.modules', 'PASS', `idxd loaded${inv.iaaCrypto.loaded ? ', iaa_crypto loaded' : ''} (${inv.devices.length} device(s): ${list(inv.devices.map((d) => d.dev))})`));
  }

  // IOMMU scalable mode: user wqs and shared wqs need PASID/SVA
  const words = readCmdline(roots) ?? [];
  const intel = words.filter((w) => w.startsWith('intel_iommu=')).map((w) => w.slice('intel_iommu='.length)).pop();
  const sm = intel !== undefined && intel.split(',').includes('sm_on');
  const needSva = inv.devices.flatMap((d) => d.wqs.filter((w) => w.type === 'user' || w.driverName === 'user' || (w.groupId >= 0 && w.mode === 'shared' && w.name !== '')).map((w) => w.dev));
  const noPasid = inv.devices.filter((d) => !d.pasidEnabled).map((d) => d.dev);
  const smFix = [`set intel_iommu=on,sm_on in GRUB_CMDLINE_LINUX of ${GRUB}, update-grub (or grub2-mkconfig -o /boot/grub2/grub.cfg), enable VT-d and ENQCMD in the BIOS, reboot`];
  if (noPasid.length === 0 && (sm || inv.devices.length > 0)) {
    out.push(result('idxd.iommu-sm', 'PASS', `PASID/SVA on (pasid_enabled 1${sm ? ', intel_iommu=' + intel : ''}): user and shared wqs can be enabled`));
  } else if (needSva.length) {
    out.push(result('idxd.iommu-sm', 'FAIL', `pasid_enabled 0 on ${list(noPasid)}${sm ? '' : ` and no sm_on on the command line (intel_iommu=${intel ?? 'unset'})`}: user/shared wqs ${list(needSva)} cannot be enabled (cmd_status 0x80110000 / 0x80050000)`, smFix));
  } else {
    out.push(result('idxd.iommu-sm', 'WARN', `IOMMU not in scalable mode (pasid_enabled 0 on ${list(noPasid)}): only dedicated kernel wqs work (iaa_crypto, dmaengine); user wqs (/dev/iax, /dev/dsa) do not`, smFix));
  }

  // wqs enabled and bound
  const provisionFix = [`qatctl provision (with IaaCrypto= or AccelConfig= in ${sys.path}), or: accel-config load-config -e -c /etc/accel-config/accel-config.conf`];
  const idle = inv.devices.filter((d) => !d.wqs.some((w) => w.state === 'enabled')).map((d) => d.dev);
  const stranded = inv.devices.flatMap((d) => d.wqs.filter((w) => w.state !== 'enabled' && w.groupId >= 0 && w.name !== '').map((w) => `${w.dev}${d.cmdStatusText ? ` (${d.dev} cmd_status ${d.cmdStatusText})` : ''}`));
  const unboundCrypto = crypto ? iaa.filter((d) => !d.wqs.some((w) => w.driver === 'crypto')).map((d) => d.dev) : [];
  if (stranded.length) {
    out.push(result('idxd.wqs', 'FAIL', `configured but not enabled: ${list(stranded)}`, provisionFix));
  } else if (unboundCrypto.length) {
    out.push(result('idxd.wqs', 'FAIL', `IAA crypto is set up but ${list(unboundCrypto)} has no wq bound to iaa_crypto`, provisionFix));
  } else if (idle.length) {
    out.push(result('idxd.wqs', 'WARN', `no enabled wq on ${list(idle)}: ${idle.length === inv.devices.length ? 'the accelerators are unused' : 'those devices are unused'}`, provisionFix));
  } else {
    const n = inv.devices.reduce((a, d) => a + d.wqs.filter((w) => w.state === 'enabled').length, 0);
    out.push(result('idxd.wqs', 'PASS', `${n} wq(s) enabled and bound on ${inv.devices.length} device(s)`));
  }

  // /dev/<type>/wqN.M of user wqs: the intended group, g+rw
  const groupName = sys.file?.values.get('QAT_USER_GROUP')?.value || 'qat';
  const grp = readGroups(roots)?.find((g) => g.name === groupName);
  const userWqs = inv.devices.flatMap((d) => d.wqs.filter((w) => w.driver === 'user'));
  const noNode = userWqs.filter((w) => !w.node).map((w) => w.dev);
  const wrong = userWqs.filter((w) => w.node && (!grp || w.node.gid !== grp.gid || (Number.parseInt(w.node.mode, 8) & 0o060) !== 0o060));
  if (userWqs.length === 0) {
    out.push(result('idxd.nodes', 'PASS', 'no user wq: no /dev/dsa or /dev/iax node to check'));
  } else if (noNode.length) {
    out.push(result('idxd.nodes', 'FAIL', `user wqs without a node under ${under(roots.dev, 'iax')} or ${under(roots.dev, 'dsa')}: ${list(noNode)}`, ['is devtmpfs mounted on /dev? then: qatctl provision']));
  } else if (wrong.length) {
    const paths = wrong.map((w) => w.node!.path);
    out.push(result('idxd.nodes', 'FAIL', `not group ${groupName}${grp ? ` (gid ${grp.gid})` : ' (no such group)'} with g+rw: ${list(wrong.map((w) => `${w.node!.path} ${w.node!.uid}:${w.node!.gid} ${w.node!.mode}`))}`, [
      `chgrp ${groupName} ${paths.join(' ')} && chmod 0660 ${paths.join(' ')}`,
      `for good: qatctl provision (gives the nodes to ${groupName} each time it binds them), or a udev rule: SUBSYSTEM=="idxd", GROUP="${groupName}", MODE="0660"`,
    ]));
  } else {
    out.push(result('idxd.nodes', 'PASS', `${userWqs.length} user wq node(s): group ${groupName}, g+rw`));
  }

  // zswap
  if (crypto) {
    const zfile = under(roots.sys, 'module', 'zswap', 'parameters', 'compressor');
    if (!inv.zswap.present) out.push(result('idxd.zswap', 'WARN', 'IAA crypto is set up but this kernel has no zswap (CONFIG_ZSWAP)', []));
    else if (inv.zswap.compressor === IAA_ALGORITHM) out.push(result('idxd.zswap', 'PASS', `zswap compressor ${IAA_ALGORITHM}${inv.zswap.enabled === 'Y' ? ', zswap enabled' : ' (zswap itself is off: echo Y > /sys/module/zswap/parameters/enabled to use it)'}`));
    else if (!inv.iaaCrypto.registered) out.push(result('idxd.zswap', 'FAIL', `zswap compressor ${inv.zswap.compressor} and ${IAA_ALGORITHM} is not registered (no wq was bound to iaa_crypto yet)`, [...provisionFix, `then: echo ${IAA_ALGORITHM} > ${zfile}`]));
    else out.push(result('idxd.zswap', 'WARN', `zswap compressor is ${inv.zswap.compressor}, not ${IAA_ALGORITHM}: IAA is not used for swap`, [`echo ${IAA_ALGORITHM} > /sys/module/zswap/parameters/compressor`, `for good: IaaCrypto="... zswap=${IAA_ALGORITHM}" in ${sys.path} (qatctl provision sets it once the algorithm exists; zswap.compressor= on the kernel command line is too early)`]));
  }

  // where IAA-compressed data can be read
  if (iaa.length > 0) {
    out.push(result('idxd.portability', 'PASS', `note: ${IAA_ALGORITHM} ('fixed' mode) writes standard RFC 1951 deflate, readable by any inflate; data compressed with IAA-specific modes (canned or custom Huffman tables, e.g. ClickHouse's IAA codec) cannot be read on hosts without IAA: keep data that may move to such hosts in standard deflate, or recompress it before it moves`));
  }
  return out;
}
