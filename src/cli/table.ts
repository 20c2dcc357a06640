/**
 * Plain text tables for a terminal or a pipe: columns separated by two spaces, padded to their
 * widest cell, no trailing spaces, no colours or box drawing (greppable, stable in tests).
 */

export interface TableOptions {
  /** Cells longer than this many characters end with `…` (per column; default: no limit). */
  readonly maxWidth?: Readonly<Record<number, number>>;
}

/** Width as a terminal shows it, close enough for text: one column per code point. */
function width(text: string): number {
  return [...text].length;
}

function clip(text: string, max: number | undefined): string {
  // One line per row: line breaks inside a cell would break the columns.
  const flat = text.replace(/\s*[\r\n]+\s*/g, ' ');
  if (max === undefined || width(flat) <= max) return flat;
  return `${[...flat].slice(0, Math.max(0, max - 1)).join('')}…`;
}

/** Renders `rows` under `headers`; every line ends with a newline. */
export function renderTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  opts: TableOptions = {},
): string {
  const cells = [headers, ...rows].map((row) => headers.map((_, i) => clip(row[i] ?? '', opts.maxWidth?.[i])));
  const widths = headers.map((_, i) => Math.max(...cells.map((row) => width(row[i] ?? ''))));
  return cells
    .map((row) =>
      row
        .map((cell, i) => (i === row.length - 1 ? cell : cell + ' '.repeat((widths[i] ?? 0) - width(cell))))
        .join('  ')
        .trimEnd(),
    )
    .map((line) => `${line}\n`)
    .join('');
}

/** `key  value` lines, keys padded to the longest (a record shown vertically). */
export function renderFields(fields: readonly (readonly [string, string])[]): string {
  const w = Math.max(0, ...fields.map(([k]) => width(k)));
  return fields.map(([k, v]) => `${k}${' '.repeat(w - width(k))}  ${clip(v, undefined)}`.trimEnd() + '\n').join('');
}
