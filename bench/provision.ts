// Benchmark: provisioning 8 PFs x 16 VFs on the simulated kernel (fresh host -> services, SR-IOV, vfio-pci, perms), target < 2 s.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseSimSpec, generateHost, chooseKernelFs } from '../src/sim/index.js';
import { simulatedRoots } from '../src/config/roots.js';
import { provision, type ProvisionReport } from '../src/provision/index.js';
import { renderTable } from '../src/text/table.js';

const SPEC = '4xxx:8x16,sriov=off';
const TARGET_MS = 2000;

async function once(dir: string, dryRun: boolean): Promise<{ wallMs: number; cpuMs: number; report: ProvisionReport }> {
  const roots = simulatedRoots(dir);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const report = await provision({
    roots,
    kfs: chooseKernelFs(roots, {}),
    configPath: path.join(roots.etc, 'sysconfig', 'qat'),
    configExplicit: false,
    env: {},
    dryRun,
    timeoutMs: 20_000,
    retryDelayMs: 1000,
  });
  const c = process.cpuUsage(c0);
  return { wallMs: performance.now() - t0, cpuMs: (c.user + c.system) / 1000, report };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

export async function run(): Promise<void> {
  const rounds = 5;
  const fresh: number[] = [];
  const cpu: number[] = [];
  const waits: number[] = [];
  const again: number[] = [];
  const dry: number[] = [];
  let vfs = 0;
  for (let i = 0; i < rounds; i++) {
    const base = fs.mkdtempSync(path.join(os.tmpdir(), 'qatbench-prov-'));
    const dir = path.join(base, 'host');
    generateHost(dir, parseSimSpec(SPEC));
    // odd PFs start with the kernel default dc: half the PFs change services, all get SR-IOV and bindings
    fs.writeFileSync(path.join(dir, 'etc', 'sysconfig', 'qat'), 'ServicesEnabled=sym;asym\n');
    dry.push((await once(dir, true)).wallMs);
    const r = await once(dir, false);
    const w = r.report.timings.readyWaitMs + r.report.timings.retryWaitMs;
    fresh.push(r.wallMs - w);
    cpu.push(r.cpuMs);
    waits.push(w);
    vfs = r.report.result?.vfsBound ?? 0;
    const r2 = await once(dir, false);
    if (!r2.report.plan.empty) throw new Error('second run planned work: not idempotent');
    again.push(r2.wallMs);
    fs.rmSync(base, { recursive: true, force: true });
  }
  const m = median(fresh);
  const rows = [
    ['dry run (scan + plan)', median(dry).toFixed(1), '-', '-'],
    [`provision fresh host (${vfs} VFs bound)`, m.toFixed(1), median(cpu).toFixed(1), m < TARGET_MS ? `< ${TARGET_MS} ok` : `> ${TARGET_MS} MISSED`],
    ['  deliberate waits excluded', median(waits).toFixed(1), '-', '-'],
    ['second run (nothing to do)', median(again).toFixed(1), '-', '-'],
  ];
  const load = os.loadavg()[0].toFixed(1);
  process.stdout.write(`provisioning ${SPEC} on the simulated kernel, median of ${rounds} runs (ms; load average ${load} on ${os.cpus().length} CPUs)\n`);
  process.stdout.write(renderTable(['case', 'wall ms', 'cpu ms', 'target'], rows));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  run().catch((e: unknown) => {
    process.stderr.write(`${String((e as Error).stack ?? e)}\n`);
    process.exitCode = 1;
  });
}
