// Bench helpers: build the C tools, lay down simulated trees, start servers, run the load generator, medians and tables.

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseSimSpec, generateHost, SIM_MARKER } from '../src/sim/index.js';

/** Repository root (dist/bench/lib.js -> ../..). */
export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BUILD = path.join(REPO, 'bench', 'build');
export const DAEMON = path.join(REPO, 'dist', 'daemon', 'qatmgr.js');
/**
 * Run directories (sockets, the allocation ledger) go on tmpfs when there is one, as /run/qat does on a real host:
 * the ledger is rewritten on every grant and release, and a disk-backed directory would measure the disk.
 */
export const RUNROOT = fs.existsSync('/dev/shm') ? path.join('/dev/shm', `qatmgr-bench-${process.pid}`) : path.join(BUILD, 'run');

export function buildC(): { loadgen: string; refmgr: string } {
  fs.mkdirSync(BUILD, { recursive: true });
  const out = { loadgen: path.join(BUILD, 'loadgen'), refmgr: path.join(BUILD, 'refmgr') };
  const srcs: Array<[string, string]> = [[path.join(REPO, 'bench', 'loadgen', 'loadgen.c'), out.loadgen], [path.join(REPO, 'bench', 'reference', 'refmgr.c'), out.refmgr]];
  for (const [src, bin] of srcs) {
    const fresh = fs.existsSync(bin) && fs.statSync(bin).mtimeMs >= fs.statSync(src).mtimeMs;
    if (!fresh) execFileSync('gcc', ['-O2', '-Wall', '-pthread', '-o', bin, src], { stdio: 'inherit' });
  }
  return out;
}

/** A simulated tree under bench/build/trees (generated once, reused). */
export function tree(spec: string): string {
  const dir = path.join(BUILD, 'trees', spec.replace(/[^a-zA-Z0-9]+/g, '_'));
  // trees written by an older simulator (no health files: no debugfs) are written again
  if (!fs.existsSync(path.join(dir, SIM_MARKER)) || !fs.existsSync(path.join(dir, 'sys', 'kernel', 'debug'))) {
    generateHost(dir, parseSimSpec(spec), { force: fs.existsSync(dir) });
  }
  return dir;
}

export function daemonArgs(treeDir: string, policy: number, socketDir: string): string[] {
  return ['--foreground', '--sysfs-root', `${treeDir}/sys`, '--dev-root', `${treeDir}/dev`, '--proc-root', `${treeDir}/proc`,
    '--etc-root', `${treeDir}/etc`, '--run-dir', socketDir, '--policy', String(policy)];
}

/** How the daemon is started: `node dist/daemon/qatmgr.js`, as the integration tests and the unit files do. */
export function daemonCommand(): string[] {
  return [process.execPath, DAEMON];
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export async function waitForSocket(p: string, child: ChildProcess, timeoutMs = 10000): Promise<void> {
  const t0 = Date.now();
  while (!fs.existsSync(p)) {
    if (child.exitCode !== null) throw new Error(`server exited with status ${child.exitCode} before listening on ${p}`);
    if (Date.now() - t0 > timeoutMs) throw new Error(`no socket at ${p} after ${timeoutMs} ms`);
    await sleep(5);
  }
  await sleep(100);
}

export interface Server {
  pid: number;
  socket: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

async function startServer(cmd: string[], socket: string, env: NodeJS.ProcessEnv = {}): Promise<Server> {
  fs.rmSync(socket, { force: true });
  const child = spawn(cmd[0], cmd.slice(1), { stdio: ['ignore', 'ignore', 'ignore'], env: { ...process.env, ...env } });
  await waitForSocket(socket, child);
  return {
    pid: child.pid!,
    socket,
    child,
    stop: () => new Promise((resolve) => {
      if (child.exitCode !== null) { resolve(); return; }
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 3000).unref();
    }),
  };
}

export function startOurs(treeDir: string, policy: number, runDir: string, env: NodeJS.ProcessEnv = {}, extraArgs: string[] = []): Promise<Server> {
  fs.mkdirSync(runDir, { recursive: true });
  return startServer([...daemonCommand(), ...daemonArgs(treeDir, policy, runDir), ...extraArgs], path.join(runDir, 'qatmgr.sock'), env);
}

export function startReference(refmgr: string, table: string, runDir: string): Promise<Server> {
  fs.mkdirSync(runDir, { recursive: true });
  const socket = path.join(runDir, 'refmgr.sock');
  return startServer([refmgr, socket, table], socket);
}

export interface LoadResult {
  clients: number;
  /** Handshakes completed in the measured window. */
  handshakes: number;
  /** Times a loadgen thread was granted a section another of its threads still held (must be 0). */
  doubleGrants: number;
  handshakesPerSec: number;
  refusedPerSec: number;
  errors: number;
  p50Ms: number;
  p99Ms: number;
  loadgenCpuPct: number;
  serverCpuPct: number;
  /** Server CPU time per completed handshake (refusals included in the numerator), µs. */
  serverCpuUsPerHandshake: number;
}

/** A refused client (SECTION_GET -> "No section available") waits this long before it tries again, µs. */
export const REFUSED_BACKOFF_US = 1000;

export function runLoad(loadgen: string, socket: string, clients: number, seconds: number, pid: number): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const c = spawn(loadgen, ['run', socket, String(clients), String(seconds), String(pid), String(REFUSED_BACKOFF_US)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    c.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    c.on('exit', (code) => {
      if (code !== 0) { reject(new Error(`loadgen exited with ${code}`)); return; }
      try { resolve(JSON.parse(out) as LoadResult); } catch (e) { reject(e); }
    });
  });
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** CPU time (ms) a process has used so far, from /proc/<pid>/stat utime + stime (10 ms ticks). */
export function cpuMs(pid: number): number {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
  // fields 14 and 15 of stat (1-based) are utime and stime; `rest` starts at field 3
  return ((Number(rest[11]) + Number(rest[12])) * 1000) / 100;
}

/** VmRSS / VmHWM of a process in MB. */
export function rssMb(pid: number): { rss: number; hwm: number } {
  const t = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string): number => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(t)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
}

export function fmt(n: number, digits = 0): string {
  return Number.isFinite(n) ? n.toFixed(digits) : '-';
}

/** Seconds per measured point: BENCH_SECONDS overrides (default 3). */
export function pointSeconds(): number {
  const v = Number(process.env.BENCH_SECONDS);
  return Number.isFinite(v) && v > 0 ? v : 3;
}

export function repeats(): number {
  const v = Number(process.env.BENCH_REPEATS);
  return Number.isInteger(v) && v > 0 ? v : 3;
}
