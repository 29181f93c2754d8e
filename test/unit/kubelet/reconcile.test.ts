import { describe, expect, it } from 'vitest';
import { assignmentsOf, planReconcile } from '../../../src/kubelet/reconcile.js';
import type { ReservationEntry } from '../../../src/sections/reservations.js';

const order = new Map(['SSL_INT_0', 'SSL_INT_1', 'SSL_INT_2', 'SSL_INT_3'].map((n, i) => [n, i]));
const NOW = 1_000_000;
const res = (key: string, sections: string[], o: Partial<ReservationEntry['pod']> = {}, since = NOW - 120_000): ReservationEntry => ({
  key, resource: 'qat.intel.com/managed', sections, vfs: [], since,
  pod: { uid: null, containerId: null, namespace: null, name: null, container: null, ...o },
});
const pods = (...c: Array<[string, string, string, string[]]>) => c.map(([ns, name, container, ids]) => ({
  namespace: ns, name, containers: [{ name: container, devices: [{ resource_name: 'qat.intel.com/managed', device_ids: ids, topology: null }, { resource_name: 'qat.intel.com/cy', device_ids: ['0000:6b:00.1'], topology: null }] }],
}));

describe('reconcile with the kubelet\'s Pod Resources list', () => {
  it('reads only the managed resource\'s devices of each container', () => {
    expect(assignmentsOf(pods(['a', 'p', 'c', ['SSL_INT_1']]), 'qat.intel.com/managed')).toEqual([{ namespace: 'a', pod: 'p', container: 'c', sections: ['SSL_INT_1'] }]);
  });

  it('confirms a listed reservation with its names, recreates a listed one it lacks in plan order, and ends one listed before but not now', () => {
    const plan = planReconcile(
      [res('SSL_INT_0', ['SSL_INT_0']), res('SSL_INT_3', ['SSL_INT_3'], { name: 'old', namespace: 'x', container: 'c' })],
      assignmentsOf(pods(['shop', 'web-1', 'nginx', ['SSL_INT_0']], ['batch', 'zip', 'w', ['SSL_INT_2', 'SSL_INT_1']]), 'qat.intel.com/managed'),
      order, NOW, 60_000,
    );
    expect(plan.confirm).toEqual([{ key: 'SSL_INT_0', namespace: 'shop', pod: 'web-1', container: 'nginx' }]);
    expect(plan.create).toEqual([{ namespace: 'batch', pod: 'zip', container: 'w', sections: ['SSL_INT_1', 'SSL_INT_2'] }]);
    expect(plan.drop).toEqual([{ key: 'SSL_INT_3', why: 'the kubelet lists no container with SSL_INT_3: its pod has ended' }]);
    expect(plan.problems).toEqual([]);
  });

  it('keeps a fresh reservation the kubelet has not listed yet (its container may be being created), even when already bound', () => {
    const plan = planReconcile([res('SSL_INT_0', ['SSL_INT_0'], { uid: 'u', containerId: 'c' }, NOW - 1000)], [], order, NOW, 60_000);
    expect(plan.drop).toEqual([]);
    const old = planReconcile([res('SSL_INT_0', ['SSL_INT_0'], { uid: 'u' }, NOW - 61_000)], [], order, NOW, 60_000);
    expect(old.drop.map((d) => d.key)).toEqual(['SSL_INT_0']);
  });

  it('replaces a reservation whose sections the kubelet now lists differently', () => {
    const plan = planReconcile([res('SSL_INT_0', ['SSL_INT_0', 'SSL_INT_1'])], assignmentsOf(pods(['a', 'p', 'c', ['SSL_INT_1']]), 'qat.intel.com/managed'), order, NOW, 60_000);
    expect(plan.drop).toEqual([{ key: 'SSL_INT_0', why: 'the kubelet now lists SSL_INT_1 for a/p container c' }]);
    expect(plan.create.map((a) => a.sections)).toEqual([['SSL_INT_1']]);
  });

  it('reports, and does not act on, a section listed for two containers or one the plan does not have', () => {
    const plan = planReconcile([], assignmentsOf(pods(['a', 'p', 'c', ['SSL_INT_1']], ['b', 'q', 'd', ['SSL_INT_1']], ['e', 'r', 'f', ['SSL_INT_9']]), 'qat.intel.com/managed'), order, NOW, 60_000);
    expect(plan.create.map((a) => a.pod)).toEqual(['p']);
    expect(plan.problems).toEqual([
      'the kubelet lists SSL_INT_1 for both a/p container c and b/q container d; the second is ignored',
      'the kubelet lists SSL_INT_9 for e/r container f, but the plan has no such section; not reserved',
    ]);
  });
});
