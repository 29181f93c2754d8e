// Test helper: spawn the real daemon (dist/) and libqat stand-in processes that hold sections.

import net from 'node:net';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';

export const DAEMON = path.resolve('dist/daemon/qatmgr.js');
const HOLDER = path.resolve('test/fixtures/hold-section.mjs');

export interface LogLine {
  event?: string;
  msg?: string;
  [k: string]: unknown;
}

export interface Proc {
  proc: ChildProcess;
  pid: number;
  out: string[];
  err: string[];
  /** Parsed JSON log lines (stdout and stderr). */
  logs: LogLine[];
  waitLog(pred: (l: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function track(proc: ChildProcess): Proc {
  const out: string[] = [];
  const err: string[] = [];
  const logs: LogLine[] = [];
  const waiters: Array<{ pred: (l: LogLine) => boolean; resolve: (l: LogLine) => void }> = [];
  const feed = (into: string[]) => {
    let partial = '';
    return (d: Buffer): void => {
      partial += d.toString('utf8');
      const lines = partial.split('\n');
      partial = lines.pop()!;
      for (const line of lines) {
        into.push(line);
        let l: LogLine | undefined;
        try { l = JSON.parse(line) as LogLine; } catch { /* plain text */ }
        if (!l) continue;
        logs.push(l);
        for (const w of [...waiters]) if (w.pred(l)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(l); }
      }
    };
  };
  proc.stdout?.on('data', feed(out));
  proc.stderr?.on('data', feed(err));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => proc.once('exit', (code, signal) => r({ code, signal })));
  return {
    proc,
    pid: proc.pid!,
    out,
    err,
    logs,
    exited,
    waitLog(pred, timeoutMs = 10_000) {
      const have = logs.find(pred);
      if (have) return Promise.resolve(have);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no log line matched in ${timeoutMs} ms; stderr: ${err.join('\n')}`)), timeoutMs);
        waiters.push({ pred, resolve: (l) => { clearTimeout(t); resolve(l); } });
      });
    },
  };
}

/** Resource limits to start the daemon under (the shell's ulimit, then exec). */
export interface DaemonLimits {
  /** RLIMIT_NOFILE (ulimit -n). */
  nofile?: number;
  /** RLIMIT_FSIZE in KiB (ulimit -f): writes past it fail with EFBIG, as a full disk fails them. */
  fsizeKb?: number;
}

/** The daemon in the foreground at debug level 1 (JSON lines), with the given flags and extra environment. */
export function spawnDaemon(args: string[], env: Record<string, string | undefined> = {}, foreground = true, limits: DaemonLimits = {}): Proc {
  const e: NodeJS.ProcessEnv = { ...process.env, ...env };
  for (const k of ['NOTIFY_SOCKET', 'WATCHDOG_USEC', 'WATCHDOG_PID', 'LISTEN_FDS', 'LISTEN_PID']) if (!(k in env)) delete e[k];
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete e[k];
  const argv = [DAEMON, ...(foreground ? ['--foreground'] : []), '-d', '1', ...args];
  const ulimits = [limits.nofile !== undefined ? `ulimit -n ${limits.nofile}` : '', limits.fsizeKb !== undefined ? `ulimit -f ${limits.fsizeKb}` : ''].filter(Boolean);
  const proc = ulimits.length
    ? spawn('/bin/sh', ['-c', `${ulimits.join(' && ')} && exec "$0" "$@"`, process.execPath, ...argv], { env: e, stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(process.execPath, argv, { env: e, stdio: ['ignore', 'pipe', 'pipe'] });
  return track(proc);
}

/** Resolves once a connection to `socket` succeeds (ms waited), rejects after `timeoutMs`. */
export async function waitConnectable(socket: string, timeoutMs = 10_000): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = net.connect(socket);
      c.once('connect', () => { c.destroy(); resolve(true); });
      c.once('error', () => resolve(false));
    });
    if (ok) return performance.now() - t0;
    if (performance.now() - t0 > timeoutMs) throw new Error(`${socket} not connectable within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

export interface Holder {
  proc: ChildProcess;
  pid: number;
  section: string;
  vfs: string[];
  kill(): Promise<void>;
}

/** A separate process that takes a section and keeps it (and its VFs) until killed. */
export function holdSection(socket: string): Promise<Holder> {
  const proc = spawn(process.execPath, [HOLDER, socket], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let buf = '';
    proc.stdout!.on('data', (d) => {
      buf += d;
      if (!buf.includes('\n')) return;
      const r = JSON.parse(buf.split('\n')[0]) as { pid: number; section?: string; vfs?: string[]; error?: string };
      if (r.error) { proc.kill('SIGKILL'); reject(new Error(`client ${r.pid}: ${r.error}`)); return; }
      resolve({
        proc, pid: r.pid, section: r.section!, vfs: r.vfs!,
        kill: () => new Promise<void>((res) => { if (proc.exitCode !== null || proc.signalCode !== null) res(); else { proc.once('exit', () => res()); proc.kill('SIGKILL'); } }),
      });
    });
    proc.once('exit', (code) => { if (!buf.includes('\n')) reject(new Error(`client exited (${code}) before holding a section`)); });
  });
}
