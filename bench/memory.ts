// Bench: resident memory of the daemon idle, with 1000 idle connections, and its peak (VmHWM).

import path from 'node:path';
import { spawn } from 'node:child_process';
import { renderTable } from '../src/text/table.js';
import { dumpReplyTable } from './replytable.js';
import { buildC, tree, startOurs, startReference, rssMb, sleep, fmt, BUILD, RUNROOT, type Server } from './lib.js';

const IDLE = 1000;
const TARGET_MB = 64;

async function measure(loadgen: string, s: Server): Promise<{ before: number; idle: number; hwm: number }> {
  await sleep(300);
  const before = rssMb(s.pid).rss;
  const c = spawn(loadgen, ['idle', s.socket, String(IDLE)], { stdio: ['pipe', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    c.stdout.on('data', (d: Buffer) => { out += d.toString(); if (out.includes('ready')) resolve(); });
    c.on('exit', (code) => reject(new Error(`loadgen idle exited with ${code}`)));
  });
  await sleep(1000);
  const m = rssMb(s.pid);
  c.stdin.end();
  await new Promise((r) => c.once('exit', r));
  return { before, idle: m.rss, hwm: m.hwm };
}

export async function run(): Promise<void> {
  const { loadgen, refmgr } = buildC();
  const dir = tree('4xxx:2x16');
  process.stdout.write(`\n== memory: RSS with ${IDLE} idle connections (each sent one NUM_PF_DEVS), 4xxx:2x16, policy 0 ==\n`);
  const table = path.join(BUILD, 'replies-p0.bin');
  dumpReplyTable(dir, 0, table);
  const rows = [];
  for (const [name, start] of [
    ['ours', () => startOurs(dir, 0, path.join(RUNROOT, 'mem-ours'))],
    ['ref', () => startReference(refmgr, table, path.join(RUNROOT, 'mem-ref'))],
  ] as const) {
    const s = await start();
    try {
      const m = await measure(loadgen, s);
      rows.push([name, fmt(m.before, 1), fmt(m.idle, 1), fmt(m.hwm, 1), name === 'ours' ? TARGET_MB : '-', name === 'ours' ? (m.idle < TARGET_MB ? 'yes' : 'NO') : '']);
    } finally {
      await s.stop();
    }
  }
  process.stdout.write(renderTable(['server', 'RSS idle MB', `RSS ${IDLE} conns MB`, 'peak (VmHWM) MB', 'target MB', 'met'], rows));
  process.stdout.write('upstream C qatmgr (issue 2, quoted): RSS 2.2 MB\n');
}
