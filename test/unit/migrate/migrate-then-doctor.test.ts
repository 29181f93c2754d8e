// A sysconfig written by migrate onto a simulated host is one doctor accepts (and doctor says what is left to apply).

import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../helpers/run-cli.js';
import { healthyHost } from '../../fixtures/doctor-hosts.js';

const FIXTURES = path.resolve(__dirname, '../../fixtures/migrate');
let tmp: string;
let server: net.Server;

beforeEach(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mig-doc-')); });
afterEach(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  fs.rmSync(tmp, { recursive: true, force: true });
});

async function migrateOnto(set: string): Promise<{ dir: string; doctor: () => Promise<Array<{ id: string; status: string; seen: string; fix: string[] }>> }> {
  const h = healthyHost(path.join(tmp, 'h'));
  server = net.createServer((s) => s.end());
  await new Promise<void>((r) => server.listen(path.join(h.roots.run, 'qatmgr.sock'), () => r()));
  const dir = path.join(FIXTURES, set);
  const files = fs.readdirSync(dir).filter((n) => n.endsWith('.conf')).sort();
  const w = await runCli(['migrate', ...files, '--write', '--etc-root', h.roots.etc], { cwd: dir });
  expect(w.code).toBe(0);
  expect(fs.existsSync(path.join(h.roots.etc, 'sysconfig', 'qat.bak'))).toBe(true);
  return {
    dir: h.dir,
    doctor: async () => {
      const r = await runCli(['doctor', '--sim-dir', h.dir, '--json']);
      return JSON.parse(r.out).results.filter((x: { status: string }) => x.status !== 'PASS');
    },
  };
}

describe('migrate --write, then doctor', () => {
  it('mixed-per-device leaves services to the kernel default, which the simulated PFs already run: all PASS', async () => {
    const m = await migrateOnto('mixed-per-device');
    expect(await m.doctor()).toEqual([]);
  });

  it('nginx-shim sets POLICY=1, which doctor accepts as 32 one-VF sections', async () => {
    const m = await migrateOnto('nginx-shim');
    const bad = await m.doctor();
    // ServicesEnabled=sym;asym is written but not applied yet: the dc PF still runs dc until qat.service restarts
    expect(bad.map((b) => b.id)).toEqual(['stack.services']);
    expect(bad[0].seen).toContain('0000:70:00.0: dc, expected sym;asym');
    expect(bad[0].fix[0]).toContain('systemctl restart qat');
  });
});
