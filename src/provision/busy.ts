// Finds processes holding /dev/vfio nodes that a plan would remove or rebind (the kernel would block or fail under them).

import fs from 'node:fs';
import path from 'node:path';
import type { Inventory } from './inventory.js';
import type { Plan } from './plan.js';

export interface NodeHolder {
  node: string;
  vf: string;
  pf: string;
  pid: number;
  comm: string;
}

/** /dev/vfio nodes the plan takes away: every VF node of a PF whose services or VF count change, and rebound VFs. */
export function nodesAtRisk(inv: Inventory, plan: Plan): Array<{ node: string; vf: string; pf: string }> {
  const out: Array<{ node: string; vf: string; pf: string }> = [];
  for (const pp of plan.pfs) {
    const pf = inv.pfs.find((p) => p.bdf === pp.bdf);
    if (!pf) continue;
    const all = pp.services.change || pp.vfs.change;
    const rebound = new Set(pp.rebind.map((r) => r.bdf));
    for (const vf of pf.vfs) {
      if (vf.node && (all || rebound.has(vf.bdf))) out.push({ node: vf.node, vf: vf.bdf, pf: pf.bdf });
    }
  }
  const guest = new Set(plan.guestVfs.targets.map((t) => t.bdf));
  for (const vf of inv.guestVfs) if (vf.node && guest.has(vf.bdf)) out.push({ node: vf.node, vf: vf.bdf, pf: '-' });
  return out;
}

/** Scan `<pids>/<pid>/fd` for descriptors open on any of `nodes`. Unreadable processes are skipped. */
export function findHolders(pidsRoot: string, nodes: Array<{ node: string; vf: string; pf: string }>): NodeHolder[] {
  if (nodes.length === 0) return [];
  const byPath = new Map(nodes.map((n) => [path.resolve(n.node), n]));
  const out: NodeHolder[] = [];
  let pids: string[];
  try {
    pids = fs.readdirSync(pidsRoot).filter((e) => /^[0-9]+$/.test(e));
  } catch {
    return [];
  }
  for (const pid of pids) {
    const fdDir = path.join(pidsRoot, pid, 'fd');
    let fds: string[];
    try {
      fds = fs.readdirSync(fdDir);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let target: string;
      try {
        target = fs.readlinkSync(path.join(fdDir, fd));
      } catch {
        continue;
      }
      const hit = byPath.get(target);
      if (!hit) continue;
      let comm = '?';
      try {
        comm = fs.readFileSync(path.join(pidsRoot, pid, 'comm'), 'utf8').trim();
      } catch {
        // process gone
      }
      out.push({ ...hit, pid: Number(pid), comm });
    }
  }
  return out;
}
