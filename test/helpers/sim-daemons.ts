// A fresh simulated host per test and the daemons started on it, all killed and removed after the test.

import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import { spawnDaemon, type DaemonLimits, type Holder, type Proc } from './lifecycle-daemon.js';
import { makeSim, type SimFixture } from './lifecycle-sim.js';
import { AdminClient } from '../../src/admin/client.js';
import type { StatusView } from '../../src/admin/views.js';

export interface SimDaemons {
  /** This test's host (valid inside a test). */
  readonly sim: SimFixture;
  readonly socket: string;
  readonly adminSocket: string;
  /** Holders and other processes to kill after the test. */
  readonly holders: Holder[];
  /** Start the daemon on the host (and the given flags, under the given limits); resolves once it is ready. */
  start(args?: string[], limits?: DaemonLimits): Promise<Proc>;
  /** The admin `status` answer, over one connection. */
  status(): Promise<StatusView>;
}

/** Register beforeEach/afterEach for a test file: a host of `spec` per test, daemons and holders cleaned up. */
export function useSimDaemons(spec = 'default', prefix = 'qat-rel-', setup?: (sim: SimFixture) => void): SimDaemons {
  let sim: SimFixture | undefined;
  const daemons: Proc[] = [];
  const holders: Holder[] = [];
  beforeEach(() => {
    sim = makeSim(spec, prefix);
    setup?.(sim);
  });
  afterEach(async () => {
    for (const h of holders.splice(0)) await h.kill();
    for (const d of daemons.splice(0)) if (d.proc.exitCode === null && d.proc.signalCode === null) { d.proc.kill('SIGKILL'); await d.exited; }
    sim?.cleanup();
  });
  const self: SimDaemons = {
    get sim() { return sim!; },
    get socket() { return path.join(sim!.roots.run, 'qatmgr.sock'); },
    get adminSocket() { return path.join(sim!.roots.run, 'qatmgr-admin.sock'); },
    holders,
    async start(args = [], limits = {}) {
      const d = spawnDaemon([...sim!.args, ...args], {}, true, limits);
      daemons.push(d);
      await d.waitLog((l) => l.event === 'ready');
      return d;
    },
    async status() {
      const admin = await AdminClient.connect(self.adminSocket);
      try {
        return await admin.request<StatusView>('status');
      } finally {
        admin.close();
      }
    },
  };
  return self;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** VmRSS of a process in MB. */
export function rssMb(pid: number): number {
  return Number(/^VmRSS:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024;
}
