// Bench: health and following the host. Detection time from a fault to the first refusal of the sick PF's VFs, CPU
// of the health loop on 4096 VFs, and handshakes/s during a fault storm against the same load without one.

import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { renderTable } from '../src/text/table.js';
import { QatClient } from '../src/client/qatclient.js';
import { adminRequest } from '../src/admin/client.js';
import { parseSimSpec, generateHost, inject } from '../src/sim/index.js';
import type { HealthView } from '../src/health/monitor.js';
import { buildC, tree, daemonArgs, daemonCommand, runLoad, median, fmt, pointSeconds, repeats, cpuMs, sleep, waitForSocket, REPO, RUNROOT, type LoadResult } from './lib.js';

const QATCTL = path.join(REPO, 'dist', 'daemon', 'qatctl.js');
const A = '0000:6b:00.0';
const B = '0000:70:00.0';

interface Daemon { child: ChildProcess; socket: string; admin: string; stop(): Promise<void> }

async function start(dir: string, runDir: string, policy: number, extra: string[] = []): Promise<Daemon> {
  fs.mkdirSync(runDir, { recursive: true });
  const socket = path.join(runDir, 'qatmgr.sock');
  fs.rmSync(socket, { force: true });
  const cmd = [...daemonCommand(), ...daemonArgs(dir, policy, runDir), ...extra];
  const child = spawn(cmd[0], cmd.slice(1), { stdio: ['ignore', 'ignore', 'ignore'] });
  await waitForSocket(socket, child);
  return {
    child, socket, admin: path.join(runDir, 'qatmgr-admin.sock'),
    stop: () => new Promise((resolve) => {
      if (child.exitCode !== null) { resolve(); return; }
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 3000).unref();
    }),
  };
}

/** A fresh simulated host for one run (faults change it). */
function freshHost(spec: string, name: string): string {
  const dir = path.join(RUNROOT, 'hosts', name);
  generateHost(dir, parseSimSpec(spec), { force: fs.existsSync(dir) });
  return dir;
}

// ---- 1. detection: fault -> the sick PF's VFs refused ------------------------------------------------------------

const FAULTS: Array<{ fault: string; recover: string[] }> = [
  { fault: 'heartbeat-fail', recover: ['heartbeat-ok'] },
  { fault: 'fatal', recover: ['reset'] },
  { fault: 'down', recover: ['up', 'vfs-on'] },
  { fault: 'vfs-off', recover: ['vfs-on'] },
];

/**
 * Policy 1 on 2 PFs x 16 VFs: 16 clients hold A's sections, so a new client is given a VF of B until B is withheld.
 * From just before the fault, a prober asks every 5 ms; the time is that of the first refusal.
 */
async function detectOnce(fault: string, i: number): Promise<{ detectMs: number; readmitMs: number }> {
  const dir = freshHost('4xxx:2x16', `detect-${fault}-${i}`);
  const d = await start(dir, path.join(RUNROOT, `detect-${fault}-${i}`), 1);
  const held: QatClient[] = [];
  try {
    // sections alternate A, B, A, B... (upstream's VF order): take every section, then give B's back
    const all: Array<{ c: QatClient; pf: string; name: string }> = [];
    for (let k = 0; k < 32; k++) {
      const c = await QatClient.connect(d.socket);
      const name = await c.sectionGet('bench');
      all.push({ c, pf: (await c.deviceId(0)).replace(/:[0-9a-f]{2}\.[0-7]$/, ':00.0'), name });
    }
    for (const h of all) {
      if (h.pf === A) held.push(h.c);
      else { await h.c.sectionPut(h.name); await h.c.close(); }
    }
    const probe = async (): Promise<boolean> => {
      const c = await QatClient.connect(d.socket);
      try {
        const name = await c.sectionGet('probe');
        await c.sectionPut(name);
        return true;
      } catch {
        return false;
      } finally {
        await c.close();
      }
    };
    // the fault lands anywhere between two looks of the loop (the set-up above takes about the same time each run)
    await sleep(Math.random() * 500);
    const t0 = performance.now();
    await inject(dir, fault, B);
    while (await probe()) await sleep(5);
    const detectMs = performance.now() - t0;
    const spec = FAULTS.find((f) => f.fault === fault)!;
    const t1 = performance.now();
    for (const r of spec.recover) await inject(dir, r, B, { resetMs: 300 });
    while (!(await probe())) await sleep(20);
    return { detectMs, readmitMs: performance.now() - t1 };
  } finally {
    await Promise.all(held.map((c) => c.close()));
    await d.stop();
  }
}

async function detection(): Promise<void> {
  const reps = repeats();
  process.stdout.write(`\n== health 1: detection, fault on one PF -> its VFs refused (defaults: --health-interval 500ms, --health-recover 3s), ${reps} runs each ==\n`);
  const rows = [];
  for (const f of FAULTS) {
    const rs = [];
    for (let i = 0; i < reps; i++) rs.push(await detectOnce(f.fault, i));
    const ms = rs.map((r) => r.detectMs);
    rows.push([f.fault, fmt(median(ms)), fmt(Math.min(...ms)), fmt(Math.max(...ms)), 2000, Math.max(...ms) <= 2000 ? 'yes' : 'NO', f.recover.join(' + '), fmt(median(rs.map((r) => r.readmitMs)))]);
    process.stderr.write(`  ${f.fault}: median ${fmt(median(ms))} ms\n`);
  }
  process.stdout.write(renderTable(['fault', 'detect ms (median)', 'min', 'max', 'target ms', 'met', 'recovery', 'recovery -> re-admitted ms'], rows));
  process.stdout.write('detect = from just before the fault is written to the first SECTION_GET refused (a prober asks every 5 ms while 16 clients hold the healthy PF\'s sections); re-admitted = from the recovery until a client gets the PF\'s VF again (3 s recovery time + a rescan)\n');
}

// ---- 2. CPU of the health loop on 4096 VFs ---------------------------------------------------------------------

async function idleCpu(dir: string, name: string, extra: string[], seconds: number, relay: boolean): Promise<{ daemonPct: number; relayPct: number; pollMs: number; busyPct: number }> {
  const d = await start(dir, path.join(RUNROOT, `cpu-${name}`), 1, extra);
  let r: ChildProcess | undefined;
  try {
    if (relay) r = spawn(process.execPath, [QATCTL, 'heartbeat-relay', '--sysfs-root', path.join(dir, 'sys'), '--admin-socket', d.admin], { stdio: 'ignore' });
    await sleep(3000); // start-up, reply encoding and the first look (it opens every descriptor) are not the steady loop
    const c0 = cpuMs(d.child.pid!);
    const r0 = r ? cpuMs(r.pid!) : 0;
    const t0 = performance.now();
    await sleep(seconds * 1000);
    const wall = performance.now() - t0;
    const daemonPct = (100 * (cpuMs(d.child.pid!) - c0)) / wall;
    const relayPct = r ? (100 * (cpuMs(r.pid!) - r0)) / wall : 0;
    const h = await adminRequest<HealthView>(d.admin, 'health');
    return { daemonPct, relayPct, pollMs: h.poll.avgMs, busyPct: h.poll.busyPct };
  } finally {
    r?.kill('SIGTERM');
    await d.stop();
  }
}

async function loopCpu(): Promise<void> {
  const dir = tree('4xxx:256x16');
  const secs = Math.max(15, 5 * pointSeconds());
  const reps = repeats();
  process.stdout.write(`\n== health 2: CPU of the health loop, 4xxx:256x16 (256 PFs, 4096 VFs), idle daemon, ${secs} s per point, median of ${reps} alternating runs ==\n`);
  const configs: Array<{ name: string; label: string; extra: string[]; relay: boolean }> = [
    { name: 'off', label: 'health off (--health-interval 0)', extra: ['--health-interval', '0'], relay: false },
    { name: 'debugfs', label: 'default: 500 ms, heartbeat read from debugfs', extra: [], relay: false },
    { name: 'relay', label: '500 ms, heartbeat from qatctl heartbeat-relay', extra: ['--heartbeat', 'relay'], relay: true },
  ];
  const res = new Map<string, Array<Awaited<ReturnType<typeof idleCpu>>>>(configs.map((c) => [c.name, []]));
  for (let i = 0; i < reps; i++) {
    for (const c of i % 2 === 0 ? configs : [...configs].reverse()) res.get(c.name)!.push(await idleCpu(dir, c.name, c.extra, secs, c.relay));
  }
  const off = median(res.get('off')!.map((r) => r.daemonPct));
  const rows = configs.map((c) => {
    const rs = res.get(c.name)!;
    const pct = median(rs.map((r) => r.daemonPct));
    const loop = median(rs.map((r) => r.busyPct));
    return [c.label, fmt(pct, 2), c.name === 'off' ? '-' : fmt(pct - off, 2), c.name === 'off' ? '-' : fmt(loop, 3), c.name === 'off' ? '-' : fmt(median(rs.map((r) => r.pollMs)), 2), c.relay ? fmt(median(rs.map((r) => r.relayPct)), 2) : '-', c.name === 'off' ? '-' : 1, c.name === 'off' ? '' : loop <= 1 ? 'yes' : 'NO'];
  });
  process.stdout.write(renderTable(['health loop', 'daemon CPU % of a core', 'minus off', 'loop CPU % (self-timed)', 'CPU ms per look', 'relay CPU %', 'target %', 'met'], rows));
  process.stdout.write('daemon CPU = utime+stime from /proc (10 ms ticks) over the window; loop CPU = CPU time of the loop\'s looks (process.cpuUsage around each) / wall time, measured by the daemon (qatctl health: poll.busyPct); relay = the root helper reading 256 heartbeats every 500 ms and pushing them\n');
}

// ---- 3. handshakes/s during a fault storm ------------------------------------------------------------------------

/** A storm writer: flaps B's heartbeat every 50 ms on `dir`, for about `seconds`. */
function storm(dir: string, seconds: number): ChildProcess {
  const n = Math.ceil((seconds * 1000) / 100) + 10;
  return spawn(process.execPath, [QATCTL, 'simulate', '--inject', 'heartbeat-flap', B, '--count', String(n), '--period', '50ms', '--sim-dir', dir], { stdio: 'ignore' });
}

async function stormLoad(): Promise<void> {
  const { loadgen } = buildC();
  const secs = pointSeconds();
  const reps = repeats();
  const clients = 8;
  process.stdout.write(`\n== health 3: handshakes/s under a fault storm, 4xxx:2x16 policy 1, ${clients} clients, ${secs} s per point, median of ${reps} alternating runs ==\n`);
  const served = freshHost('4xxx:2x16', 'storm-served');
  const decoy = freshHost('4xxx:2x16', 'storm-decoy');
  const d = await start(served, path.join(RUNROOT, 'storm'), 1);
  const quiet: LoadResult[] = [];
  const stormy: LoadResult[] = [];
  let transitions = 0;
  try {
    await runLoad(loadgen, d.socket, clients, 1, d.child.pid!); // warm-up
    for (let i = 0; i < reps; i++) {
      for (const target of i % 2 === 0 ? ['decoy', 'served'] : ['served', 'decoy']) {
        // the same writer runs in both: on the served host (a storm) or on a copy nobody watches (its cost alone)
        const w = storm(target === 'served' ? served : decoy, secs + 1);
        await sleep(300);
        const r = await runLoad(loadgen, d.socket, clients, secs, d.child.pid!);
        w.kill('SIGTERM');
        await new Promise((res) => w.once('exit', res));
        (target === 'served' ? stormy : quiet).push(r);
        await inject(served, 'heartbeat-ok', B);
      }
    }
    transitions = (await adminRequest<HealthView>(d.admin, 'health')).pfs.find((p) => p.bdf === B)!.transitions;
  } finally {
    await d.stop();
  }
  const q = median(quiet.map((r) => r.handshakesPerSec));
  const s = median(stormy.map((r) => r.handshakesPerSec));
  process.stdout.write(renderTable(['run', 'hs/s (median)', 'p99 ms', 'server CPU us/hs', 'ratio', 'target', 'met'], [
    ['no storm (writer on a decoy host)', fmt(q), fmt(median(quiet.map((r) => r.p99Ms)), 1), fmt(median(quiet.map((r) => r.serverCpuUsPerHandshake))), '1.00', '', ''],
    ['storm: heartbeat of PF B flapping every 50 ms', fmt(s), fmt(median(stormy.map((r) => r.p99Ms)), 1), fmt(median(stormy.map((r) => r.serverCpuUsPerHandshake))), fmt(s / q, 2), '>= 0.95', s / q >= 0.95 ? 'yes' : 'NO'],
  ]));
  process.stdout.write(`during the storm PF B is withheld (one transition per storm, hysteresis): ${transitions} transitions in all over ${reps} storms; the load generator's clients are served from A\n`);
}

/** BENCH_HEALTH=detect,cpu,storm (default all) runs some of the three. */
export async function run(): Promise<void> {
  const parts = new Set((process.env.BENCH_HEALTH ?? 'detect,cpu,storm').split(','));
  if (parts.has('detect')) await detection();
  if (parts.has('cpu')) await loopCpu();
  if (parts.has('storm')) await stormLoad();
}
