// POLICY -> sections (behaviour §11): VF groups for policy 0, runs of n VFs otherwise; instance names and CPUs per section.

import { QatmgrError, ErrorCodes } from '../errors.js';
import type { Inventory, VfInfo } from '../platform/discover.js';
import { cpusForNode } from '../platform/cpus.js';
import type { VfCaps } from '../devices/capabilities.js';
import { layoutFromMap, INSTANCE_ORDER, CONCURRENT_REQUESTS, type InstanceKind, type VfInstanceLayout } from '../devices/instances.js';

export const SECTION_PREFIX = 'SSL_INT_';

export interface Instance {
  kind: InstanceKind;
  bank: number;
  core: number;
  concurrent: number;
  /** `asym<N>`, `sym<N>`, `dc<N>`, `decomp<N>`, N counted across the section. */
  name: string;
}

export interface PlannedDevice {
  vf: VfInfo;
  caps: VfCaps;
  layout: VfInstanceLayout;
  instances: Record<InstanceKind, Instance[]>;
}

export interface PlannedSection {
  index: number;
  name: string;
  devices: PlannedDevice[];
}

/** Policy 0 groups: walk the sorted list, start a new group when the current VF's PF is already in it. */
export function groupByPf(vfs: VfInfo[], vm: boolean): VfInfo[][] {
  const groups: VfInfo[][] = [];
  let cur: VfInfo[] = [];
  let keys = new Set<string>();
  for (const vf of vfs) {
    // on a host the key is the real parent PF (quirk 15); in a VM, upstream's bus + domain
    const key = !vm && vf.pf ? vf.pf.bdf : `${vf.addr.domain}:${vf.addr.bus}`;
    if (keys.has(key)) {
      groups.push(cur);
      cur = [];
      keys = new Set();
    }
    cur.push(vf);
    keys.add(key);
  }
  if (cur.length) groups.push(cur);
  return groups;
}

/** Split the VF list into sections per policy. Throws QATMGR_E_POLICY_TOO_LARGE when no section can be formed. */
export function splitByPolicy(vfs: VfInfo[], policy: number, vm: boolean, perNode = false): VfInfo[][] {
  if (policy === 0) return groupByPf(vfs, vm);
  const count = Math.floor(vfs.length / policy);
  if (count === 0) {
    throw new QatmgrError(
      ErrorCodes.QATMGR_E_POLICY_TOO_LARGE,
      `Policy ${policy} is greater than the number of available devices (${vfs.length} VFs); use --policy 0..${vfs.length}`,
      { policy, vfs: vfs.length },
    );
  }
  if (perNode) return splitPerNode(vfs, policy);
  const out: VfInfo[][] = [];
  for (let i = 0; i < count; i++) out.push(vfs.slice(i * policy, (i + 1) * policy));
  return out;
}

/**
 * NumaAware plan: runs of `policy` VFs of one node (nodes in ascending order, VFs in the sorted order), then the VFs
 * each node has left over, in runs that mix nodes. As many sections as upstream's split: sum(floor(v_i / n)) +
 * floor(sum(v_i mod n) / n) = floor(sum(v_i) / n).
 */
function splitPerNode(vfs: VfInfo[], policy: number): VfInfo[][] {
  const byNode = new Map<number, VfInfo[]>();
  for (const vf of vfs) {
    const list = byNode.get(vf.numaNode);
    if (list) list.push(vf);
    else byNode.set(vf.numaNode, [vf]);
  }
  const out: VfInfo[][] = [];
  const rest: VfInfo[] = [];
  for (const node of [...byNode.keys()].sort((a, b) => a - b)) {
    const list = byNode.get(node)!;
    const whole = Math.floor(list.length / policy) * policy;
    for (let i = 0; i < whole; i += policy) out.push(list.slice(i, i + policy));
    rest.push(...list.slice(whole));
  }
  for (let i = 0; i + policy <= rest.length; i += policy) out.push(rest.slice(i, i + policy));
  return out;
}

/**
 * Build every section with its instances (`perNode`: sections of one NUMA node where possible, for NumaAware). Names count per section; CPUs come from one cursor per NUMA node that
 * runs through the whole build order (section 0 device 0 asym…sym…dc…decomp, device 1, …, section 1, …).
 */
export function buildPlan(inv: Inventory, policy: number, capsFor: (vf: VfInfo) => VfCaps, opts: { perNode?: boolean } = {}): PlannedSection[] {
  const parts = splitByPolicy(inv.vfs, policy, inv.vm, opts.perNode);
  const cursors = new Map<number, number>();
  const nextCore = (node: number): number => {
    const list = cpusForNode(inv.cpus, node);
    const c = cursors.get(node) ?? 0;
    cursors.set(node, (c + 1) % list.length);
    return list[c];
  };
  return parts.map((vfs, index) => {
    const counters: Record<InstanceKind, number> = { asym: 0, sym: 0, dc: 0, decomp: 0 };
    const devices = vfs.map((vf): PlannedDevice => {
      const caps = capsFor(vf);
      const layout = layoutFromMap(caps.ringMap, caps.capabilityMask, vf.bdf);
      const instances: Record<InstanceKind, Instance[]> = { asym: [], sym: [], dc: [], decomp: [] };
      for (const kind of INSTANCE_ORDER) {
        for (const bank of layout.banks[kind]) {
          instances[kind].push({ kind, bank, core: nextCore(vf.numaNode), concurrent: CONCURRENT_REQUESTS[kind], name: `${kind}${counters[kind]++}` });
        }
      }
      return { vf, caps, layout, instances };
    });
    return { index, name: `${SECTION_PREFIX}${index}`, devices };
  });
}
