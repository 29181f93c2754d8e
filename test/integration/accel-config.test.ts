// The real accel-config (Debian's package) run in a private mount namespace over a simulated host's sysfs: its
// `list` agrees with our inventory, and what its `save-config` writes is a file qatctl provision finds nothing to do for.

import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { simHost, qatctl } from '../helpers/tree.js';
import { readIdxdInventory } from '../../src/idxd/inventory.js';
import { RealKernelFs } from '../../src/platform/kernelfs.js';
import { simulatedRoots } from '../../src/config/roots.js';

const haveTool = spawnSync('sh', ['-c', 'command -v accel-config'], { encoding: 'utf8' }).status === 0;
const canUnshare = process.getuid?.() === 0 && spawnSync('unshare', ['-m', 'true']).status === 0;
const why = !haveTool ? 'accel-config is not installed (apt-get install accel-config)' : !canUnshare ? 'unshare -m needs root' : '';
if (why) console.log(`accel-config comparison skipped: ${why}`);

/** accel-config with the simulated sysfs bind-mounted over /sys (private to this one command). */
function accelConfig(dir: string, args: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('unshare', ['-m', 'sh', '-c', `mount --bind "${path.join(dir, 'sys')}" /sys && accel-config ${args}`], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

type AJson = Record<string, unknown> & { dev: string };

describe.skipIf(why !== '')('accel-config over the simulated host', () => {
  const dir = simHost('iaa=2,dsa=1', 'POLICY=0\nIaaCrypto="sync_mode=async zswap=deflate-iaa"\n');
  fs.mkdirSync(path.join(dir, 'etc', 'accel-config'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'etc', 'accel-config', 'accel-config.conf'), JSON.stringify([{
    dev: 'dsa0',
    groups: [{ dev: 'group0.0', grouped_workqueues: [{ dev: 'wq0.0', mode: 'dedicated', size: 16, priority: 10, type: 'user', name: 'app1' }, { dev: 'wq0.1', mode: 'shared', size: 32, threshold: 28, type: 'user', name: 'app2' }], grouped_engines: [{ dev: 'engine0.0' }, { dev: 'engine0.1' }] }],
  }]));

  it('list -i reports the devices, groups, engines and wqs our inventory reads', async () => {
    expect((await qatctl(['provision', '--sim-dir', dir])).code).toBe(0);
    const r = accelConfig(dir, 'list -i');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const theirs = JSON.parse(r.stdout) as AJson[];
    const ours = readIdxdInventory(new RealKernelFs(), simulatedRoots(dir));
    expect(theirs.map((d) => d.dev).sort()).toEqual(ours.devices.map((d) => d.dev).sort());
    for (const d of ours.devices) {
      const t = theirs.find((x) => x.dev === d.dev)!;
      expect({ state: t.state, max_groups: t.max_groups, max_work_queues: t.max_work_queues, max_engines: t.max_engines, work_queue_size: t.work_queue_size, numa_node: t.numa_node, version: t.version, configurable: t.configurable, cdev_major: t.cdev_major })
        .toEqual({ state: d.state, max_groups: d.maxGroups, max_work_queues: d.maxWorkQueues, max_engines: d.maxEngines, work_queue_size: d.maxWorkQueuesSize, numa_node: d.numaNode, version: d.version, configurable: d.configurable ? 1 : 0, cdev_major: Number(d.attrs.cdev_major) });
      const groups = (t.groups ?? []) as Array<AJson & { grouped_workqueues?: AJson[]; grouped_engines?: AJson[] }>;
      const twqs = [...groups.flatMap((g) => g.grouped_workqueues ?? []), ...((t['ungrouped workqueues'] ?? []) as AJson[])];
      expect(twqs.map((w) => w.dev).sort()).toEqual(d.wqs.map((w) => w.dev).sort());
      for (const w of d.wqs) {
        const tw = twqs.find((x) => x.dev === w.dev)!;
        expect({ mode: tw.mode, size: tw.size, group_id: tw.group_id ?? -1, priority: tw.priority, type: tw.type, name: tw.name, driver_name: tw.driver_name, threshold: tw.threshold, state: tw.state, clients: tw.clients, max_transfer_size: tw.max_transfer_size, block_on_fault: tw.block_on_fault })
          .toEqual({ mode: w.mode, size: w.size, group_id: w.groupId, priority: w.priority, type: w.type, name: w.name, driver_name: w.driverName, threshold: w.threshold, state: w.state, clients: w.clients, max_transfer_size: w.maxTransferSize, block_on_fault: w.blockOnFault });
      }
      const tengines = [...groups.flatMap((g) => (g.grouped_engines ?? []).map((e) => [e.dev, e.group_id])), ...((t.ungrouped_engines ?? []) as AJson[]).map((e) => [e.dev, -1])];
      expect(tengines.sort()).toEqual(d.engines.map((e) => [e.dev, e.groupId]).sort());
    }
  });

  it("save-config writes a file that qatctl provision reads back as the host's configuration: nothing to do", async () => {
    const saved = path.join(dir, 'etc', 'saved.conf');
    const r = accelConfig(dir, `save-config -s "${saved}"`);
    expect(r.status).toBe(0);
    // the saved file describes the IAA devices too, so the settings file without IaaCrypto= goes with it
    const settings = path.join(dir, 'etc', 'only-policy');
    fs.writeFileSync(settings, 'POLICY=0\n');
    const p = await qatctl(['provision', '--sim-dir', dir, '--config', settings, '--accel-config', saved, '--dry-run', '--json']);
    expect(p.err).toBe('');
    const rep = JSON.parse(p.out);
    expect(rep.idxd.sources).toEqual([saved]);
    expect(JSON.parse(fs.readFileSync(saved, 'utf8')).map((d: AJson) => d.dev)).toEqual(['dsa0', 'iax1', 'iax2']);
    expect(rep.idxd.plan.empty).toBe(true);
  });
});
