// Aligned plain-text tables for qatctl's human output, narrowed to the terminal's width when asked.

export type Cell = string | number | boolean | null | undefined;

export interface TableOptions {
  /** Fit every line in this many columns: the widest columns are cut (ending in "…") until the table fits. */
  width?: number;
  /** Leave the header line out (for scripts that read the rows). */
  noHeaders?: boolean;
}

/** No column is cut below this (or its header's width, if shorter). */
const MIN_COLUMN = 8;

/** Column widths that fit `width`: take from the widest column, one character at a time, down to the minimum. */
function fitWidths(widths: number[], header: string[], width: number): number[] {
  const out = [...widths];
  const total = (): number => out.reduce((a, b) => a + b, 0) + 2 * (out.length - 1);
  const floor = out.map((w, i) => Math.min(w, Math.max(MIN_COLUMN, header[i].length)));
  while (total() > width) {
    let widest = -1;
    for (let i = 0; i < out.length; i++) if (out[i] > floor[i] && (widest < 0 || out[i] > out[widest])) widest = i;
    if (widest < 0) break; // every column at its minimum: let the line be long rather than unreadable
    out[widest]--;
  }
  return out;
}

/** Render rows under a header, columns padded to their widest cell; numbers right-aligned. */
export function renderTable(header: string[], rows: Cell[][], opts: TableOptions = {}): string {
  const text = (c: Cell): string => (c === null || c === undefined ? '-' : String(c));
  const natural = header.map((h, i) => Math.max(opts.noHeaders ? 1 : h.length, ...rows.map((r) => text(r[i]).length)));
  const widths = opts.width ? fitWidths(natural, header, opts.width) : natural;
  const line = (cells: Cell[], isHeader: boolean): string =>
    cells
      .map((c, i) => {
        let t = text(c);
        if (t.length > widths[i]) t = `${t.slice(0, widths[i] - 1)}…`;
        const right = !isHeader && typeof c === 'number';
        return right ? t.padStart(widths[i]) : t.padEnd(widths[i]);
      })
      .join('  ')
      .trimEnd();
  const lines = rows.map((r) => line(r, false));
  return [...(opts.noHeaders ? [] : [line(header, true)]), ...lines].join('\n') + '\n';
}

/** Wrap `text` to `width` columns at blanks (a word longer than a line is cut); lines after the first start with `indent`. */
export function wrapText(text: string, width: number, indent: string): string {
  if (text.length <= width) return text;
  const lines: string[] = [];
  let cur = '';
  const limit = (): number => Math.max(10, lines.length === 0 ? width : width - indent.length);
  for (let w of text.split(' ')) {
    if (cur && cur.length + 1 + w.length > limit()) { lines.push(cur); cur = ''; }
    while (w.length > limit() - (cur ? cur.length + 1 : 0)) {
      const room = limit() - (cur ? cur.length + 1 : 0);
      lines.push(cur ? `${cur} ${w.slice(0, room)}` : w.slice(0, room));
      cur = '';
      w = w.slice(room);
    }
    cur = cur ? `${cur} ${w}` : w;
  }
  if (cur) lines.push(cur);
  return lines.join(`\n${indent}`);
}
