// The simulator writes a kernel-style tree for every supported family, and refuses bad specs and foreign directories.

import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { parseSimSpec, generateHost, deviceDir } from '../../../src/sim/index.js';
import { simHost, tmpDir } from '../../helpers/sim.js';
import { isQatmgrError } from '../../../src/errors.js';

const read = (p: string): string => fs.readFileSync(p, 'utf8');

describe('simulator', () => {
  it('lays down the realistic tree of behaviour §16.3 for the default host', () => {
    const g = simHost('default');
    const { sys, dev } = g.roots;
    const pf = path.join(sys, 'devices', 'pci0000:6b', '0000:6b:00.0');
    expect(read(path.join(pf, 'device'))).toBe('0x4940\n');
    expect(read(path.join(pf, 'sriov_totalvfs'))).toBe('16\n');
    expect(read(path.join(pf, 'sriov_numvfs'))).toBe('16\n');
    expect(read(path.join(pf, 'qat', 'cfg_services'))).toBe('sym;asym\n');
    expect(read(path.join(sys, 'devices', 'pci0000:70', '0000:70:00.0', 'qat', 'cfg_services'))).toBe('dc\n');
    expect(read(path.join(pf, 'qat', 'state'))).toBe('up\n');
    expect(fs.readlinkSync(path.join(pf, 'virtfn15'))).toBe('../0000:6b:02.0');
    expect(fs.readlinkSync(path.join(pf, 'driver'))).toBe('../../../bus/pci/drivers/4xxx');
    const vf = path.join(sys, 'devices', 'pci0000:6b', '0000:6b:00.1');
    expect(fs.readlinkSync(path.join(vf, 'physfn'))).toBe('../0000:6b:00.0');
    expect(fs.readlinkSync(path.join(vf, 'iommu_group'))).toBe('../../../kernel/iommu_groups/100');
    expect(fs.realpathSync(path.join(sys, 'bus', 'pci', 'drivers', 'vfio-pci', '0000:6b:00.1'))).toBe(vf);
    expect(fs.realpathSync(path.join(sys, 'kernel', 'iommu_groups', '131', 'devices', '0000:70:02.0'))).toBe(path.join(sys, 'devices', 'pci0000:70', '0000:70:02.0'));
    expect(read(path.join(sys, 'bus', 'pci', 'devices', '0000:6b:00.1', 'physfn', 'uevent'))).toContain('PCI_SLOT_NAME=0000:6b:00.0');
    expect(read(path.join(sys, 'devices', 'system', 'cpu', 'online'))).toBe('0-7\n');
    expect(read(path.join(sys, 'devices', 'system', 'node', 'node0', 'cpumap'))).toBe('ff\n');
    expect(fs.readdirSync(path.join(dev, 'vfio')).length).toBe(33);
    expect(fs.existsSync(path.join(dev, 'vfio', '40'))).toBe(false);
    expect(read(path.join(g.roots.proc, 'modules'))).toMatch(/^qat_4xxx \d+ 0 - Live/m);
  });

  it.each([
    ['401xx:1x1', '0x4942', '0x4943', '4xxx'],
    ['402xx:1x1', '0x4944', '0x4945', '4xxx'],
    ['420xx:1x1', '0x4946', '0x4947', '420xx'],
    ['6xxx:1x1', '0x4948', '0x4949', '6xxx'],
  ])('writes %s PFs and VFs with their ids and driver', (spec, pfId, vfId, drv) => {
    const g = simHost(spec);
    expect(read(path.join(deviceDir(g.roots, '0000:6b:00.0'), 'device'))).toBe(`${pfId}\n`);
    expect(read(path.join(deviceDir(g.roots, '0000:6b:00.1'), 'device'))).toBe(`${vfId}\n`);
    expect(fs.existsSync(path.join(g.roots.sys, 'bus', 'pci', 'drivers', drv, '0000:6b:00.0'))).toBe(true);
  });

  it('spreads PFs over NUMA nodes and writes per-node CPU lists', () => {
    const g = simHost('4xxx:4x1,numa=2,cpus=12');
    expect(read(path.join(deviceDir(g.roots, '0000:75:00.0'), 'numa_node'))).toBe('1\n');
    expect(read(path.join(g.roots.sys, 'devices', 'system', 'node', 'node1', 'cpulist'))).toBe('6-11\n');
  });

  it('supports SR-IOV off, unbound VFs, per-PF services and no-IOMMU nodes', () => {
    expect(parseSimSpec('4xxx:2x16,sriov=off').pfs.every((p) => p.vfs.length === 0)).toBe(true);
    expect(parseSimSpec('4xxx:3x1,services=asym;dc/sym').pfs.map((p) => p.services)).toEqual(['asym;dc', 'sym', 'asym;dc']);
    const g = simHost('4xxx:1x2,noiommu');
    expect(fs.readdirSync(path.join(g.roots.dev, 'vfio')).sort()).toEqual(['noiommu-100', 'noiommu-101', 'vfio']);
  });

  it.each([
    ['9xxx:1x1', /unknown family "9xxx"/],
    ['4xxx:0x16', /PF count 0 is not 1..256/],
    ['4xxx:1x17', /VF count 17 is not 0..16/],
    ['4xxx:1x1,numa=x', /numa=x is not 1..64/],
    ['4xxx:1x1,colour=red', /unknown option "colour"/],
    ['4xxx', /"4xxx" is not FAMILY:PFSxVFS/],
  ])('rejects the spec %s with a message naming what is wrong', (spec, re) => {
    try { parseSimSpec(spec); expect.unreachable(); } catch (e) {
      expect(isQatmgrError(e) && e.code).toBe('QATMGR_E_SIM_SPEC');
      expect((e as Error).message).toMatch(re);
    }
  });

  it('never overwrites a directory that is not a simulated host, and replaces one only with force', () => {
    const d = tmpDir();
    fs.writeFileSync(path.join(d, 'important'), 'x');
    expect(() => generateHost(d, parseSimSpec('default'))).toThrow(/not a simulated host/);
    expect(read(path.join(d, 'important'))).toBe('x');
    const s = path.join(tmpDir(), 'h');
    generateHost(s, parseSimSpec('default'));
    expect(() => generateHost(s, parseSimSpec('default'))).toThrow(/pass --force/);
    expect(generateHost(s, parseSimSpec('4xxx:1x1'), { force: true }).host.pfs).toHaveLength(1);
    expect(fs.existsSync(path.join(s, 'sys', 'devices', 'pci0000:70'))).toBe(false);
  });
});

describe('simulator modes', () => {
  it('creates 0755 directories and 0644 files whatever the caller\'s umask, like sysfs', () => {
    const old = process.umask(0o177);
    let g;
    try {
      g = simHost('4xxx:1x1');
    } finally {
      process.umask(old);
    }
    const dev = deviceDir(g.roots, '0000:6b:00.1');
    expect(fs.statSync(dev).mode & 0o777).toBe(0o755);
    expect(fs.statSync(path.join(dev, 'device')).mode & 0o777).toBe(0o644);
  });
});
