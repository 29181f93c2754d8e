// Human output of a doctor report: one aligned line per check, its fix lines under it, then the summary.

import type { DoctorReport } from './types.js';
import { plain, type Colour, type Paint } from '../text/colour.js';
import { wrapText } from '../text/table.js';

const STATUS_COLOUR: Record<string, Colour> = { PASS: 'green', WARN: 'yellow', FAIL: 'red' };

/** `paint` colours the status words (pass the CLI's painter on a terminal); `width` wraps long lines under their column. */
export function renderReport(report: DoctorReport, paint: Paint = plain, width?: number): string {
  const idW = Math.max(...report.results.map((r) => r.id.length));
  const lines: string[] = [];
  const seenIndent = ' '.repeat(6 + idW + 2);
  const fixIndent = `${seenIndent}     `;
  const wrap = (text: string, first: number, indent: string): string => (width ? wrapText(text, Math.max(20, width - first), indent) : text);
  for (const r of report.results) {
    lines.push(`${paint(r.status.padEnd(4), STATUS_COLOUR[r.status])}  ${r.id.padEnd(idW)}  ${wrap(r.seen, seenIndent.length, seenIndent)}`);
    for (const f of r.fix) lines.push(`${seenIndent}fix: ${wrap(f, fixIndent.length, fixIndent)}`);
  }
  const { pass, warn, fail } = report.summary;
  lines.push('', `${report.results.length} checks: ${pass} PASS, ${warn} WARN, ${fail} FAIL${fail ? ' - not ready for the in-tree stack' : warn ? ' - usable, see the warnings' : ' - ready'}`);
  return `${lines.join('\n')}\n`;
}
