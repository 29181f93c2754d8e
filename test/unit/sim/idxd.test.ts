// Simulated DSA/IAA hosts: the tree the idxd driver shows, read back by the inventory, and the kernel model's rules.

import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { parseSimSpec } from '../../../src/sim/index.js';
import { SimKernelFs } from '../../../src/sim/kernel.js';
import { readIdxdInventory } from '../../../src/idxd/inventory.js';
import { simHost } from '../../helpers/sim.js';
import { isQatmgrError } from '../../../src/errors.js';

function errOf(fn: () => void): string | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code ?? (e as Error).message;
  }
}

describe('simulated DSA/IAA inventory', () => {
  it.each([1, 2, 4, 8])('%i IAA and as many DSA devices are read back with their names, addresses, limits and wqs', (n) => {
    const g = simHost(`iaa=${n},dsa=${n},numa=2`);
    const inv = readIdxdInventory(new SimKernelFs(g.dir), g.roots);
    expect(inv.bus).toBe(true);
    expect(inv.devices.map((d) => d.dev)).toEqual(Array.from({ length: 2 * n }, (_, i) => `${i % 2 === 0 ? 'dsa' : 'iax'}${i}`));
    for (const d of inv.devices) {
      expect(d.product).toBe(d.type === 'dsa' ? 'DSA' : 'IAA');
      expect(d.pci).toMatch(d.type === 'dsa' ? /^0000:[0-9a-f]{2}:01\.0$/ : /^0000:[0-9a-f]{2}:02\.0$/);
      expect(d.state).toBe('disabled');
      expect(d.wqs).toHaveLength(8);
      expect(d.engines).toHaveLength(d.type === 'iax' ? 8 : 4);
      expect(d.groups).toHaveLength(4);
      expect(d.maxWorkQueuesSize).toBe(128);
      expect(d.maxBatchSize).toBe(d.type === 'dsa' ? 1024 : null);
      expect(d.wqs[0]).toMatchObject({ state: 'disabled', mode: 'shared', size: 0, groupId: -1, type: 'none', name: '', driverName: '', driver: null });
      expect(Object.keys(d.wqs[0].attrs)).toEqual(expect.arrayContaining(['block_on_fault', 'threshold', 'priority', 'max_transfer_size', 'ats_disable', 'enqcmds_retries']));
    }
    expect(new Set(inv.devices.map((d) => d.numaNode))).toEqual(new Set(n > 1 ? [0, 1] : [0]));
    expect(inv.iaaCrypto).toMatchObject({ loaded: true, syncMode: 'sync', verifyCompress: '1', wqs: [], registered: false });
    expect(inv.zswap).toEqual({ present: true, enabled: 'N', compressor: 'lzo' });
    expect(inv.modules).toEqual({ idxd: 'Live', iaa_crypto: 'Live' });
  });

  it('options set per-device limits, scalable mode and iaa_crypto, and a QAT host keeps its PFs', () => {
    const g = simHost('4xxx:1x2,iaa=1,idxd_wqs=4,idxd_engines=2,idxd_groups=2,idxd_wq_size=64,sm=off,iaa_crypto=off');
    const inv = readIdxdInventory(new SimKernelFs(g.dir), g.roots);
    expect(inv.devices).toHaveLength(1);
    expect(inv.devices[0]).toMatchObject({ dev: 'iax0', maxWorkQueues: 4, maxEngines: 2, maxGroups: 2, maxWorkQueuesSize: 64, pasidEnabled: false });
    expect(inv.iaaCrypto.loaded).toBe(false);
    expect(inv.modules.iaa_crypto).toBeNull();
    expect(fs.readFileSync(path.join(g.roots.proc, 'cmdline'), 'utf8')).not.toContain('sm_on');
    expect(g.host.pfs).toHaveLength(1);
  });

  it('bad idxd options are spec errors naming the option', () => {
    for (const [spec, msg] of [['iaa=9', /iaa=9 is not 0\.\.8/], ['4xxx:1x1,idxd_wqs=4', /idxd_wqs given without iaa= or dsa=/], ['iaa=1,sm=maybe', /sm=maybe is not on\|off/], ['numa=2', /nothing to simulate/]] as const) {
      let err: unknown;
      try { parseSimSpec(spec); } catch (e) { err = e; }
      expect(isQatmgrError(err) && (err as Error).message).toMatch(msg);
    }
  });

  it('the accel-config style tree: bus links to conf devices under the PCI function, drivers and zswap parameters', () => {
    const g = simHost('iaa=1');
    const bus = path.join(g.roots.sys, 'bus', 'dsa');
    expect(fs.realpathSync(path.join(bus, 'devices', 'wq0.3'))).toBe(path.join(g.roots.sys, 'devices', 'pci0000:6a', '0000:6a:02.0', 'iax0', 'wq0.3'));
    expect(fs.readdirSync(path.join(bus, 'drivers')).sort()).toEqual(['crypto', 'dmaengine', 'dsa', 'idxd', 'user']);
    expect(fs.existsSync(path.join(g.roots.sys, 'module', 'idxd'))).toBe(true);
    expect(fs.readFileSync(path.join(bus, 'devices', 'group0.0', 'work_queues'), 'utf8')).toBe('');
  });
});

describe('the simulated idxd kernel', () => {
  const setup = (spec = 'iaa=1,dsa=1') => {
    const g = simHost(spec);
    const k = new SimKernelFs(g.dir);
    const bus = path.join(g.roots.sys, 'bus', 'dsa');
    const w = (p: string, v: string): string | undefined => errOf(() => k.writeFile(path.join(bus, p), v));
    const r = (p: string): string => fs.readFileSync(path.join(bus, p), 'utf8');
    return { g, k, w, r, bus };
  };
  const configure = (w: (p: string, v: string) => string | undefined, dev: number, type: string, driver: string): void => {
    for (const [a, v] of [['group_id', '0'], ['mode', 'dedicated'], ['size', '16'], ['type', type], ['name', 'w'], ['driver_name', driver]]) expect(w(`devices/wq${dev}.0/${a}`, v)).toBeUndefined();
    expect(w(`devices/engine${dev}.0/group_id`, '0')).toBeUndefined();
  };

  it('group lists follow the members, and disabling a device resets groups, engines and wqs', () => {
    const { w, r } = setup();
    configure(w, 1, 'kernel', 'crypto');
    expect(r('devices/group1.0/work_queues')).toBe('wq1.0\n');
    expect(r('devices/group1.0/engines')).toBe('engine1.0\n');
    expect(w('drivers/idxd/bind', 'iax1')).toBeUndefined();
    expect(w('devices/wq1.0/size', '32')).toBe('EPERM');
    expect(w('drivers/crypto/bind', 'wq1.0')).toBeUndefined();
    expect(r('devices/wq1.0/state')).toBe('enabled\n');
    expect(w('drivers/idxd/unbind', 'iax1')).toBeUndefined();
    expect(r('devices/wq1.0/state')).toBe('disabled\n');
    expect(r('devices/wq1.0/size')).toBe('0\n');
    expect(r('devices/wq1.0/name')).toBe('\n');
    expect(r('devices/engine1.0/group_id')).toBe('-1\n');
    expect(r('devices/group1.0/work_queues')).toBe('');
    expect(fs.readdirSync(path.join(setup().bus, 'drivers', 'crypto')).filter((n) => n.startsWith('wq'))).toEqual([]);
  });

  it('a failed enable leaves the driver reason in cmd_status, and a wrong driver_name is ENODEV', () => {
    const { w, r } = setup();
    expect(w('drivers/idxd/bind', 'iax1')).toBe('ENXIO');
    expect(r('devices/iax1/cmd_status')).toBe('0x800d0000\n');
    configure(w, 1, 'kernel', 'dmaengine');
    expect(w('drivers/idxd/bind', 'iax1')).toBeUndefined();
    expect(w('drivers/crypto/bind', 'wq1.0')).toBe('ENODEV');
    expect(r('devices/iax1/cmd_status')).toBe('0x80200000\n');
    expect(w('drivers/crypto/bind', 'iax1')).toBe('ENODEV');
    expect(w('drivers/idxd/bind', 'wq1.0')).toBe('ENODEV');
    expect(w('drivers/dmaengine/bind', 'wq1.0')).toBeUndefined();
    expect(w('drivers/dmaengine/bind', 'wq1.0')).toBe('EBUSY');
  });

  it('iaa_crypto: attributes are busy while a wq is bound, the module cannot go, deflate-iaa registers once per load', () => {
    const { g, k, w, r } = setup();
    configure(w, 1, 'kernel', 'crypto');
    expect(w('drivers/idxd/bind', 'iax1')).toBeUndefined();
    expect(w('drivers/crypto/sync_mode', 'async')).toBeUndefined();
    expect(w('drivers/crypto/bind', 'wq1.0')).toBeUndefined();
    expect(fs.readFileSync(path.join(g.roots.proc, 'crypto'), 'utf8')).toContain('driver       : deflate-iaa');
    expect(w('drivers/crypto/sync_mode', 'sync')).toBe('EBUSY');
    expect(errOf(() => k.rmmod('iaa_crypto'))).toBe('EBUSY');
    expect(errOf(() => k.writeFile(path.join(g.roots.sys, 'module', 'zswap', 'parameters', 'compressor'), 'deflate-iaa'))).toBeUndefined();
    expect(errOf(() => k.writeFile(path.join(g.roots.sys, 'module', 'zswap', 'parameters', 'compressor'), 'brotli'))).toBe('ENOENT');
    expect(w('drivers/crypto/unbind', 'wq1.0')).toBeUndefined();
    for (const [a, v] of [['mode', 'dedicated'], ['type', 'kernel'], ['name', 'w'], ['driver_name', 'crypto']]) w(`devices/wq1.0/${a}`, v);
    expect(w('drivers/crypto/bind', 'wq1.0')).toBe('EEXIST');
    expect(errOf(() => k.rmmod('iaa_crypto'))).toBeUndefined();
    expect(fs.readFileSync(path.join(g.roots.proc, 'crypto'), 'utf8')).not.toContain('deflate-iaa');
    expect(fs.readFileSync(path.join(g.roots.proc, 'modules'), 'utf8')).not.toMatch(/^iaa_crypto /m);
    k.modprobe('iaa_crypto');
    expect(r('drivers/crypto/sync_mode')).toBe('sync\n');
    for (const [a, v] of [['mode', 'dedicated'], ['type', 'kernel'], ['name', 'w'], ['driver_name', 'crypto']]) w(`devices/wq1.0/${a}`, v);
    expect(w('drivers/crypto/bind', 'wq1.0')).toBeUndefined();
  });

  it('a user wq gets a root-only /dev/<type>/wqN.M node; unbinding removes it and the empty directory', () => {
    const { g, w } = setup();
    configure(w, 0, 'user', 'user');
    expect(w('drivers/idxd/bind', 'dsa0')).toBeUndefined();
    expect(w('drivers/user/bind', 'wq0.0')).toBeUndefined();
    const node = path.join(g.roots.dev, 'dsa', 'wq0.0');
    expect(fs.statSync(node).mode & 0o777).toBe(0o600);
    expect(w('drivers/user/unbind', 'wq0.0')).toBeUndefined();
    expect(fs.existsSync(path.join(g.roots.dev, 'dsa'))).toBe(false);
  });

  it('without scalable mode a user wq is refused with the SVA reason', () => {
    const { w, r } = setup('dsa=1,sm=off');
    configure(w, 0, 'user', 'user');
    expect(w('drivers/idxd/bind', 'dsa0')).toBeUndefined();
    expect(w('drivers/user/bind', 'wq0.0')).toBe('EOPNOTSUPP');
    expect(r('devices/dsa0/cmd_status')).toBe('0x80110000\n');
  });
});
