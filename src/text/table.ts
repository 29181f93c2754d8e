// Aligned plain-text tables for qatctl's human output.

export type Cell = string | number | boolean | null | undefined;

/** Render rows under a header, columns padded to their widest cell; numbers right-aligned. */
export function renderTable(header: string[], rows: Cell[][]): string {
  const text = (c: Cell): string => (c === null || c === undefined ? '-' : String(c));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => text(r[i]).length)));
  const line = (cells: Cell[], isHeader: boolean): string =>
    cells
      .map((c, i) => {
        const t = text(c);
        const right = !isHeader && typeof c === 'number';
        return right ? t.padStart(widths[i]) : t.padEnd(widths[i]);
      })
      .join('  ')
      .trimEnd();
  return [line(header, true), ...rows.map((r) => line(r, false))].join('\n') + '\n';
}
