// Discovery on odd sysfs/devfs contents: each bad input is skipped (or fails start-up) with a reason, never shifting others.

import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { simHost, tmpDir } from '../../helpers/sim.js';
import { generateHost, deviceDir, type SimPf } from '../../../src/sim/index.js';
import { discover } from '../../../src/platform/discover.js';
import { buildPlan } from '../../../src/sections/plan.js';
import { Allocator } from '../../../src/sections/allocator.js';
import { SectionReplyCache } from '../../../src/protocol/reply-cache.js';
import { FallbackCapabilitySource } from '../../../src/devices/capabilities.js';
import { readCpuTable, parseCpuList } from '../../../src/platform/cpus.js';
import { silentLogger } from '../../../src/log.js';
import { isQatmgrError } from '../../../src/errors.js';

const log = silentLogger();
const grp = (root: string, g: number, bdf: string): string => path.join(root, 'kernel', 'iommu_groups', String(g), 'devices', bdf);

function code(f: () => unknown): string {
  try { f(); } catch (e) { if (isQatmgrError(e)) return e.code; throw e; }
  return 'no error';
}

describe('discovery', () => {
  it('fails with QATMGR_E_NO_VFIO_DIR when <dev>/vfio is missing, and QATMGR_E_NO_DEVICES when it is empty', () => {
    const g = simHost('4xxx:1x2');
    fs.rmSync(path.join(g.roots.dev, 'vfio'), { recursive: true });
    expect(code(() => discover(g.roots, log))).toBe('QATMGR_E_NO_VFIO_DIR');
    fs.mkdirSync(path.join(g.roots.dev, 'vfio'));
    fs.writeFileSync(path.join(g.roots.dev, 'vfio', 'vfio'), '');
    expect(code(() => discover(g.roots, log))).toBe('QATMGR_E_NO_DEVICES');
  });

  it('skips a VF whose device file holds garbage and says why', () => {
    const g = simHost('4xxx:1x2');
    fs.writeFileSync(path.join(fs.realpathSync(grp(g.roots.sys, 100, '0000:6b:00.1')), 'device'), 'garbage\n');
    const inv = discover(g.roots, log);
    expect(inv.vfs.map((v) => v.bdf)).toEqual(['0000:6b:00.2']);
    expect(inv.skipped[0].reason).toMatch(/device: "garbage" is not a hex PCI id/);
  });

  it('turns a negative or unparsable numa_node into node 0', () => {
    const g = simHost('4xxx:1x2');
    fs.writeFileSync(path.join(fs.realpathSync(grp(g.roots.sys, 100, '0000:6b:00.1')), 'numa_node'), '-1\n');
    fs.writeFileSync(path.join(fs.realpathSync(grp(g.roots.sys, 101, '0000:6b:00.2')), 'numa_node'), 'x\n');
    expect(discover(g.roots, log).vfs.map((v) => v.numaNode)).toEqual([0, 0]);
  });

  it('skips a VF whose physfn link dangles, naming the file', () => {
    const g = simHost('4xxx:1x2');
    const dev = fs.realpathSync(path.join(g.roots.sys, 'bus', 'pci', 'devices', '0000:6b:00.1'));
    fs.rmSync(path.join(dev, 'physfn'));
    fs.symlinkSync('../0000:6b:09.0', path.join(dev, 'physfn'));
    const inv = discover(g.roots, log);
    expect(inv.vfs.map((v) => v.bdf)).toEqual(['0000:6b:00.2']);
    expect(inv.skipped[0].reason).toMatch(/physfn\/uevent: no PCI_SLOT_NAME \(ENOENT\)/);
  });

  it('never serves a PF bound to vfio-pci (quirk 11)', () => {
    const g = simHost('4xxx:1x2');
    fs.writeFileSync(path.join(g.roots.dev, 'vfio', '40'), '');
    const inv = discover(g.roots, log);
    expect(inv.vfs.map((v) => v.bdf)).toEqual(['0000:6b:00.1', '0000:6b:00.2']);
    expect(inv.skipped).toEqual([{ entry: '40', reason: expect.stringMatching(/is a QAT PF .* never served/) }]);
  });

  it('rejects a hard-linked attribute file and a symlinked one (O_NOFOLLOW)', () => {
    const g = simHost('4xxx:1x3');
    const d1 = fs.realpathSync(grp(g.roots.sys, 100, '0000:6b:00.1'));
    fs.linkSync(path.join(d1, 'vendor'), path.join(g.roots.sys, 'extra-link'));
    const d2 = fs.realpathSync(grp(g.roots.sys, 101, '0000:6b:00.2'));
    fs.renameSync(path.join(d2, 'device'), path.join(d2, 'device.real'));
    fs.symlinkSync('device.real', path.join(d2, 'device'));
    const inv = discover(g.roots, log);
    expect(inv.vfs.map((v) => v.bdf)).toEqual(['0000:6b:00.3']);
    expect(inv.skipped.map((s) => s.reason)).toEqual([expect.stringContaining('hard-linked'), expect.stringContaining('ELOOP')]);
  });

  it('serves the first QAT VF of a multi-device IOMMU group and keeps the others out', () => {
    const g = simHost('4xxx:1x2');
    const other = fs.readlinkSync(grp(g.roots.sys, 101, '0000:6b:00.2'));
    fs.symlinkSync(other, grp(g.roots.sys, 100, '0000:6b:00.2'));
    const inv = discover(g.roots, log);
    expect(inv.vfs.filter((v) => v.group === '100').map((v) => v.bdf)).toEqual(['0000:6b:00.1']);
  });

  it('does not open the group nodes with probe off (a manager in an unprivileged pod), so every VF is available', () => {
    const g = simHost('4xxx:1x2');
    const node = path.join(g.roots.dev, 'vfio', '101');
    fs.rmSync(node);
    fs.mkdirSync(node);
    expect(discover(g.roots, log).vfs.map((v) => v.unavailable)).toEqual([undefined, 'EISDIR']);
    expect(discover(g.roots, log, { probe: false }).vfs.map((v) => v.unavailable)).toEqual([undefined, undefined]);
  });

  it('keeps a VF whose group node cannot be opened in its section without shifting the others (quirk 13)', () => {
    const g = simHost('4xxx:2x4,services=sym;asym');
    // 70:00.2 is group 105; a directory where the node should be makes the probe fail with EISDIR
    const node = path.join(g.roots.dev, 'vfio', '105');
    fs.rmSync(node);
    fs.mkdirSync(node);
    const inv = discover(g.roots, log);
    const busy = inv.vfs.find((v) => v.group === '105')!;
    expect(busy.unavailable).toBe('EISDIR');
    const caps = new FallbackCapabilitySource();
    const plan = buildPlan(inv, 0, (vf) => caps.capsFor(vf));
    expect(plan.map((s) => s.devices.map((d) => d.vf.bdf.slice(5)))).toEqual([
      ['6b:00.1', '70:00.1'], ['6b:00.2', '70:00.2'], ['6b:00.3', '70:00.3'], ['6b:00.4', '70:00.4'],
    ]);
    const alloc = new Allocator(plan);
    const replies = new SectionReplyCache(0x1a08, false, alloc);
    const served = plan.map((_, i) => alloc.servedDevices(alloc.sections[i]).map((d) => d.vf.bdf.slice(5)));
    expect(served[1]).toEqual(['6b:00.2']);
    expect(served[2]).toEqual(['6b:00.3', '70:00.3']);
    expect(replies.for(alloc.sections[1]).numDevices.readUInt16LE(8)).toBe(1);
  });

  it('sends /dev/vfio/noiommu-<g> paths for no-IOMMU groups', () => {
    const g = simHost('4xxx:1x1,noiommu');
    const inv = discover(g.roots, log);
    expect(inv.vfs[0].vfioPath).toBe('/dev/vfio/noiommu-100');
    expect(inv.vfs[0].group).toBe('100');
  });

  it('is not fooled by a 420xxvf driver directory without a 420xx one (quirk 16)', () => {
    const g = simHost('4xxx:1x1');
    fs.mkdirSync(path.join(g.roots.sys, 'bus', 'pci', 'drivers', '420xxvf'));
    expect(discover(g.roots, log).pfs.map((p) => p.driver)).toEqual(['4xxx']);
  });

  it('numbers pkg_id by the position in the section inside a VM (no PF table)', () => {
    const g = simHost('4xxx:1x3,vm');
    const inv = discover(g.roots, log);
    expect(inv.vm).toBe(true);
    const caps = new FallbackCapabilitySource();
    const plan = buildPlan(inv, 0, (vf) => caps.capsFor(vf));
    expect(plan).toHaveLength(1); // every VF on its own bus: one section holds them all (upstream's VM behaviour)
    const alloc = new Allocator(plan);
    const replies = new SectionReplyCache(0x1a08, true, alloc);
    expect(replies.for(alloc.sections[0]).deviceInfo.map((b) => b.readInt16LE(50))).toEqual([0, 1, 2]);
  });

  it('finds the parent PF by its full address, in another domain and at bus/dev/fn 0 (quirk 17)', () => {
    const dir = path.join(tmpDir(), 'h');
    const pf = (bdf: string, vf: string, g: number): SimPf => ({ bdf, family: '4xxx', numaNode: 0, iommuGroup: g, totalVfs: 16, services: 'sym;asym', state: 'up', vfs: [{ bdf: vf, iommuGroup: g + 100, driver: 'vfio-pci' }] });
    const g = generateHost(dir, { pfs: [pf('0001:00:00.0', '0001:00:00.1', 40), pf('0002:00:00.0', '0002:00:00.1', 41)], guestVfs: [], cpus: 4, numaNodes: 1, noiommu: false, modules: {}, cmdline: '' });
    const inv = discover(g.roots, log);
    expect(inv.vfs.map((v) => `${v.bdf}->${v.pf!.bdf}#${v.pf!.pkgId}`)).toEqual(['0001:00:00.1->0001:00:00.0#0', '0002:00:00.1->0002:00:00.0#1']);
  });

  it('mixes families: 4xxx and 420xx PFs in driver order with their device types', () => {
    const g = simHost('420xx:1x1+4xxx:1x1');
    const inv = discover(g.roots, log);
    expect(inv.pfs.map((p) => `${p.pkgId}:${p.driver}:${p.bdf}`)).toEqual(['0:4xxx:0000:70:00.0', '1:420xx:0000:6b:00.0']);
    expect(inv.vfs.map((v) => `${v.family.vfName}:${v.pf!.pkgId}`)).toEqual(['420xxvf:1', '4xxxvf:0']);
  });
});

describe('capabilities from PF sysfs', () => {
  it('falls back for a PF whose cfg_services is garbage, with a warning naming the file, and for a missing one quietly', async () => {
    const { SysfsCapabilitySource } = await import('../../../src/devices/capabilities.js');
    const g = simHost('4xxx:2x1');
    fs.writeFileSync(path.join(deviceDir(g.roots, '0000:6b:00.0'), 'qat', 'cfg_services'), 'bogus\n');
    fs.rmSync(path.join(deviceDir(g.roots, '0000:70:00.0'), 'qat', 'cfg_services'));
    const inv = discover(g.roots, log);
    const caps = new SysfsCapabilitySource(g.roots);
    expect(inv.vfs.map((v) => [caps.capsFor(v).source, caps.capsFor(v).capabilityMask])).toEqual([['fallback', 0x0403b20f], ['fallback', 0x0403b20f]]);
    expect(caps.notes.map((n) => [n.level, n.message.replace(g.roots.sys, '<sys>')])).toEqual([
      ['warn', '<sys>/bus/pci/devices/0000:6b:00.0/qat/cfg_services: "bogus" is not a services list; using fallback capabilities for this PF'],
      ['info', '<sys>/bus/pci/devices/0000:70:00.0/qat/cfg_services: ENOENT; using fallback capabilities for this PF'],
    ]);
  });
});

describe('CPU table', () => {
  it('parses kernel CPU lists and rejects garbage', () => {
    expect(parseCpuList('0-3,8,10-11\n')).toEqual([0, 1, 2, 3, 8, 10, 11]);
    expect(parseCpuList('x')).toBeUndefined();
  });

  it('gives a node without online CPUs all online CPUs instead of dividing by zero (quirk 18)', () => {
    const g = simHost('4xxx:1x1,numa=2');
    fs.writeFileSync(path.join(g.roots.sys, 'devices', 'system', 'node', 'node1', 'cpulist'), '\n');
    const t = readCpuTable(g.roots);
    expect(t.nodes[1]).toEqual(t.online);
    expect(t.notes[0]).toMatch(/node 1 has no online CPUs/);
  });
});
