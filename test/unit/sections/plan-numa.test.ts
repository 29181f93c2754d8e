// The NumaAware plan: POLICY=n sections of one node's VFs where possible, as many sections as upstream's.

import { describe, it, expect } from 'vitest';
import { simHost } from '../../helpers/sim.js';
import { discover } from '../../../src/platform/discover.js';
import { buildPlan } from '../../../src/sections/plan.js';
import { FallbackCapabilitySource } from '../../../src/devices/capabilities.js';
import { silentLogger } from '../../../src/log.js';

const caps = new FallbackCapabilitySource();
const nodesOf = (spec: string, policy: number, perNode: boolean): number[][] => {
  const inv = discover(simHost(spec).roots, silentLogger());
  return buildPlan(inv, policy, (vf) => caps.capsFor(vf), { perNode }).map((s) => s.devices.map((d) => d.vf.numaNode));
};

describe('plan per NUMA node', () => {
  it('forms POLICY=1 sections node by node instead of alternating PFs', () => {
    expect(nodesOf('4xxx:2x4,numa=2', 1, false)).toEqual([[0], [1], [0], [1], [0], [1], [0], [1]]);
    expect(nodesOf('4xxx:2x4,numa=2', 1, true)).toEqual([[0], [0], [0], [0], [1], [1], [1], [1]]);
  });

  it('mixes only the VFs each node has left over, and forms as many sections as upstream', () => {
    // 3 VFs per node, policy 2: one section per node, then the two leftovers together
    expect(nodesOf('4xxx:2x3,numa=2', 2, false)).toHaveLength(3);
    expect(nodesOf('4xxx:2x3,numa=2', 2, true)).toEqual([[0, 0], [1, 1], [0, 1]]);
    // 4 PFs on 2 nodes, 3 VFs each, policy 4: 6 VFs per node -> one section each, leftovers 2 + 2 -> one more
    expect(nodesOf('4xxx:4x3,numa=2', 4, true)).toEqual([[0, 0, 0, 0], [1, 1, 1, 1], [0, 0, 1, 1]]);
    expect(nodesOf('4xxx:4x3,numa=2', 4, false)).toHaveLength(3);
  });

  it('keeps POLICY=0 as one VF of every PF, and a one-node host as upstream has it', () => {
    expect(nodesOf('4xxx:2x2,numa=2', 0, true)).toEqual(nodesOf('4xxx:2x2,numa=2', 0, false));
    const inv = discover(simHost('4xxx:2x4').roots, silentLogger());
    const bdfs = (perNode: boolean): string[][] => buildPlan(inv, 1, (vf) => caps.capsFor(vf), { perNode }).map((s) => s.devices.map((d) => d.vf.bdf));
    expect(bdfs(true)).toEqual(bdfs(false));
  });
});
