// Admin benchmarks: handshake throughput with and without a `qatctl watch` at 10 Hz; admin queries on 4096 sections.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { QatClient } from '../src/client/qatclient.js';
import { AdminClient } from '../src/admin/client.js';
import { renderTable } from '../src/text/table.js';
import { cpuMs } from './lib.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const DAEMON = path.join(HERE, '..', 'daemon', 'qatmgr.js');
const QATCTL = path.join(HERE, '..', 'daemon', 'qatctl.js');

interface Running { proc: ChildProcess; socket: string; adminSocket: string; stop(): Promise<void> }

async function startDaemon(args: string[], run: string): Promise<Running> {
  const proc = spawn(process.execPath, [DAEMON, '--foreground', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d) => { out += d; });
  proc.stderr!.on('data', (d) => { out += d; });
  const adminSocket = path.join(run, 'qatmgr-admin.sock');
  for (let i = 0; i < 1200 && !fs.existsSync(adminSocket); i++) {
    if (proc.exitCode !== null) throw new Error(`daemon exited: ${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  if (!fs.existsSync(adminSocket)) throw new Error(`daemon not ready: ${out}`);
  return {
    proc, socket: path.join(run, 'qatmgr.sock'), adminSocket,
    stop: async () => {
      const gone = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await gone;
    },
  };
}

function spawnSyncNode(args: string[], quiet = false): number {
  const r = spawnSync(process.execPath, args, { stdio: quiet ? 'ignore' : ['ignore', 'ignore', 'inherit'] });
  return r.status ?? -1;
}

/** `clients` workers, each: connect, full libqat handshake, disconnect (release), for `ms`; returns handshakes/s. */
async function handshakeRate(socket: string, clients: number, ms: number): Promise<number> {
  const end = Date.now() + ms;
  let n = 0;
  const worker = async (i: number): Promise<void> => {
    while (Date.now() < end) {
      const c = await QatClient.connect(socket);
      await c.handshake(`bench${i}`);
      await c.close();
      n++;
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: clients }, (_, i) => worker(i)));
  return n / ((performance.now() - t0) / 1000);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

async function benchWatch(rounds: number, roundMs: number): Promise<string[][]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qatmgr-bench-watch-'));
  const d = await startDaemon(['--simulate', 'default', '--sim-dir', dir], path.join(dir, 'run', 'qat'));
  const pid = d.proc.pid!;
  const base: number[] = [];
  const watched: number[] = [];
  const baseCpu: number[] = [];
  const watchedCpu: number[] = [];
  let polls = 0;
  /** One measured round: handshakes/s and the daemon's CPU µs per handshake. */
  const round = async (): Promise<[number, number]> => {
    const c0 = cpuMs(pid);
    const t0 = performance.now();
    const rate = await handshakeRate(d.socket, 8, roundMs);
    const n = rate * ((performance.now() - t0) / 1000);
    return [rate, ((cpuMs(pid) - c0) * 1000) / n];
  };
  try {
    await handshakeRate(d.socket, 8, 500); // warm-up
    for (let r = 0; r < rounds; r++) {
      const [b, bc] = await round();
      base.push(b);
      baseCpu.push(bc);
      // a real `qatctl watch` process polling status + allocations every 100 ms
      const w = spawn(process.execPath, [QATCTL, 'watch', '--interval', '100ms', '--json', '--admin-socket', d.adminSocket], { stdio: ['ignore', 'pipe', 'ignore'] });
      w.stdout!.on('data', (buf: Buffer) => { for (const x of buf) if (x === 10) polls++; });
      await new Promise((res) => setTimeout(res, 300));
      const [wr, wc] = await round();
      watched.push(wr);
      watchedCpu.push(wc);
      w.kill('SIGTERM');
      await new Promise((res) => w.once('exit', res));
    }
  } finally {
    await d.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const b = median(base);
  const w = median(watched);
  const bc = median(baseCpu);
  const wc = median(watchedCpu);
  return [
    ['no admin polling', b.toFixed(0), base.map((x) => x.toFixed(0)).join(' '), bc.toFixed(0), ''],
    ['qatctl watch at 10 Hz', w.toFixed(0), watched.map((x) => x.toFixed(0)).join(' '), wc.toFixed(0), `${polls} refreshes`],
    ['difference (medians)', `${(((w - b) / b) * 100).toFixed(1)}%`, '', `${(((wc - bc) / bc) * 100).toFixed(1)}%`, 'goal: within 5%'],
  ];
}

async function benchLarge(iterations: number): Promise<string[][]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qatmgr-bench-4096-'));
  if (spawnSyncNode([QATCTL, 'simulate', '4xxx:256x16', '--out', dir, '--force'], true) !== 0) throw new Error('qatctl simulate failed');
  const run = path.join(dir, 'run', 'qat');
  const t0 = performance.now();
  const d = await startDaemon(['--sysfs-root', path.join(dir, 'sys'), '--dev-root', path.join(dir, 'dev'), '--run-dir', run, '--etc-root', path.join(dir, 'etc'),
    '--policy', '1', '--max-connections', '5000'], run);
  const startMs = performance.now() - t0;
  const holders: QatClient[] = [];
  const rows: string[][] = [];
  try {
    const admin = await AdminClient.connect(d.adminSocket);
    const total = (await admin.request<{ sections: { total: number } }>('status')).sections.total;
    // hold every section: one connection per section
    for (let i = 0; i < total; i += 256) {
      const batch = await Promise.all(Array.from({ length: Math.min(256, total - i) }, async () => {
        const c = await QatClient.connect(d.socket);
        await c.sectionGet('bench');
        return c;
      }));
      holders.push(...batch);
    }
    const held = (await admin.request<{ sections: { held: number } }>('status')).sections.held;
    const daemonSeconds = async (op: string): Promise<number> => {
      const text = (await admin.request<{ text: string }>('metrics')).text;
      const m = new RegExp(`^qatmgr_admin_request_seconds_total\\{op="${op}"\\} (\\S+)$`, 'm').exec(text);
      return m ? Number(m[1]) : NaN;
    };
    for (const op of ['allocations', 'status', 'sections', 'devices']) {
      const xs: number[] = [];
      const before = await daemonSeconds(op);
      for (let i = 0; i < iterations; i++) {
        const t = performance.now();
        await admin.request(op);
        xs.push(performance.now() - t);
      }
      const inDaemon = ((await daemonSeconds(op)) - (Number.isNaN(before) ? 0 : before)) / iterations * 1000;
      rows.push([`${op} (admin round trip)`, `${held}/${total}`, median(xs).toFixed(1), pct(xs, 95).toFixed(1), Math.max(...xs).toFixed(1), inDaemon.toFixed(1),
        op === 'allocations' ? 'goal: < 50 ms' : '']);
    }
    const t = performance.now();
    const code = spawnSyncNode([QATCTL, 'allocations', '--json', '--admin-socket', d.adminSocket], true);
    rows.push(['qatctl allocations --json (whole process)', `${held}/${total}`, (performance.now() - t).toFixed(0), '', '', '', code === 0 ? 'includes node start-up' : `exit ${code}`]);
    rows.push(['daemon start until admin socket', `${total} sections`, startMs.toFixed(0), '', '', '', '4096 VFs, policy 1']);
    admin.close();
  } finally {
    for (const c of holders) c.destroy();
    await d.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

export async function run(opts: { rounds?: number; roundMs?: number; iterations?: number } = {}): Promise<void> {
  const rounds = opts.rounds ?? 7;
  const roundMs = opts.roundMs ?? 2000;
  process.stdout.write(`admin benchmark 1: handshakes (connect, full libqat start-up, disconnect) by 8 clients, default host,\n${rounds} alternating rounds of ${roundMs} ms; throughput and the daemon's CPU time per handshake (medians)\n\n`);
  process.stdout.write(renderTable(['case', 'handshakes/s', 'rounds', 'daemon CPU us/handshake', 'note'], await benchWatch(rounds, roundMs)));
  process.stdout.write('\nadmin benchmark 2: admin queries with 4096 VFs / 4096 sections (4xxx:256x16, policy 1), all held\n\n');
  process.stdout.write(renderTable(['query', 'held', 'p50 ms', 'p95 ms', 'max ms', 'in daemon ms (mean)', 'note'], await benchLarge(opts.iterations ?? 30)));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  run().catch((e: unknown) => { process.stderr.write(`${(e as Error).stack ?? String(e)}\n`); process.exit(1); });
}
