// Soak (issue 18): 1,000,000 handshakes at 8 clients beside a non-reading client, an admin reader and a log flood;
// prints the daemon's RSS curve, handshake p99 against a quiet run, and double grants (must be 0).
//
// The machine is shared, so quiet and loaded runs alternate (5 s quiet, the disturbances paused, before every 15 s
// loaded): both see the same background load, and p99 is compared median against median.
// Opt-in: `npm run bench -- soak` or `npm run bench:soak` (10-15 minutes on the shared 2-core machine).
// SOAK_HANDSHAKES changes the target (default 1,000,000 handshakes in the loaded runs).

import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderTable } from '../src/text/table.js';
import { AdminClient } from '../src/admin/client.js';
import { encodeDeviceRequest } from '../src/protocol/encode.js';
import type { AllocationsView, StatusView } from '../src/admin/views.js';
import { buildC, tree, runLoad, rssMb, fmt, median, daemonArgs, daemonCommand, waitForSocket, RUNROOT, sleep, type LoadResult } from './lib.js';

const SPEC = '4xxx:2x16';
const POLICY = 1;
const CLIENTS = 8;
const SEGMENT_S = 15;
const QUIET_S = 5;
const V = 0x1a08;

interface Segment { atS: number; total: number; r: LoadResult; quiet: LoadResult; rss: number }

/** A connection that pipelines PF_DEV_INFO and never reads; reopened if the daemon closes it. */
function nonReader(socket: string): { stop(): void; pause(on: boolean): void; stats: { written: number; reconnects: number } } {
  const stats = { written: 0, reconnects: 0 };
  const burst = Buffer.concat(Array.from({ length: 256 }, () => encodeDeviceRequest(V, 11, 0)));
  let sock: net.Socket | undefined;
  let stopped = false;
  let paused = false;
  const open = (): void => {
    if (stopped) return;
    sock = net.connect(socket, () => { sock!.write(burst); stats.written += burst.length; }); // before the first-request timeout
    sock.pause();
    sock.on('error', () => { /* reopened on close */ });
    sock.on('close', () => { if (!stopped) { stats.reconnects++; setTimeout(open, 100); } });
  };
  open();
  const t = setInterval(() => {
    if (!paused && sock && !sock.destroyed && !sock.connecting && sock.writableLength < 1 << 20) { sock.write(burst); stats.written += burst.length; }
  }, 20);
  return { stats, pause: (on) => { paused = on; }, stop: () => { stopped = true; clearInterval(t); sock?.destroy(); } };
}

/** An admin client reading allocations, metrics, sections and status back to back (4 in flight), checking allocations. */
function adminReader(adminSocket: string): { stop(): Promise<void>; pause(on: boolean): void; stats: { answers: number; duplicateVfs: number } } {
  const stats = { answers: 0, duplicateVfs: 0 };
  const ops = ['allocations', 'metrics', 'sections', 'status'];
  let stopped = false;
  let paused = false;
  const done = (async () => {
    const c = await AdminClient.connect(adminSocket);
    const worker = async (k: number): Promise<void> => {
      for (let i = k; !stopped; i += 4) {
        while (paused && !stopped) await sleep(50);
        const op = ops[i % ops.length];
        const r = await c.request(op);
        stats.answers++;
        if (op === 'allocations') {
          const seen = new Set<string>();
          for (const a of (r as AllocationsView).allocations) for (const b of a.bdfs) { if (seen.has(b)) stats.duplicateVfs++; seen.add(b); }
        }
      }
    };
    await Promise.all([0, 1, 2, 3].map(worker));
    c.close();
  })();
  return { stats, pause: (on) => { paused = on; }, stop: async () => { stopped = true; await done.catch(() => undefined); } };
}

/** A process opening connections that each send a malformed frame (a protocol_error line each, before the fix). */
function logFlood(socket: string, perSecond: number): ChildProcess {
  const script = `
    const net = require('node:net');
    const bad = Buffer.from([0xff, 0xff, 0, 0]);
    let sent = 0;
    setInterval(() => {
      for (let i = 0; i < ${Math.ceil(perSecond / 20)}; i++) {
        const s = net.connect(process.argv[1], () => { s.write(bad); sent++; });
        s.on('error', () => {});
        s.resume();
      }
    }, 50);
    process.on('SIGTERM', () => { process.stdout.write(String(sent)); process.exit(0); });`;
  return spawn(process.execPath, ['-e', script, socket], { stdio: ['ignore', 'pipe', 'inherit'] });
}

async function status(adminSocket: string): Promise<StatusView> {
  const c = await AdminClient.connect(adminSocket);
  try { return await c.request<StatusView>('status'); } finally { c.close(); }
}

export async function run(): Promise<void> {
  const target = Number(process.env.SOAK_HANDSHAKES) > 0 ? Number(process.env.SOAK_HANDSHAKES) : 1_000_000;
  const { loadgen } = buildC();
  const dir = tree(SPEC);
  const runDir = path.join(RUNROOT, 'soak');
  fs.rmSync(runDir, { recursive: true, force: true });
  fs.mkdirSync(runDir, { recursive: true });
  const socket = path.join(runDir, 'qatmgr.sock');
  const adminSocket = path.join(runDir, 'qatmgr-admin.sock');
  // warnings and errors (-d 0) go to stderr: counted, to see what a flood of bad frames costs in log lines
  const daemon = spawn(daemonCommand()[0], [...daemonCommand().slice(1), ...daemonArgs(dir, POLICY, runDir)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let logLines = 0;
  let logBytes = 0;
  daemon.stderr!.on('data', (b: Buffer) => { logBytes += b.length; for (const c of b) if (c === 10) logLines++; });
  const pid = daemon.pid!;
  process.stdout.write(`\n== soak: ${target.toLocaleString('en')} handshakes at ${CLIENTS} clients, ${SPEC} policy ${POLICY}, beside a non-reading client, an admin reader and a log flood ==\n`);
  const t0 = Date.now();
  try {
    await waitForSocket(socket, daemon);
    await runLoad(loadgen, socket, CLIENTS, 2, pid); // warm-up
    const rssBefore = rssMb(pid).rss;
    const reader = nonReader(socket);
    const admin = adminReader(adminSocket);
    const flood = logFlood(socket, 500);
    const disturb = (on: boolean): void => { reader.pause(!on); admin.pause(!on); flood.kill(on ? 'SIGCONT' : 'SIGSTOP'); };
    const segments: Segment[] = [];
    let total = 0;
    let doubles = 0;
    let loadedS = 0;
    while (total < target) {
      disturb(false);
      await sleep(200);
      const quiet = await runLoad(loadgen, socket, CLIENTS, QUIET_S, pid);
      disturb(true);
      const t1 = Date.now();
      const r = await runLoad(loadgen, socket, CLIENTS, SEGMENT_S, pid);
      loadedS += (Date.now() - t1) / 1000;
      total += r.handshakes;
      doubles += r.doubleGrants + quiet.doubleGrants;
      segments.push({ atS: (Date.now() - t0) / 1000, total, r, quiet, rss: rssMb(pid).rss });
      process.stderr.write(`  ${total.toLocaleString('en')} handshakes, p99 ${fmt(r.p99Ms, 2)} ms (quiet ${fmt(quiet.p99Ms, 2)}), RSS ${fmt(rssMb(pid).rss, 1)} MB\n`);
    }
    const floodSent = await new Promise<number>((resolve) => {
      let out = '';
      flood.stdout!.on('data', (b) => { out += b; });
      flood.once('exit', () => resolve(Number(out) || 0));
      flood.kill('SIGCONT');
      flood.kill('SIGTERM');
    });
    reader.stop();
    await admin.stop();
    const st = await status(adminSocket);
    const hwm = rssMb(pid).hwm;

    // the RSS curve and the runs: about sixteen rows whatever the length
    const every = Math.max(1, Math.round(segments.length / 16));
    const rows = segments.filter((_, i) => i % every === 0 || i === segments.length - 1).map((g) => [
      fmt(g.atS), g.total.toLocaleString('en'), fmt(g.rss, 1), fmt(g.r.handshakesPerSec), fmt(g.r.p99Ms, 2), fmt(g.quiet.handshakesPerSec), fmt(g.quiet.p99Ms, 2), String(g.r.doubleGrants + g.quiet.doubleGrants),
    ]);
    process.stdout.write(renderTable(['t (s)', 'handshakes (loaded)', 'RSS MB', 'loaded hs/s', 'loaded p99 ms', 'quiet hs/s', 'quiet p99 ms', 'double grants'], rows));
    const p99s = segments.map((g) => g.r.p99Ms);
    const quietP99 = median(segments.map((g) => g.quiet.p99Ms));
    const rss = segments.map((g) => g.rss);
    process.stdout.write(renderTable(['measure', 'value', 'note'], [
      ['handshake p99, quiet', `${fmt(quietP99, 2)} ms (median of ${segments.length} runs of ${QUIET_S} s)`, `${fmt(median(segments.map((g) => g.quiet.handshakesPerSec)))} hs/s; disturbances paused`],
      ['handshake p99, loaded', `${fmt(median(p99s), 2)} ms (median of ${segments.length} runs of ${SEGMENT_S} s)`, `${fmt(median(p99s) / quietP99, 2)}x quiet (goal: at most 1.5x); worst run ${fmt(Math.max(...p99s), 2)} ms; ${fmt(median(segments.map((g) => g.r.handshakesPerSec)))} hs/s`],
      ['RSS', `${fmt(rssBefore, 1)} before, ${fmt(Math.min(...rss), 1)}..${fmt(Math.max(...rss), 1)} during, VmHWM ${fmt(hwm, 1)} MB`, 'bounded: flat over the run'],
      ['double grants', String(doubles), 'a loadgen thread granted a section another thread held; must be 0'],
      ['duplicate VFs in allocations', String(admin.stats.duplicateVfs), `over ${admin.stats.answers.toLocaleString('en')} admin answers read beside the load`],
      ['non-reading client', `${fmt(reader.stats.written / 1e6, 1)} MB of PF_DEV_INFO written, ${st.connections.held} holds, ${st.connections.overflowed} closed for it`, `${reader.stats.reconnects} reconnects; ${st.connections.evicted} idle connections closed for newcomers, ${st.connections.rejected} refused`],
      ['log flood', `${floodSent.toLocaleString('en')} malformed frames, ${logLines} log lines (${fmt(logLines / loadedS, 1)}/s loaded)`, `daemon stderr total ${fmt(logBytes / 1024, 0)} KiB`],
      ['duration', `${fmt((Date.now() - t0) / 1000)} s (${fmt(loadedS)} s loaded)`, `${total.toLocaleString('en')} handshakes loaded`],
    ]));
  } finally {
    daemon.kill('SIGTERM');
    await new Promise((r) => daemon.once('exit', r));
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  run().catch((e: unknown) => { process.stderr.write(`${(e as Error).stack ?? String(e)}\n`); process.exit(1); });
}
