// Doctor's DSA/IAA checks on simulated hosts: a provisioned host passes; each break trips its check with the fix.

import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkIdxd } from '../../../src/doctor/checks/idxd.js';
import { readSysconfig } from '../../../src/doctor/sysconfig.js';
import { simulatedRoots } from '../../../src/config/roots.js';
import { simHost, qatctl } from '../../helpers/tree.js';
import type { CheckResult } from '../../../src/doctor/types.js';

const DSA_USER = JSON.stringify([{ dev: 'dsa0', groups: [{ dev: 'group0.0', grouped_workqueues: [{ dev: 'wq0.0', mode: 'dedicated', size: 16, type: 'user', name: 'app' }], grouped_engines: [{ dev: 'engine0.0' }] }] }]);

async function provisioned(spec = 'iaa=1,dsa=1', iaa = 'IaaCrypto="zswap=deflate-iaa"', json: string | null = DSA_USER): Promise<string> {
  const dir = simHost(spec, `POLICY=0\n${iaa}\n`);
  if (json) {
    fs.mkdirSync(path.join(dir, 'etc', 'accel-config'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'etc', 'accel-config', 'accel-config.conf'), json);
  }
  const r = await qatctl(['provision', '--sim-dir', dir]);
  expect(r.err).toBe('');
  return dir;
}

function checks(dir: string): Record<string, CheckResult> {
  const roots = simulatedRoots(dir);
  return Object.fromEntries(checkIdxd(roots, readSysconfig(roots)).map((c) => [c.id, c]));
}

describe('doctor: Intel DSA/IAA', () => {
  it('a host without DSA/IAA and without IaaCrypto= gets no idxd check at all', () => {
    expect(checks(simHost('default'))).toEqual({});
  });

  it('a provisioned host passes every idxd check, and carries the note on where IAA-compressed data can be read', async () => {
    const c = checks(await provisioned());
    expect(Object.keys(c)).toEqual(['idxd.modules', 'idxd.iommu-sm', 'idxd.wqs', 'idxd.nodes', 'idxd.zswap', 'idxd.portability']);
    for (const r of Object.values(c)) expect({ id: r.id, status: r.status }).toEqual({ id: r.id, status: 'PASS' });
    expect(c['idxd.portability'].seen).toMatch(/standard RFC 1951 deflate.*cannot be read on hosts without IAA/);
    expect(c['idxd.nodes'].seen).toBe('1 user wq node(s): group qat, g+rw');
  });

  it('iaa_crypto not loaded while IaaCrypto= is set fails idxd.modules with the modprobe', async () => {
    const dir = simHost('iaa=1,iaa_crypto=off', 'IaaCrypto=on\n');
    const c = checks(dir);
    expect(c['idxd.modules']).toMatchObject({ status: 'FAIL', seen: 'not loaded: iaa_crypto' });
    expect(c['idxd.modules'].fix[0]).toBe('modprobe iaa_crypto');
  });

  it('without scalable mode a configured user wq fails idxd.iommu-sm with the boot parameter; with only kernel wqs it warns', () => {
    const dir = simHost('dsa=1,sm=off');
    const c0 = checks(dir);
    expect(c0['idxd.iommu-sm'].status).toBe('WARN');
    const bus = path.join(dir, 'sys', 'bus', 'dsa', 'devices', 'wq0.0');
    fs.writeFileSync(path.join(bus, 'type'), 'user\n');
    const c = checks(dir);
    expect(c['idxd.iommu-sm'].status).toBe('FAIL');
    expect(c['idxd.iommu-sm'].seen).toMatch(/user\/shared wqs wq0\.0 cannot be enabled/);
    expect(c['idxd.iommu-sm'].fix[0]).toMatch(/intel_iommu=on,sm_on/);
  });

  it('a configured wq that is not enabled fails idxd.wqs; devices with no wq warn', async () => {
    const fresh = checks(simHost('iaa=1'));
    expect(fresh['idxd.wqs']).toMatchObject({ status: 'WARN', seen: 'no enabled wq on iax0: the accelerators are unused' });
    const dir = await provisioned();
    const bus = path.join(dir, 'sys', 'bus', 'dsa');
    // take the wq down the way the kernel does (the model keeps its settings but not its binding)
    fs.rmSync(path.join(bus, 'devices', 'wq0.0', 'driver'));
    fs.writeFileSync(path.join(bus, 'devices', 'wq0.0', 'state'), 'disabled\n');
    const c = checks(dir);
    expect(c['idxd.wqs']).toMatchObject({ status: 'FAIL', seen: 'configured but not enabled: wq0.0' });
    expect(c['idxd.wqs'].fix[0]).toMatch(/^qatctl provision/);
  });

  it('a user wq node not given to the group fails idxd.nodes with the chgrp and the lasting fix', async () => {
    const dir = await provisioned();
    const node = path.join(dir, 'dev', 'dsa', 'wq0.0');
    fs.chmodSync(node, 0o600);
    const c = checks(dir);
    expect(c['idxd.nodes'].status).toBe('FAIL');
    expect(c['idxd.nodes'].fix[0]).toBe(`chgrp qat ${node} && chmod 0660 ${node}`);
  });

  it('zswap on another compressor while IAA crypto is set up warns with the echo', async () => {
    const dir = await provisioned('iaa=1', 'IaaCrypto=on', null);
    const c = checks(dir);
    expect(c['idxd.zswap']).toMatchObject({ status: 'WARN', seen: 'zswap compressor is lzo, not deflate-iaa: IAA is not used for swap' });
    expect(c['idxd.zswap'].fix[0]).toBe('echo deflate-iaa > /sys/module/zswap/parameters/compressor');
  });
});
