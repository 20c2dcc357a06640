/** Column alignment: numbers read best right-aligned. */
export type Align = 'left' | 'right';

export interface TableOptions {
  readonly title?: string;
  /** One per column; default: first column left, the others right. */
  readonly align?: readonly Align[];
}

/** Renders rows as a plain-text table with a header rule, ready for a terminal or a README. */
export function renderTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  opts: TableOptions = {},
): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const alignOf = (i: number): Align => opts.align?.[i] ?? (i === 0 ? 'left' : 'right');
  const line = (cells: readonly string[]): string =>
    `| ${widths
      .map((w, i) => {
        const cell = cells[i] ?? '';
        return alignOf(i) === 'left' ? cell.padEnd(w) : cell.padStart(w);
      })
      .join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (alignOf(i) === 'left' ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  const out = [line(header), rule, ...rows.map(line)];
  if (opts.title) out.unshift(`\n${opts.title}\n`);
  return out.join('\n');
}

export function printTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  opts: TableOptions = {},
): void {
  process.stdout.write(`${renderTable(header, rows, opts)}\n`);
}
