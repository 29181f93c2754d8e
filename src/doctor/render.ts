// Human output of a doctor report: one aligned line per check, its fix lines under it, then the summary.

import type { DoctorReport } from './types.js';
import { plain, type Colour, type Paint } from '../text/colour.js';

const STATUS_COLOUR: Record<string, Colour> = { PASS: 'green', WARN: 'yellow', FAIL: 'red' };

/** `paint` colours the status words (pass the CLI's painter on a terminal). */
export function renderReport(report: DoctorReport, paint: Paint = plain): string {
  const idW = Math.max(...report.results.map((r) => r.id.length));
  const lines: string[] = [];
  for (const r of report.results) {
    lines.push(`${paint(r.status.padEnd(4), STATUS_COLOUR[r.status])}  ${r.id.padEnd(idW)}  ${r.seen}`);
    for (const f of r.fix) lines.push(`${' '.repeat(6 + idW)}  fix: ${f}`);
  }
  const { pass, warn, fail } = report.summary;
  lines.push('', `${report.results.length} checks: ${pass} PASS, ${warn} WARN, ${fail} FAIL${fail ? ' - not ready for the in-tree stack' : warn ? ' - usable, see the warnings' : ' - ready'}`);
  return `${lines.join('\n')}\n`;
}
