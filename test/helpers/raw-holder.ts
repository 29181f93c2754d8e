// A self-contained libqat stand-in (raw SECTION_GET, no imports from the checkout) that other uids and pinned CPUs can run; a scene of daemon + holders.

import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { startDaemon, type RunningDaemon } from './daemon.js';
import { AdminClient } from '../../src/admin/client.js';
import type { GeneratedHost } from '../../src/sim/index.js';

// Prints "HELD SSL_INT_n" or "BAD <text>", then holds the connection (and its section) until stdin closes.
const SCRIPT = `import net from 'node:net';
const [sock, name, version] = process.argv.slice(2);
const req = Buffer.alloc(8 + Buffer.byteLength(name) + 1);
req.writeUInt16LE(req.length, 0); req.writeUInt16LE(Number(version), 2); req.writeUInt16LE(1, 4);
req.write(name, 8, 'latin1');
const c = net.connect(sock, () => c.write(req));
let buf = Buffer.alloc(0);
c.on('data', (d) => {
  buf = Buffer.concat([buf, d]);
  if (buf.length < 2 || buf.length < buf.readUInt16LE(0)) return;
  const text = buf.toString('latin1', 8, buf.indexOf(0, 8));
  process.stdout.write((buf.readUInt16LE(4) === 1 ? 'HELD ' : 'BAD ') + text + '\\n');
});
c.on('error', (e) => process.stdout.write('ERROR ' + e.message + '\\n'));
process.stdin.on('data', () => {});
process.stdin.on('end', () => process.exit(0));
`;

let scriptPath: string | undefined;

/** The client script in its own 0755 directory, so any uid can run it whatever the checkout's permissions. */
export function rawHolderScript(): string {
  if (scriptPath) return scriptPath;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qatmgr-holder-'));
  fs.chmodSync(dir, 0o755);
  scriptPath = path.join(dir, 'holder.mjs');
  fs.writeFileSync(scriptPath, SCRIPT, { mode: 0o644 });
  return scriptPath;
}

export interface RawHolder {
  proc: ChildProcess;
  pid: number;
  /** "HELD SSL_INT_n", "BAD <text>" or "ERROR <text>". */
  answer: string;
  section: string | undefined;
  close(): Promise<void>;
}

/**
 * Run the holder: as another uid/gid (`as`), and/or on the CPUs `cpus` (taskset), under process name `name`.
 * Resolves once it printed its answer.
 */
export async function rawHolder(socket: string, opts: { name?: string; uid?: number; gid?: number; cpus?: string } = {}): Promise<RawHolder> {
  const node = [process.execPath, rawHolderScript(), socket, opts.name ?? 'SSL', String(0x1a08)];
  const argv = opts.cpus !== undefined ? ['taskset', '-c', opts.cpus, ...node] : node;
  const proc = spawn(argv[0], argv.slice(1), { stdio: ['pipe', 'pipe', 'inherit'], cwd: '/', uid: opts.uid, gid: opts.gid });
  const answer = await new Promise<string>((resolve, reject) => {
    const rl = readline.createInterface({ input: proc.stdout! });
    const t = setTimeout(() => reject(new Error('holder: no answer within 10 s')), 10_000);
    rl.once('line', (l) => { clearTimeout(t); resolve(l); });
    proc.once('exit', (code) => { clearTimeout(t); reject(new Error(`holder exited with ${code} before answering`)); });
  });
  return {
    proc,
    pid: proc.pid!,
    answer,
    section: answer.startsWith('HELD ') ? answer.slice(5) : undefined,
    async close() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const gone = new Promise((r) => proc.once('exit', r));
      proc.stdin!.end();
      await gone;
    },
  };
}

/** One test's daemon and its holders, torn down after each test; admin ops answered over the admin socket. */
export class Scene {
  daemon: RunningDaemon | undefined;
  private readonly holders: RawHolder[] = [];

  async start(host: GeneratedHost, args: string[] = []): Promise<RunningDaemon> {
    this.daemon = await startDaemon(host, args);
    return this.daemon;
  }

  async hold(opts: Parameters<typeof rawHolder>[1] = {}): Promise<RawHolder> {
    const h = await rawHolder(this.daemon!.socket, opts);
    this.holders.push(h);
    return h;
  }

  async admin<T>(op: string): Promise<T> {
    const c = await AdminClient.connect(path.join(this.daemon!.host.roots.run, 'qatmgr-admin.sock'));
    try {
      return await c.request<T>(op);
    } finally {
      c.close();
    }
  }

  async teardown(): Promise<void> {
    await Promise.all(this.holders.splice(0).map((h) => h.close()));
    await this.daemon?.stop();
    this.daemon = undefined;
  }
}
