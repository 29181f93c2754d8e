// qatctl accel and the daemon's view of Intel DSA/IAA: --json matches schemas/accel.json, devices --all shows both
// worlds, the metrics carry the wqs.

import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { startDaemon, qatctl, ROOT, type Daemon } from './admin-harness.js';
import { validate, type Schema } from './json-schema.js';

const schema = (name: string): Schema => JSON.parse(fs.readFileSync(path.join(ROOT, 'schemas', `${name}.json`), 'utf8')) as Schema;

let d: Daemon;
const at = (): string[] => ['--admin-socket', d.adminSocket];

beforeAll(async () => {
  d = await startDaemon('4xxx:1x4,iaa=2,dsa=1');
  fs.writeFileSync(path.join(d.dir, 'etc', 'sysconfig', 'qat'), 'POLICY=0\nIaaCrypto="zswap=deflate-iaa"\n');
  const r = await qatctl(['provision', '--sim-dir', d.dir]);
  expect(r.code).toBe(0);
});
afterAll(async () => {
  await d?.stop();
});

describe('qatctl accel', () => {
  it('--json matches schemas/accel.json and carries every attribute', async () => {
    const r = await qatctl(['accel', '--sim-dir', d.dir, '--json']);
    expect(r.code).toBe(0);
    const v = JSON.parse(r.stdout);
    expect(validate(schema('accel'), v)).toEqual([]);
    expect(v.devices.map((x: { dev: string }) => x.dev)).toEqual(['dsa0', 'iax1', 'iax2']);
    expect(v.devices[1].wqs[0].attrs).toMatchObject({ name: 'iaa_crypto', driver_name: 'crypto', state: 'enabled' });
    const broken = structuredClone(v);
    broken.devices[0].wqs[0].mode = 'exclusive';
    expect(validate(schema('accel'), broken)).toEqual(['$.devices[0].wqs[0].mode: "exclusive" not in ["shared","dedicated"]']);
  });

  it('prints a device table, the configured wqs, iaa_crypto and zswap', async () => {
    const r = await qatctl(['accel', '--sim-dir', d.dir]);
    expect(r.stdout).toMatch(/^device\s+product\s+pci\s+node\s+state/);
    expect(r.stdout).toMatch(/iax2\s+IAA\s+0000:6f:02\.0\s+0\s+enabled/);
    expect(r.stdout).toMatch(/wq2\.0\s+iax2\s+enabled\s+0\s+dedicated\s+128/);
    expect(r.stdout).toMatch(/zswap: enabled N, compressor deflate-iaa/);
  });

  it('a host without DSA/IAA says so', async () => {
    const r = await qatctl(['accel', '--sysfs-root', path.join(d.dir, 'lib')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^no Intel DSA\/IAA: the idxd driver is not loaded/);
  });
});

describe('the daemon reports DSA/IAA', () => {
  it('devices --all --json adds the accel inventory, each part matching its schema', async () => {
    const r = await qatctl(['devices', '--all', '--json', ...at()]);
    expect(r.code).toBe(0);
    const v = JSON.parse(r.stdout);
    expect(validate(schema('devices'), v)).toEqual([]);
    expect(validate(schema('accel'), v.accel)).toEqual([]);
    expect(v.accel.iaaCrypto.wqs).toEqual(['wq1.0', 'wq2.0']);
  });

  it('devices --all prints the QAT table and the DSA/IAA one', async () => {
    const r = await qatctl(['devices', '--all', ...at()]);
    // provisioning enabled all 16 VFs of the PF: the daemon follows that within a second or so (4 or 16 here)
    expect(r.stdout).toMatch(/1 PFs, (4|16) VFs/);
    expect(r.stdout).toMatch(/Intel DSA\/IAA:\ndevice\s+product/);
  });

  it('the metrics have a gauge per configured wq and per device', async () => {
    const r = await qatctl(['metrics', ...at()]);
    expect(r.stdout).toMatch(/qatmgr_accel_wq_enabled\{device="iax1",wq="wq1\.0",driver="crypto"\} 1/);
    expect(r.stdout).toMatch(/qatmgr_accel_device_enabled\{device="dsa0",product="DSA"\} 0/);
  });
});
