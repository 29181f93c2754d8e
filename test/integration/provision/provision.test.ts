import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { snapshotTree, simHost, qatctl } from '../../helpers/tree.js';
import { SIM_QAT_GID } from '../../../src/sim/userland.js';

const dev = (dir: string, bdf: string) => path.join(dir, 'sys', 'bus', 'pci', 'devices', bdf);
const read = (p: string) => fs.readFileSync(p, 'utf8');
const FAST = ['--retry-delay', '1ms'];

describe('qatctl provision on the simulated kernel', () => {
  it('provisions a fresh host: services written, all VFs on vfio-pci, nodes and hugepages for group qat', async () => {
    const dir = simHost('4xxx:2x16,sriov=off', 'ServicesEnabled=sym\n');
    const r = await qatctl(['provision', '--sim-dir', dir, ...FAST]);
    expect(r.err).not.toMatch(/Error/);
    expect(r.code).toBe(0);
    for (const pf of ['0000:6b:00.0', '0000:70:00.0']) {
      expect(read(path.join(dev(dir, pf), 'qat', 'cfg_services'))).toBe('sym\n');
      expect(read(path.join(dev(dir, pf), 'qat', 'state'))).toBe('up\n');
      expect(read(path.join(dev(dir, pf), 'sriov_numvfs'))).toBe('16\n');
    }
    const nodes = fs.readdirSync(path.join(dir, 'dev', 'vfio')).filter((n) => n !== 'vfio');
    expect(nodes).toHaveLength(32);
    for (const n of nodes) {
      const st = fs.statSync(path.join(dir, 'dev', 'vfio', n));
      expect(st.gid).toBe(SIM_QAT_GID);
      expect(st.mode & 0o070).toBe(0o060);
    }
    expect(fs.readlinkSync(path.join(dev(dir, '0000:70:02.0'), 'driver'))).toMatch(/vfio-pci$/);
    const hp = fs.statSync(path.join(dir, 'dev', 'hugepages', 'qat'));
    expect(hp.isDirectory() && hp.gid === SIM_QAT_GID && (hp.mode & 0o070) === 0o070).toBe(true);
    expect(r.out).toMatch(/done: 2 PF\(s\) changed, 32 VF\(s\) bound, 32 \/dev\/vfio node\(s\) given to qat, hugepages created/);
  });

  it('is idempotent: a second run plans nothing and changes nothing', async () => {
    const dir = simHost('4xxx:2x16,sriov=off', 'ServicesEnabled=asym;dc\n');
    expect((await qatctl(['provision', '--sim-dir', dir, ...FAST])).code).toBe(0);
    const before = snapshotTree(dir);
    const r = await qatctl(['provision', '--sim-dir', dir, '--json']);
    expect(r.code).toBe(0);
    const rep = JSON.parse(r.out);
    expect(rep.plan.empty).toBe(true);
    expect(rep.plan.steps).toEqual([]);
    expect(snapshotTree(dir)).toEqual(before);
  });

  it('--dry-run prints the plan and writes nothing', async () => {
    const dir = simHost('default', 'ServicesEnabled=dc\n');
    const before = snapshotTree(dir);
    const r = await qatctl(['provision', '--sim-dir', dir, '--dry-run']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/plan \(dry run, nothing written\):/);
    expect(r.out).toMatch(/0000:6b:00\.0\s+4xxx\s+sym;asym -> dc/);
    expect(r.out).toMatch(/state\s+0000:6b:00\.0\s+down/);
    expect(snapshotTree(dir)).toEqual(before);
  });

  it('treats "Asym ; SYM" as the sym;asym a PF already has (no change to that PF)', async () => {
    const dir = simHost('default', 'ServicesEnabled="Asym ; SYM"\n');
    const r = await qatctl(['provision', '--sim-dir', dir, '--dry-run', '--json']);
    const rep = JSON.parse(r.out);
    const pf0 = rep.plan.pfs.find((p: { bdf: string }) => p.bdf === '0000:6b:00.0');
    expect(pf0.services.change).toBe(false);
    expect(rep.plan.pfs.find((p: { bdf: string }) => p.bdf === '0000:70:00.0').services).toMatchObject({ now: 'dc', want: 'asym;sym', change: true });
  });

  it('leaves services alone and says so when ServicesEnabled= is empty', async () => {
    const dir = simHost('4xxx:2x16,sriov=off', 'ServicesEnabled=\n');
    const r = await qatctl(['provision', '--sim-dir', dir, ...FAST]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/ServicesEnabled is empty; every PF keeps the kernel's default services/);
    expect(read(path.join(dev(dir, '0000:70:00.0'), 'qat', 'cfg_services'))).toBe('dc\n');
    expect(read(path.join(dev(dir, '0000:70:00.0'), 'sriov_numvfs'))).toBe('16\n');
  });

  it('rejects services the family does not support, naming file, line and the allowed values', async () => {
    const dir = simHost('4xxx:1x16', '# services\nServicesEnabled=sym;asym;dc\n');
    const r = await qatctl(['provision', '--sim-dir', dir]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/sysconfig\/qat:2: ServicesEnabled="sym;asym;dc" is not supported by 4xxx \(PF 0000:6b:00\.0\); allowed for 4xxx: asym, sym, dc, dcc, asym;sym, asym;dc, sym;dc/);
    const r2 = await qatctl(['provision', '--sim-dir', simHost('6xxx:1x16', 'ServicesEnabled=decomp;dc\n'), '--dry-run']);
    expect(r2.code).toBe(0);
  });

  it('rejects POLICY=-1 and a POLICY larger than the VFs that will exist', async () => {
    const r = await qatctl(['provision', '--sim-dir', simHost('4xxx:2x16', 'POLICY=-1\n')]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/qat:1: POLICY="-1" is not a number 0\.\.4096/);
    const r2 = await qatctl(['provision', '--sim-dir', simHost('4xxx:2x16', 'POLICY=33\nKernelVfs=0000:6b:00.1\n'), '--dry-run']);
    expect(r2.code).toBe(1);
    expect(r2.err).toMatch(/POLICY 33 needs at least 33 VFs but provisioning leaves 31 VF\(s\) on vfio-pci/);
  });

  it('keeps KernelVfs on the kernel VF driver (loading it) and the others on vfio-pci', async () => {
    const dir = simHost('4xxx:1x16,sriov=off', 'KernelVfs=6b:00.1\n');
    const r = await qatctl(['provision', '--sim-dir', dir, ...FAST]);
    expect(r.code).toBe(0);
    expect(fs.readlinkSync(path.join(dev(dir, '0000:6b:00.1'), 'driver'))).toMatch(/\/4xxxvf$/);
    expect(fs.readlinkSync(path.join(dev(dir, '0000:6b:00.2'), 'driver'))).toMatch(/\/vfio-pci$/);
    expect(fs.existsSync(path.join(dir, 'dev', 'vfio', '100'))).toBe(false);
    expect(read(path.join(dir, 'proc', 'modules'))).toMatch(/^qat_4xxxvf .* Live/m);
  });

  it('waits for the driver and, when a module stays Coming, names it and what to check (nothing changed)', async () => {
    const dir = simHost('4xxx:1x16+420xx:1x16,sriov=off', 'ServicesEnabled=sym\n');
    const mods = path.join(dir, 'proc', 'modules');
    fs.writeFileSync(mods, read(mods).replace(/^(qat_420xx .*) Live /m, '$1 Coming '));
    const before = snapshotTree(dir);
    const r = await qatctl(['provision', '--sim-dir', dir, '--timeout', '300ms']);
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/waiting for the QAT driver .*module qat_420xx state Coming/);
    expect(r.err).toMatch(/not ready after 0\.[3-9]s \(--timeout 0\.3s\); nothing was changed/);
    expect(r.err).toMatch(/module qat_420xx: state Coming in .*proc\/modules; check 'dmesg \| grep -i qat'/);
    expect(snapshotTree(dir)).toEqual(before);
  });

  it('goes ahead as soon as the module turns Live within the timeout', async () => {
    const dir = simHost('4xxx:1x16,sriov=off');
    const mods = path.join(dir, 'proc', 'modules');
    const live = read(mods);
    fs.writeFileSync(mods, live.replace(/^(qat_4xxx .*) Live /m, '$1 Coming '));
    setTimeout(() => fs.writeFileSync(mods, live), 250);
    const r = await qatctl(['provision', '--sim-dir', dir, '--timeout', '5s', ...FAST]);
    expect(r.code).toBe(0);
    expect(read(path.join(dev(dir, '0000:6b:00.0'), 'sriov_numvfs'))).toBe('16\n');
  });

  it('in a guest (VFs, no PF) binds every QAT VF to vfio-pci and gives the nodes to group qat, without waiting', async () => {
    const dir = simHost('4xxx:1x4,vm,driver=none');
    const r = await qatctl(['provision', '--sim-dir', dir, ...FAST]);
    expect(r.code).toBe(0);
    const vfs = fs.readdirSync(path.join(dir, 'sys', 'bus', 'pci', 'devices'));
    expect(vfs).toHaveLength(4);
    for (const vf of vfs) expect(fs.readlinkSync(path.join(dev(dir, vf), 'driver'))).toMatch(/vfio-pci$/);
    const nodes = fs.readdirSync(path.join(dir, 'dev', 'vfio')).filter((n) => n !== 'vfio');
    expect(nodes.map((n) => fs.statSync(path.join(dir, 'dev', 'vfio', n)).gid)).toEqual([SIM_QAT_GID, SIM_QAT_GID, SIM_QAT_GID, SIM_QAT_GID]);
    expect((await qatctl(['provision', '--sim-dir', dir, '--json'])).out).toMatch(/"empty": true/);
  });

  it('refuses to remove VFs whose /dev/vfio node a process holds open, naming node, VF and pid (exit 6, nothing changed)', async () => {
    const dir = simHost('default', 'ServicesEnabled=dc\n');
    const node = path.join(dir, 'dev', 'vfio', '100');
    const fd = fs.openSync(node, 'r+');
    try {
      const before = snapshotTree(dir);
      const r = await qatctl(['provision', '--sim-dir', dir, ...FAST]);
      expect(r.code).toBe(6);
      expect(r.err).toContain(`${node} (VF 0000:6b:00.1 of PF 0000:6b:00.0) is open by pid ${process.pid}`);
      expect(snapshotTree(dir)).toEqual(before);
    } finally {
      fs.closeSync(fd);
    }
    expect((await qatctl(['provision', '--sim-dir', dir, ...FAST])).code).toBe(0);
  });

  it('--permissions-only gives the existing vfio nodes to group qat and changes nothing else (for the udev rule)', async () => {
    const dir = simHost('default', 'ServicesEnabled=dc\n');
    // as the kernel creates them: root-only
    for (const n of fs.readdirSync(path.join(dir, 'dev', 'vfio')).filter((x) => x !== 'vfio')) {
      fs.chownSync(path.join(dir, 'dev', 'vfio', n), 0, 0);
      fs.chmodSync(path.join(dir, 'dev', 'vfio', n), 0o600);
    }
    const before = snapshotTree(dir);
    const r = await qatctl(['provision', '--sim-dir', dir, '--permissions-only']);
    expect(r.code).toBe(0);
    const after = snapshotTree(dir);
    const changed = Object.keys(after).filter((k) => JSON.stringify(after[k]) !== JSON.stringify(before[k]));
    expect(changed).toHaveLength(32);
    for (const k of changed) {
      expect(k).toMatch(/^dev\/vfio\/\d+$/);
      expect(after[k]).toMatchObject({ gid: SIM_QAT_GID, mode: before[k].mode | 0o060, content: before[k].content });
    }
    expect(Object.keys(after)).toEqual(Object.keys(before));
  });

  it('runs one at a time: a live lock holder is named (exit 7), a dead one is taken over and the lock removed', async () => {
    const dir = simHost('4xxx:1x16,sriov=off');
    const lock = path.join(dir, 'run', 'qat', 'provision.lock');
    fs.writeFileSync(lock, '1\n');
    const r = await qatctl(['provision', '--sim-dir', dir]);
    expect(r.code).toBe(7);
    expect(r.err).toMatch(/another qatctl provision \(pid 1\) is running \(lock .*provision\.lock\)/);
    fs.writeFileSync(lock, '999999999\n');
    expect((await qatctl(['provision', '--sim-dir', dir, ...FAST])).code).toBe(0);
    expect(fs.existsSync(lock)).toBe(false);
  });

  it('leaves a PF of an unsupported QAT generation alone and reports it', async () => {
    const dir = simHost('4xxx:1x16,sriov=off', 'ServicesEnabled=dc\n');
    const legacy = path.join(dir, 'sys', 'devices', 'pci0000:3d', '0000:3d:00.0');
    fs.mkdirSync(path.join(legacy, 'qat'), { recursive: true });
    fs.writeFileSync(path.join(legacy, 'vendor'), '0x8086\n');
    fs.writeFileSync(path.join(legacy, 'device'), '0x37c8\n');
    fs.writeFileSync(path.join(legacy, 'sriov_totalvfs'), '16\n');
    fs.writeFileSync(path.join(legacy, 'sriov_numvfs'), '0\n');
    fs.writeFileSync(path.join(legacy, 'qat', 'cfg_services'), 'sym;asym\n');
    fs.symlinkSync('../../../devices/pci0000:3d/0000:3d:00.0', path.join(dir, 'sys', 'bus', 'pci', 'devices', '0000:3d:00.0'));
    const before = snapshotTree(legacy);
    const r = await qatctl(['provision', '--sim-dir', dir, ...FAST]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/left alone: 0000:3d:00\.0 \(8086:37c8\) c62x: QAT generation not served/);
    expect(snapshotTree(legacy)).toEqual(before);
    expect(read(path.join(dev(dir, '0000:6b:00.0'), 'qat', 'cfg_services'))).toBe('dc\n');
  });
});

describe('rollback: a failed step leaves the whole simulated tree exactly as before', () => {
  const cases: Array<{ name: string; spec: string; settings: string; fault: string; step: RegExp }> = [
    { name: 'cfg_services of the second PF', spec: '4xxx:2x16,sriov=off', settings: 'ServicesEnabled=sym\n', fault: 'write@*0000:70:00.0/qat/cfg_services:EIO', step: /step "services sym on 0000:70:00\.0": write .*0000:70:00\.0\/qat\/cfg_services: EIO \(/ },
    { name: 'sriov_numvfs of the second PF', spec: '4xxx:2x16,sriov=off', settings: 'ServicesEnabled=asym\n', fault: 'write@*0000:70:00.0/sriov_numvfs:ENOMEM', step: /step "numvfs 16 on 0000:70:00\.0": write .*sriov_numvfs: ENOMEM \(/ },
    { name: 'the bind of the 7th VF (all retries)', spec: '4xxx:2x16,sriov=off', settings: 'ServicesEnabled=dc\n', fault: 'write@*/drivers/vfio-pci/bind:EBUSY:7:*', step: /step "bind 0000:6b:00\.7 to vfio-pci \(5 attempts\)": write .*drivers\/vfio-pci\/bind: EBUSY \(/ },
    { name: 'the chgrp of a /dev/vfio node of the second PF', spec: '4xxx:2x16,sriov=off', settings: 'ServicesEnabled=sym;dc\n', fault: 'chown@dev/vfio/*:EPERM:20', step: /step "give .*dev\/vfio\/119 to group qat": chown .*dev\/vfio\/119: EPERM \(/ },
    { name: 'cfg_services on a host whose VFs were already bound', spec: 'default', settings: 'ServicesEnabled=sym\n', fault: 'write@*0000:70:00.0/qat/cfg_services:EIO', step: /cfg_services: EIO/ },
    { name: 'the hugepages directory after both PFs', spec: 'default', settings: 'ServicesEnabled=asym\n', fault: 'chown@dev/hugepages/*:EPERM', step: /step "hugepages directory .*": chown .*hugepages\/qat: EPERM/ },
  ];
  for (const c of cases) {
    it(`failing at ${c.name} rolls back, exits 2 and names step, path and errno`, async () => {
      const dir = simHost(c.spec, c.settings);
      const before = snapshotTree(dir);
      const r = await qatctl(['provision', '--sim-dir', dir, ...FAST], { QATSIM_FAULT: c.fault });
      expect(r.err).toMatch(c.step);
      expect(r.err).toMatch(/rolled back: /);
      expect(r.code).toBe(2);
      expect(snapshotTree(dir)).toEqual(before);
    });
  }

  it('a spawned qatctl process reads the faults file of the simulated host and reports JSON', () => {
    const dir = simHost('4xxx:2x16,sriov=off', 'ServicesEnabled=sym\n');
    fs.writeFileSync(path.join(dir, 'faults.json'), JSON.stringify([{ op: 'write', path: '*/drivers/vfio-pci/bind', errno: 'EBUSY', nth: 7, count: '*' }]));
    const before = snapshotTree(dir);
    const bin = path.resolve('dist/daemon/qatctl.js');
    const p = spawnSync(process.execPath, [bin, 'provision', '--sim-dir', dir, '--json', ...FAST], { encoding: 'utf8', env: { PATH: process.env.PATH } });
    expect(p.status).toBe(2);
    const rep = JSON.parse(p.stdout);
    expect(rep.error).toMatchObject({ code: 'QATMGR_E_PROVISION_FAILED', op: 'write', errno: 'EBUSY', rolledBack: ['0000:6b:00.0'] });
    expect(rep.error.path).toMatch(/drivers\/vfio-pci\/bind$/);
    expect(snapshotTree(dir)).toEqual(before);
  });
});
