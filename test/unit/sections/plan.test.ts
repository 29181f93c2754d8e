// Behaviour §11.4 worked example (policies 0, 1, 3, 33) and §16.5 expected instances, on the §16 simulated tree.

import { describe, it, expect, beforeAll } from 'vitest';
import { simHost } from '../../helpers/sim.js';
import { discover, type Inventory } from '../../../src/platform/discover.js';
import { buildPlan } from '../../../src/sections/plan.js';
import { FallbackCapabilitySource } from '../../../src/devices/capabilities.js';
import { silentLogger } from '../../../src/log.js';
import { isQatmgrError } from '../../../src/errors.js';

const short = (bdf: string): string => bdf.slice(5);

describe('sections of the two-PF 4xxx host (behaviour §11.4)', () => {
  let inv: Inventory;
  const caps = new FallbackCapabilitySource();
  beforeAll(() => {
    inv = discover(simHost('4xxx:2x16,services=sym;asym').roots, silentLogger());
  });

  it('sorts the 32 VFs by function, device, bus, domain', () => {
    expect(inv.vfs.slice(0, 6).map((v) => short(v.bdf))).toEqual(['6b:01.0', '70:01.0', '6b:02.0', '70:02.0', '6b:00.1', '70:00.1']);
    expect(inv.pfs.map((p) => [p.pkgId, p.bdf, p.bdf16, p.driver])).toEqual([[0, '0000:6b:00.0', 0x6b00, '4xxx'], [1, '0000:70:00.0', 0x7000, '4xxx']]);
  });

  it('policy 0 gives 16 sections of one VF per PF in the documented order', () => {
    const plan = buildPlan(inv, 0, (vf) => caps.capsFor(vf));
    expect(plan).toHaveLength(16);
    const table = plan.map((s) => [s.name, ...s.devices.map((d) => short(d.vf.bdf))]);
    expect(table.slice(0, 6)).toEqual([
      ['SSL_INT_0', '6b:01.0', '70:01.0'],
      ['SSL_INT_1', '6b:02.0', '70:02.0'],
      ['SSL_INT_2', '6b:00.1', '70:00.1'],
      ['SSL_INT_3', '6b:01.1', '70:01.1'],
      ['SSL_INT_4', '6b:00.2', '70:00.2'],
      ['SSL_INT_5', '6b:01.2', '70:01.2'],
    ]);
    expect(table[14]).toEqual(['SSL_INT_14', '6b:00.7', '70:00.7']);
    expect(table[15]).toEqual(['SSL_INT_15', '6b:01.7', '70:01.7']);
  });

  it('policy 1 gives 32 one-VF sections in the sorted order', () => {
    const plan = buildPlan(inv, 1, (vf) => caps.capsFor(vf));
    expect(plan).toHaveLength(32);
    expect(plan.slice(0, 3).map((s) => short(s.devices[0].vf.bdf))).toEqual(['6b:01.0', '70:01.0', '6b:02.0']);
    expect(plan[31].name).toBe('SSL_INT_31');
  });

  it('policy 3 gives 10 sections of three VFs and leaves the last 2 VFs unused', () => {
    const plan = buildPlan(inv, 3, (vf) => caps.capsFor(vf));
    expect(plan).toHaveLength(10);
    expect(plan[0].devices.map((d) => short(d.vf.bdf))).toEqual(['6b:01.0', '70:01.0', '6b:02.0']);
    expect(plan[1].devices.map((d) => short(d.vf.bdf))).toEqual(['70:02.0', '6b:00.1', '70:00.1']);
    expect(plan.flatMap((s) => s.devices).length).toBe(30);
  });

  it('policy 33 fails start-up with QATMGR_E_POLICY_TOO_LARGE naming the VF count', () => {
    try {
      buildPlan(inv, 33, (vf) => caps.capsFor(vf));
      expect.unreachable();
    } catch (e) {
      expect(isQatmgrError(e) && e.code).toBe('QATMGR_E_POLICY_TOO_LARGE');
      expect((e as Error).message).toMatch(/Policy 33 .*\(32 VFs\)/);
    }
  });

  it('gives SSL_INT_0 the instances, banks and CPUs of behaviour §16.5', () => {
    const plan = buildPlan(inv, 0, (vf) => caps.capsFor(vf));
    const view = plan[0].devices.map((d) => [...d.instances.asym, ...d.instances.sym].map((i) => `${i.name}/b${i.bank}/c${i.core}`));
    expect(view).toEqual([
      ['asym0/b0/c0', 'asym1/b2/c1', 'sym0/b1/c2', 'sym1/b3/c3'],
      ['asym2/b0/c4', 'asym3/b2/c5', 'sym2/b1/c6', 'sym3/b3/c7'],
    ]);
    // every later section repeats the same CPU pattern and restarts the names
    const s1 = plan[1].devices[0].instances;
    expect([...s1.asym, ...s1.sym].map((i) => `${i.name}/c${i.core}`)).toEqual(['asym0/c0', 'asym1/c1', 'sym0/c2', 'sym1/c3']);
    expect(plan[0].devices.map((d) => d.vf.vfioPath)).toEqual(['/dev/vfio/107', '/dev/vfio/123']);
  });

  it('keeps one CPU cursor per NUMA node', () => {
    const inv2 = discover(simHost('4xxx:2x16,numa=2,services=sym;asym').roots, silentLogger());
    const plan = buildPlan(inv2, 0, (vf) => caps.capsFor(vf));
    const cores = plan[0].devices.map((d) => [...d.instances.asym, ...d.instances.sym].map((i) => i.core));
    expect(cores).toEqual([[0, 1, 2, 3], [8, 9, 10, 11]]);
    expect(plan[0].devices.map((d) => d.vf.numaNode)).toEqual([0, 1]);
  });
});
