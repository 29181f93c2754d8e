// The full libqat start-up sequence against the real daemon on several simulated hosts, every field checked.

import { describe, it, expect, afterAll } from 'vitest';
import { startDaemon, type RunningDaemon } from '../helpers/daemon.js';
import { QatClient } from '../../src/client/qatclient.js';

const running: RunningDaemon[] = [];
afterAll(async () => { await Promise.all(running.map((d) => d.stop())); });

async function daemon(spec: string, args: string[] = []): Promise<RunningDaemon> {
  const d = await startDaemon(spec, args);
  running.push(d);
  return d;
}

/** Expected per-VF facts from the services of its PF (behaviour §10.2), independent of the daemon's code. */
const PROFILE: Record<string, { caps: number; services: number; cy: number; sym: number; asym: number; dc: number; names: (base: number) => string[] }> = {
  'sym;asym': { caps: 0x0403b20f, services: 6, cy: 2, sym: 2, asym: 2, dc: 0, names: (b) => [`sym${b}`, `sym${b + 1}`] },
  dc: { caps: 0x03c00020, services: 1, cy: 0, sym: 0, asym: 0, dc: 4, names: (b) => [`dc${b}`, `dc${b + 1}`, `dc${b + 2}`, `dc${b + 3}`] },
};

const SHAPES = [
  { spec: '4xxx:1x16', pfs: ['0000:6b:00.0'], family: { vfName: '4xxxvf', type: 14, pci: 0x4941, gen: '4xxx' }, nodes: [0], cpusPerNode: 8 },
  { spec: '4xxx:2x16', pfs: ['0000:6b:00.0', '0000:70:00.0'], family: { vfName: '4xxxvf', type: 14, pci: 0x4941, gen: '4xxx' }, nodes: [0, 0], cpusPerNode: 8 },
  { spec: '420xx:4x16', pfs: ['0000:6b:00.0', '0000:70:00.0', '0000:75:00.0', '0000:7a:00.0'], family: { vfName: '420xxvf', type: 16, pci: 0x4947, gen: '420xx' }, nodes: [0, 0, 0, 0], cpusPerNode: 8 },
  { spec: '4xxx:8x16,numa=2', pfs: ['0000:6b:00.0', '0000:70:00.0', '0000:75:00.0', '0000:7a:00.0', '0000:e8:00.0', '0000:ed:00.0', '0000:f2:00.0', '0000:f7:00.0'], family: { vfName: '4xxxvf', type: 14, pci: 0x4941, gen: '4xxx' }, nodes: [0, 0, 0, 0, 1, 1, 1, 1], cpusPerNode: 8 },
];

describe.each(SHAPES)('libqat start-up on $spec', (shape) => {
  it('hands out SSL_INT_0 with one VF of every PF and every field as libqat expects', async () => {
    const d = await daemon(shape.spec);
    const c = await QatClient.connect(d.socket);
    const r = await c.handshake('SSL');
    expect(r.section).toBe('SSL_INT_0');
    expect(r.devices).toHaveLength(shape.pfs.length);
    // the default simulator gives even PFs sym;asym and odd PFs dc (the kernel default)
    const counters = { sym: 0, dc: 0 };
    const cursors = new Map<number, number>();
    r.devices.forEach((dev, i) => {
      const pfBus = shape.pfs[i].slice(5, 7);
      const svc = i % 2 === 0 ? 'sym;asym' : 'dc';
      const p = PROFILE[svc];
      expect(dev.id).toBe(`0000:${pfBus}:01.0`);
      expect(dev.vfio).toEqual({ fd: -1, path: expect.stringMatching(/^\/dev\/vfio\/\d+$/) });
      expect(dev.info).toMatchObject({
        deviceNum: i, deviceType: shape.family.type, pciId: shape.family.pci, capabilityMask: p.caps, extCaps: 0,
        fwCapsValid: false, maxBanks: 4, maxRingsPerBank: 2, arbMask: 1, ringMode: 0, services: p.services, pkgId: i,
        nodeId: shape.nodes[i], numCy: p.cy, numSym: p.sym, numAsym: p.asym, numDc: p.dc, numDecomp: 0, deviceName: shape.family.vfName,
      });
      const base = svc === 'dc' ? counters.dc : counters.sym;
      expect(dev.instances.map((x) => x.name)).toEqual(p.names(base));
      if (svc === 'dc') counters.dc += 4; else counters.sym += 2;
      // CPUs: one cursor per node, asym first then sym (or dc), round robin over the node's 8 CPUs
      const node = shape.nodes[i];
      const first = node * shape.cpusPerNode;
      const cur = cursors.get(node) ?? 0;
      const cores = Array.from({ length: 4 }, (_, k) => first + ((cur + k) % shape.cpusPerNode));
      cursors.set(node, (cur + 4) % shape.cpusPerNode);
      for (const inst of dev.instances) {
        expect(inst.info.first.accelId).toBe(i);
        expect(inst.info.first.isPolled).toBe(1);
        expect([inst.info.first.ringTx, inst.info.first.ringRx]).toEqual([0, 1]);
      }
      if (svc === 'dc') {
        expect(dev.instances.map((x) => [x.info.first.bank, x.info.first.core, x.info.first.concurrent])).toEqual(cores.map((core, k) => [k, core, 512]));
      } else {
        // CY k pairs asym k (banks 0, 2; first two CPUs) with sym k (banks 1, 3; next two CPUs)
        expect(dev.instances.map((x) => [x.info.asym.bank, x.info.asym.core, x.info.asym.concurrent, x.info.first.bank, x.info.first.core, x.info.isPolled]))
          .toEqual([[0, cores[0], 64, 1, cores[2], 1], [2, cores[1], 64, 3, cores[3], 1]]);
      }
    });
    expect(r.pfs).toEqual(shape.pfs.map((bdf, i) => ({ pkgId: i, domain: 0, bdf16: parseInt(bdf.slice(5, 7), 16) << 8, deviceGen: shape.family.gen })));
    await c.sectionPut('SSL_INT_0');
    // 16 VFs per PF: 16 sections at policy 0, granted first-fit
    const names: string[] = [];
    const clients: QatClient[] = [];
    for (let k = 0; k < 17; k++) {
      const cl = await QatClient.connect(d.socket);
      clients.push(cl);
      names.push(await cl.sectionGet('SSL').catch((e: Error) => e.message));
    }
    expect(names.slice(0, 16)).toEqual(Array.from({ length: 16 }, (_, k) => `SSL_INT_${k}`));
    expect(names[16]).toMatch(/No section available/);
    await Promise.all(clients.map((cl) => cl.close()));
    await c.close();
  });
});

describe('policies over the socket', () => {
  it('policy 1 gives 32 single-VF sections on the two-PF host, in sorted order', async () => {
    const d = await daemon('4xxx:2x16', ['--policy', '1']);
    const ids: string[] = [];
    for (let k = 0; k < 3; k++) {
      const c = await QatClient.connect(d.socket);
      const r = await c.handshake('SSL');
      expect(r.section).toBe(`SSL_INT_${k}`);
      ids.push(...r.devices.map((x) => x.id));
    }
    expect(ids).toEqual(['0000:6b:01.0', '0000:70:01.0', '0000:6b:02.0']);
  });

  it('reads POLICY from the settings file', async () => {
    const { simHost } = await import('../helpers/sim.js');
    const fs = await import('node:fs');
    const h = simHost('4xxx:2x16');
    fs.writeFileSync(`${h.roots.etc}/sysconfig/qat`, '# sample\nServicesEnabled=sym;asym\nPOLICY=3\n');
    const d = await daemon(h as never);
    const c = await QatClient.connect(d.socket);
    expect(await c.sectionGet('SSL')).toBe('SSL_INT_0');
    expect(await c.numDevices()).toBe(3);
    await c.close();
  });
});
