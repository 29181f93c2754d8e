// GetPreferredAllocation (pure): from the devices the kubelet offers, pick `size` on as few NUMA nodes as possible.
//
// The devices the kubelet must include come first. The rest are taken one at a time, each time the best by:
// (1) adds the fewest NUMA nodes not yet used; (2) lies on the "home" node, the node that can hold the most of the
// request (the must-include devices' node when they have one); (3) its PFs are the least used so far (spreading
// over PFs of one node gives more engines); (4) the kubelet's order. So a request that fits one node stays on it,
// and one that does not spills over to as few other nodes as it can.

import type { ResourceDevice } from './resources.js';

export interface PreferredRequest {
  available: string[];
  mustInclude: string[];
  size: number;
}

/** The chosen IDs, or an error text naming what is wrong with the request. */
export function preferredAllocation(req: PreferredRequest, known: ReadonlyMap<string, ResourceDevice>): string[] | { error: string } {
  if (!Number.isInteger(req.size) || req.size < 0) return { error: `allocation_size ${req.size} is not a count` };
  if (req.size > req.available.length) return { error: `allocation_size ${req.size} is more than the ${req.available.length} available devices` };
  const unknown = [...req.available, ...req.mustInclude].filter((id) => !known.has(id));
  if (unknown.length) return { error: `unknown device ID${unknown.length > 1 ? 's' : ''} ${unknown.map((u) => `"${u}"`).join(', ')}` };
  const must = [...new Set(req.mustInclude)];
  if (must.length > req.size) return { error: `${must.length} must-include devices do not fit allocation_size ${req.size}` };

  const chosen: string[] = [...must];
  const taken = new Set(chosen);
  const used = new Set<number>();
  const pfUse = new Map<string, number>();
  const add = (id: string): void => {
    const d = known.get(id)!;
    for (const n of d.nodes) used.add(n);
    for (const v of d.vfs) {
      const pf = v.pf?.bdf ?? v.bdf;
      pfUse.set(pf, (pfUse.get(pf) ?? 0) + 1);
    }
  };
  for (const id of must) add(id);

  const rest = [...new Set(req.available)].filter((id) => !taken.has(id));
  // home: the node with the most offered devices that live on it alone (ties: the lower node id)
  const onNode = new Map<number, number>();
  for (const id of rest) {
    const n = known.get(id)!.nodes;
    if (n.length === 1) onNode.set(n[0], (onNode.get(n[0]) ?? 0) + 1);
  }
  let home: number | undefined = used.size === 1 ? [...used][0] : undefined;
  if (home === undefined) {
    let best = -1;
    for (const [n, c] of [...onNode].sort(([a], [b]) => a - b)) if (c > best) { best = c; home = n; }
  }

  const score = (id: string): [number, number, number] => {
    const d = known.get(id)!;
    const newNodes = d.nodes.filter((n) => !used.has(n)).length;
    const offHome = home === undefined || d.nodes.every((n) => n === home) ? 0 : 1;
    const pfLoad = Math.max(0, ...d.vfs.map((v) => pfUse.get(v.pf?.bdf ?? v.bdf) ?? 0));
    return [newNodes, offHome, pfLoad];
  };
  while (chosen.length < req.size) {
    let bestId: string | undefined;
    let bestScore: [number, number, number] | undefined;
    for (const id of rest) {
      if (taken.has(id)) continue;
      const s = score(id);
      if (!bestScore || s[0] < bestScore[0] || (s[0] === bestScore[0] && (s[1] < bestScore[1] || (s[1] === bestScore[1] && s[2] < bestScore[2])))) {
        bestId = id;
        bestScore = s;
      }
    }
    chosen.push(bestId!);
    taken.add(bestId!);
    add(bestId!);
  }
  return chosen;
}
