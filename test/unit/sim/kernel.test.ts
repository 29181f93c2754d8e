import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { SimKernelFs } from '../../../src/sim/kernel.js';
import { parseFaultSpec } from '../../../src/sim/faults.js';
import { simHost } from '../../helpers/tree.js';

const pf = (dir: string, bdf = '0000:6b:00.0') => path.join(dir, 'sys', 'bus', 'pci', 'devices', bdf);
const drv = (dir: string, name: string) => path.join(dir, 'sys', 'bus', 'pci', 'drivers', name);

function errCode(fn: () => void): string | undefined {
  try {
    fn();
  } catch (e) {
    return (e as NodeJS.ErrnoException).code;
  }
  return undefined;
}

describe('the simulated kernel (adf_sysfs.c, adf_sriov.c, PCI core rules)', () => {
  it('refuses cfg_services while the PF is up with EINVAL and accepts it while down', () => {
    const dir = simHost('4xxx:1x16,sriov=off');
    const k = new SimKernelFs(dir, { env: {} });
    expect(errCode(() => k.writeFile(path.join(pf(dir), 'qat', 'cfg_services'), 'dc'))).toBe('EINVAL');
    k.writeFile(path.join(pf(dir), 'qat', 'state'), 'down');
    k.writeFile(path.join(pf(dir), 'qat', 'cfg_services'), 'dc');
    expect(fs.readFileSync(path.join(pf(dir), 'qat', 'cfg_services'), 'utf8')).toBe('dc\n');
    expect(errCode(() => k.writeFile(path.join(pf(dir), 'qat', 'cfg_services'), 'decomp'))).toBe('EINVAL');
    expect(errCode(() => k.writeFile(path.join(pf(dir), 'qat', 'state'), 'sideways'))).toBe('EINVAL');
  });

  it('enabling SR-IOV creates every VF (virtfn/physfn links, IOMMU groups, bus links) whatever count is written', () => {
    const dir = simHost('4xxx:1x16,sriov=off');
    const k = new SimKernelFs(dir, { env: {} });
    k.writeFile(path.join(pf(dir), 'sriov_numvfs'), '4');
    expect(fs.readFileSync(path.join(pf(dir), 'sriov_numvfs'), 'utf8')).toBe('16\n');
    expect(fs.readlinkSync(path.join(pf(dir), 'virtfn15'))).toBe('../0000:6b:02.0');
    expect(fs.readlinkSync(path.join(pf(dir, '0000:6b:00.1'), 'physfn'))).toBe('../0000:6b:00.0');
    expect(fs.readdirSync(path.join(dir, 'sys', 'kernel', 'iommu_groups', '100', 'devices'))).toEqual(['0000:6b:00.1']);
    expect(fs.existsSync(path.join(pf(dir, '0000:6b:00.1'), 'driver'))).toBe(false);
    expect(errCode(() => k.writeFile(path.join(pf(dir), 'sriov_numvfs'), '8'))).toBe('EBUSY');
    expect(errCode(() => k.writeFile(path.join(pf(dir), 'sriov_numvfs'), '17'))).toBe('ERANGE');
    expect(errCode(() => k.writeFile(path.join(pf(dir), 'sriov_numvfs'), 'x'))).toBe('EINVAL');
  });

  it('bringing a PF down removes its VFs (adf_dev_stop disables SR-IOV) and their /dev/vfio nodes', () => {
    const dir = simHost('4xxx:1x16');
    const k = new SimKernelFs(dir, { env: {} });
    expect(fs.existsSync(path.join(dir, 'dev', 'vfio', '100'))).toBe(true);
    k.writeFile(path.join(pf(dir), 'qat', 'state'), 'down');
    expect(fs.readFileSync(path.join(pf(dir), 'sriov_numvfs'), 'utf8')).toBe('0\n');
    expect(fs.existsSync(pf(dir, '0000:6b:00.1'))).toBe(false);
    expect(fs.existsSync(path.join(dir, 'dev', 'vfio', '100'))).toBe(false);
    expect(fs.existsSync(path.join(dir, 'sys', 'kernel', 'iommu_groups', '100'))).toBe(false);
    expect(fs.readdirSync(drv(dir, 'vfio-pci')).filter((e) => e.startsWith('0000'))).toEqual([]);
  });

  it('binds to vfio-pci only through driver_override, creating the group node root-only; unbind removes it', () => {
    const dir = simHost('4xxx:1x16,sriov=off');
    const k = new SimKernelFs(dir, { env: {} });
    k.writeFile(path.join(pf(dir), 'sriov_numvfs'), '16');
    const vf = '0000:6b:00.1';
    expect(errCode(() => k.writeFile(path.join(drv(dir, 'vfio-pci'), 'bind'), vf))).toBe('ENODEV');
    k.writeFile(path.join(pf(dir, vf), 'driver_override'), 'vfio-pci');
    k.writeFile(path.join(drv(dir, 'vfio-pci'), 'bind'), vf);
    const node = path.join(dir, 'dev', 'vfio', '100');
    expect(fs.statSync(node).mode & 0o777).toBe(0o600);
    expect(fs.readlinkSync(path.join(pf(dir, vf), 'driver'))).toBe('../../../bus/pci/drivers/vfio-pci');
    expect(fs.readFileSync(path.join(pf(dir, vf), 'uevent'), 'utf8')).toMatch(/^DRIVER=vfio-pci\n/);
    expect(errCode(() => k.writeFile(path.join(drv(dir, 'vfio-pci'), 'bind'), vf))).toBe('ENODEV');
    k.writeFile(path.join(pf(dir, vf), 'driver', 'unbind'), vf);
    expect(fs.existsSync(node)).toBe(false);
    expect(errCode(() => k.writeFile(path.join(drv(dir, 'vfio-pci'), 'unbind'), vf))).toBe('ENODEV');
    k.writeFile(path.join(pf(dir, vf), 'driver_override'), '\n');
    expect(fs.readFileSync(path.join(pf(dir, vf), 'driver_override'), 'utf8')).toBe('(null)\n');
  });

  it('rejects writes to attributes without a store method with EACCES', () => {
    const dir = simHost('4xxx:1x16,sriov=off');
    const k = new SimKernelFs(dir, { env: {} });
    expect(errCode(() => k.writeFile(path.join(pf(dir), 'sriov_totalvfs'), '8'))).toBe('EACCES');
  });

  it('injects a chosen errno on the nth matching write, COUNT times, from QATSIM_FAULT or DIR/faults.json', () => {
    const dir = simHost('4xxx:1x16,sriov=off');
    const k = new SimKernelFs(dir, { env: { QATSIM_FAULT: 'write@*/qat/state:EIO:2:2' } });
    const st = path.join(pf(dir), 'qat', 'state');
    k.writeFile(st, 'up');
    expect(errCode(() => k.writeFile(st, 'up'))).toBe('EIO');
    expect(errCode(() => k.writeFile(st, 'up'))).toBe('EIO');
    k.writeFile(st, 'up');
    fs.writeFileSync(path.join(dir, 'faults.json'), JSON.stringify([{ op: 'chmod', path: 'dev/*', errno: 'EPERM', count: '*' }]));
    const k2 = new SimKernelFs(dir, { env: {} });
    expect(errCode(() => k2.chmod(path.join(dir, 'dev', 'vfio', 'vfio'), 0o660))).toBe('EPERM');
    expect(() => parseFaultSpec('x:ENOTANERRNO')).toThrow(/not an errno name/);
    expect(parseFaultSpec('write@*0000:70:00.0/sriov_numvfs:ENOMEM:2:*')).toEqual([{ op: 'write', path: '*0000:70:00.0/sriov_numvfs', errno: 'ENOMEM', nth: 2, count: Infinity }]);
  });
});
