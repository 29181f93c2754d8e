// NumaAware on a two-node simulated host: clients pinned with taskset to node 1's CPU get node-1 sections (prefer,
// strict), strict refuses with the reason when node 1 is full, and the admin API and metrics show the locality.

import { describe, it, expect, afterEach } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { simHost } from '../helpers/sim.js';
import { Scene, type RawHolder } from '../helpers/raw-holder.js';
import type { AllocationsView, SectionsView } from '../../src/admin/views.js';

// node 0 = CPU 0 with PF 0000:6b:00.0, node 1 = CPU 1 with PF 0000:70:00.0: real CPUs of this 2-core machine, so
// `taskset -c 1` puts a client on simulated node 1. POLICY=1 gives 8 one-VF sections.
const SPEC = '4xxx:2x4,numa=2,cpus=2';

const scene = new Scene();
afterEach(() => scene.teardown());
const admin = <T>(op: string): Promise<T> => scene.admin<T>(op);
const hold = (cpus: string, name = 'SSL'): Promise<RawHolder> => scene.hold({ cpus, name });

/** section name -> NUMA node of its VF, from the admin API. */
async function sectionNodes(): Promise<Map<string, number>> {
  const v = await admin<SectionsView>('sections');
  return new Map(v.sections.map((s) => [s.name, s.vfs[0].numaNode]));
}

describe('NumaAware on a 2-node host', () => {
  it('prefer: clients pinned to node 1 get node-1 sections until node 1 is full, then a node-0 one', async () => {
    await scene.start(simHost(SPEC), ['--policy', '1', '--numa-aware=prefer']);
    const node = await sectionNodes();
    const pinned: RawHolder[] = [];
    for (let i = 0; i < 5; i++) pinned.push(await hold('1'));
    expect(pinned.map((h) => node.get(h.section!))).toEqual([1, 1, 1, 1, 0]);
    const zero = await hold('0');
    expect(node.get(zero.section!)).toBe(0);

    const v = await admin<AllocationsView>('allocations');
    const row = (h: RawHolder) => v.allocations.find((a) => a.pid === h.pid)!;
    expect(pinned.slice(0, 4).map((h) => [row(h).clientNodes, row(h).local])).toEqual(Array(4).fill([[1], true]));
    expect([row(pinned[4]).clientNodes, row(pinned[4]).local, row(pinned[4]).vfNumaNodes]).toEqual([[1], false, [0]]);
    expect(row(zero).local).toBe(true);
    const m = await admin<{ text: string }>('metrics');
    expect(m.text).toMatch(/^qatmgr_numa_grants_total\{locality="local"\} 5$/m);
    expect(m.text).toMatch(/^qatmgr_numa_grants_total\{locality="remote"\} 1$/m);
  });

  it('strict (NumaAware= in the settings file): node-1 clients get node-1 sections, then a refusal that says why', async () => {
    const host = simHost(SPEC);
    fs.writeFileSync(path.join(host.roots.etc, 'sysconfig', 'qat'), 'POLICY=1\nNumaAware=strict\n');
    await scene.start(host);
    const node = await sectionNodes();
    const got: Array<string | undefined> = [];
    for (let i = 0; i < 4; i++) got.push((await hold('1')).section);
    expect(got.map((s) => node.get(s!))).toEqual([1, 1, 1, 1]);
    const late = await hold('1', 'late');
    expect(late.answer).toBe('BAD No section available: no free section on NUMA node 1 (NumaAware=strict; 4 free on other nodes)');
    // node 0 still serves its own clients
    expect(node.get((await hold('0')).section!)).toBe(0);
    const v = await admin<AllocationsView>('allocations');
    expect(v.refusals.at(-1)).toMatchObject({ kind: 'refusal', pid: late.pid, processName: 'late', reason: 'no free section on NUMA node 1 (NumaAware=strict; 4 free on other nodes)' });
    const s = await admin<SectionsView>('sections');
    expect(s.numaAware).toBe('strict');
  });

  it('off (the default): upstream first fit gives a node-1 client the node-0 SSL_INT_0, and the admin API says it is not local', async () => {
    await scene.start(simHost(SPEC), ['--policy', '1']);
    const h = await hold('1');
    expect(h.section).toBe('SSL_INT_0');
    const v = await admin<AllocationsView>('allocations');
    expect(v.allocations[0]).toMatchObject({ pid: h.pid, numaNodes: [1], clientNodes: null, vfNumaNodes: [0], local: false });
    const m = await admin<{ text: string }>('metrics');
    // grants are not looked up with NumaAware off: the counter stays at 0 (the allocations view reads /proc when asked)
    expect(m.text).toMatch(/^qatmgr_numa_grants_total\{locality="remote"\} 0$/m);
  });
});
