import { afterEach, describe, expect, it } from 'vitest';
import { buildResources, deviceList, intelResourceName, splitPools, type HealthFacts } from '../../../src/kubelet/resources.js';
import { preferredAllocation } from '../../../src/kubelet/preferred.js';
import { allocatorFor, makeSim, type SimFixture } from '../../helpers/lifecycle-sim.js';

let sim: SimFixture | undefined;
afterEach(() => { sim?.cleanup(); sim = undefined; });

function plan(spec: string, policy = 0) {
  sim = makeSim(spec, 'qat-k8s-unit-');
  const a = allocatorFor(sim.roots, policy);
  const services = new Map(a.sections.flatMap((s) => s.plan.devices.map((d) => [d.vf.bdf, d.caps.services] as const)));
  return { a, servicesOf: (vf: { bdf: string }) => services.get(vf.bdf) };
}

const healthy: HealthFacts = { pfProblem: () => undefined, vfPresent: () => true, outOfService: () => undefined };

describe('resource names', () => {
  it.each([
    ['sym;asym', 'cy'], ['asym;sym', 'cy'], ['dc', 'dc'], ['sym', 'sym'], ['asym', 'asym'], ['asym;dc', 'asym-dc'], ['dc;sym', 'sym-dc'],
    ['asym;sym;dc', 'generic'], ['dcc', 'generic'], [undefined, 'generic'], ['', 'generic'],
  ])('names services "%s" qat.intel.com/%s as Intel\'s plugin does', (services, short) => {
    expect(intelResourceName(services)).toBe(`qat.intel.com/${short}`);
  });
});

describe('pools', () => {
  it('gives the first sections to managed mode, the next ones\' VFs to pods directly, and leaves the rest to the host', () => {
    const { a } = plan('4xxx:2x4');
    const p = splitPools(a.sections, [], 1, 2);
    expect(p.managed.map((s) => s.name)).toEqual(['SSL_INT_0']);
    expect(p.standalone.map((s) => s.name)).toEqual(['SSL_INT_1', 'SSL_INT_2']);
    expect(p.host.map((s) => s.name)).toEqual(['SSL_INT_3']);
    expect(p.standaloneVfs.map((v) => v.bdf)).toEqual(['0000:6b:00.2', '0000:6b:00.3', '0000:70:00.2', '0000:70:00.3']);
  });

  it('adds the VFs the policy left in no section to the direct pool only when it takes all the sections left', () => {
    const { a } = plan('4xxx:1x5', 2);
    const inv = a.sections.flatMap((s) => s.plan.devices.map((d) => d.vf));
    const spare = { ...inv[0], bdf: '0000:6b:00.5' };
    expect(splitPools(a.sections, [spare], 0, 'all').standaloneVfs.map((v) => v.bdf)).toEqual(['0000:6b:00.1', '0000:6b:00.2', '0000:6b:00.3', '0000:6b:00.4', '0000:6b:00.5']);
    expect(splitPools(a.sections, [spare], 0, 1).standaloneVfs.map((v) => v.bdf)).toEqual(['0000:6b:00.1', '0000:6b:00.2']);
  });

  it('refuses pools larger than the plan, naming the option and the counts', () => {
    const { a } = plan('4xxx:2x2');
    expect(() => splitPools(a.sections, [], 3, 0)).toThrow('--kubelet-managed=3 asks for more sections than the 2 left (the plan has 2');
    expect(() => splitPools(a.sections, [], 1, 2)).toThrow('--kubelet-standalone=2 asks for more sections than the 1 left');
  });
});

describe('device lists', () => {
  it('lists a VF Unhealthy while its PF is down or it is drained, leaves an absent VF out, and marks a section Unhealthy when one of its VFs is absent', () => {
    const { a, servicesOf } = plan('4xxx:2x2');
    const res = buildResources(splitPools(a.sections, [], 1, 'all'), servicesOf);
    expect(res.map((r) => [r.name, r.devices.map((d) => d.id)])).toEqual([
      ['qat.intel.com/cy', ['0000:6b:00.2']], ['qat.intel.com/dc', ['0000:70:00.2']], ['qat.intel.com/managed', ['SSL_INT_0']],
    ]);
    const [cy, dc, managed] = res;
    const facts: HealthFacts = {
      pfProblem: (bdf) => (bdf === '0000:6b:00.0' ? 'qat/state is down' : undefined),
      vfPresent: (vf) => vf.bdf !== '0000:70:00.1' && vf.bdf !== '0000:70:00.2',
      outOfService: () => undefined,
    };
    expect(deviceList(cy, facts)).toEqual([{ ID: '0000:6b:00.2', health: 'Unhealthy', topology: { nodes: [{ ID: 0 }] } }]);
    expect(deviceList(dc, facts)).toEqual([]);
    expect(deviceList(managed, facts)).toEqual([{ ID: 'SSL_INT_0', health: 'Unhealthy', topology: { nodes: [{ ID: 0 }] } }]);
    expect(deviceList(managed, healthy)[0].health).toBe('Healthy');
    expect(deviceList(cy, { ...healthy, outOfService: () => 'drained' })[0].health).toBe('Unhealthy');
  });
});

describe('preferred allocation', () => {
  function devices() {
    const { a, servicesOf } = plan('4xxx:4x2,numa=2,services=sym;asym');
    return buildResources(splitPools(a.sections, [], 0, 'all'), servicesOf)[0].byId;
  }

  it('keeps a request that fits one node on the node with the most offered devices, spread over its PFs', () => {
    const ids = devices();
    expect(preferredAllocation({ available: [...ids.keys()], mustInclude: [], size: 2 }, ids)).toEqual(['0000:6b:00.1', '0000:70:00.1']);
    expect(preferredAllocation({ available: ['0000:6b:00.1', '0000:75:00.1', '0000:75:00.2'], mustInclude: [], size: 2 }, ids)).toEqual(['0000:75:00.1', '0000:75:00.2']);
  });

  it('starts from the must-include devices and stays on their node', () => {
    const ids = devices();
    expect(preferredAllocation({ available: [...ids.keys()], mustInclude: ['0000:7a:00.2'], size: 3 }, ids)).toEqual(['0000:7a:00.2', '0000:75:00.1', '0000:75:00.2']);
  });

  it('explains a request it cannot answer', () => {
    const ids = devices();
    expect(preferredAllocation({ available: ['0000:6b:00.1'], mustInclude: [], size: 2 }, ids)).toEqual({ error: 'allocation_size 2 is more than the 1 available devices' });
    expect(preferredAllocation({ available: ['nope'], mustInclude: [], size: 1 }, ids)).toEqual({ error: 'unknown device ID "nope"' });
    expect(preferredAllocation({ available: ['0000:6b:00.1', '0000:6b:00.2'], mustInclude: ['0000:6b:00.1', '0000:6b:00.2'], size: 1 }, ids)).toEqual({ error: '2 must-include devices do not fit allocation_size 1' });
  });
});
