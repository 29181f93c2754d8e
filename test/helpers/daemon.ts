// Spawn the real daemon (dist/daemon/qatmgr.js) on a simulated host and wait until its socket accepts.

import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { simHost } from './sim.js';
import type { GeneratedHost } from '../../src/sim/index.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const QATMGR = path.join(ROOT, 'dist', 'daemon', 'qatmgr.js');
export const QATCTL = path.join(ROOT, 'dist', 'daemon', 'qatctl.js');

export interface RunningDaemon {
  proc: ChildProcess;
  host: GeneratedHost;
  socket: string;
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the exit code (or signal name). */
  exited: Promise<number | string>;
  stop(signal?: NodeJS.Signals): Promise<number | string>;
}

export function canConnect(p: string): Promise<boolean> {
  return new Promise((resolve) => {
    const c = net.connect(p);
    c.once('connect', () => { c.destroy(); resolve(true); });
    c.once('error', () => resolve(false));
  });
}

export function hostArgs(host: GeneratedHost): string[] {
  return ['--sysfs-root', host.roots.sys, '--dev-root', host.roots.dev, '--run-dir', host.roots.run, '--etc-root', host.roots.etc];
}

/** Start the daemon on `spec` (or an existing host) with extra args; rejects if it exits before serving. */
export async function startDaemon(specOrHost: string | GeneratedHost, args: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<RunningDaemon> {
  const host = typeof specOrHost === 'string' ? simHost(specOrHost) : specOrHost;
  const socket = path.join(host.roots.run, 'qatmgr.sock');
  const proc = spawn(process.execPath, [QATMGR, '--foreground', ...hostArgs(host), ...args], {
    env: { ...process.env, POLICY: undefined, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  proc.stdout!.on('data', (d) => { out += d; });
  proc.stderr!.on('data', (d) => { err += d; });
  const exited = new Promise<number | string>((resolve) => proc.on('exit', (code, sig) => resolve(code ?? sig ?? -1)));
  let done = false;
  void exited.then(() => { done = true; });
  const deadline = Date.now() + 10_000;
  while (!(await canConnect(socket))) {
    if (done) throw new Error(`daemon exited before serving: ${await exited}\nstdout: ${out}\nstderr: ${err}`);
    if (Date.now() > deadline) { proc.kill('SIGKILL'); throw new Error(`daemon did not serve within 10 s\n${err}`); }
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    proc, host, socket,
    stdout: () => out,
    stderr: () => err,
    exited,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (!done) proc.kill(signal);
      return exited;
    },
  };
}

/** Run the daemon expecting it to exit (bad input); resolves with status and output. */
export function runDaemonToExit(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 10_000): Promise<{ code: number | string; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [QATMGR, ...args], { env: { ...process.env, POLICY: undefined, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d) => { stdout += d; });
    proc.stderr.on('data', (d) => { stderr += d; });
    const t = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error(`daemon still running after ${timeoutMs} ms: ${stderr}`)); }, timeoutMs);
    proc.on('exit', (code, sig) => { clearTimeout(t); resolve({ code: code ?? sig ?? -1, stdout, stderr }); });
  });
}
