// The daemon serves the minimal fake tree of behaviour §16.2 (plain files, no simulator), as upstream would read it.

import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { startDaemon } from '../helpers/daemon.js';
import { tmpDir } from '../helpers/sim.js';
import { QatClient } from '../../src/client/qatclient.js';
import { simulatedRoots } from '../../src/config/roots.js';

function write(p: string, text: string): void {
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, text);
}

/** Behaviour §16.2: only what upstream's discovery reads (plain directories and files, no links). */
function minimalTree(): string {
  const dir = path.join(tmpDir(), 'min');
  const sys = path.join(dir, 'sys');
  const dev = path.join(dir, 'dev');
  write(path.join(dev, 'vfio', 'vfio'), '');
  const slots = ['00.1', '00.2', '00.3', '00.4', '00.5', '00.6', '00.7', '01.0', '01.1', '01.2', '01.3', '01.4', '01.5', '01.6', '01.7', '02.0'];
  const pfs = [{ bdf: '0000:6b:00.0', bus: '6b', base: 100, dom: '0000' }, { bdf: '0000:70:00.0', bus: '70', base: 116, dom: '0000' }];
  for (const pf of pfs) {
    fs.mkdirSync(path.join(sys, 'bus', 'pci', 'drivers', '4xxx', pf.bdf), { recursive: true });
    slots.forEach((slot, k) => {
      const vf = `${pf.dom}:${pf.bus}:${slot}`;
      const g = pf.base + k;
      write(path.join(dev, 'vfio', String(g)), '');
      const gd = path.join(sys, 'kernel', 'iommu_groups', String(g), 'devices', vf);
      write(path.join(gd, 'device'), '0x4941\n');
      write(path.join(gd, 'vendor'), '0x8086\n');
      write(path.join(gd, 'numa_node'), '0\n');
      write(path.join(sys, 'bus', 'pci', 'devices', vf, 'physfn', 'uevent'), `DRIVER=4xxx\nPCI_ID=8086:4940\nPCI_SLOT_NAME=${pf.bdf}\n`);
    });
  }
  write(path.join(sys, 'devices', 'system', 'cpu', 'online'), '0-7\n');
  write(path.join(sys, 'devices', 'system', 'node', 'node0', 'cpulist'), '0-7\n');
  fs.mkdirSync(path.join(dir, 'run', 'qat'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'etc'), { recursive: true });
  return dir;
}

describe('behaviour §16.2 minimal tree', () => {
  it('serves §16.5: 16 sections, fallback capabilities, SSL_INT_0 on 6b:01.0 + 70:01.0 with /dev/vfio/107 and 123', async () => {
    const dir = minimalTree();
    const roots = simulatedRoots(dir);
    const d = await startDaemon({ dir, roots, host: { pfs: [], guestVfs: [], cpus: 8, numaNodes: 1, noiommu: false, modules: {}, cmdline: '' } });
    try {
      const c = await QatClient.connect(d.socket);
      const r = await c.handshake('SSL');
      expect(r.section).toBe('SSL_INT_0');
      expect(r.devices.map((x) => [x.id, x.vfio.path, x.info.pkgId, x.info.capabilityMask, x.info.services, x.info.numCy])).toEqual([
        ['0000:6b:01.0', '/dev/vfio/107', 0, 0x0403b20f, 6, 2],
        ['0000:70:01.0', '/dev/vfio/123', 1, 0x0403b20f, 6, 2],
      ]);
      expect(r.devices.flatMap((x) => x.instances.map((i) => `${i.name}:${i.info.asym.core}/${i.info.first.core}`))).toEqual(['sym0:0/2', 'sym1:1/3', 'sym2:4/6', 'sym3:5/7']);
      expect(r.pfs).toEqual([
        { pkgId: 0, domain: 0, bdf16: 0x6b00, deviceGen: '4xxx' },
        { pkgId: 1, domain: 0, bdf16: 0x7000, deviceGen: '4xxx' },
      ]);
      await c.close();
      // the PFs have no qat/cfg_services here (an older kernel): upstream's fallback, nothing to warn about
      expect(d.stderr()).toBe('');
    } finally {
      await d.stop();
    }
  });
});
