// Bench: full libqat handshakes/s and p99 at 1/8/64 clients, policy 0 and 1, ours vs the C thread-per-connection reference.

import path from 'node:path';
import { renderTable } from '../src/text/table.js';
import { dumpReplyTable } from './replytable.js';
import { buildC, tree, startOurs, startReference, runLoad, median, fmt, pointSeconds, repeats, BUILD, RUNROOT, REFUSED_BACKOFF_US, type LoadResult } from './lib.js';

/** Upstream C qatmgr on this machine kind, quoted from issue 2 (not measured here: no upstream binary is available). */
export const UPSTREAM: Record<string, { rate: number; p99?: number }> = {
  '0/1': { rate: 786, p99: 5.8 },
  '0/8': { rate: 2061, p99: 10.2 },
  '0/64': { rate: 1619, p99: 67 },
  '1/1': { rate: 1304 },
  '1/8': { rate: 3928 },
  '1/64': { rate: 4447 },
};

export const SPEC = '4xxx:2x16';
export const POLICIES = [0, 1];
export const CLIENTS = [1, 8, 64];

export interface Point {
  policy: number;
  clients: number;
  ours: LoadResult[];
  ref: LoadResult[];
}

function med(rs: LoadResult[], k: keyof LoadResult): number {
  return median(rs.map((r) => r[k]));
}

export async function run(): Promise<void> {
  const { loadgen, refmgr } = buildC();
  const dir = tree(SPEC);
  const secs = pointSeconds();
  const reps = repeats();
  process.stdout.write(`\n== handshake: full libqat handshake, ${SPEC}, ${secs} s per point (+0.4 s warm-up), median of ${reps} alternating runs ==\n`);
  const points: Point[] = [];
  for (const policy of POLICIES) {
    const table = path.join(BUILD, `replies-p${policy}.bin`);
    dumpReplyTable(dir, policy, table);
    const ours = await startOurs(dir, policy, path.join(RUNROOT, `ours-p${policy}`));
    const ref = await startReference(refmgr, table, path.join(RUNROOT, `ref-p${policy}`));
    try {
      for (const clients of CLIENTS) {
        const p: Point = { policy, clients, ours: [], ref: [] };
        for (let i = 0; i < reps; i++) {
          const order = i % 2 === 0 ? [ours, ref] : [ref, ours];
          for (const s of order) {
            const r = await runLoad(loadgen, s.socket, clients, secs, s.pid);
            (s === ours ? p.ours : p.ref).push(r);
          }
        }
        points.push(p);
        process.stderr.write(`  policy ${policy}, ${clients} clients: ours ${fmt(med(p.ours, 'handshakesPerSec'))}/s, reference ${fmt(med(p.ref, 'handshakesPerSec'))}/s\n`);
      }
    } finally {
      await ours.stop();
      await ref.stop();
    }
  }
  const rows = points.map((p) => {
    const up = UPSTREAM[`${p.policy}/${p.clients}`];
    const o = med(p.ours, 'handshakesPerSec');
    const r = med(p.ref, 'handshakesPerSec');
    const target = p.clients >= 8 ? up.rate * 1.5 : undefined;
    const met = target === undefined ? '' : o >= target && (p.clients !== 64 || med(p.ours, 'p99Ms') < 30) ? 'yes' : 'NO';
    return [
      p.policy, p.clients,
      fmt(o), fmt(med(p.ours, 'p99Ms'), 1), fmt(med(p.ours, 'serverCpuUsPerHandshake')),
      fmt(r), fmt(med(p.ref, 'p99Ms'), 1), fmt(med(p.ref, 'serverCpuUsPerHandshake')),
      fmt(o / r, 2),
      fmt(up.rate), up.p99 === undefined ? '-' : fmt(up.p99, 1), fmt(o / up.rate, 2),
      target === undefined ? '-' : fmt(target), met,
      fmt(med(p.ours, 'loadgenCpuPct')), fmt(med(p.ours, 'refusedPerSec')),
    ];
  });
  process.stdout.write(renderTable([
    'policy', 'clients',
    'ours hs/s', 'ours p99 ms', 'ours CPU us/hs',
    'ref hs/s', 'ref p99 ms', 'ref CPU us/hs',
    'ours/ref',
    'upstream hs/s', 'upstream p99', 'ours/upstream',
    'target hs/s', 'met',
    'loadgen CPU%', 'refused/s',
  ], rows));
  process.stdout.write(`ref = C thread-per-connection reference (upstream's model, our implementation: bench/reference/refmgr.c)\n`);
  process.stdout.write(`upstream = upstream C qatmgr numbers quoted in issue 2 (fixed, not measured in this run)\n`);
  process.stdout.write(`CPU us/hs = server CPU time (user+sys, /proc/PID/stat) per completed handshake; loadgen CPU% = the C load generator's own CPU, % of one core (machine: 2 cores shared by server and load generator)\n`);
  process.stdout.write(`refused/s = SECTION_GET answered "No section available" (more clients than sections); a refused client closes, waits ${REFUSED_BACKOFF_US} us and tries again\n`);
}
