// The kubelet device plugin of the real daemon, against a kubelet stand-in over real gRPC on Unix sockets.

import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { spawnDaemon, type Proc } from '../helpers/lifecycle-daemon.js';
import { makeSim, type SimFixture } from '../helpers/lifecycle-sim.js';
import { KubeletStandIn, waitFor } from '../helpers/kubelet-standin.js';

let sim: SimFixture | undefined;
let daemon: Proc | undefined;
let kubelet: KubeletStandIn | undefined;

afterEach(async () => {
  if (daemon && daemon.proc.exitCode === null && daemon.proc.signalCode === null) { daemon.proc.kill('SIGKILL'); await daemon.exited; }
  await kubelet?.stop();
  sim?.cleanup();
  sim = daemon = kubelet = undefined;
});

async function setUp(spec: string, flags: string[] = [], opts: { versions?: string[]; startKubelet?: boolean } = {}): Promise<{ sim: SimFixture; daemon: Proc; kubelet: KubeletStandIn }> {
  sim = makeSim(spec, 'qat-k8s-');
  kubelet = new KubeletStandIn(path.join(sim.dir, 'kubelet'), { versions: opts.versions });
  if (opts.startKubelet !== false) await kubelet.start();
  daemon = spawnDaemon([...sim.args, '--kubelet-plugin', '--kubelet-dir', kubelet.dir, '--kubelet-health-interval', '100', ...flags]);
  await daemon.waitLog((l) => l.event === 'ready');
  return { sim, daemon, kubelet };
}

describe('registration and ListAndWatch', () => {
  it('registers one resource per services set under Intel plugin names, each with its own socket, and lists every VF healthy with its NUMA node', async () => {
    const { kubelet: k } = await setUp('4xxx:2x4,numa=2');
    const cy = await k.plugin('qat.intel.com/cy');
    const dc = await k.plugin('qat.intel.com/dc');
    expect(cy.req).toMatchObject({ version: 'v1beta1', endpoint: 'qatmgr-cy.sock', options: { pre_start_required: false, get_preferred_allocation_available: true } });
    expect(dc.req.endpoint).toBe('qatmgr-dc.sock');
    expect(cy.options).toEqual({ pre_start_required: false, get_preferred_allocation_available: true });
    expect(cy.lists[0].map((d) => [d.ID, d.health, d.topology?.nodes.map((n) => n.ID)])).toEqual([
      ['0000:6b:00.1', 'Healthy', [0]], ['0000:6b:00.2', 'Healthy', [0]], ['0000:6b:00.3', 'Healthy', [0]], ['0000:6b:00.4', 'Healthy', [0]],
    ]);
    expect(dc.lists[0].map((d) => [d.ID, d.topology?.nodes.map((n) => n.ID)])).toEqual([
      ['0000:70:00.1', [1]], ['0000:70:00.2', [1]], ['0000:70:00.3', [1]], ['0000:70:00.4', [1]],
    ]);
    expect(k.plugins.has('qat.intel.com/managed')).toBe(false);
  });
});
