// Bench: the reply path A/B: write(2) on the fd (default) vs every reply through net.Socket#write, same run, alternating.

import path from 'node:path';
import { renderTable } from '../src/cli/table.js';
import { buildC, tree, startOurs, runLoad, median, fmt, pointSeconds, repeats, BUILD, type LoadResult } from './lib.js';

const POINTS: Array<[policy: number, clients: number]> = [[0, 1], [0, 8], [1, 8]];

export async function run(): Promise<void> {
  const { loadgen } = buildC();
  const dir = tree('4xxx:2x16');
  const secs = pointSeconds();
  const reps = repeats();
  process.stdout.write(`\n== datapath: replies by write(2) on the fd vs net.Socket#write (QATMGR_STREAM_WRITES=1), 4xxx:2x16, ${secs} s per point, median of ${reps} alternating runs ==\n`);
  const rows = [];
  for (const policy of [0, 1]) {
    const points = POINTS.filter(([p]) => p === policy);
    if (points.length === 0) continue;
    const raw = await startOurs(dir, policy, path.join(BUILD, 'run', `dp-raw-p${policy}`));
    const stream = await startOurs(dir, policy, path.join(BUILD, 'run', `dp-stream-p${policy}`), { QATMGR_STREAM_WRITES: '1' });
    try {
      for (const [, clients] of points) {
        const a: LoadResult[] = [];
        const b: LoadResult[] = [];
        for (let i = 0; i < reps; i++) {
          for (const s of i % 2 === 0 ? [raw, stream] : [stream, raw]) (s === raw ? a : b).push(await runLoad(loadgen, s.socket, clients, secs, s.pid));
        }
        const m = (rs: LoadResult[], k: keyof LoadResult): number => median(rs.map((r) => r[k]));
        rows.push([policy, clients,
          fmt(m(a, 'handshakesPerSec')), fmt(m(a, 'serverCpuUsPerHandshake')),
          fmt(m(b, 'handshakesPerSec')), fmt(m(b, 'serverCpuUsPerHandshake')),
          fmt(m(a, 'handshakesPerSec') / m(b, 'handshakesPerSec'), 2), fmt(m(b, 'serverCpuUsPerHandshake') / m(a, 'serverCpuUsPerHandshake'), 2)]);
      }
    } finally {
      await raw.stop();
      await stream.stop();
    }
  }
  process.stdout.write(renderTable(['policy', 'clients', 'write(2) hs/s', 'write(2) CPU us/hs', 'stream hs/s', 'stream CPU us/hs', 'hs/s ratio', 'CPU ratio'], rows));
}
