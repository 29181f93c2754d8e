// Which sections and VFs the kubelet gets, under which resource names, and the device lists ListAndWatch sends (pure).
//
// The plan's sections are split in three pools, in plan order: the first `managed` sections are the devices of
// qat.intel.com/managed (one device = one section; a pod's libqat talks to this daemon and gets exactly that
// section); the next `standalone` sections give their VFs to pods directly, one device = one VF, under Intel's
// plugin's resource names so existing pod specs keep working; the sections left serve host processes on the
// client socket as before. No VF is in two pools, so the kubelet can never hand one out twice.

import { QatmgrError, ErrorCodes } from '../errors.js';
import type { Section } from '../sections/allocator.js';
import type { VfInfo } from '../platform/discover.js';
import type { SectionCount } from '../config/settings.js';
import { HEALTHY, UNHEALTHY, MANAGED_RESOURCE, RESOURCE_DOMAIN, type Device } from './api.js';

export interface Pools {
  managed: Section[];
  standalone: Section[];
  host: Section[];
  /** VFs given directly (by PCI address): those of the standalone sections, plus VFs in no section when standalone is 'all'. */
  standaloneVfs: VfInfo[];
}

function take(name: string, n: SectionCount, left: Section[], total: number): Section[] {
  if (n === 'all') return left.splice(0, left.length);
  if (n > left.length) {
    throw new QatmgrError(ErrorCodes.QATMGR_E_CONFIG_VALUE, `command line: --${name}=${n} asks for more sections than the ${left.length} left (the plan has ${total}; see qatctl sections)`);
  }
  return left.splice(0, n);
}

/** Split the plan (sections in order, plus the VFs the policy left out) into the three pools. */
export function splitPools(sections: readonly Section[], unplanned: readonly VfInfo[], managed: SectionCount, standalone: SectionCount): Pools {
  const left = [...sections];
  const m = take('kubelet-managed', managed, left, sections.length);
  const s = take('kubelet-standalone', standalone, left, sections.length);
  const vfs = s.flatMap((x) => x.plan.devices.map((d) => d.vf));
  if (standalone === 'all') vfs.push(...unplanned);
  // listed by PCI address (PF by PF), not in the plan's order, which interleaves PFs
  vfs.sort((a, b) => (a.bdf < b.bdf ? -1 : a.bdf > b.bdf ? 1 : 0));
  return { managed: m, standalone: s, host: left, standaloneVfs: vfs };
}

/**
 * Intel's plugin's resource name for a PF's services (`qat/cfg_services`, any order): cy for sym+asym, dc, sym,
 * asym, asym-dc, sym-dc; `generic` for anything else (three services on 6xxx, or services that could not be read).
 */
export function intelResourceName(services: string | undefined): string {
  const set = new Set((services ?? '').split(';').map((x) => x.trim()).filter(Boolean));
  const is = (...names: string[]): boolean => set.size === names.length && names.every((n) => set.has(n));
  let short = 'generic';
  if (is('asym', 'sym')) short = 'cy';
  else if (is('dc')) short = 'dc';
  else if (is('sym')) short = 'sym';
  else if (is('asym')) short = 'asym';
  else if (is('asym', 'dc')) short = 'asym-dc';
  else if (is('sym', 'dc')) short = 'sym-dc';
  return `${RESOURCE_DOMAIN}/${short}`;
}

export interface ResourceDevice {
  /** Device ID: the VF's PCI address (as Intel's plugin), or the section name. */
  id: string;
  vfs: VfInfo[];
  /** NUMA nodes of its VFs, in order. */
  nodes: number[];
  /** The section, for managed devices. */
  section?: Section;
}

export interface ResourceSet {
  name: string;
  kind: 'standalone' | 'managed';
  devices: ResourceDevice[];
  byId: Map<string, ResourceDevice>;
}

function resourceSet(name: string, kind: ResourceSet['kind'], devices: ResourceDevice[]): ResourceSet {
  return { name, kind, devices, byId: new Map(devices.map((d) => [d.id, d])) };
}

const nodesOf = (vfs: VfInfo[]): number[] => [...new Set(vfs.map((v) => v.numaNode))].sort((a, b) => a - b);

/**
 * The resources to register: one per services set among the standalone VFs (a VF's services come from its
 * planned device's capabilities, `servicesOf`), and qat.intel.com/managed when the managed pool has sections.
 */
export function buildResources(pools: Pools, servicesOf: (vf: VfInfo) => string | undefined): ResourceSet[] {
  const byName = new Map<string, ResourceDevice[]>();
  for (const vf of pools.standaloneVfs) {
    const name = intelResourceName(servicesOf(vf));
    let list = byName.get(name);
    if (!list) byName.set(name, (list = []));
    list.push({ id: vf.bdf, vfs: [vf], nodes: [vf.numaNode] });
  }
  const out = [...byName].sort(([a], [b]) => a.localeCompare(b)).map(([name, devices]) => resourceSet(name, 'standalone', devices));
  if (pools.managed.length) {
    out.push(resourceSet(MANAGED_RESOURCE, 'managed', pools.managed.map((s) => {
      const vfs = s.plan.devices.map((d) => d.vf);
      return { id: s.name, vfs, nodes: nodesOf(vfs), section: s };
    })));
  }
  return out;
}

/** What the device list is computed from. */
export interface HealthFacts {
  /** Why a PF is not fit to serve (state down, gone from sysfs), or undefined when it is. */
  pfProblem(bdf: string): string | undefined;
  /** Whether a VF is still on the machine (sysfs device and /dev/vfio node). */
  vfPresent(vf: VfInfo): boolean;
  /** Why a VF was taken out of service by an operator (qatctl drain), or undefined. */
  outOfService(bdf: string): string | undefined;
}

/** Why a present VF is unhealthy, or undefined. */
export function vfProblem(vf: VfInfo, f: HealthFacts): string | undefined {
  const pf = vf.pf ? f.pfProblem(vf.pf.bdf) : undefined;
  if (pf) return `PF ${vf.pf!.bdf}: ${pf}`;
  return f.outOfService(vf.bdf);
}

/**
 * The ListAndWatch list of a resource: a VF given directly disappears while it is off the machine and is
 * Unhealthy while its PF is down or it is drained; a section stays listed and is Unhealthy while any of its VFs
 * is absent or unhealthy. Every device carries its NUMA nodes for the kubelet's topology manager.
 */
export function deviceList(set: ResourceSet, f: HealthFacts): Device[] {
  const out: Device[] = [];
  for (const d of set.devices) {
    const present = d.vfs.filter((v) => f.vfPresent(v));
    if (set.kind === 'standalone' && present.length === 0) continue;
    const healthy = present.length === d.vfs.length && d.vfs.every((v) => vfProblem(v, f) === undefined);
    out.push({ ID: d.id, health: healthy ? HEALTHY : UNHEALTHY, topology: { nodes: d.nodes.map((n) => ({ ID: n })) } });
  }
  return out;
}

/** A stable text of a device list, to send only lists that changed. */
export function listKey(devices: Device[]): string {
  return devices.map((d) => `${d.ID}=${d.health}`).join(',');
}
