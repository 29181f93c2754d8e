// A libqat-like client in its own process (so it has its own pid and can be killed), driven over stdio.

import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { ROOT } from './daemon.js';

const SCRIPT = `
const { QatClient } = await import(${JSON.stringify(path.join(ROOT, 'dist', 'src', 'client', 'qatclient.js'))});
const c = await QatClient.connect(process.argv[1]);
try {
  const r = await c.handshake(process.argv[2] || 'SSL');
  process.stdout.write(JSON.stringify({ section: r.section, devices: r.devices.map((d) => d.id) }) + '\\n');
} catch (e) {
  process.stdout.write(JSON.stringify({ error: e.message }) + '\\n');
}
setInterval(() => {}, 1000); // hold the section until killed
`;

export interface ClientProc {
  proc: ChildProcess;
  /** First line the client printed: its section (or error). */
  result: Promise<{ section?: string; devices?: string[]; error?: string }>;
}

export function spawnClient(socket: string, name = 'SSL'): ClientProc {
  const proc = spawn(process.execPath, ['--input-type=module', '-e', SCRIPT, socket, name], { stdio: ['ignore', 'pipe', 'inherit'] });
  const result = new Promise<{ section?: string; devices?: string[]; error?: string }>((resolve, reject) => {
    let buf = '';
    proc.stdout!.on('data', (d) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl >= 0) resolve(JSON.parse(buf.slice(0, nl)));
    });
    proc.on('exit', (code) => reject(new Error(`client exited ${code} before answering`)));
  });
  return { proc, result };
}

export function killAndWait(p: ChildProcess, sig: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  return new Promise((resolve) => {
    if (p.exitCode !== null || p.signalCode !== null) { resolve(); return; }
    p.once('exit', () => resolve());
    p.kill(sig);
  });
}
