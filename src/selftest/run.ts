// The selftest itself: start as a libqat client, load every DC and CY instance with verified work, measure it.

import crypto from 'node:crypto';
import { QatClient, type InstanceDesc, type LoadStats } from '../libqat/qat-client.js';

export interface SelftestOptions {
  name: string;
  lib?: string;
  socket?: string;
  /** Load time per instance. */
  durationMs: number;
  sizes: number[];
}

export interface InstanceResult {
  kind: 'dc' | 'cy';
  index: number;
  name: string;
  /** Instance id as libqat reports it (the sim: "<bdf>/bank<n>"). */
  id: string;
  busAddress: number;
  passed: boolean;
  ops: number;
  opsPerSec: number;
  mbPerSec: number;
  p50Us: number;
  p99Us: number;
  error?: string;
}

export interface SelftestReport {
  processName: string;
  library: string;
  instances: InstanceResult[];
  passed: boolean;
  interrupted: boolean;
  seconds: number;
}

export interface SelftestHooks {
  /** Called once started, with the instances that will be tested. */
  onStart?(dc: InstanceDesc[], cy: InstanceDesc[]): void;
  /** Progress through the planned load time, 0..1, and the instance being loaded. */
  onProgress?(fraction: number, current: string): void;
  /** Lets the caller interrupt (Ctrl-C): receives a function that stops the run early. */
  onInterruptible?(interrupt: () => void): void;
}

function result(d: InstanceDesc, s: LoadStats): InstanceResult {
  const secs = s.seconds > 0 ? s.seconds : 1;
  return {
    kind: d.kind,
    index: d.index,
    name: d.name,
    id: d.id,
    busAddress: d.busAddress,
    passed: s.verified,
    ops: s.ops,
    opsPerSec: s.ops / secs,
    mbPerSec: s.bytes / secs / 1e6,
    p50Us: s.latencyUs.p50,
    p99Us: s.latencyUs.p99,
    ...(s.error ? { error: s.error } : {}),
  };
}

function failed(d: InstanceDesc, error: string): InstanceResult {
  return { kind: d.kind, index: d.index, name: d.name, id: d.id, busAddress: d.busAddress, passed: false, ops: 0, opsPerSec: 0, mbPerSec: 0, p50Us: 0, p99Us: 0, error };
}

/** Edge cases worth one request each before the timed loop: 1 byte and incompressible data. */
async function dcEdgeCases(client: QatClient, index: number): Promise<string | undefined> {
  const s = await client.openDc(index);
  try {
    for (const data of [Uint8Array.of(0x51), crypto.randomBytes(65536)]) {
      const z = await s.compress(data);
      const back = await s.decompress(z.data, data.length);
      if (Buffer.compare(Buffer.from(back.data), Buffer.from(data)) !== 0) return `round trip of ${data.length} bytes came back different`;
    }
    return undefined;
  } finally {
    await s.close();
  }
}

/** Runs the whole selftest; always gives the section back (icp_sal_userStop), also when interrupted. */
export async function runSelftest(opts: SelftestOptions, hooks: SelftestHooks = {}): Promise<SelftestReport> {
  const t0 = performance.now();
  const client = await QatClient.start({ name: opts.name, lib: opts.lib, socket: opts.socket });
  let interrupted = false;
  hooks.onInterruptible?.(() => {
    interrupted = true;
    client.interrupt();
  });
  const instances: InstanceResult[] = [];
  try {
    hooks.onStart?.(client.dc, client.cy);
    const all = [...client.dc, ...client.cy];
    const planned = all.length * opts.durationMs;
    let doneMs = 0;
    for (const d of all) {
      if (interrupted) break;
      const progress = (_ops: number, elapsedMs: number) => hooks.onProgress?.(Math.min(1, (doneMs + elapsedMs) / planned), d.name);
      hooks.onProgress?.(doneMs / planned, d.name);
      try {
        if (d.kind === 'dc') {
          const edge = await dcEdgeCases(client, d.index);
          if (edge) { instances.push(failed(d, edge)); continue; }
          const s = await client.openDc(d.index);
          try {
            instances.push(result(d, await s.load(opts.sizes, opts.durationMs, { progress })));
          } finally {
            await s.close();
          }
        } else {
          instances.push(result(d, await client.cyLoad(d.index, opts.sizes, opts.durationMs, progress)));
        }
      } catch (e) {
        instances.push(failed(d, (e as Error).message));
      }
      doneMs += opts.durationMs;
    }
    hooks.onProgress?.(1, '');
  } finally {
    await client.stop();
  }
  const passed = !interrupted && instances.length > 0 && instances.every((r) => r.passed);
  return { processName: opts.name, library: client.paths.libqat, instances, passed, interrupted, seconds: (performance.now() - t0) / 1000 };
}
