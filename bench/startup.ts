// Bench: exec -> socket accepting, on 32 VFs and 4096 VFs simulated trees (median of several starts).

import path from 'node:path';
import { spawn } from 'node:child_process';
import { renderTable } from '../src/cli/table.js';
import { buildC, tree, daemonCommand, daemonArgs, median, fmt, repeats, BUILD } from './lib.js';

const TREES: Array<{ spec: string; vfs: number; targetMs: number }> = [
  { spec: '4xxx:2x16', vfs: 32, targetMs: 150 },
  { spec: '4xxx:256x16', vfs: 4096, targetMs: 500 },
];

function readyOnce(loadgen: string, socket: string, cmd: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const c = spawn(loadgen, ['ready', socket, ...cmd], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    c.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    c.on('exit', (code) => {
      if (code !== 0) { reject(new Error(`loadgen ready exited with ${code}`)); return; }
      resolve((JSON.parse(out) as { readyMs: number }).readyMs);
    });
  });
}

export async function run(): Promise<void> {
  const { loadgen } = buildC();
  const reps = Math.max(3, repeats());
  process.stdout.write(`\n== startup: exec -> first accepted connect, policy 0, median of ${reps} starts ==\n`);
  const rows = [];
  for (const t of TREES) {
    const dir = tree(t.spec);
    const runDir = path.join(BUILD, 'run', `startup-${t.vfs}`);
    const cmd = [...daemonCommand(), ...daemonArgs(dir, 0, runDir)];
    await readyOnce(loadgen, path.join(runDir, 'qatmgr.sock'), cmd); // warm the page cache
    const ms: number[] = [];
    for (let i = 0; i < reps; i++) ms.push(await readyOnce(loadgen, path.join(runDir, 'qatmgr.sock'), cmd));
    const m = median(ms);
    rows.push([t.spec, t.vfs, fmt(m), fmt(Math.min(...ms)), fmt(Math.max(...ms)), t.targetMs, m < t.targetMs ? 'yes' : 'NO']);
  }
  process.stdout.write(renderTable(['tree', 'VFs', 'ready ms (median)', 'min', 'max', 'target ms', 'met'], rows));
  process.stdout.write('upstream C qatmgr (issue 2, quoted): 15-49 ms\n');
}
