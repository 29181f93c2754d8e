import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { SimKernelFs } from '../../../src/sim/kernel.js';
import { applyFault, inject } from '../../../src/sim/inject.js';
import { parseSimSpec } from '../../../src/sim/spec.js';
import { KeptAttr } from '../../../src/platform/kept-attr.js';
import { simHost } from '../../helpers/tree.js';

const pf = (dir: string, bdf = '0000:6b:00.0') => path.join(dir, 'sys', 'bus', 'pci', 'devices', bdf);
const hb = (dir: string, bdf = '0000:6b:00.0') => path.join(dir, 'sys', 'kernel', 'debug', `qat_4xxx_${bdf}`, 'heartbeat');
const read = (p: string) => fs.readFileSync(p, 'latin1');

function errCode(fn: () => unknown): string | undefined {
  try { fn(); } catch (e) { return (e as NodeJS.ErrnoException).code; }
  return undefined;
}

describe('the simulated health files (adf_sysfs.c, adf_sysfs_ras_counters.c, adf_dbgfs.c, adf_heartbeat_dbgfs.c)', () => {
  it('has qat_ras/ and the debugfs heartbeat only while the PF is up, with cleared counters after each start', () => {
    const dir = simHost('4xxx:1x4');
    const k = new SimKernelFs(dir, { env: {} });
    expect(read(path.join(pf(dir), 'qat_ras', 'errors_fatal'))).toBe('0\n');
    expect(read(path.join(hb(dir), 'status'))).toBe('0\n\0');
    expect((fs.statSync(path.join(hb(dir), 'status')).mode & 0o777).toString(8)).toBe('400');
    expect((fs.statSync(path.join(dir, 'sys', 'kernel', 'debug')).mode & 0o777).toString(8)).toBe('700');
    expect(read(path.join(pf(dir), 'qat', 'auto_reset'))).toBe('off\n');
    applyFault(dir, 'fatal', '0');
    expect(read(path.join(pf(dir), 'qat_ras', 'errors_fatal'))).toBe('1\n');
    k.writeFile(path.join(pf(dir), 'qat', 'state'), 'down');
    expect(fs.existsSync(path.join(pf(dir), 'qat_ras'))).toBe(false);
    expect(fs.existsSync(hb(dir))).toBe(false);
    expect(fs.existsSync(path.join(dir, 'sys', 'kernel', 'debug', 'qat_4xxx_0000:6b:00.0'))).toBe(true);
    k.writeFile(path.join(pf(dir), 'qat', 'state'), 'up');
    expect(read(path.join(pf(dir), 'qat_ras', 'errors_fatal'))).toBe('0\n');
    expect(read(path.join(hb(dir), 'queries_failed'))).toBe('0\n\0');
  });

  it('stores auto_reset as kstrtobool does and clears the RAS counters only on "1\\n"', () => {
    const dir = simHost('4xxx:1x4');
    const k = new SimKernelFs(dir, { env: {} });
    k.writeFile(path.join(pf(dir), 'qat', 'auto_reset'), 'Y');
    expect(read(path.join(pf(dir), 'qat', 'auto_reset'))).toBe('on\n');
    expect(errCode(() => k.writeFile(path.join(pf(dir), 'qat', 'auto_reset'), 'maybe'))).toBe('EINVAL');
    applyFault(dir, 'correctable', '0000:6b:00.0');
    expect(errCode(() => k.writeFile(path.join(pf(dir), 'qat_ras', 'reset_error_counters'), '1'))).toBe('EINVAL');
    expect(read(path.join(pf(dir), 'qat_ras', 'errors_correctable'))).toBe('1\n');
    k.writeFile(path.join(pf(dir), 'qat_ras', 'reset_error_counters'), '1\n');
    expect(read(path.join(pf(dir), 'qat_ras', 'errors_correctable'))).toBe('0\n');
    expect(errCode(() => k.writeFile(path.join(pf(dir), 'qat_ras', 'errors_fatal'), '0'))).toBe('EACCES');
  });

  it('unbinding the PF driver removes qat/, the debugfs directory and the VFs; binding it again starts the device', () => {
    const dir = simHost('4xxx:1x4');
    const k = new SimKernelFs(dir, { env: {} });
    const drv = path.join(dir, 'sys', 'bus', 'pci', 'drivers', '4xxx');
    k.writeFile(path.join(drv, 'unbind'), '0000:6b:00.0');
    expect(fs.existsSync(path.join(pf(dir), 'qat'))).toBe(false);
    expect(fs.existsSync(path.join(dir, 'sys', 'kernel', 'debug', 'qat_4xxx_0000:6b:00.0'))).toBe(false);
    expect(fs.existsSync(pf(dir, '0000:6b:00.1'))).toBe(false);
    k.writeFile(path.join(drv, 'bind'), '0000:6b:00.0');
    expect(read(path.join(pf(dir), 'qat', 'state'))).toBe('up\n');
    expect(read(path.join(hb(dir), 'status'))).toBe('0\n\0');
  });

  it('a reader holding a file open sees it go (emptied before removal) and reads the re-created file after', () => {
    const dir = simHost('4xxx:1x4');
    const k = new SimKernelFs(dir, { env: {} });
    const a = new KeptAttr(path.join(pf(dir), 'qat_ras', 'errors_correctable'));
    expect(a.read()).toEqual({ ok: true, text: '0\n' });
    applyFault(dir, 'correctable', '0');
    expect(a.read()).toEqual({ ok: true, text: '1\n' });
    k.writeFile(path.join(pf(dir), 'qat', 'state'), 'down');
    expect(a.read()).toEqual({ ok: false, error: 'ENOENT' });
    k.writeFile(path.join(pf(dir), 'qat', 'state'), 'up');
    expect(a.read()).toEqual({ ok: true, text: '0\n' });
    expect(a.reopened()).toBe(true);
    a.close();
  });

  it('heartbeat-fail raises queries_failed and reads -1; a reset takes the VFs away and brings them back', async () => {
    const dir = simHost('4xxx:1x4');
    applyFault(dir, 'heartbeat-fail', '6b:00.0');
    expect(read(path.join(hb(dir), 'status'))).toBe('-1\n\0');
    expect(read(path.join(hb(dir), 'queries_failed'))).toBe('1\n\0');
    expect(read(path.join(hb(dir), 'queries_sent'))).toBe('1\n\0');
    const steps: string[] = [];
    const seen: boolean[] = [];
    const p = inject(dir, 'reset', 'pf0', { resetMs: 200, onStep: (l) => { steps.push(l); seen.push(fs.existsSync(path.join(dir, 'dev', 'vfio', '100'))); } });
    await p;
    expect(seen[0]).toBe(false);
    expect(fs.existsSync(path.join(dir, 'dev', 'vfio', '100'))).toBe(true);
    expect(read(path.join(hb(dir), 'status'))).toBe('0\n\0');
    expect(steps.at(-1)).toMatch(/reset done after 200 ms: qat\/state up, VFs back/);
  });

  it('refuses unknown faults and PFs, and faults that need the device up, naming what is wrong', () => {
    const dir = simHost('4xxx:1x4');
    expect(() => applyFault(dir, 'melt', '0')).toThrow(/unknown fault "melt"; one of heartbeat-fail/);
    expect(() => applyFault(dir, 'down', '0000:99:00.0')).toThrow(/no PF "0000:99:00.0" in the simulated host .* \(PFs: 0=0000:6b:00.0\)/);
    applyFault(dir, 'down', '0');
    expect(() => applyFault(dir, 'heartbeat-fail', '0')).toThrow(/PF 0000:6b:00.0 is down: it has no heartbeat files/);
    expect(() => applyFault(path.join(dir, 'nope'), 'down', '0')).toThrow(/is not a simulated host/);
  });

  it('applies a spec\'s fault= once the host is written, and rejects a bad one before writing anything', () => {
    const dir = simHost('4xxx:2x4,fault=heartbeat-fail@1;down@0');
    expect(read(path.join(hb(dir, '0000:70:00.0'), 'status'))).toBe('-1\n\0');
    expect(read(path.join(pf(dir), 'qat', 'state'))).toBe('down\n');
    expect(() => parseSimSpec('4xxx:1x4,fault=reset@0')).toThrow(/fault "reset" is not one of/);
    expect(() => parseSimSpec('4xxx:1x4,fault=down')).toThrow(/fault "down" is not KIND@PF/);
  });
});

describe('kept attribute descriptors (src/platform/kept-attr.ts)', () => {
  it('refuses a FIFO, a hard-linked file and a symlink without blocking, naming why', () => {
    const dir = simHost('4xxx:1x1');
    const p = (n: string) => path.join(dir, n);
    fs.writeFileSync(p('a'), '1\n');
    fs.linkSync(p('a'), p('b'));
    fs.symlinkSync(p('a'), p('c'));
    execFileSync('mkfifo', [p('fifo')]);
    expect(new KeptAttr(p('b')).read()).toEqual({ ok: false, error: 'hard-linked' });
    expect(new KeptAttr(p('c')).read()).toEqual({ ok: false, error: 'ELOOP' });
    expect(new KeptAttr(p('fifo')).read()).toEqual({ ok: false, error: 'not a regular file' });
  });
});
