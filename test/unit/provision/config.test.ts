import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { readProvisionConfig, isKernelVf } from '../../../src/provision/config.js';
import { tempDir } from '../../helpers/tree.js';

function cfgFile(text: string): string {
  const p = path.join(tempDir('qatcfg-'), 'qat');
  fs.writeFileSync(p, text);
  return p;
}

const read = (text: string, env: NodeJS.ProcessEnv = {}) => readProvisionConfig({ configPath: cfgFile(text), explicit: true, env });

describe('provisioning settings', () => {
  it('ServicesEnabled="Asym ; SYM" means the set asym;sym (any order, case and blanks, quotes removed)', () => {
    const c = read('ServicesEnabled="Asym ; SYM"\n');
    expect(c.services?.set).toEqual(['asym', 'sym']);
    expect(c.services?.where).toMatch(/qat:1$/);
  });

  it('an empty ServicesEnabled= keeps the kernel default and says so', () => {
    const c = read('ServicesEnabled=\n');
    expect(c.services).toBeUndefined();
    expect(c.servicesNote).toMatch(/:1: ServicesEnabled is empty; every PF keeps the kernel's default services/);
  });

  it('an unset ServicesEnabled keeps the kernel default and says so', () => {
    expect(read('POLICY=0\n').servicesNote).toMatch(/ServicesEnabled is not set in .*kernel's default/);
  });

  it('an unknown service is an error naming file, line, value and the known services', () => {
    expect(() => read('# c\nServicesEnabled=sym;crc\n')).toThrow(/qat:2: ServicesEnabled="sym;crc": unknown service "crc"; services are asym, sym, dc, decomp, dcc/);
  });

  it('duplicate keys warn with their lines and the last one wins, as in systemd', () => {
    const c = read('ServicesEnabled=dc\nServicesEnabled=sym\n');
    expect(c.services?.set).toEqual(['sym']);
    expect(c.warnings.join('\n')).toMatch(/qat:1,2: ServicesEnabled is set 2 times; the last one \(line 2\) wins/);
  });

  it('an unknown key is reported with its line and ignored', () => {
    const c = read('ServicesEnable=sym\n');
    expect(c.services).toBeUndefined();
    expect(c.warnings.join('\n')).toMatch(/qat:1: unknown key ServicesEnable ignored/);
  });

  it('POLICY=-1 is an error naming the file, line and the allowed range', () => {
    expect(() => read('POLICY=-1\n')).toThrow(/qat:1: POLICY="-1" is not a number 0\.\.4096/);
  });

  it('the POLICY environment variable (as systemd merges it) wins over the file', () => {
    expect(read('POLICY=3\n', { POLICY: '2' }).policy).toBe(2);
  });

  it('KernelVfs takes exact addresses (short forms get domain 0000) and rejects anything else', () => {
    const c = read('KernelVfs=6b:00.1, 0000:70:00.2\n');
    expect(c.kernelVfs.addresses).toEqual(['0000:6b:00.1', '0000:70:00.2']);
    expect(isKernelVf(c.kernelVfs, '0000:70:00.2')).toBe(true);
    expect(isKernelVf(c.kernelVfs, '0000:70:00.3')).toBe(false);
    expect(() => read('KernelVfs=6b:00\n')).toThrow(/qat:1: KernelVfs: "6b:00" is not a PCI address/);
  });

  it("upstream's LKCF_LIST (regular expressions) is read from the environment or the file", () => {
    const c = read('', { LKCF_LIST: '0000:6b:00\\.[12]' });
    expect(isKernelVf(c.kernelVfs, '0000:6b:00.2')).toBe(true);
    expect(isKernelVf(c.kernelVfs, '0000:6b:00.3')).toBe(false);
    expect(() => read('LKCF_LIST=(\n')).toThrow(/qat:1: LKCF_LIST: "\(" is not a valid regular expression/);
  });
});
