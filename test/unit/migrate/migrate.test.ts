// qatctl migrate on realistic OOT config sets (golden outputs), on malformed files, and its careful --write.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../helpers/run-cli.js';
import { parseEnvText } from '../../../src/config/envfile.js';

const FIXTURES = path.resolve(__dirname, '../../fixtures/migrate');
const UPDATE = process.env.UPDATE_GOLDEN === '1';

let tmp: string;
beforeEach(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'migrate-')); });
afterEach(() => { fs.rmSync(tmp, { recursive: true, force: true }); });

const confs = (dir: string): string[] => fs.readdirSync(dir).filter((n) => n.endsWith('.conf')).sort();

function golden(file: string, actual: string): void {
  if (UPDATE || !fs.existsSync(file)) fs.writeFileSync(file, actual);
  expect(actual).toBe(fs.readFileSync(file, 'utf8'));
}

interface SetExpectation {
  set: string;
  policy: string;
  services: string | null;
  found: string[];
}

const sets: SetExpectation[] = [
  { set: 'crypto-multiprocess', policy: '0', services: 'sym;asym', found: ['pf-service', 'section-names', 'affinity-and-polling'] },
  { set: 'dc-only', policy: '0', services: 'dc', found: ['pf-service', 'section-names', 'affinity-and-polling'] },
  { set: 'mixed-per-device', policy: '0', services: null, found: ['pf-service', 'section-names', 'affinity-and-polling'] },
  { set: 'limitdevaccess', policy: '2', services: 'sym;asym', found: ['pf-service', 'section-names', 'affinity-and-polling'] },
  { set: 'nginx-shim', policy: '1', services: 'sym;asym', found: ['pf-service', 'processes-per-endpoint', 'section-names', 'affinity-and-polling'] },
  { set: 'kasumi-bnp', policy: '4', services: null, found: ['legacy-hardware', 'batch-and-pack', 'kasumi', 'pf-service', 'section-names', 'affinity-and-polling'] },
];

describe('qatctl migrate on OOT config sets', () => {
  for (const s of sets) {
    it(`${s.set}: POLICY=${s.policy}, ServicesEnabled ${s.services ?? 'unset'}, report and JSON match the goldens`, async () => {
      const dir = path.join(FIXTURES, s.set);
      const files = confs(dir);
      const human = await runCli(['migrate', ...files], { cwd: dir });
      expect(human.err).toBe('');
      expect(human.code).toBe(0);
      golden(path.join(dir, 'expected.txt'), human.out);

      const json = await runCli(['migrate', ...files, '--json'], { cwd: dir });
      expect(json.code).toBe(0);
      golden(path.join(dir, 'expected.json'), json.out);
      const plan = JSON.parse(json.out);
      expect(plan.policy.value).toBe(s.policy);
      expect(plan.servicesEnabled.value).toBe(s.services);
      expect(plan.notCarried.filter((f: { status: string }) => f.status === 'found').map((f: { id: string }) => f.id)).toEqual(s.found);

      const out = path.join(tmp, 'sysconfig', 'qat');
      const w = await runCli(['migrate', ...files, '--write', '--out', out], { cwd: dir });
      expect(w.code).toBe(0);
      const text = fs.readFileSync(out, 'utf8');
      golden(path.join(dir, 'expected.sysconfig'), text);
      const env = parseEnvText(text, out);
      expect(env.values.get('POLICY')?.value).toBe(s.policy);
      expect(env.values.get('ServicesEnabled')?.value ?? null).toBe(s.services);
      // qat_init.sh reads ServicesEnabled= even on commented lines: the reasons must never contain it
      expect(text.split('\n').filter((l) => l.includes('ServicesEnabled=')).length).toBe(s.services ? 1 : 0);
      expect(fs.statSync(out).mode & 0o777).toBe(0o640);
    });
  }

  it('keeps POLICY=0 and says why when the configs have no user-space section', async () => {
    fs.writeFileSync(path.join(tmp, '4xxx_dev0.conf'), '[GENERAL]\nServicesEnabled = asym;sym\n[KERNEL]\nNumberCyInstances = 1\nNumberDcInstances = 0\n');
    const r = await runCli(['migrate', '4xxx_dev0.conf', '--json'], { cwd: tmp });
    const plan = JSON.parse(r.out);
    expect(plan.policy).toEqual({ value: '0', reason: 'no user-space section in the configs (kernel use only): the default POLICY=0' });
    expect(plan.notCarried.find((f: { id: string }) => f.id === 'pf-service').evidence).toEqual(['4xxx_dev0.conf: a PF configuration', '4xxx_dev0.conf:3 [KERNEL] instances']);
  });

  it('gives the same JSON for the same input (stable output)', async () => {
    const dir = path.join(FIXTURES, 'nginx-shim');
    const a = await runCli(['migrate', ...confs(dir), '--json'], { cwd: dir });
    const b = await runCli(['migrate', ...confs(dir), '--json'], { cwd: dir });
    expect(a.out).toBe(b.out);
  });
});

const GOOD = '[GENERAL]\nServicesEnabled = asym;sym\n\n[SSL]\nNumberCyInstances = 1\nNumberDcInstances = 0\nNumProcesses = 2\nLimitDevAccess = 0\nCy0Name = "SSL0"\nCy0IsPolled = 1\nCy0CoreAffinity = 1\n';

const malformed: Array<{ what: string; content: string | Buffer; message: string }> = [
  { what: 'a file with no sections', content: '# only comments\n\n', message: '4xxx_dev1.conf:1: no sections' },
  { what: 'a key before any section', content: 'ServicesEnabled = dc\n[GENERAL]\n', message: '4xxx_dev1.conf:1: ServicesEnabled is outside any section' },
  { what: 'a duplicate key', content: '[GENERAL]\nServicesEnabled = dc\n\n[SSL]\nNumProcesses = 2\nNumProcesses = 4\n', message: '4xxx_dev1.conf:6: duplicate key NumProcesses in [SSL] (first at line 5)' },
  { what: 'a duplicate section', content: '[GENERAL]\nServicesEnabled = dc\n[SSL]\nNumProcesses = 2\n[SSL]\n', message: '4xxx_dev1.conf:5: duplicate section [SSL] (first at line 3)' },
  { what: 'a bad number', content: '[GENERAL]\nServicesEnabled = dc\n[SSL]\nNumberDcInstances = two\n', message: '4xxx_dev1.conf:4: NumberDcInstances = two: not a whole number' },
  { what: 'LimitDevAccess out of range', content: '[GENERAL]\nServicesEnabled = dc\n[SSL]\nLimitDevAccess = 2\n', message: '4xxx_dev1.conf:4: LimitDevAccess = 2: must be 0 or 1' },
  { what: 'an unknown service', content: '[GENERAL]\nServicesEnabled = cy;zip\n', message: '4xxx_dev1.conf:2: ServicesEnabled = cy;zip: unknown service "zip"' },
  { what: 'a line that is neither key nor section', content: '[GENERAL]\nServicesEnabled = dc\nthis is not a key\n', message: '4xxx_dev1.conf:3: expected "Key = value" or "[Section]"' },
  { what: 'binary garbage with NUL bytes', content: Buffer.from([0x5b, 0x47, 0x0a, 0x0a, 0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x00, 0x00]), message: '4xxx_dev1.conf:3: binary data (NUL byte)' },
  { what: 'invalid UTF-8', content: Buffer.concat([Buffer.from('[GENERAL]\nServicesEnabled = dc\n'), Buffer.from([0xc3, 0x28, 0xff, 0x0a])]), message: '4xxx_dev1.conf:3: binary data (invalid UTF-8)' },
];

describe('qatctl migrate on malformed files', () => {
  for (const m of malformed) {
    it(`rejects ${m.what} with file and line, and writes nothing`, async () => {
      fs.writeFileSync(path.join(tmp, '4xxx_dev0.conf'), GOOD);
      fs.writeFileSync(path.join(tmp, '4xxx_dev1.conf'), m.content);
      const out = path.join(tmp, 'etc', 'sysconfig', 'qat');
      const r = await runCli(['migrate', '4xxx_dev0.conf', '4xxx_dev1.conf', '--write', '--out', out], { cwd: tmp });
      expect(r.code).toBe(1);
      expect(r.out).toBe('');
      expect(r.err).toContain(m.message);
      expect(r.err).toContain('[QATMGR_E_OOT_CONFIG]');
      expect(fs.existsSync(path.join(tmp, 'etc'))).toBe(false);
    });
  }

  it('names a file that cannot be read', async () => {
    const r = await runCli(['migrate', 'missing_dev0.conf'], { cwd: tmp });
    expect(r.code).toBe(1);
    expect(r.err).toContain('missing_dev0.conf: cannot read: ENOENT');
  });
});

describe('qatctl migrate --write', () => {
  const setup = (): { out: string; run: (...extra: string[]) => ReturnType<typeof runCli> } => {
    fs.writeFileSync(path.join(tmp, '4xxx_dev0.conf'), GOOD);
    const out = path.join(tmp, 'etc', 'sysconfig', 'qat');
    return { out, run: (...extra) => runCli(['migrate', '4xxx_dev0.conf', '--write', '--out', out, ...extra], { cwd: tmp }) };
  };

  it('creates the file, then leaves it unchanged on a second identical run', async () => {
    const { out, run } = setup();
    const a = await run('--json');
    expect(JSON.parse(a.out).write).toMatchObject({ action: 'created', backup: null });
    const b = await run('--json');
    expect(JSON.parse(b.out).write).toMatchObject({ action: 'unchanged', backup: null });
    expect(fs.existsSync(`${out}.bak`)).toBe(false);
    expect(fs.readdirSync(path.dirname(out))).toEqual(['qat']);
  });

  it('replaces a file holding only POLICY/ServicesEnabled and keeps the old one as .bak', async () => {
    const { out, run } = setup();
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, '# my settings\nPOLICY=3\n');
    const r = await run();
    expect(r.code).toBe(0);
    expect(r.out).toContain('(replaced, previous kept as');
    expect(fs.readFileSync(`${out}.bak`, 'utf8')).toBe('# my settings\nPOLICY=3\n');
    expect(fs.readFileSync(out, 'utf8')).toContain('POLICY=0');
  });

  it('refuses to replace a file with other settings unless --force, and then keeps a .bak', async () => {
    const { out, run } = setup();
    fs.mkdirSync(path.dirname(out), { recursive: true });
    const mine = 'POLICY=2\nLKCF_LIST="0000:6b:00.1"\n';
    fs.writeFileSync(out, mine);
    const refused = await run();
    expect(refused.code).toBe(1);
    expect(refused.err).toContain('refusing to replace it: it sets LKCF_LIST (line 2)');
    expect(fs.readFileSync(out, 'utf8')).toBe(mine);
    expect(fs.readdirSync(path.dirname(out))).toEqual(['qat']);
    const forced = await run('--force');
    expect(forced.code).toBe(0);
    expect(fs.readFileSync(`${out}.bak`, 'utf8')).toBe(mine);
  });

  it('writes to <etc-root>/sysconfig/qat by default', async () => {
    fs.writeFileSync(path.join(tmp, '4xxx_dev0.conf'), GOOD);
    const r = await runCli(['migrate', '4xxx_dev0.conf', '--write', '--etc-root', 'etc'], { cwd: tmp });
    expect(r.code).toBe(0);
    expect(fs.readFileSync(path.join(tmp, 'etc', 'sysconfig', 'qat'), 'utf8')).toMatch(/^# Generated by qatctl migrate/);
  });
});
