// After `qatctl provision` on a fresh simulated host, the real daemon serves the instance counts of behaviour §10.2.

import { describe, it, expect, afterAll } from 'vitest';
import path from 'node:path';
import { parseSimSpec } from '../../../src/sim/index.js';
import { simulatedRoots } from '../../../src/config/roots.js';
import { startDaemon, type RunningDaemon } from '../../helpers/daemon.js';
import { QatClient } from '../../../src/client/qatclient.js';
import { simHost, qatctl } from '../../helpers/tree.js';

const SPEC = '4xxx:2x16,sriov=off';
const running: RunningDaemon[] = [];
afterAll(async () => {
  await Promise.all(running.map((d) => d.stop()));
});

/** Behaviour §10.2: per-VF counts for each ServicesEnabled row (independent of the daemon's code). */
const ROWS: Array<{ services: string; policy: number; sym: number; asym: number; cy: number; dc: number; decomp: number; bits: number }> = [
  { services: 'sym;asym', policy: 0, sym: 2, asym: 2, cy: 2, dc: 0, decomp: 0, bits: 6 },
  { services: 'sym', policy: 0, sym: 4, asym: 0, cy: 4, dc: 0, decomp: 0, bits: 2 },
  { services: 'asym', policy: 2, sym: 0, asym: 4, cy: 4, dc: 0, decomp: 0, bits: 4 },
  { services: 'dc', policy: 0, sym: 0, asym: 0, cy: 0, dc: 4, decomp: 0, bits: 1 },
  { services: 'dcc', policy: 1, sym: 0, asym: 0, cy: 0, dc: 4, decomp: 0, bits: 1 },
  { services: 'asym;dc', policy: 0, sym: 0, asym: 2, cy: 2, dc: 2, decomp: 0, bits: 5 },
  { services: 'sym;dc', policy: 2, sym: 2, asym: 0, cy: 2, dc: 2, decomp: 0, bits: 3 },
];

describe('the daemon follows provisioning', () => {
  it.each(ROWS)('ServicesEnabled=$services, POLICY=$policy: a fresh host is provisioned and every served VF has the §10.2 counts', async (row) => {
    const dir = simHost(SPEC, `ServicesEnabled=${row.services}\nPOLICY=${row.policy}\n`);
    const p = await qatctl(['provision', '--sim-dir', dir, '--retry-delay', '1ms']);
    expect(p.code).toBe(0);
    const d = await startDaemon({ dir, roots: simulatedRoots(dir), host: parseSimSpec(SPEC) });
    running.push(d);
    const c = await QatClient.connect(d.socket);
    const r = await c.handshake('SSL');
    expect(r.section).toBe('SSL_INT_0');
    // policy 0: one VF of every PF; policy n: n VFs
    expect(r.devices).toHaveLength(row.policy === 0 ? 2 : row.policy);
    for (const dev of r.devices) {
      expect(dev.info).toMatchObject({ numSym: row.sym, numAsym: row.asym, numCy: row.cy, numDc: row.dc, numDecomp: row.decomp, services: row.bits });
      expect(path.dirname(dev.vfio.path)).toBe('/dev/vfio');
    }
    await c.close();
    await d.stop();
  });

  it('re-provisioning a host whose VFs are already bound changes what the daemon serves', async () => {
    const dir = simHost('default', 'ServicesEnabled=asym\n');
    const p = await qatctl(['provision', '--sim-dir', dir, '--retry-delay', '1ms']);
    expect(p.code).toBe(0);
    expect(p.out).toMatch(/done: 2 PF\(s\) changed, 32 VF\(s\) bound/);
    const d = await startDaemon({ dir, roots: simulatedRoots(dir), host: parseSimSpec('default') });
    running.push(d);
    const c = await QatClient.connect(d.socket);
    const r = await c.handshake('SSL');
    expect(r.devices.map((x) => [x.info.numAsym, x.info.numSym, x.info.numDc])).toEqual([[4, 0, 0], [4, 0, 0]]);
    await c.close();
    await d.stop();
  });
});
