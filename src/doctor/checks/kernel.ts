// Checks 3-4: kernel modules (in-tree loaded and Live, OOT ones flagged) and boot parameters (IOMMU, vfio-pci.ids).

import path from 'node:path';
import type { Roots } from '../../config/roots.js';
import { under } from '../../config/roots.js';
import { FAMILIES } from '../../kernel/catalogue.js';
import { listDir, readCmdline, readModules, readText, type ScannedHost } from '../host-scan.js';
import { result, type CheckResult } from '../types.js';

/** Modules that only the out-of-tree package builds. */
const OOT_ONLY_MODULES = ['usdm_drv', 'qat_api'];
/** Modules both stacks name alike; an OOT build taints the kernel with 'O'. */
const SHARED_NAMES = ['intel_qat', 'qat_4xxx', 'qat_420xx', 'qat_6xxx', 'qat_4xxxvf', 'qat_420xxvf'];

const GRUB = '/etc/default/grub';

export function checkModules(host: ScannedHost, roots: Roots): CheckResult[] {
  const mods = readModules(roots);
  if (!mods) {
    const file = under(roots.proc, 'modules');
    return [result('modules.loaded', 'FAIL', `cannot read ${file}`, [`mount procfs (mount -t proc proc /proc) or point --proc-root at it`]),
      result('modules.oot', 'WARN', `cannot read ${file}: out-of-tree modules not checked`)];
  }
  const wanted = [...new Set(host.pfs.map((p) => p.family.module))];
  if (host.pfs.length === 0 && host.vfs.some((v) => v.driver !== 'vfio-pci')) {
    wanted.push(...new Set(host.vfs.filter((v) => v.driver && v.driver !== 'vfio-pci').map((v) => `qat_${v.driver}`)));
  }
  wanted.push('intel_qat', 'vfio_pci');
  const absent = wanted.filter((m) => !mods.has(m));
  const notLive = wanted.filter((m) => mods.has(m) && mods.get(m)!.state !== 'Live');
  const out: CheckResult[] = [];
  if (absent.length || notLive.length) {
    const seen = [
      absent.length ? `not loaded: ${absent.join(', ')}` : '',
      notLive.length ? `not Live: ${notLive.map((m) => `${m} (${mods.get(m)!.state})`).join(', ')}` : '',
    ].filter(Boolean).join('; ');
    const fix = absent.length ? [`modprobe ${absent.join(' ')}`, `make it persistent: echo ${absent.join(' ')} > /etc/modules-load.d/qat.conf (one per line)`] : [];
    if (notLive.length) fix.push(`a module stuck in ${notLive.map((m) => mods.get(m)!.state).join('/')}: check dmesg | grep -i qat (firmware load, probe errors), then modprobe -r ${notLive.join(' ')} && modprobe ${notLive.join(' ')}`);
    out.push(result('modules.loaded', 'FAIL', seen, fix));
  } else {
    out.push(result('modules.loaded', 'PASS', `${wanted.join(', ')} loaded and Live`));
  }
  const oot = OOT_ONLY_MODULES.filter((m) => mods.has(m));
  const tainted = SHARED_NAMES.filter((m) => mods.has(m) && (readText(under(roots.sys, 'module', m, 'taint')) ?? '').includes('O'));
  if (oot.length || tainted.length) {
    const seen = [
      oot.length ? `out-of-tree modules loaded: ${oot.join(', ')}` : '',
      tainted.length ? `out-of-tree builds (taint O): ${tainted.join(', ')}` : '',
    ].filter(Boolean).join('; ');
    out.push(result('modules.oot', 'FAIL', seen, [
      `stop the OOT service and unload: systemctl stop qat_service; modprobe -r ${[...oot, ...tainted].join(' ')}`,
      'remove the OOT package (make uninstall in $ICP_ROOT, or the vendor package), then depmod -a so the in-tree modules load again',
    ]));
  } else {
    out.push(result('modules.oot', 'PASS', 'no out-of-tree QAT module (usdm_drv, qat_api, OOT intel_qat) loaded'));
  }
  return out;
}

function param(words: string[], name: string): string | undefined {
  let v: string | undefined;
  for (const w of words) {
    if (w === name) v = '';
    else if (w.startsWith(`${name}=`)) v = w.slice(name.length + 1);
  }
  return v;
}

export function checkCmdline(host: ScannedHost, roots: Roots): CheckResult[] {
  const words = readCmdline(roots);
  const file = under(roots.proc, 'cmdline');
  if (!words) return [result('cmdline.iommu', 'FAIL', `cannot read ${file}`)];
  const out: CheckResult[] = [];
  const intel = param(words, 'intel_iommu');
  const amd = param(words, 'amd_iommu');
  const groups = listDir(under(roots.sys, 'kernel', 'iommu_groups')).length;
  const addParam = (p: string): string[] => [
    `add ${p} to GRUB_CMDLINE_LINUX in ${GRUB}, then update-grub (or grub2-mkconfig -o /boot/grub2/grub.cfg) and reboot`,
  ];
  if (intel !== undefined && intel.split(',').includes('on')) out.push(result('cmdline.iommu', 'PASS', `intel_iommu=${intel}`));
  else if (intel !== undefined && intel.split(',').includes('off')) out.push(result('cmdline.iommu', 'FAIL', 'intel_iommu=off: VFIO cannot isolate the VFs', [`replace intel_iommu=off by intel_iommu=on in ${GRUB}, update-grub, reboot`]));
  else if (amd !== undefined && amd !== 'off') out.push(result('cmdline.iommu', 'PASS', `amd_iommu=${amd}`));
  else if (amd === 'off') out.push(result('cmdline.iommu', 'FAIL', 'amd_iommu=off: VFIO cannot isolate the VFs', [`remove amd_iommu=off from ${GRUB}, update-grub, reboot`]));
  else if (groups > 0) out.push(result('cmdline.iommu', 'PASS', `no intel_iommu=/amd_iommu= but the kernel enabled the IOMMU by default (${groups} IOMMU groups)`));
  else out.push(result('cmdline.iommu', 'FAIL', 'no intel_iommu=on (or amd_iommu) and no IOMMU groups: the IOMMU is off', addParam('intel_iommu=on (AMD: amd_iommu=on)')));

  const pt = param(words, 'iommu');
  if (pt === 'pt') out.push(result('cmdline.iommu-pt', 'PASS', 'iommu=pt'));
  else out.push(result('cmdline.iommu-pt', 'WARN', pt === undefined ? 'no iommu=pt: host DMA of other devices goes through IOMMU translation' : `iommu=${pt}`, addParam('iommu=pt')));

  const ids = param(words, 'vfio-pci.ids');
  if (ids === undefined) {
    out.push(result('cmdline.vfio-ids', 'PASS', 'no vfio-pci.ids= (qat_init.sh binds the VFs)'));
  } else {
    const listed = ids.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
    const pfIds = new Set(Object.values(FAMILIES).map((f) => `8086:${f.pfId.toString(16)}`));
    const presentVf = new Set([...host.pfs.map((p) => p.family.vfId), ...host.vfs.map((v) => v.family.vfId)].map((i) => `8086:${i.toString(16)}`));
    const pfListed = listed.filter((i) => pfIds.has(i));
    const missingVf = [...presentVf].filter((i) => !listed.includes(i));
    const good = listed.filter((i) => presentVf.has(i) || !pfIds.has(i));
    const keep = [...new Set([...good, ...presentVf])].join(',');
    if (pfListed.length) {
      out.push(result('cmdline.vfio-ids', 'FAIL', `vfio-pci.ids=${ids} claims the PF id ${pfListed.join(', ')}: the PF driver cannot load, so no VF appears`, [`set vfio-pci.ids=${keep} in ${GRUB}, update-grub, reboot`]));
    } else if (missingVf.length) {
      out.push(result('cmdline.vfio-ids', 'WARN', `vfio-pci.ids=${ids} lacks the VF id ${missingVf.join(', ')} of a device present: those VFs depend on qat_init.sh to be bound`, [`set vfio-pci.ids=${keep} in ${GRUB} (or drop the parameter), update-grub, reboot`]));
    } else {
      out.push(result('cmdline.vfio-ids', 'PASS', `vfio-pci.ids=${ids} covers the VF ids present`));
    }
  }

  const unsafe = param(words, 'vfio.enable_unsafe_noiommu_mode');
  const unsafeParam = readText(under(roots.sys, 'module', 'vfio', 'parameters', 'enable_unsafe_noiommu_mode'))?.trim();
  const noiommuNodes = listDir(under(roots.dev, 'vfio')).filter((n) => n.startsWith('noiommu-'));
  if ((unsafe !== undefined && unsafe !== '0' && unsafe !== 'N') || unsafeParam === 'Y' || noiommuNodes.length) {
    const seen = [
      unsafe !== undefined ? `vfio.enable_unsafe_noiommu_mode=${unsafe || '1'} on the command line` : '',
      unsafeParam === 'Y' ? `${path.join('module', 'vfio', 'parameters', 'enable_unsafe_noiommu_mode')}=Y` : '',
      noiommuNodes.length ? `${noiommuNodes.length} /dev/vfio/noiommu-* nodes` : '',
    ].filter(Boolean).join('; ');
    out.push(result('cmdline.noiommu', 'FAIL', `VFIO no-IOMMU mode: ${seen}; devices can DMA anywhere in memory (unsafe, taints the kernel)`, [
      `remove vfio.enable_unsafe_noiommu_mode from ${GRUB} and enable the IOMMU (intel_iommu=on), update-grub, reboot`,
    ]));
  } else {
    out.push(result('cmdline.noiommu', 'PASS', 'VFIO runs with an IOMMU (no unsafe no-IOMMU mode)'));
  }
  return out;
}
