// VF discovery (behaviour §7): /dev/vfio group nodes -> IOMMU group -> QAT VF -> parent PF, sorted as upstream.

import path from 'node:path';
import type { Roots } from '../config/roots.js';
import type { Logger } from '../log.js';
import { familyByVfId, isQatPfId, INTEL_VENDOR, type Family } from '../kernel/catalogue.js';
import { QatmgrError, ErrorCodes, showValue } from '../errors.js';
import fs from 'node:fs';
import { readAttr, readText, probeOpenRw, listDir, parseHexAttr, type ReadResult } from './fsio.js';
import { parseBdf, formatBdf, packBdf32, compareVfOrder, type PciAddress } from './pci.js';
import { readPfTable, type PfInfo } from './pfs.js';
import { readCpuTable, type CpuTable } from './cpus.js';
import { MAX_NUMA_NODES, NUMA_NO_NODE } from '../kernel/numa.js';

export const MAX_DEVS = 4096;
/** Upstream keeps `/dev/vfio/<name>` in a 32-byte field: names of 22 characters or more do not fit. */
const MAX_GROUP_NAME = 21;

export interface VfInfo {
  bdf: string;
  addr: PciAddress;
  packed: number;
  /** IOMMU group number as in sysfs (without `noiommu-`). */
  group: string;
  /** Path sent to clients in VFIO_FILE: `/dev/vfio/<entry>` (the client-side path, whatever the dev root). */
  vfioPath: string;
  /** The node on this machine (under the dev root). */
  vfioNode: string;
  deviceId: number;
  family: Family;
  numaNode: number;
  /** Parent PF (host); undefined inside a VM. */
  pf: PfInfo | undefined;
  /** Why the VF cannot be handed out right now (e.g. EBUSY on the probe); undefined = available. */
  unavailable: string | undefined;
}

export interface SkippedEntry {
  entry: string;
  reason: string;
}

export interface Inventory {
  /** Every QAT VF found, in upstream's order (function, device, bus, domain). */
  vfs: VfInfo[];
  pfs: PfInfo[];
  /** No PF table: running inside a VM (pkg_id = index in section). */
  vm: boolean;
  cpus: CpuTable;
  skipped: SkippedEntry[];
}

function groupDevices(roots: Roots, group: string): string[] | undefined {
  return listDir(path.join(roots.sys, 'kernel', 'iommu_groups', group, 'devices'));
}

interface Identified {
  bdf: string;
  deviceId: number;
  numaNode: number;
  /** Why numa_node was not taken as it reads (logged; the VF is still served, on node 0). */
  numaNote?: string;
}

/**
 * A VF's node as DEVICE_INFO's 16-bit node_id will carry it: the kernel writes a number -1..MAX_NUMNODES-1 (-1 = no
 * node). Anything else (text, 70000) is not the kernel's: node 0, with the reason.
 */
export function parseNumaNode(text: string): { node: number; note?: string } {
  const m = /^\s*(-?\d{1,12})\s*$/.exec(text);
  const v = m ? Number(m[1]) : NaN;
  if (v === NUMA_NO_NODE) return { node: 0 };
  if (Number.isInteger(v) && v >= 0 && v < MAX_NUMA_NODES) return { node: v };
  return { node: 0, note: `${showValue(text.trim(), 24)} is not a NUMA node number (-1..${MAX_NUMA_NODES - 1}); using node 0` };
}

/** Read device/vendor/numa_node of one group member; a string is the reason it is not a QAT VF. */
function identify(roots: Roots, group: string, bdf: string): Identified | string {
  const dir = path.join(roots.sys, 'kernel', 'iommu_groups', group, 'devices', bdf);
  const dev = readAttr(path.join(dir, 'device'));
  const ven = readAttr(path.join(dir, 'vendor'));
  const node = readAttr(path.join(dir, 'numa_node'));
  if (!dev.ok) return `${dir}/device: ${dev.error}`;
  if (!ven.ok) return `${dir}/vendor: ${ven.error}`;
  if (!node.ok) return `${dir}/numa_node: ${node.error}`;
  const deviceId = parseHexAttr(dev.text);
  const vendor = parseHexAttr(ven.text);
  if (deviceId === undefined) return `${dir}/device: ${showValue(dev.text.trim(), 24)} is not a hex PCI id`;
  if (vendor !== INTEL_VENDOR) return `${dir}/vendor: ${showValue(ven.text.trim(), 24)} is not Intel (0x8086)`;
  if (isQatPfId(deviceId)) return `${bdf} is a QAT PF (0x${deviceId.toString(16)}), not a VF; PFs are never served`;
  if (!familyByVfId(deviceId)) return `${bdf}: device 0x${deviceId.toString(16)} is not a QAT VF`;
  const numa = parseNumaNode(node.text);
  return { bdf, deviceId, numaNode: numa.node, numaNote: numa.note && `${dir}/numa_node: ${numa.note}` };
}

/** Parent PF of a VF: `physfn/uevent` PCI_SLOT_NAME (full address, domain included: quirk 17), else the link name. */
function parentPf(roots: Roots, vf: string, pfs: PfInfo[], uevents: Map<string, ReadResult>): PfInfo | string {
  const dev = path.join(roots.sys, 'bus', 'pci', 'devices', vf);
  // sibling VFs share their PF: a link of the usual shape "../<pf bdf>" names one PF (a BDF is unique), so its
  // uevent is read once per PF instead of once per VF (4096 reads -> 256 on 256 PFs); failed reads are not kept
  let link: string | undefined;
  try { link = fs.readlinkSync(path.join(dev, 'physfn')); } catch { link = undefined; }
  const key = link !== undefined && /^\.\.\/[0-9a-fA-F]{4,}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]$/.test(link) ? link : undefined;
  let ue = key !== undefined ? uevents.get(key) : undefined;
  if (!ue) {
    ue = readText(path.join(dev, 'physfn', 'uevent'));
    if (ue.ok && key !== undefined) uevents.set(key, ue);
  }
  let pfAddr: PciAddress | undefined;
  if (ue.ok) {
    const line = ue.text.split('\n').find((l) => l.includes('PCI_SLOT_NAME'));
    const v = line?.split('=')[1];
    if (v) pfAddr = parseBdf(v);
  }
  if (!pfAddr) return `${dev}/physfn/uevent: no PCI_SLOT_NAME (${ue.ok ? 'missing line' : ue.error})`;
  const pf = pfs.find((p) => p.addr.domain === pfAddr!.domain && p.bdf16 === ((pfAddr!.bus << 8) | (pfAddr!.dev << 3) | pfAddr!.fn));
  return pf ?? `parent PF ${formatBdf(pfAddr)} of ${vf} is not bound to a QAT PF driver`;
}

export interface DiscoverOptions {
  /**
   * Open each /dev/vfio group read-write to see whether it is in use (upstream's probe; default). Off for a manager
   * that may not open the nodes (an unprivileged pod: its device cgroup refuses them); in-use VFs are then served.
   */
  probe?: boolean;
}

/** Scan the machine. Throws QatmgrError when there is nothing to serve. */
export function discover(roots: Roots, log: Logger, opts: DiscoverOptions = {}): Inventory {
  const vfioDir = path.join(roots.dev, 'vfio');
  const entries = listDir(vfioDir);
  if (entries === undefined) {
    throw new QatmgrError(ErrorCodes.QATMGR_E_NO_VFIO_DIR, `${vfioDir}: cannot list VFIO groups (is vfio-pci loaded?)`, { path: vfioDir });
  }
  const pfs = readPfTable(roots);
  const vm = pfs.length === 0;
  const skipped: SkippedEntry[] = [];
  const skip = (entry: string, reason: string, level: 'info' | 'warn' = 'info'): void => {
    skipped.push({ entry, reason });
    log[level]({ event: 'vf_skipped', entry, reason }, `skipping ${entry}: ${reason}`);
  };
  const vfs: VfInfo[] = [];
  const uevents = new Map<string, ReadResult>();
  for (const [entryIndex, entry] of entries.entries()) {
    if (entry === 'vfio' || entry === 'devices') continue;
    if (entry.length > MAX_GROUP_NAME) { skip(entry, `name longer than ${MAX_GROUP_NAME} characters`); continue; }
    const group = entry.startsWith('noiommu-') ? entry.slice(8) : entry;
    if (!/^\d+$/.test(group)) { skip(entry, 'not an IOMMU group number'); continue; }
    const members = groupDevices(roots, group);
    if (members === undefined || members.length === 0) { skip(entry, `no readable devices in IOMMU group ${group}`); continue; }
    // every member is looked at (upstream takes the first only: quirk 12); the first QAT VF is served
    let chosen: Identified | undefined;
    const others: string[] = [];
    for (const m of members) {
      const r = identify(roots, group, m);
      if (typeof r === 'string') { others.push(r); continue; }
      if (chosen) others.push(`${m} shares the group with ${chosen.bdf}`);
      else chosen = r;
    }
    if (!chosen) { skip(entry, others.join('; '), others.some((r) => r.includes('QAT PF')) ? 'warn' : 'info'); continue; }
    if (members.length > 1) {
      log.warn({ event: 'multi_device_group', group, bdf: chosen.bdf, members }, `IOMMU group ${group} holds ${members.length} devices (${members.join(', ')}); serving ${chosen.bdf} only`);
    }
    const addr = parseBdf(chosen.bdf);
    if (!addr) { skip(entry, `${chosen.bdf} is not a PCI address`); continue; }
    if (chosen.numaNote) log.warn({ event: 'numa_node_invalid', bdf: chosen.bdf }, chosen.numaNote);
    let pf: PfInfo | undefined;
    if (!vm) {
      const p = parentPf(roots, chosen.bdf, pfs, uevents);
      if (typeof p === 'string') { skip(entry, p, 'warn'); continue; }
      pf = p;
    }
    const vfioNode = path.join(vfioDir, entry);
    const probe = opts.probe === false ? undefined : probeOpenRw(vfioNode);
    if (probe) log.info({ event: 'vf_busy', bdf: chosen.bdf, group, reason: probe }, `Open failed on ${vfioNode}: ${probe}`);
    vfs.push({
      bdf: chosen.bdf,
      addr,
      packed: packBdf32(addr),
      group,
      vfioPath: `/dev/vfio/${entry}`,
      vfioNode,
      deviceId: chosen.deviceId,
      family: familyByVfId(chosen.deviceId)!,
      numaNode: chosen.numaNode,
      pf,
      unavailable: probe,
    });
    if (vfs.length >= MAX_DEVS) {
      // warn only when something is left unread (a host with exactly 4096 VFs loses nothing)
      const left = entries.slice(entryIndex + 1).filter((e) => e !== 'vfio' && e !== 'devices').length;
      if (left > 0) log.warn({ event: 'max_devs', left }, `stopping at ${MAX_DEVS} VFs; ${left} more /dev/vfio entries not looked at`);
      break;
    }
  }
  if (vfs.length === 0) {
    throw new QatmgrError(ErrorCodes.QATMGR_E_NO_DEVICES, `No QAT device found under ${vfioDir}${skipped.length ? ` (${skipped.length} entries skipped; run with --debug=1 to see why)` : ''}`);
  }
  vfs.sort((a, b) => compareVfOrder(a.addr, b.addr));
  const cpus = readCpuTable(roots);
  for (const n of cpus.notes) log.warn({ event: 'cpu_table' }, n);
  return { vfs, pfs, vm, cpus, skipped };
}
