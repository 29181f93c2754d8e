// Reads the QAT PFs and VFs as provisioning needs them (services, state, SR-IOV, bindings, /dev/vfio nodes) through a KernelFs.

import path from 'node:path';
import type { Roots } from '../config/roots.js';
import { INTEL_VENDOR, familyByPfId, familyByVfId, type Family } from '../kernel/catalogue.js';
import { parseBdf, formatBdf } from '../platform/pci.js';
import type { KernelFs, NodeStat } from '../platform/kernelfs.js';
import { readServiceSet, type Service } from '../kernel/services.js';

export interface VfInfo {
  bdf: string;
  /** `virtfnN` index (guest VFs: position in the listing). */
  index: number;
  family: Family;
  driver: string | undefined;
  /** driver_override text, `(null)` when unset. */
  override: string;
  group: string | undefined;
  /** `<dev>/vfio/<group>` (or `noiommu-<group>`) when it exists. */
  node: string | undefined;
  nodeStat: NodeStat | undefined;
}

export interface PfInfo {
  bdf: string;
  /** `<sys>/bus/pci/devices/<bdf>`. */
  dir: string;
  family: Family;
  driver: string | undefined;
  /** Raw `qat/cfg_services` (trimmed), undefined when the attribute is missing (old kernel). */
  servicesText: string | undefined;
  services: Service[] | undefined;
  state: string | undefined;
  numVfs: number;
  totalVfs: number;
  /** `sriov_offset`/`sriov_stride` (routing-id arithmetic of VF addresses; 1/1 when absent). */
  vfOffset: number;
  vfStride: number;
  vfs: VfInfo[];
}

/** Address VF k will have once SR-IOV is enabled (PCI routing id = PF + offset + k * stride). */
export function predictVfAddress(pf: PfInfo, k: number): string {
  const a = parseBdf(pf.bdf)!;
  const rid = (a.bus << 8) + (a.dev << 3) + a.fn + pf.vfOffset + k * pf.vfStride;
  return formatBdf({ domain: a.domain, bus: (rid >> 8) & 0xff, dev: (rid >> 3) & 0x1f, fn: rid & 7 });
}

export interface IgnoredDevice {
  bdf: string;
  id: string;
  reason: string;
}

export interface Inventory {
  pfs: PfInfo[];
  /** VFs with no PF in sysfs (a guest). */
  guestVfs: VfInfo[];
  /** QAT devices this manager does not provision (older generations), reported and left alone. */
  ignored: IgnoredDevice[];
}

/** QAT generations before GEN4: recognised so they can be named in the report, never touched. */
const LEGACY_QAT: Record<number, string> = {
  0x0434: 'dh89xxcc', 0x0435: 'dh895xcc', 0x0443: 'dh895xccvf', 0x37c8: 'c62x', 0x37c9: 'c62xvf',
  0x19e2: 'c3xxx', 0x19e3: 'c3xxxvf', 0x18ee: '200xx', 0x18ef: '200xxvf', 0x18a0: 'c4xxx', 0x18a1: 'c4xxxvf',
};

function readTrim(kfs: KernelFs, p: string): string | undefined {
  try {
    return kfs.readFile(p).trim();
  } catch {
    return undefined;
  }
}

function linkName(kfs: KernelFs, p: string): string | undefined {
  try {
    return path.basename(kfs.readlink(p));
  } catch {
    return undefined;
  }
}

export function pciDevicesDir(roots: Roots): string {
  return path.join(roots.sys, 'bus', 'pci', 'devices');
}

/** The /dev/vfio node of an IOMMU group, if present (plain or noiommu-). */
function groupNode(kfs: KernelFs, roots: Roots, group: string | undefined): { node?: string; stat?: NodeStat } {
  if (!group) return {};
  for (const name of [group, `noiommu-${group}`]) {
    const p = path.join(roots.dev, 'vfio', name);
    if (kfs.exists(p)) {
      try {
        return { node: p, stat: kfs.stat(p) };
      } catch {
        return { node: p };
      }
    }
  }
  return {};
}

export function readVf(kfs: KernelFs, roots: Roots, bdf: string, index: number, family: Family): VfInfo {
  const dir = path.join(pciDevicesDir(roots), bdf);
  const group = linkName(kfs, path.join(dir, 'iommu_group'));
  const { node, stat } = groupNode(kfs, roots, group);
  return {
    bdf,
    index,
    family,
    driver: linkName(kfs, path.join(dir, 'driver')),
    override: readTrim(kfs, path.join(dir, 'driver_override')) ?? '(null)',
    group,
    node,
    nodeStat: stat,
  };
}

/** VFs of a PF in virtfn order. */
export function readPfVfs(kfs: KernelFs, roots: Roots, pfDir: string, family: Family): VfInfo[] {
  let entries: string[];
  try {
    entries = kfs.readdir(pfDir);
  } catch {
    return [];
  }
  return entries
    .filter((e) => /^virtfn[0-9]+$/.test(e))
    .map((e) => ({ k: Number(e.slice(6)), bdf: linkName(kfs, path.join(pfDir, e))! }))
    .filter((x) => x.bdf)
    .sort((a, b) => a.k - b.k)
    .map((x) => readVf(kfs, roots, x.bdf, x.k, family));
}

export function readPf(kfs: KernelFs, roots: Roots, bdf: string, family: Family): PfInfo {
  const dir = path.join(pciDevicesDir(roots), bdf);
  const servicesText = readTrim(kfs, path.join(dir, 'qat', 'cfg_services'));
  return {
    bdf,
    dir,
    family,
    driver: linkName(kfs, path.join(dir, 'driver')),
    servicesText,
    services: servicesText === undefined ? undefined : readServiceSet(servicesText),
    state: readTrim(kfs, path.join(dir, 'qat', 'state')),
    numVfs: Number(readTrim(kfs, path.join(dir, 'sriov_numvfs')) ?? 0) || 0,
    totalVfs: Number(readTrim(kfs, path.join(dir, 'sriov_totalvfs')) ?? 0) || 0,
    vfOffset: Number(readTrim(kfs, path.join(dir, 'sriov_offset')) ?? 1) || 1,
    vfStride: Number(readTrim(kfs, path.join(dir, 'sriov_stride')) ?? 1) || 1,
    vfs: readPfVfs(kfs, roots, dir, family),
  };
}

/** Scan `<sys>/bus/pci/devices`: QAT GEN4+ PFs (with their VFs), guest VFs, and older QAT devices to report. */
export function readInventory(kfs: KernelFs, roots: Roots): Inventory {
  const inv: Inventory = { pfs: [], guestVfs: [], ignored: [] };
  let names: string[];
  try {
    names = kfs.readdir(pciDevicesDir(roots));
  } catch {
    return inv;
  }
  names = names.filter((n) => parseBdf(n)).sort();
  let guestIndex = 0;
  for (const bdf of names) {
    const dir = path.join(pciDevicesDir(roots), bdf);
    const vendor = parseInt(readTrim(kfs, path.join(dir, 'vendor')) ?? '', 16);
    if (vendor !== INTEL_VENDOR) continue;
    const id = parseInt(readTrim(kfs, path.join(dir, 'device')) ?? '', 16);
    const pfFam = familyByPfId(id);
    if (pfFam) {
      inv.pfs.push(readPf(kfs, roots, bdf, pfFam));
      continue;
    }
    const vfFam = familyByVfId(id);
    if (vfFam) {
      if (!kfs.exists(path.join(dir, 'physfn'))) inv.guestVfs.push(readVf(kfs, roots, bdf, guestIndex++, vfFam));
      continue;
    }
    if (LEGACY_QAT[id] && !kfs.exists(path.join(dir, 'physfn'))) {
      inv.ignored.push({ bdf, id: `8086:${id.toString(16).padStart(4, '0')}`, reason: `${LEGACY_QAT[id]}: QAT generation not served by qatmgr (GEN4 and later only); left alone` });
    }
  }
  return inv;
}
