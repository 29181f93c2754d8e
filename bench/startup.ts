// Bench: exec -> socket accepting, on 32 VFs and 4096 VFs simulated trees (median of several starts).

import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { renderTable } from '../src/text/table.js';
import { buildC, tree, daemonCommand, daemonArgs, median, fmt, repeats, BUILD, RUNROOT } from './lib.js';

const TREES: Array<{ spec: string; vfs: number; targetMs: number }> = [
  { spec: '4xxx:2x16', vfs: 32, targetMs: 150 },
  { spec: '4xxx:256x16', vfs: 4096, targetMs: 500 },
];

interface Ready { readyMs: number; firstReplyMs: number; cpuMsAtReady: number; replyOk: boolean }

function readyOnce(loadgen: string, socket: string, cmd: string[]): Promise<Ready> {
  return new Promise((resolve, reject) => {
    const c = spawn(loadgen, ['ready', socket, ...cmd], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    c.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    c.on('exit', (code) => {
      if (code !== 0) { reject(new Error(`loadgen ready exited with ${code}`)); return; }
      const r = JSON.parse(out) as Ready;
      if (!r.replyOk) { reject(new Error('the first request got no NUM_PF_DEVS reply')); return; }
      resolve(r);
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
    const runDir = path.join(RUNROOT, `startup-${t.vfs}`);
    const cmd = [...daemonCommand(), ...daemonArgs(dir, 0, runDir)];
    await readyOnce(loadgen, path.join(runDir, 'qatmgr.sock'), cmd); // warm the page cache
    const rs: Ready[] = [];
    for (let i = 0; i < reps; i++) rs.push(await readyOnce(loadgen, path.join(runDir, 'qatmgr.sock'), cmd));
    const ms = rs.map((r) => r.readyMs);
    const m = median(ms);
    rows.push([t.spec, t.vfs, fmt(m), fmt(Math.min(...ms)), fmt(Math.max(...ms)), fmt(median(rs.map((r) => r.firstReplyMs))), fmt(median(rs.map((r) => r.cpuMsAtReady))), t.targetMs, m < t.targetMs ? 'yes' : 'NO']);
  }
  // the floor on this machine: a Node process that only listens on a Unix socket and answers one fixed reply
  {
    const runDir = path.join(RUNROOT, 'startup-floor');
    const sock = path.join(runDir, 'floor.sock');
    fs.mkdirSync(runDir, { recursive: true });
    const reply = '0a00081a0a0000000200';
    const code = `require('net').createServer((s)=>s.on('data',()=>s.write(Buffer.from('${reply}','hex')))).listen(${JSON.stringify(sock)})`;
    const cmd = [process.execPath, '-e', code];
    await readyOnce(loadgen, sock, cmd);
    const rs: Ready[] = [];
    for (let i = 0; i < reps; i++) rs.push(await readyOnce(loadgen, sock, cmd));
    const ms = rs.map((r) => r.readyMs);
    rows.push(['(floor: node -e listen)', 0, fmt(median(ms)), fmt(Math.min(...ms)), fmt(Math.max(...ms)), fmt(median(rs.map((r) => r.firstReplyMs))), fmt(median(rs.map((r) => r.cpuMsAtReady))), '-', '']);
  }
  process.stdout.write(renderTable(['tree', 'VFs', 'accepting ms (median)', 'min', 'max', 'first reply ms', 'CPU ms at accepting', 'target ms', 'met'], rows));
  process.stdout.write('accepting = fork/exec of `node dist/daemon/qatmgr.js` until connect() succeeds; first reply = until the answer to NUM_PF_DEVS on that connection; CPU = the daemon\'s user+sys time when it accepted (10 ms ticks)\n');
  process.stdout.write('upstream C qatmgr (issue 2, quoted): 15-49 ms\n');
}
