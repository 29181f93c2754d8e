// qatctl provision for Intel IAA/DSA on the simulated kernel: common layouts applied and re-applied, every failure
// rolled back byte-identical, in-use wqs refused, and IAA/DSA undone when the QAT part fails after it.

import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { snapshotTree, simHost, qatctl } from '../../helpers/tree.js';
import { SIM_QAT_GID } from '../../../src/sim/userland.js';

const bus = (dir: string, ...p: string[]) => path.join(dir, 'sys', 'bus', 'dsa', ...p);
const read = (p: string) => fs.readFileSync(p, 'utf8');
const FAST = ['--retry-delay', '1ms', '--bind-retries', '1'];

/** Dedicated and shared user wqs on each DSA (accel-config save-config shape). */
function dsaUserConfig(devs: number[]): string {
  return JSON.stringify(devs.map((n) => ({
    dev: `dsa${n}`,
    read_buffer_limit: 0,
    groups: [
      { dev: `group${n}.0`, tokens_reserved: 0, use_token_limit: 0, tokens_allowed: 0, traffic_class_a: 1, traffic_class_b: 1,
        grouped_workqueues: [{ dev: `wq${n}.0`, mode: 'dedicated', size: 16, group_id: 0, priority: 10, block_on_fault: 0, max_batch_size: 32, max_transfer_size: 2097152, type: 'user', name: 'app1', driver_name: 'user', threshold: 0, ats_disable: 0 }],
        grouped_engines: [{ dev: `engine${n}.0`, group_id: 0 }, { dev: `engine${n}.1`, group_id: 0 }] },
      { dev: `group${n}.1`,
        grouped_workqueues: [{ dev: `wq${n}.1`, mode: 'shared', size: 32, priority: 5, type: 'user', name: 'app2', threshold: 28 }],
        grouped_engines: [{ dev: `engine${n}.2` }] },
    ],
  })), null, 2);
}

function host(spec: string, sysconfig: string, json?: string): string {
  const dir = simHost(spec, `POLICY=0\n${sysconfig}`);
  if (json !== undefined) {
    fs.mkdirSync(path.join(dir, 'etc', 'accel-config'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'etc', 'accel-config', 'accel-config.conf'), json);
  }
  return dir;
}

describe('qatctl provision: IAA/DSA layouts', () => {
  it('IaaCrypto gives every IAA device one dedicated kernel wq on iaa_crypto, sets sync_mode and zswap, and a second run plans nothing', async () => {
    const dir = host('iaa=4', 'IaaCrypto="sync_mode=async verify_compress=0 zswap=deflate-iaa"\n');
    const dry = await qatctl(['provision', '--sim-dir', dir, '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.out).toMatch(/IAA\/DSA plan \(dry run, nothing written\):/);
    expect(dry.out).toMatch(/iax3\s+IAA\s+disabled -> enabled\s+wq3\.0 disabled -> enabled \(crypto\)\s+reconfigure/);
    const r = await qatctl(['provision', '--sim-dir', dir]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    for (const n of [0, 1, 2, 3]) {
      expect(read(bus(dir, 'devices', `iax${n}`, 'state'))).toBe('enabled\n');
      expect(read(bus(dir, 'devices', `wq${n}.0`, 'state'))).toBe('enabled\n');
      expect(fs.readlinkSync(bus(dir, 'devices', `wq${n}.0`, 'driver'))).toMatch(/drivers\/crypto$/);
      expect(read(bus(dir, 'devices', `wq${n}.0`, 'size'))).toBe('128\n');
      expect(read(bus(dir, 'devices', `group${n}.0`, 'engines')).trim().split(' ')).toHaveLength(8);
    }
    expect(read(bus(dir, 'drivers', 'crypto', 'sync_mode'))).toBe('async\n');
    expect(read(bus(dir, 'drivers', 'crypto', 'verify_compress'))).toBe('0\n');
    expect(read(path.join(dir, 'sys', 'module', 'zswap', 'parameters', 'compressor'))).toBe('deflate-iaa\n');
    const before = snapshotTree(dir);
    const again = await qatctl(['provision', '--sim-dir', dir, '--json']);
    expect(again.code).toBe(0);
    const rep = JSON.parse(again.out);
    expect(rep.idxd.plan.empty).toBe(true);
    expect(rep.idxd.plan.devices.every((d: { ok: boolean }) => d.ok)).toBe(true);
    expect(snapshotTree(dir)).toEqual(before);
  });

  it('an accel-config JSON gives every DSA a dedicated and a shared user wq with /dev/dsa nodes for group qat; re-applied: nothing to do', async () => {
    const dir = host('dsa=2', '', dsaUserConfig([0, 1]));
    const r = await qatctl(['provision', '--sim-dir', dir]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/IAA\/DSA: .*accel-config\.conf/);
    for (const n of [0, 1]) {
      for (const q of [0, 1]) {
        const node = path.join(dir, 'dev', 'dsa', `wq${n}.${q}`);
        const st = fs.statSync(node);
        expect(st.gid).toBe(SIM_QAT_GID);
        expect(st.mode & 0o777).toBe(0o660);
        expect(fs.readlinkSync(bus(dir, 'devices', `wq${n}.${q}`, 'driver'))).toMatch(/drivers\/user$/);
      }
      expect(read(bus(dir, 'devices', `wq${n}.1`, 'threshold'))).toBe('28\n');
      expect(read(bus(dir, 'devices', `wq${n}.1`, 'mode'))).toBe('shared\n');
    }
    const before = snapshotTree(dir);
    const again = await qatctl(['provision', '--sim-dir', dir]);
    expect(again.out).toMatch(/nothing to do: the IAA\/DSA devices already match the configuration/);
    expect(snapshotTree(dir)).toEqual(before);
  });

  it('a mixed host (QAT, DSA user wqs from the JSON, IAA crypto from IaaCrypto) is provisioned in one run', async () => {
    const dir = host('4xxx:1x4,sriov=off,iaa=2,dsa=2', 'IaaCrypto="mode=dedicated sync_mode=async_irq zswap=deflate-iaa"\n', dsaUserConfig([0, 2]));
    const r = await qatctl(['provision', '--sim-dir', dir, ...FAST]);
    expect(r.code).toBe(0);
    expect(read(path.join(dir, 'sys', 'bus', 'pci', 'devices', '0000:6b:00.0', 'sriov_numvfs'))).toBe('16\n');
    expect(fs.readdirSync(path.join(dir, 'dev', 'dsa')).sort()).toEqual(['wq0.0', 'wq0.1', 'wq2.0', 'wq2.1']);
    expect(fs.readdirSync(bus(dir, 'drivers', 'crypto')).filter((n) => n.startsWith('wq')).sort()).toEqual(['wq1.0', 'wq3.0']);
    const a = await qatctl(['accel', '--sim-dir', dir]);
    expect(a.out).toMatch(/iaa_crypto: loaded, sync_mode async_irq, verify_compress 1, 2 wq\(s\) bound \(wq1\.0, wq3\.0\), deflate-iaa registered/);
    expect((await qatctl(['provision', '--sim-dir', dir, '--json'])).out).toMatch(/"empty": true[\s\S]*"empty": true/);
  });

  it('a changed layout on enabled devices reconfigures them (sizes, sync_mode with wqs bound) and is idempotent again', async () => {
    const dir = host('iaa=2', 'IaaCrypto="wq_size=64"\n');
    expect((await qatctl(['provision', '--sim-dir', dir])).code).toBe(0);
    fs.writeFileSync(path.join(dir, 'etc', 'sysconfig', 'qat'), 'POLICY=0\nIaaCrypto="wq_size=32 priority=3 sync_mode=async"\n');
    const r = await qatctl(['provision', '--sim-dir', dir]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/unbind\s+wq0\.0/);
    expect(r.out).toMatch(/disable\s+iax0/);
    expect(read(bus(dir, 'devices', 'wq1.0', 'size'))).toBe('32\n');
    expect(read(bus(dir, 'devices', 'wq1.0', 'priority'))).toBe('3\n');
    expect(read(bus(dir, 'drivers', 'crypto', 'sync_mode'))).toBe('async\n');
    expect(JSON.parse((await qatctl(['provision', '--sim-dir', dir, '--json'])).out).idxd.plan.empty).toBe(true);
  });
});

describe('qatctl provision: IAA/DSA failures', () => {
  it('every injected failure of a mixed layout is rolled back byte-identical', async () => {
    const dir = host('iaa=1,dsa=1', 'IaaCrypto="sync_mode=async zswap=deflate-iaa"\n', dsaUserConfig([0]));
    const plan = JSON.parse((await qatctl(['provision', '--sim-dir', dir, '--dry-run', '--json'])).out);
    const ops = plan.idxd.plan.steps.length + plan.idxd.plan.steps.filter((s: { op: string }) => s.op === 'perms').length;
    expect(ops).toBeGreaterThan(20);
    const before = snapshotTree(dir);
    for (let nth = 1; nth <= ops; nth++) {
      const r = await qatctl(['provision', '--sim-dir', dir, '--json'], { QATSIM_FAULT: `*:EIO:${nth}` });
      const out = JSON.parse(r.out);
      expect({ nth, code: r.code, error: out.error?.code }).toEqual({ nth, code: 2, error: 'QATMGR_E_PROVISION_FAILED' });
      expect(out.error.rollbackErrors).toEqual([]);
      expect(snapshotTree(dir)).toEqual(before);
    }
    // and without a fault it goes through
    expect((await qatctl(['provision', '--sim-dir', dir])).code).toBe(0);
  });

  it('a failure while reconfiguring enabled devices restores the previous layout, bindings and attributes', async () => {
    const dir = host('iaa=2,dsa=1', 'IaaCrypto="wq_size=64 zswap=deflate-iaa"\n', dsaUserConfig([0]));
    expect((await qatctl(['provision', '--sim-dir', dir])).code).toBe(0);
    fs.writeFileSync(path.join(dir, 'etc', 'sysconfig', 'qat'), 'POLICY=0\nIaaCrypto="wq_size=16 sync_mode=async_irq zswap=keep"\n');
    fs.writeFileSync(path.join(dir, 'sys', 'module', 'zswap', 'parameters', 'compressor'), 'lzo\n');
    const before = snapshotTree(dir);
    const r = await qatctl(['provision', '--sim-dir', dir], { QATSIM_FAULT: 'write@*/drivers/crypto/bind:EBUSY:2' });
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/step \d+ "bind wq2\.0": write .*drivers\/crypto\/bind: EBUSY .*rolled back: iax1, iax2 as before/);
    expect(snapshotTree(dir)).toEqual(before);
  });

  it('iaa_crypto loaded by a failed apply is unloaded again, deflate-iaa with it', async () => {
    const dir = host('iaa=2,iaa_crypto=off', 'IaaCrypto="sync_mode=async"\n');
    const before = snapshotTree(dir);
    const r = await qatctl(['provision', '--sim-dir', dir], { QATSIM_FAULT: 'write@*/drivers/crypto/bind:EIO:2' });
    expect(r.code).toBe(2);
    expect(fs.existsSync(bus(dir, 'drivers', 'crypto'))).toBe(false);
    expect(snapshotTree(dir)).toEqual(before);
    expect((await qatctl(['provision', '--sim-dir', dir])).code).toBe(0);
    expect(read(path.join(dir, 'proc', 'modules'))).toMatch(/^iaa_crypto /m);
  });

  it('a refused bind names the driver reason from cmd_status', async () => {
    const dir = host('dsa=1', '', dsaUserConfig([0]));
    const r = await qatctl(['provision', '--sim-dir', dir, '--json'], { QATSIM_FAULT: 'write@*/drivers/idxd/bind:ENXIO' });
    expect(r.code).toBe(2);
    expect(JSON.parse(r.out).error).toMatchObject({ code: 'QATMGR_E_PROVISION_FAILED', errno: 'ENXIO', rolledBack: ['dsa0'], rollbackErrors: [] });
  });

  it('when the QAT part fails after IAA/DSA were applied, the IAA/DSA changes are undone too', async () => {
    const dir = host('4xxx:1x4,sriov=off,iaa=1', 'ServicesEnabled=dc\nIaaCrypto="zswap=deflate-iaa"\n');
    const before = snapshotTree(dir);
    const r = await qatctl(['provision', '--sim-dir', dir, ...FAST], { QATSIM_FAULT: 'write@*/drivers/vfio-pci/bind:EBUSY:3:*' });
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/the IAA\/DSA changes were undone too/);
    expect(snapshotTree(dir)).toEqual(before);
  });

  it('zswap on deflate-iaa blocks a plan that would unbind the IAA wqs under it (exit 6, nothing changed)', async () => {
    const dir = host('iaa=1', 'IaaCrypto="zswap=deflate-iaa"\n');
    expect((await qatctl(['provision', '--sim-dir', dir])).code).toBe(0);
    fs.writeFileSync(path.join(dir, 'etc', 'sysconfig', 'qat'), 'POLICY=0\nIaaCrypto="sync_mode=async_irq zswap=keep"\n');
    const before = snapshotTree(dir);
    const r = await qatctl(['provision', '--sim-dir', dir]);
    expect(r.code).toBe(6);
    expect(r.err).toMatch(/zswap uses deflate-iaa .* and this plan would unbind the IAA wqs under it \(wq0\.0\); nothing was changed\. First: echo lzo > \/sys\/module\/zswap\/parameters\/compressor/);
    expect(snapshotTree(dir)).toEqual(before);
  });

  it('a user wq with clients blocks the apply (exit 6) and the dry run lists it', async () => {
    const dir = host('dsa=1', '', dsaUserConfig([0]));
    expect((await qatctl(['provision', '--sim-dir', dir])).code).toBe(0);
    fs.writeFileSync(bus(dir, 'devices', 'wq0.0', 'clients'), '2\n');
    fs.writeFileSync(path.join(dir, 'etc', 'accel-config', 'accel-config.conf'), dsaUserConfig([0]).replace('"size": 16', '"size": 8'));
    const dry = await qatctl(['provision', '--sim-dir', dir, '--dry-run']);
    expect(dry.out).toMatch(/in use: wq0\.0 has 2 client\(s\)/);
    const before = snapshotTree(dir);
    const r = await qatctl(['provision', '--sim-dir', dir]);
    expect(r.code).toBe(6);
    expect(r.err).toMatch(/IAA\/DSA wqs this plan would unbind are in use; nothing was changed[\s\S]*wq0\.0: 2 client\(s\)/);
    expect(snapshotTree(dir)).toEqual(before);
  });
});
