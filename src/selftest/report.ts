// Human output of the selftest: the per-instance table, the verdict line, and the TTY progress bar.

import { renderTable } from '../text/table.js';
import type { SelftestReport } from './run.js';

function bdfOf(busAddress: number): string {
  const hex = (n: number, w: number) => n.toString(16).padStart(w, '0');
  return `${hex(busAddress >> 8, 2)}:${hex((busAddress >> 3) & 0x1f, 2)}.${busAddress & 7}`;
}

export function renderReport(r: SelftestReport): string {
  const rows = r.instances.map((i) => [
    i.name,
    i.kind,
    bdfOf(i.busAddress),
    i.passed ? 'pass' : 'FAIL',
    Math.round(i.opsPerSec),
    Number(i.mbPerSec.toFixed(1)),
    Number(i.p50Us.toFixed(1)),
    Number(i.p99Us.toFixed(1)),
    i.error ?? '',
  ]);
  const table = renderTable(['instance', 'kind', 'device', 'result', 'ops/s', 'MB/s', 'p50 us', 'p99 us', 'error'], rows);
  const passed = r.instances.filter((i) => i.passed).length;
  const verdict = r.interrupted
    ? `interrupted: ${passed}/${r.instances.length} instances tested passed; section released`
    : r.passed
      ? `all ${r.instances.length} instances passed (${r.seconds.toFixed(1)} s, ${r.library})`
      : `${r.instances.length - passed} of ${r.instances.length} instances FAILED`;
  return `${table}${verdict}\n`;
}

/** One carriage-returned line: [#####.....]  45% dc2 */
export function progressLine(fraction: number, current: string, width = 30): string {
  const f = Math.max(0, Math.min(1, fraction));
  const filled = Math.round(f * width);
  return `\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(Math.round(f * 100)).padStart(3)}% ${current.padEnd(12)}`;
}
