// Restart benchmark: N clients hold sections, the daemon is SIGKILLed and restarted; prints SIGKILL -> serving and adoptions.

import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { parseSimSpec, generateHost } from '../src/sim/index.js';
import { simulatedRoots } from '../src/config/roots.js';
import { renderTable } from '../src/text/table.js';
import { writeLedger, LEDGER_FORMAT, type LedgerData } from '../src/sections/ledger.js';

const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const DAEMON = path.join(repo, 'dist', 'daemon', 'qatmgr.js');
const HOLDER = path.join(repo, 'test', 'fixtures', 'hold-section.mjs');

function connectable(sock: string): Promise<boolean> {
  return new Promise((resolve) => {
    const c = net.connect(sock);
    c.once('connect', () => { c.destroy(); resolve(true); });
    c.once('error', () => resolve(false));
  });
}

function startDaemon(args: string[]): { proc: ChildProcess; lines: string[]; ready: Promise<Record<string, unknown>> } {
  const proc = spawn(process.execPath, [DAEMON, '--foreground', '-d', '1', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: string[] = [];
  const ready = new Promise<Record<string, unknown>>((resolve) => {
    let buf = '';
    proc.stdout!.on('data', (d) => {
      buf += d;
      const parts = buf.split('\n');
      buf = parts.pop()!;
      for (const l of parts) {
        lines.push(l);
        if (l.includes('"event":"ready"')) resolve(JSON.parse(l));
      }
    });
  });
  return { proc, lines, ready };
}

function hold(sock: string): Promise<ChildProcess> {
  const p = spawn(process.execPath, [HOLDER, sock], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    p.stdout!.once('data', (d) => (String(d).includes('"section"') ? resolve(p) : reject(new Error(String(d)))));
  });
}

async function main(): Promise<void> {
  const runs = Number(process.env.RUNS ?? 5);
  const holders = Number(process.env.HOLDERS ?? 8);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qat-bench-restart-'));
  generateHost(path.join(dir, 'host'), parseSimSpec('default'));
  const roots = simulatedRoots(path.join(dir, 'host'));
  const args = ['--sysfs-root', roots.sys, '--dev-root', roots.dev, '--proc-root', roots.proc, '--etc-root', roots.etc, '--run-dir', roots.run];
  const sock = path.join(roots.run, 'qatmgr.sock');
  const rows: string[][] = [];
  let d = startDaemon(args);
  await d.ready;
  const clients: ChildProcess[] = [];
  for (let i = 0; i < holders; i++) clients.push(await hold(sock));
  try {
    for (let r = 1; r <= runs; r++) {
      d.proc.kill('SIGKILL');
      await new Promise((res) => d.proc.once('exit', res));
      const t0 = performance.now();
      d = startDaemon(args);
      while (!(await connectable(sock))) await new Promise((res) => setTimeout(res, 1));
      const serving = performance.now() - t0;
      const ready = await d.ready;
      const adopted = d.lines.filter((l) => l.includes('"event":"adopt"')).length;
      rows.push([String(r), String(holders), serving.toFixed(0), String(ready.ms), `${adopted}/${holders}`]);
    }
  } finally {
    d.proc.kill('SIGTERM');
    for (const c of clients) c.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
  process.stdout.write(`qatmgr restart after SIGKILL (simulated 4xxx:2x16, policy 0, ${holders} clients holding sections)\n`);
  process.stdout.write(renderTable(['run', 'clients', 'SIGKILL->serving ms', 'daemon build ms', 'adopted'], rows));
  process.stdout.write('\nSIGKILL->serving = process start to first accepted connection (includes Node start-up); build = settings to listen inside the daemon.\n');
  ledgerCost();
}

/** What one grant pays for the ledger: the synchronous atomic write, and (off the event loop) the fsync. */
function ledgerCost(): void {
  const data: LedgerData = {
    format: LEDGER_FORMAT, bootId: null, daemonPid: process.pid, writtenAt: new Date().toISOString(),
    entries: Array.from({ length: 16 }, (_, i) => ({ section: `SSL_INT_${i}`, vfs: ['0000:6b:00.1', '0000:70:00.1'], pid: 1, startTime: '1', uid: 0, gid: 0, processName: 'SSL', since: 0, adopted: false })),
  };
  const rows: string[][] = [];
  const dirs = [os.tmpdir(), '/dev/shm'].filter((d) => fs.existsSync(d));
  for (const base of dirs) {
    const dir = fs.mkdtempSync(path.join(base, 'qat-ledger-'));
    const file = path.join(dir, 'qatmgr.ledger');
    for (const fsync of [false, true]) {
      const t: number[] = [];
      for (let i = 0; i < 200; i++) {
        const t0 = performance.now();
        writeLedger(file, data, { fsync });
        t.push(performance.now() - t0);
      }
      t.sort((a, b) => a - b);
      rows.push([base, fsync ? 'write+fsync (not on the grant path)' : 'atomic write (grant path)', t[100].toFixed(3), t[197].toFixed(3)]);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
  process.stdout.write('\nledger write with 16 held sections (200 writes)\n');
  process.stdout.write(renderTable(['dir', 'what', 'p50 ms', 'p99 ms'], rows));
}

void main();
