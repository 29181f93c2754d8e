// Test helper: a simulated host on disk and the allocator the daemon would build from it.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseSimSpec, generateHost } from '../../src/sim/index.js';
import { simulatedRoots, type Roots } from '../../src/config/roots.js';
import { discover } from '../../src/platform/discover.js';
import { SysfsCapabilitySource } from '../../src/devices/capabilities.js';
import { buildPlan, type PlannedSection } from '../../src/sections/plan.js';
import { Allocator } from '../../src/sections/allocator.js';
import { silentLogger } from '../../src/log.js';

export interface SimFixture {
  dir: string;
  roots: Roots;
  /** Daemon flags pointing every root at the simulated host (run dir included). */
  args: string[];
  cleanup(): void;
}

export function makeSim(spec = 'default', prefix = 'qat-life-'): SimFixture {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  generateHost(path.join(dir, 'host'), parseSimSpec(spec));
  const roots = simulatedRoots(path.join(dir, 'host'));
  return {
    dir,
    roots,
    args: ['--sysfs-root', roots.sys, '--dev-root', roots.dev, '--proc-root', roots.proc, '--etc-root', roots.etc, '--run-dir', roots.run],
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

/** Re-lay the simulated host with another spec (same directory), as a hot-plug would change it. */
export function relaySim(sim: SimFixture, spec: string): void {
  generateHost(path.join(sim.dir, 'host'), parseSimSpec(spec), { force: true });
}

export function planFor(roots: Roots, policy = 0): PlannedSection[] {
  const inv = discover(roots, silentLogger());
  const caps = new SysfsCapabilitySource(roots);
  return buildPlan(inv, policy, (vf) => caps.capsFor(vf));
}

export function allocatorFor(roots: Roots, policy = 0): Allocator {
  return new Allocator(planFor(roots, policy));
}

export function holder(connId: number, pid: number) {
  return { connId, pid, uid: 1000, gid: 1000, processName: 'SSL', since: Date.now(), requests: 0 };
}
