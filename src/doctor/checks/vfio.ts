// Check 5: IOMMU groups, VF driver binding (vfio-pci or a deliberate kernel VF driver), /dev/vfio/<g> group qat g+rw.

import fs from 'node:fs';
import type { Roots } from '../../config/roots.js';
import { under } from '../../config/roots.js';
import { readGroups, type ScannedHost } from '../host-scan.js';
import type { SysconfigState } from '../sysconfig.js';
import { result, type CheckResult } from '../types.js';

const MAX_LISTED = 4;

function list(items: string[]): string {
  return items.length <= MAX_LISTED ? items.join(', ') : `${items.slice(0, MAX_LISTED).join(', ')} and ${items.length - MAX_LISTED} more`;
}

/** LKCF_LIST from the sysconfig file: VF addresses (regular expressions, as qat_init.sh treats them) kept on the kernel driver. */
function lkcfPatterns(sys: SysconfigState): RegExp[] {
  const v = sys.file?.values.get('LKCF_LIST')?.value ?? '';
  return v.split(/\s+/).filter(Boolean).map((s) => {
    try { return new RegExp(s); } catch { return new RegExp(s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')); }
  });
}

export function checkVfio(host: ScannedHost, roots: Roots, sys: SysconfigState): CheckResult[] {
  const out: CheckResult[] = [];
  const noVfs = host.pfs.filter((p) => (p.numVfs ?? 0) === 0);
  const noGroup = host.vfs.filter((v) => v.iommuGroup === undefined).map((v) => v.bdf);
  if (host.vfs.length === 0) {
    out.push(result('vfio.groups', 'FAIL', host.pfs.length ? `no VF: SR-IOV is off on ${list(noVfs.map((p) => p.bdf))}` : 'no QAT VF on this host', host.pfs.length ? [
      'qatctl provision (enables SR-IOV and binds the VFs; systemctl restart qat runs it too)',
      ...noVfs.slice(0, MAX_LISTED).map((p) => `or by hand: echo ${p.totalVfs ?? 16} > /sys/bus/pci/devices/${p.bdf}/sriov_numvfs`),
    ] : []));
  } else if (noGroup.length) {
    out.push(result('vfio.groups', 'FAIL', `${noGroup.length} VF(s) without an IOMMU group: ${list(noGroup)}`, ['enable the IOMMU (see cmdline.iommu), then reboot']));
  } else {
    const partial = noVfs.length ? `; SR-IOV off on ${list(noVfs.map((p) => p.bdf))}` : '';
    out.push(result('vfio.groups', partial ? 'WARN' : 'PASS', `${host.vfs.length} VFs, each in its own IOMMU group${partial}`,
      partial ? ['qatctl provision (enables SR-IOV on every PF; systemctl restart qat runs it too)'] : []));
  }

  const lkcf = lkcfPatterns(sys);
  const unbound = host.vfs.filter((v) => !v.driver).map((v) => v.bdf);
  const kernelBound = host.vfs.filter((v) => v.driver && v.driver !== 'vfio-pci');
  const undeliberate = kernelBound.filter((v) => v.driver !== v.family.vfDriver || !lkcf.some((r) => r.test(v.bdf)));
  const deliberate = kernelBound.length - undeliberate.length;
  if (host.vfs.length === 0) {
    out.push(result('vfio.binding', 'FAIL', 'no VF to bind', ['see vfio.groups']));
  } else if (unbound.length) {
    out.push(result('vfio.binding', 'FAIL', `${unbound.length} VF(s) bound to no driver: ${list(unbound)}`, [
      'qatctl provision (binds every VF to vfio-pci; systemctl restart qat runs it too)',
      ...unbound.slice(0, MAX_LISTED).map((b) => `or: echo vfio-pci > /sys/bus/pci/devices/${b}/driver_override && echo ${b} > /sys/bus/pci/drivers_probe`),
    ]));
  } else if (undeliberate.length) {
    out.push(result('vfio.binding', 'WARN', `${undeliberate.length} VF(s) on a kernel driver but not in LKCF_LIST: ${list(undeliberate.map((v) => `${v.bdf} (${v.driver})`))}; qatmgr cannot hand them out`, [
      `for user space: echo ${undeliberate[0].bdf} > /sys/bus/pci/drivers/${undeliberate[0].driver}/unbind && echo vfio-pci > /sys/bus/pci/devices/${undeliberate[0].bdf}/driver_override && echo ${undeliberate[0].bdf} > /sys/bus/pci/drivers_probe (each VF), or systemctl restart qat`,
      `if in-kernel crypto is intended: LKCF_LIST="${undeliberate.map((v) => v.bdf).join(' ')}" in ${sys.path}`,
    ]));
  } else {
    out.push(result('vfio.binding', 'PASS', `${host.vfs.length - deliberate} VFs on vfio-pci${deliberate ? `, ${deliberate} on the kernel VF driver by LKCF_LIST` : ''}`));
  }

  const vfioVfs = host.vfs.filter((v) => v.driver === 'vfio-pci' && v.iommuGroup !== undefined);
  if (vfioVfs.length === 0) {
    out.push(result('vfio.nodes', host.vfs.length ? 'WARN' : 'FAIL', 'no VF on vfio-pci, so no /dev/vfio/<group> node to check', host.vfs.length ? [] : ['see vfio.groups']));
    return out;
  }
  const qat = readGroups(roots)?.find((g) => g.name === 'qat');
  const missing: string[] = [];
  const wrongGroup: string[] = [];
  const noRw: string[] = [];
  for (const v of vfioVfs) {
    // no-IOMMU mode names the node noiommu-<g> (cmdline.noiommu reports that mode itself)
    let st: fs.Stats | undefined;
    for (const name of [String(v.iommuGroup), `noiommu-${v.iommuGroup}`]) {
      try { st = fs.statSync(under(roots.dev, 'vfio', name)); break; } catch { /* try the next name */ }
    }
    if (!st) {
      missing.push(String(v.iommuGroup));
      continue;
    }
    if (!qat || st.gid !== qat.gid) wrongGroup.push(String(v.iommuGroup));
    if ((st.mode & 0o060) !== 0o060) noRw.push(String(v.iommuGroup));
  }
  const dev = under(roots.dev, 'vfio');
  if (missing.length) {
    out.push(result('vfio.nodes', 'FAIL', `missing ${dev}/<g> for group(s) ${list(missing)}`, ['modprobe vfio_pci; systemctl restart qat']));
  } else if (wrongGroup.length || noRw.length) {
    const bad = [...new Set([...wrongGroup, ...noRw])];
    const seen = [
      wrongGroup.length ? `not group qat${qat ? ` (gid ${qat.gid})` : ' (no qat group)'}: ${list(wrongGroup)}` : '',
      noRw.length ? `not g+rw: ${list(noRw)}` : '',
    ].filter(Boolean).join('; ');
    out.push(result('vfio.nodes', 'FAIL', `${dev}/<g> ${seen}`, [
      `chgrp qat ${bad.map((g) => `/dev/vfio/${g}`).join(' ')} && chmod g+rw ${bad.map((g) => `/dev/vfio/${g}`).join(' ')}`,
      'for good: qatctl provision --permissions-only (the udev rule /usr/lib/udev/rules.d/90-qat-vfio.rules runs it for every new node)',
    ]));
  } else {
    out.push(result('vfio.nodes', 'PASS', `${vfioVfs.length} ${dev}/<g> nodes: group qat, g+rw`));
  }
  return out;
}
