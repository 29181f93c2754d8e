// FFI overhead: compress round trips through the koffi bridge vs a C driver on libqat-sim, and event-loop delay during a selftest.

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { QatClient } from '../src/libqat/qat-client.js';
import { makePayload } from '../src/libqat/qat-engine.js';
import { runSelftest } from '../src/selftest/run.js';
import { renderTable } from '../src/text/table.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
/** Repository root from dist/bench/ or bench/. */
const ROOT = fs.existsSync(path.join(HERE, '..', 'package.json')) ? path.join(HERE, '..') : path.join(HERE, '..', '..');
const SIM_SRC = path.join(ROOT, 'native', 'libqat-sim');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 1);
/** Alternating rounds per point; the table shows medians (the machine is shared, so single runs are noisy). */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function buildSim(): string {
  const out = path.join(SIM_SRC, 'build');
  const r = spawnSync('make', ['-s', '-C', SIM_SRC, `BUILD=${out}`], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`make libqat-sim failed: ${r.stderr}`);
  return out;
}

async function startDaemon(): Promise<{ socket: string; stop: () => void }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-ffi-'));
  const proc = spawn(process.execPath, [path.join(ROOT, 'dist', 'daemon', 'qatmgr.js'), '--foreground', '--simulate', 'default', '--sim-dir', dir], { stdio: 'ignore' });
  const socket = path.join(dir, 'run', 'qat', 'qatmgr.sock');
  for (let i = 0; i < 500; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = net.connect(socket);
      c.once('connect', () => { c.destroy(); resolve(true); });
      c.once('error', () => resolve(false));
    });
    if (ok) return { socket, stop: () => proc.kill('SIGTERM') };
    await new Promise((r) => setTimeout(r, 20));
  }
  proc.kill('SIGKILL');
  throw new Error('qatmgr did not start');
}

/** The C driver: same library, same payload, same one-in-flight compress+decompress+compare loop. */
function cRoundTrips(lib: string, socket: string, size: number, payloadFile: string): number {
  const r = spawnSync(path.join(lib, 'dc_bench'), [String(size), String(SECONDS), payloadFile], {
    encoding: 'utf8',
    env: { ...process.env, QATMGR_SOCKET: socket },
  });
  if (r.status !== 0) throw new Error(`dc_bench failed: ${r.stderr}`);
  const j = JSON.parse(r.stdout) as { opsPerSec: number; ok: boolean };
  if (!j.ok) throw new Error('dc_bench round trip mismatch');
  return j.opsPerSec;
}

/** The bridge: the engine thread's loop (a koffi call per submit/poll, DataView struct writes, compare). */
async function bridgeRoundTrips(client: QatClient, size: number): Promise<number> {
  const dc = await client.openDc(0);
  try {
    const s = await dc.load([size], SECONDS * 1000);
    if (!s.verified) throw new Error(`bridge load failed: ${s.error}`);
    return s.ops / 2 / s.seconds;
  } finally {
    await dc.close();
  }
}

/** The typed API from the main thread: one message to the engine thread per request. */
async function perCallRoundTrips(client: QatClient, size: number): Promise<number> {
  const dc = await client.openDc(0);
  const data = makePayload(size);
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < SECONDS * 1000) {
    const z = await dc.compress(data);
    await dc.decompress(z.data, size);
    n++;
  }
  await dc.close();
  return n / ((performance.now() - t0) / 1000);
}

export async function run(): Promise<void> {
  const lib = buildSim();
  const daemon = await startDaemon();
  const rows: (string | number)[][] = [];
  try {
    const client = await QatClient.start({ lib, socket: daemon.socket });
    try {
      for (const [size, target] of [[4096, 0.8], [65536, 0.95]] as const) {
        const payloadFile = path.join(os.tmpdir(), `bench-ffi-payload-${size}`);
        fs.writeFileSync(payloadFile, makePayload(size));
        const cs: number[] = [];
        const bs: number[] = [];
        const ps: number[] = [];
        for (let r = 0; r < ROUNDS; r++) {
          cs.push(cRoundTrips(lib, daemon.socket, size, payloadFile));
          bs.push(await bridgeRoundTrips(client, size));
          ps.push(await perCallRoundTrips(client, size));
        }
        const [c, b, p] = [median(cs), median(bs), median(ps)];
        rows.push([`${size / 1024} KiB`, Math.round(c), Math.round(b), Number((b / c).toFixed(2)), `>= ${target}`, Math.round(p), Number((p / c).toFixed(2))]);
      }
    } finally {
      await client.stop();
    }
    process.stdout.write(`\nFFI overhead: compress+decompress round trips/s on libqat-sim, one in flight, median of ${ROUNDS} alternating ${SECONDS} s rounds (load average ${os.loadavg()[0].toFixed(1)})\n`);
    process.stdout.write(renderTable(['payload', 'C driver', 'bridge (engine loop)', 'ratio', 'target', 'bridge (per-call API)', 'ratio'], rows));

    const h = monitorEventLoopDelay({ resolution: 1 });
    h.enable();
    const report = await runSelftest({ name: 'SSL', lib, socket: daemon.socket, durationMs: 500, sizes: [4096, 65536] });
    h.disable();
    process.stdout.write(`\nEvent-loop delay while a selftest runs (${report.instances.length} instances, ${report.seconds.toFixed(1)} s, ${report.passed ? 'all passed' : 'FAILED'})\n`);
    process.stdout.write(renderTable(['p50 ms', 'p99 ms', 'max ms', 'target p99'], [[
      Number((h.percentile(50) / 1e6).toFixed(2)), Number((h.percentile(99) / 1e6).toFixed(2)), Number((h.max / 1e6).toFixed(2)), '< 10 ms',
    ]]));
  } finally {
    daemon.stop();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  run().catch((e: unknown) => {
    process.stderr.write(`bench/ffi: ${(e as Error).stack ?? String(e)}\n`);
    process.exitCode = 1;
  });
}
