// Test harness for the admin suites: the real daemon on a simulated host, libqat-like holder processes, qatctl runs.

import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';

export const ROOT = path.resolve(import.meta.dirname, '..', '..');
const DAEMON = path.join(ROOT, 'dist', 'daemon', 'qatmgr.js');
const QATCTL = path.join(ROOT, 'dist', 'daemon', 'qatctl.js');
const CLIENT = path.join(ROOT, 'dist', 'src', 'client', 'qatclient.js');

export interface Daemon {
  dir: string;
  socket: string;
  adminSocket: string;
  proc: ChildProcess;
  output: () => string;
  stop(): Promise<void>;
}

/** Start `qatmgr --simulate SPEC` in a fresh directory (mode 0755, so other uids can reach its sockets). */
export async function startDaemon(spec = 'default', extra: string[] = []): Promise<Daemon> {
  if (!fs.existsSync(DAEMON)) throw new Error(`${DAEMON} missing: run npm run build first`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qatmgr-admin-'));
  fs.chmodSync(dir, 0o755);
  const proc = spawn(process.execPath, [DAEMON, '--foreground', '--simulate', spec, '--sim-dir', dir, ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d) => { out += d; });
  proc.stderr!.on('data', (d) => { out += d; });
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`daemon did not start within 15 s:\n${out}`)), 15_000);
    const check = (): void => {
      if (out.includes('qatmgr: serving')) { clearTimeout(t); resolve(); }
    };
    proc.stdout!.on('data', check);
    proc.once('exit', (code) => { clearTimeout(t); reject(new Error(`daemon exited with ${code}:\n${out}`)); });
  });
  const run = path.join(dir, 'run', 'qat');
  return {
    dir,
    socket: path.join(run, 'qatmgr.sock'),
    adminSocket: path.join(run, 'qatmgr-admin.sock'),
    proc,
    output: () => out,
    async stop() {
      if (proc.exitCode === null) {
        const gone = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        await gone;
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

let publicDir: string | undefined;

/**
 * dist/ and the production dependencies copied into a directory every user can read: code run as another user
 * (uid 65534) must not depend on where the checkout lives (a clone in a mode-0700 `mktemp -d` is not traversable by
 * nobody). Made once per test file, removed at exit.
 */
export function publicRuntime(): string {
  if (publicDir) return publicDir;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qatmgr-public-'));
  fs.chmodSync(dir, 0o755);
  fs.cpSync(path.join(ROOT, 'dist'), path.join(dir, 'dist'), { recursive: true });
  fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(dir, 'package.json'));
  const seen = new Set<string>();
  const want = (pkgJson: string): string[] => {
    const j = JSON.parse(fs.readFileSync(pkgJson, 'utf8')) as { dependencies?: Record<string, string>; optionalDependencies?: Record<string, string> };
    return [...Object.keys(j.dependencies ?? {}), ...Object.keys(j.optionalDependencies ?? {})];
  };
  const queue = want(path.join(ROOT, 'package.json'));
  while (queue.length) {
    const name = queue.shift()!;
    const from = path.join(ROOT, 'node_modules', name);
    if (seen.has(name) || !fs.existsSync(from)) continue;
    seen.add(name);
    fs.cpSync(from, path.join(dir, 'node_modules', name), { recursive: true });
    queue.push(...want(path.join(from, 'package.json')));
  }
  // readable whatever the umask of the clone was
  const open = (p: string): void => {
    const st = fs.lstatSync(p);
    if (st.isSymbolicLink()) return;
    fs.chmodSync(p, st.isDirectory() ? 0o755 : st.mode | 0o444);
    if (st.isDirectory()) for (const e of fs.readdirSync(p)) open(path.join(p, e));
  };
  open(dir);
  process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  publicDir = dir;
  return dir;
}

const holderScript = (client: string): string => `
import { QatClient } from ${JSON.stringify(client)};
const [sock, name] = process.argv.slice(-2);
process.title = name;
const c = await QatClient.connect(sock);
const say = (s) => process.stdout.write(s + '\\n');
const bad = (e) => say('BAD ' + (e.text ?? e.message));
try { const r = await c.handshake(name); say('HELD ' + r.section); } catch (e) { bad(e); }
const rl = (await import('node:readline')).createInterface({ input: process.stdin });
rl.on('line', async (l) => {
  try {
    if (l === 'num') say('NUM ' + await c.numDevices());
    else if (l === 'get') say('HELD ' + await c.sectionGet(name));
  } catch (e) { bad(e); }
});
rl.on('close', () => process.exit(0));
`;

export interface Holder {
  proc: ChildProcess;
  pid: number;
  /** First line: "HELD SSL_INT_n" or "BAD <text>". */
  first: string;
  section: string | undefined;
  /** Send a command ("num", "get") and read the answer line. */
  send(cmd: string): Promise<string>;
  close(): Promise<void>;
}

/** A separate process doing libqat's start-up handshake under process name (and comm) `name`, then waiting. */
export async function startHolder(socket: string, name: string, as: { uid?: number; gid?: number } = {}): Promise<Holder> {
  const client = as.uid !== undefined ? path.join(publicRuntime(), 'dist', 'src', 'client', 'qatclient.js') : CLIENT;
  const proc = spawn(process.execPath, ['--input-type=module', '-e', holderScript(client), '--', socket, name], { stdio: ['pipe', 'pipe', 'inherit'], cwd: '/', ...as });
  const lines = readline.createInterface({ input: proc.stdout! });
  const queue: string[] = [];
  let waiter: ((l: string) => void) | null = null;
  lines.on('line', (l) => { if (waiter) { const w = waiter; waiter = null; w(l); } else queue.push(l); });
  const next = (): Promise<string> => new Promise((resolve, reject) => {
    if (queue.length) { resolve(queue.shift()!); return; }
    const t = setTimeout(() => reject(new Error(`holder ${name}: no answer`)), 10_000);
    waiter = (l) => { clearTimeout(t); resolve(l); };
  });
  const first = await next();
  return {
    proc,
    pid: proc.pid!,
    first,
    section: first.startsWith('HELD ') ? first.slice(5) : undefined,
    send(cmd) { proc.stdin!.write(`${cmd}\n`); return next(); },
    async close() {
      if (proc.exitCode !== null) return;
      const gone = new Promise((r) => proc.once('exit', r));
      proc.stdin!.end();
      await gone;
    },
  };
}

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run qatctl as a separate process (optionally as another uid/gid). */
export function qatctl(args: string[], opts: { uid?: number; gid?: number; env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
  return new Promise((resolve) => {
    const qatctlJs = opts.uid !== undefined ? path.join(publicRuntime(), 'dist', 'daemon', 'qatctl.js') : QATCTL;
    const p = spawn(process.execPath, [qatctlJs, ...args], { uid: opts.uid, gid: opts.gid, env: { ...process.env, ...opts.env }, cwd: '/' });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => { stdout += d; });
    p.stderr.on('data', (d) => { stderr += d; });
    p.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** Send raw bytes to the admin socket, collect the answer lines until it closes or `lines` arrived. */
export function adminRaw(socketPath: string, payload: string | Buffer, lines: number, timeoutMs = 5000): Promise<{ lines: string[]; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const s = net.connect(socketPath);
    let buf = '';
    let closed = false;
    const t = setTimeout(() => { s.destroy(); reject(new Error(`admin: ${buf.split('\n').length - 1} of ${lines} lines within ${timeoutMs} ms: ${buf}`)); }, timeoutMs);
    const done = (): void => {
      clearTimeout(t);
      s.destroy();
      resolve({ lines: buf.split('\n').filter(Boolean), closed });
    };
    s.on('data', (d) => {
      buf += d;
      if (buf.split('\n').length - 1 >= lines) done();
    });
    s.on('error', () => { /* reported via close */ });
    s.on('close', () => { closed = true; done(); });
    s.write(payload);
  });
}
