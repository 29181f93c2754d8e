import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { reconcileSections } from '../../../src/sections/reconcile.js';
import { allocatorFor, holder, makeSim, planFor, relaySim, type SimFixture } from '../../helpers/lifecycle-sim.js';

let sim: SimFixture;
beforeEach(() => { sim = makeSim('4xxx:2x4'); });
afterEach(() => sim.cleanup());

const vfs = (s: { plan: { devices: Array<{ vf: { bdf: string } }> } }): string[] => s.plan.devices.map((d) => d.vf.bdf);
const present = (plan: ReturnType<typeof planFor>): Set<string> => new Set(plan.flatMap((p) => p.devices.map((d) => d.vf.bdf)));

describe('rescan reconcile', () => {
  it('makes new VFs available while a held section keeps its object, name, VFs and holder', () => {
    const a = allocatorFor(sim.roots);
    const held = a.acquire(holder(1, 100))!;
    const heldVfs = vfs(held);
    relaySim(sim, '4xxx:2x8');
    const plan = planFor(sim.roots);
    const r = reconcileSections(a, plan, present(plan));
    expect(r.addedVfs).toHaveLength(8);
    expect(r.removedVfs).toEqual([]);
    expect(a.sections).toHaveLength(8);
    expect(a.sections).toContain(held);
    expect(held.holder?.pid).toBe(100);
    expect(vfs(held)).toEqual(heldVfs);
    expect(new Set(a.sections.map((s) => s.name)).size).toBe(8);
    expect(a.sections.map((s) => s.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    // every VF is in exactly one section
    const all = a.sections.flatMap(vfs);
    expect(new Set(all).size).toBe(all.length);
  });

  it('withdraws removed VFs from free sections and reports them', () => {
    const a = allocatorFor(sim.roots);
    const before = a.sections.flatMap(vfs);
    // remove the VFIO node of one VF of the last section
    const victim = a.sections[3].plan.devices[0].vf;
    fs.rmSync(path.join(sim.roots.dev, 'vfio', victim.group));
    const plan = planFor(sim.roots);
    const r = reconcileSections(a, plan, present(plan));
    expect(r.removedVfs).toEqual([victim.bdf]);
    expect(r.withdrawnVfs).toEqual([victim.bdf]);
    expect(a.sections.flatMap(vfs)).not.toContain(victim.bdf);
    expect(a.sections.flatMap(vfs).length).toBe(before.length - 1);
  });

  it('keeps a removed VF in its held section and takes it out of service for the next holder', () => {
    const a = allocatorFor(sim.roots);
    const held = a.acquire(holder(1, 100))!;
    const victim = held.plan.devices[0].vf;
    fs.rmSync(path.join(sim.roots.dev, 'vfio', victim.group));
    const plan = planFor(sim.roots);
    const r = reconcileSections(a, plan, present(plan));
    expect(r.removedWhileHeld).toEqual([{ bdf: victim.bdf, section: held.name, pid: 100 }]);
    expect(vfs(held)).toContain(victim.bdf);
    a.release(held, 1, 'put');
    expect(a.blockedReason(held)).toMatch(/out of service \(removed from the system\)/);
  });

  it('does not form a new section over the VFs of a held one (policy change), and names never collide', () => {
    const a = allocatorFor(sim.roots, 0);
    const held = a.acquire(holder(1, 100))!; // SSL_INT_0: two VFs
    const plan = planFor(sim.roots, 1); // one VF per section
    const r = reconcileSections(a, plan, present(plan));
    expect(r.deferred).toEqual(['SSL_INT_0', 'SSL_INT_1']);
    expect(r.waitingOn).toEqual([held.name]);
    expect(a.sections).toContain(held);
    expect(a.sections).toHaveLength(1 + 6);
    expect(new Set(a.sections.map((s) => s.name)).size).toBe(7);
    const all = a.sections.flatMap(vfs);
    expect(new Set(all).size).toBe(all.length);
  });

  it('serves a section without the VFs of a withheld PF, refuses one left with none naming the PF, and tells a reshape', () => {
    const a = allocatorFor(sim.roots, 0);
    const pfB = a.sections[0].plan.devices[1].vf.pf!.bdf;
    a.setPfWithheld(pfB, `PF ${pfB} is unhealthy: firmware heartbeat failed`);
    const s = a.acquire(holder(1, 100))!;
    expect(a.servedDevices(s).map((d) => d.vf.pf!.bdf)).not.toContain(pfB);
    expect(s.withheld).toEqual([s.plan.devices[1].vf.bdf]);
    const b = allocatorFor(sim.roots, 1);
    for (const x of b.sections) for (const d of x.plan.devices) b.setPfWithheld(d.vf.pf!.bdf, `PF ${d.vf.pf!.bdf} is gone: no VFs (sriov_numvfs 0)`);
    expect(b.acquire(holder(2, 200))).toBeNull();
    expect(b.refusalReason()).toMatch(/8 out-of-service: PF 0000:[0-9a-f:.]+ is gone: no VFs \(sriov_numvfs 0\)/);
    const seen: string[] = [];
    b.on('reshape', (r) => seen.push(`${r.trigger} ${r.sectionsBefore}->${r.sectionsAfter}`));
    const plan = planFor(sim.roots, 1);
    reconcileSections(b, plan, present(plan), 'host: test');
    expect(seen).toEqual(['host: test 8->8']);
  });
});
