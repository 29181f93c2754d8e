// Doctor on simulated hosts: the healthy host passes everything; each broken variant trips exactly its check.

import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { breakers, healthyHost, type BreakerName, type FixtureHost } from '../../fixtures/doctor-hosts.js';
import { resolveUser, runDoctor } from '../../../src/doctor/run.js';
import type { CheckResult, DoctorReport } from '../../../src/doctor/types.js';

let tmp: string;
let server: net.Server | undefined;

beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'doctor-'));
});
afterEach(async () => {
  if (server) await new Promise<void>((r) => server!.close(() => r()));
  server = undefined;
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** Something that accepts connections on the host's qatmgr socket (the daemon's stand-in for the stack.service check). */
async function listen(h: FixtureHost): Promise<void> {
  server = net.createServer((s) => s.end());
  await new Promise<void>((r) => server!.listen(path.join(h.roots.run, 'qatmgr.sock'), () => r()));
}

async function doctor(h: FixtureHost, opts: { user?: string; expect?: string[]; env?: NodeJS.ProcessEnv } = {}): Promise<DoctorReport> {
  return runDoctor({
    roots: h.roots, user: resolveUser(h.roots, opts.user), expect: opts.expect ?? [],
    socketPath: path.join(h.roots.run, 'qatmgr.sock'), appMemMiB: 64, env: opts.env ?? {}, connectTimeoutMs: 500,
  });
}

const notPassing = (r: DoctorReport): CheckResult[] => r.results.filter((x) => x.status !== 'PASS');

describe('doctor on a healthy simulated host', () => {
  it('reports every check PASS for root and exits clean', async () => {
    const h = healthyHost(path.join(tmp, 'h'));
    await listen(h);
    const r = await doctor(h);
    expect(notPassing(r)).toEqual([]);
    expect(r.summary).toEqual({ pass: 23, warn: 0, fail: 0 });
  });

  it('reports every check PASS for the unprivileged application user, with the memlock arithmetic', async () => {
    const h = healthyHost(path.join(tmp, 'h'));
    await listen(h);
    const r = await doctor(h, { user: 'qatuser', expect: ['sym', 'asym', 'dc'] });
    expect(notPassing(r)).toEqual([]);
    const mem = r.results.find((x) => x.id === 'access.memlock')!;
    expect(mem.seen).toContain('POLICY=0: 2 VF(s) per section x 16 MiB + 64 MiB application = 96 MiB');
    expect(mem.seen).toContain('configured 256 MiB');
  });

  it('accepts firmware compressed with xz', async () => {
    const h = healthyHost(path.join(tmp, 'h'));
    breakers.compressFirmware(h.roots);
    await listen(h);
    const fw = (await doctor(h)).results.find((x) => x.id === 'firmware')!;
    expect(fw.status).toBe('PASS');
    expect(fw.seen).toContain('qat_4xxx.bin.xz');
  });

  it('warns, not fails, when qat.service is enabled but no daemon listens', async () => {
    const h = healthyHost(path.join(tmp, 'h'));
    const r = await doctor(h);
    expect(notPassing(r).map((x) => [x.id, x.status])).toEqual([['stack.service', 'WARN']]);
  });
});

interface Variant {
  breaker: BreakerName;
  user?: string;
  spec?: string;
  expectServices?: string[];
  env?: NodeJS.ProcessEnv;
  id: string;
  status: 'WARN' | 'FAIL';
  seen: string;
  fix: string;
  /** Other checks the same fault trips, by design. */
  alsoTrips?: string[];
}

const variants: Variant[] = [
  { breaker: 'legacyDevice', id: 'devices', status: 'FAIL', seen: 'cannot migrate without a hardware change', fix: 'out-of-tree package' },
  { breaker: 'removeFirmware', id: 'firmware', status: 'FAIL', seen: 'missing in', fix: 'modprobe -r qat_4xxx && modprobe qat_4xxx' },
  { breaker: 'moduleLoading', id: 'modules.loaded', status: 'FAIL', seen: 'not Live: qat_4xxx (Loading)', fix: 'dmesg' },
  { breaker: 'ootModules', id: 'modules.oot', status: 'FAIL', seen: 'usdm_drv, qat_api', fix: 'modprobe -r usdm_drv qat_api' },
  { breaker: 'cmdlineNoIommu', id: 'cmdline.iommu', status: 'FAIL', seen: 'intel_iommu=off', fix: 'intel_iommu=on', alsoTrips: ['cmdline.iommu-pt'] },
  { breaker: 'cmdlineNoPt', id: 'cmdline.iommu-pt', status: 'WARN', seen: 'no iommu=pt', fix: 'add iommu=pt to GRUB_CMDLINE_LINUX' },
  { breaker: 'cmdlineVfioPfId', id: 'cmdline.vfio-ids', status: 'FAIL', seen: 'claims the PF id 8086:4940', fix: 'vfio-pci.ids=8086:4941' },
  { breaker: 'cmdlineUnsafeNoiommu', id: 'cmdline.noiommu', status: 'FAIL', seen: 'unsafe', fix: 'remove vfio.enable_unsafe_noiommu_mode' },
  { breaker: 'vfWithoutGroup', id: 'vfio.groups', status: 'FAIL', seen: '1 VF(s) without an IOMMU group', fix: 'enable the IOMMU' },
  { breaker: 'unbindVf', id: 'vfio.binding', status: 'FAIL', seen: '1 VF(s) bound to no driver', fix: 'driver_override' },
  { breaker: 'vfioNodeWrongGroup', id: 'vfio.nodes', status: 'FAIL', seen: 'not group qat', fix: 'chgrp qat /dev/vfio/' },
  { breaker: 'dropQatGroup', id: 'access.group', status: 'FAIL', seen: 'no group qat', fix: 'systemd-sysusers /usr/lib/sysusers.d/qat.conf', alsoTrips: ['vfio.nodes'] },
  { breaker: 'userNotInGroup', user: 'bob', id: 'access.member', status: 'FAIL', seen: 'bob is not in group qat', fix: 'usermod -aG qat bob', alsoTrips: ['access.memlock'] },
  { breaker: 'noMemlock', user: 'qatuser', id: 'access.memlock', status: 'FAIL', seen: '= 96 MiB; configured: 64 MiB', fix: '@qat - memlock 98304' },
  { breaker: 'ootServiceScript', id: 'oot.service', status: 'FAIL', seen: 'init.d/qat_service', fix: 'systemctl disable --now qat_service' },
  { breaker: 'ootConfFiles', id: 'oot.conf', status: 'WARN', seen: '4xxx_dev0.conf', fix: 'qatctl migrate' },
  { breaker: 'icpRoot', id: 'oot.icp-root', status: 'WARN', seen: 'profile.d/qat.sh:1', fix: 'delete the ICP_ROOT line' },
  { breaker: 'ootLibs', id: 'oot.libs', status: 'FAIL', seen: 'libqat_s.so', fix: 'ldconfig' },
  { breaker: 'serviceDisabled', id: 'stack.service', status: 'WARN', seen: 'not enabled at boot', fix: 'systemctl enable qat.socket' },
  { breaker: 'sysconfigSyntax', id: 'stack.sysconfig', status: 'FAIL', seen: 'qat:2: expected KEY=value', fix: 'fix that line', alsoTrips: ['stack.policy'] },
  { breaker: 'sysconfigCommentedServices', id: 'stack.sysconfig', status: 'FAIL', seen: 'reads commented ones too', fix: 'keep one ServicesEnabled= line', alsoTrips: ['stack.services'] },
  { breaker: 'policyTooLarge', id: 'stack.policy', status: 'FAIL', seen: 'POLICY=40 is greater than the 32 VFs', fix: 'POLICY=2' },
  { breaker: 'policyLeavesVfsUnused', id: 'stack.policy', status: 'WARN', seen: '2 of 32 VFs are never used', fix: 'POLICY=2' },
  { breaker: 'pfServicesMismatch', id: 'stack.services', status: 'FAIL', seen: '0000:70:00.0: sym, expected dc', fix: 'systemctl restart qat' },
];

describe('doctor on broken simulated hosts', () => {
  for (const v of variants) {
    it(`${v.breaker} makes ${v.id} ${v.status} with its fix${v.alsoTrips ? ` (and trips ${v.alsoTrips.join(', ')})` : ''}`, async () => {
      const h = healthyHost(path.join(tmp, 'h'), v.spec);
      breakers[v.breaker](h.roots);
      await listen(h);
      const r = await doctor(h, { user: v.user, expect: v.expectServices, env: v.env });
      const hit = r.results.find((x) => x.id === v.id)!;
      expect(hit.status).toBe(v.status);
      expect(hit.seen).toContain(v.seen);
      expect(hit.fix.join('\n')).toContain(v.fix);
      expect(notPassing(r).map((x) => x.id).sort()).toEqual([v.id, ...(v.alsoTrips ?? [])].sort());
    });
  }

  it('names "Compression instances missing" when the applications expect dc and no PF runs it', async () => {
    const h = healthyHost(path.join(tmp, 'h'), '4xxx:2x16,services=sym;asym');
    await listen(h);
    const r = await doctor(h, { expect: ['dc', 'sym', 'asym'] });
    const hit = r.results.find((x) => x.id === 'stack.expect')!;
    expect(hit.status).toBe('FAIL');
    expect(hit.seen).toContain('Compression instances missing');
    expect(hit.fix[0]).toContain('delete ServicesEnabled');
    expect(notPassing(r).map((x) => x.id)).toEqual(['stack.expect']);
  });

  it('fails stack.service when qat.service is not enabled and no daemon listens', async () => {
    const h = healthyHost(path.join(tmp, 'h'));
    breakers.serviceDisabled(h.roots);
    const hit = (await doctor(h)).results.find((x) => x.id === 'stack.service')!;
    expect(hit.status).toBe('FAIL');
    expect(hit.fix).toEqual(['systemctl enable --now qat.socket']);
  });

  it('flags ICP_ROOT in the invoking environment', async () => {
    const h = healthyHost(path.join(tmp, 'h'));
    await listen(h);
    const r = await doctor(h, { env: { ICP_ROOT: '/opt/QAT' } });
    expect(r.results.find((x) => x.id === 'oot.icp-root')!.seen).toContain('ICP_ROOT=/opt/QAT in this environment');
  });

  it('fails the device check on a host without any QAT device', async () => {
    const h = healthyHost(path.join(tmp, 'h'));
    for (const n of fs.readdirSync(path.join(h.roots.sys, 'bus', 'pci', 'devices'))) fs.rmSync(path.join(h.roots.sys, 'bus', 'pci', 'devices', n));
    const r = await doctor(h);
    expect(r.results.find((x) => x.id === 'devices')!.seen).toContain('no Intel QAT device');
  });
});
