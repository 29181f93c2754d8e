// The IAA/DSA configuration: accel-config JSON and IaaCrypto= parsed with errors naming file and JSON path;
// impossible layouts refused against the devices present before anything is touched.

import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { parseAccelConfig, parseIaaCrypto, expandIaaCrypto } from '../../../src/provision/idxd-config.js';
import { makeIdxdPlan } from '../../../src/provision/idxd-plan.js';
import { readIdxdInventory } from '../../../src/idxd/inventory.js';
import { SimKernelFs } from '../../../src/sim/kernel.js';
import { simHost } from '../../helpers/sim.js';
import { snapshotTree, qatctl } from '../../helpers/tree.js';
import { isQatmgrError, type QatmgrError } from '../../../src/errors.js';

const F = '/etc/accel-config/accel-config.conf';

function thrown(fn: () => unknown): QatmgrError {
  try {
    fn();
  } catch (e) {
    if (isQatmgrError(e)) return e;
    throw e;
  }
  throw new Error('did not throw');
}

const wq = (dev: string, extra: Record<string, unknown> = {}) => ({ dev, mode: 'dedicated', size: 16, type: 'kernel', name: 'k', ...extra });
const dev = (n: string, id: number, wqs: unknown[], engines = [`engine${id}.0`]) => ({ dev: n, groups: [{ dev: `group${id}.0`, grouped_workqueues: wqs, grouped_engines: engines.map((e) => ({ dev: e })) }] });

describe('accel-config JSON', () => {
  it('malformed JSON is a syntax error with file, line and column', () => {
    const e = thrown(() => parseAccelConfig('[\n  {"dev": "iax1",}\n]', F));
    expect(e.code).toBe('QATMGR_E_CONFIG_SYNTAX');
    expect(e.message).toMatch(/^\/etc\/accel-config\/accel-config\.conf:2:18: not valid JSON/);
  });

  it.each([
    ['{}', '$: expected an array'],
    ['[{"dev": 3}]', '[0].dev: 3 is not a string'],
    ['[{"dev": "iaa1"}]', '[0].dev: "iaa1" is not a device name (dsa<N> or iax<N>)'],
    ['[{"dev": "iax1", "colour": "blue"}]', '[0].colour: unknown device key "colour"'],
    [JSON.stringify([dev('iax1', 1, [wq('wq1.0', { size: 'big' })])]), '[0].groups[0].grouped_workqueues[0].size: "big" is not an integer 0..'],
    [JSON.stringify([dev('iax1', 1, [wq('wq1.0', { szie: 8 })])]), '[0].groups[0].grouped_workqueues[0].szie: unknown wq key "szie"'],
    [JSON.stringify([dev('iax1', 1, [wq('wq3.0')])]), '[0].groups[0].grouped_workqueues[0].dev: "wq3.0" is not a wq of iax1 (wq1.<n>)'],
    [JSON.stringify([dev('iax1', 1, [wq('wq1.0', { mode: 'exclusive' })])]), '.mode: "exclusive" is not shared|dedicated'],
    [JSON.stringify([dev('iax1', 1, [wq('wq1.0', { type: 'mdev' })])]), '.type: "mdev" is not kernel|user|none (mdev wqs are not supported by the in-tree driver)'],
    [JSON.stringify([dev('iax1', 1, [wq('wq1.0', { priority: 16 })])]), '.priority: 16 is more than 15'],
    [JSON.stringify([dev('iax1', 1, [wq('wq1.0', { max_transfer_size: 3000 })])]), '.max_transfer_size: 3000 is not a power of two (the kernel would round it up to 4096)'],
    [JSON.stringify([dev('iax1', 1, [wq('wq1.0', { group_id: 2 })])]), '.group_id: 2 but the wq is listed in group1.0'],
    [JSON.stringify([dev('iax1', 1, [wq('wq1.0', { driver_name: 'fast' })])]), '.driver_name: "fast" is not a wq driver (dmaengine, user, crypto)'],
    [JSON.stringify([dev('iax1', 1, [wq('wq1.0'), wq('wq1.0')])]), '[0].groups[0].grouped_workqueues[1].dev: wq1.0 is described twice (first at [0].groups[0].grouped_workqueues[0])'],
    [JSON.stringify([dev('iax1', 1, []), dev('iax1', 1, [])]), '[1].dev: iax1 is described twice (first at [0])'],
  ])('%s is refused: %s', (text, msg) => {
    const e = thrown(() => parseAccelConfig(text, F));
    expect(e.code).toBe('QATMGR_E_CONFIG_VALUE');
    expect(e.message).toContain(`${F}: `);
    expect(e.message).toContain(msg);
  });

  it("accel-config's list output is accepted: read-only keys are ignored, ungrouped parts are kept out of groups", () => {
    const w = parseAccelConfig(JSON.stringify([{
      dev: 'iax1', max_groups: 4, state: 'enabled', numa_node: 0, gen_cap: '0x71f', configurable: 1,
      groups: [{ dev: 'group1.0', traffic_class_a: 1, traffic_class_b: 1, grouped_workqueues: [{ ...wq('wq1.0'), max_batch_size: -2, state: 'enabled', clients: 0, driver_name: 'crypto' }], grouped_engines: [{ dev: 'engine1.0', group_id: 0 }] }],
      ungrouped_engines: [{ dev: 'engine1.1' }],
      'ungrouped workqueues': [{ dev: 'wq1.1', mode: 'shared', size: 0 }],
    }]), F);
    const d = w.devices[0];
    expect(d.wqs.map((q) => [q.dev, q.enable, q.attrs.group_id])).toEqual([['wq1.0', true, '0'], ['wq1.1', false, undefined]]);
    expect(d.wqs[0].attrs.max_batch_size).toBeUndefined();
    expect([...d.engines]).toEqual([[0, { group: 0, where: expect.any(String) }], [1, { group: -1, where: expect.any(String) }]]);
    expect(d.groups[0].attrs).toEqual({ traffic_class_a: '1', traffic_class_b: '1' });
  });
});

describe('IaaCrypto=', () => {
  it('off or empty means not used; keys are checked with file:line and value', () => {
    expect(parseIaaCrypto('off', 'f:2')).toBeUndefined();
    expect(parseIaaCrypto('', 'f:2')).toBeUndefined();
    expect(parseIaaCrypto('on', 'f:2')).toMatchObject({ mode: 'dedicated', priority: 10, devices: 'all' });
    expect(parseIaaCrypto('mode=shared,sync_mode=async_irq zswap=deflate-iaa devices=iax1+iax3', 'f:2')).toMatchObject({ mode: 'shared', syncMode: 'async_irq', zswapCompressor: 'deflate-iaa', devices: ['iax1', 'iax3'] });
    expect(thrown(() => parseIaaCrypto('mode=shred', 'f:2')).message).toBe('f:2: IaaCrypto="mode=shred": mode "shred" is not dedicated|shared');
    expect(thrown(() => parseIaaCrypto('sync_mode=fast', 'f:2')).message).toMatch(/sync_mode "fast" is not sync\|async\|async_irq/);
    expect(thrown(() => parseIaaCrypto('wq_size=0', 'f:2')).message).toMatch(/wq_size=0 is not 1\.\.4096/);
    expect(thrown(() => parseIaaCrypto('zswap=lz4', 'f:2')).message).toMatch(/zswap "lz4" is not deflate-iaa/);
    expect(thrown(() => parseIaaCrypto('colour=blue', 'f:2')).message).toMatch(/unknown key "colour"/);
    expect(thrown(() => parseIaaCrypto('devices=dsa0', 'f:2')).message).toMatch(/devices: "dsa0" is not an IAA device name/);
  });

  it('expands to one wq per IAA device with every engine in group 0, and names a device that is not there', () => {
    const g = simHost('iaa=2,dsa=1');
    const inv = readIdxdInventory(new SimKernelFs(g.dir), g.roots);
    const w = expandIaaCrypto(parseIaaCrypto('wq_size=32 mode=shared', 'f:2')!, inv);
    expect(w.devices.map((d) => d.dev)).toEqual(['iax1', 'iax2']);
    expect(w.devices[0].wqs[0].attrs).toMatchObject({ size: '32', threshold: '32', mode: 'shared', type: 'kernel', name: 'iaa_crypto', driver_name: 'crypto', group_id: '0' });
    expect(w.devices[0].engines.size).toBe(8);
    expect(thrown(() => expandIaaCrypto(parseIaaCrypto('devices=iax7', 'f:2')!, inv)).message).toMatch(/devices: iax7 is not an IAA device of this host \(present: iax1, iax2\)/);
  });
});

describe('impossible layouts are refused before anything is touched', () => {
  const g = simHost('iaa=1,dsa=1,idxd_wqs=4,sm=off');
  const inv = readIdxdInventory(new SimKernelFs(g.dir), g.roots);
  const plan = (json: unknown) => () => makeIdxdPlan({ inv, wanted: parseAccelConfig(JSON.stringify(json), F), roots: g.roots, gid: 994, groupName: 'qat' });

  it.each([
    ['more wqs than the device has', [dev('iax1', 1, [wq('wq1.0'), wq('wq1.1'), wq('wq1.2'), wq('wq1.3'), wq('wq1.4')])], /5 wqs but iax1 has max_work_queues 4[\s\S]*wq1\.4 does not exist: iax1 has wq1\.0\.\.wq1\.3/],
    ['wq sizes over the device total', [dev('iax1', 1, [wq('wq1.0', { size: 100 }), wq('wq1.1', { size: 29 })])], /wq sizes add up to 129 \(wq1\.0 100, wq1\.1 29\) but iax1 has max_work_queues_size 128/],
    ['a group without an engine', [dev('iax1', 1, [wq('wq1.0')], [])], /wq1\.0 is in group1\.0, which has no engine/],
    ['a user wq without SVA', [dev('dsa0', 0, [wq('wq0.0', { type: 'user' })])], /a user wq needs PASID\/SVA but dsa0 has pasid_enabled 0: boot with intel_iommu=on,sm_on/],
    ['iaa_crypto on a DSA', [dev('dsa0', 0, [wq('wq0.0', { driver_name: 'crypto' })])], /"crypto" \(iaa_crypto\) binds IAA wqs only; dsa0 is a DSA/],
    ['a threshold over the size', [dev('dsa0', 0, [wq('wq0.0', { mode: 'shared', threshold: 20 })])], /threshold: 20 is more than the wq size 16/],
    ['an enabled wq without a name', [dev('iax1', 1, [{ dev: 'wq1.0', mode: 'dedicated', size: 8, type: 'kernel' }])], /no name: the kernel refuses to enable a wq without one/],
    ['a device that is not there', [dev('iax5', 5, [wq('wq5.0')])], /iax5 is not a device of this host \(present: dsa0, iax1\)/],
    ['a traffic class the device keeps', [{ dev: 'dsa0', groups: [{ dev: 'group0.0', traffic_class_a: 3, grouped_workqueues: [wq('wq0.0')], grouped_engines: [{ dev: 'engine0.0' }] }] }], /traffic_class_a: 3: devices of version 0x100 keep traffic classes at 1/],
  ])('%s', (_what, json, msg) => {
    const e = thrown(plan(json));
    expect(e.code).toBe('QATMGR_E_CONFIG_VALUE');
    expect(e.message).toMatch(/^the IAA\/DSA configuration cannot be applied; nothing was changed:/);
    expect(e.message).toMatch(msg);
  });

  it('qatctl provision exits 1 with the file and JSON path, and the tree is untouched', async () => {
    const dir = path.join(g.dir);
    const file = path.join(dir, 'etc', 'bad.json');
    fs.writeFileSync(file, JSON.stringify([dev('iax1', 1, [wq('wq1.0', { size: 200 })])]));
    const before = snapshotTree(dir);
    const r = await qatctl(['provision', '--sim-dir', dir, '--accel-config', file]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`${file}: [0]: wq sizes add up to 200 (wq1.0 200)`);
    expect(r.err).toMatch(/wq sizes add up to 200/);
    expect(snapshotTree(dir)).toEqual(before);
  });
});
