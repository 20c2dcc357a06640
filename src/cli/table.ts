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

/**
 * What a terminal would act on rather than show: C0 controls, DEL, C1 controls, bidirectional
 * embeddings, overrides and isolates, invisible formatting marks, lone surrogates.
 */
const CONTROLS = /[\u0000-\u001F\u007F-\u009F\u061C\u200B\u200E\u200F\u2028\u2029\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF\uFFF9-\uFFFB]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

export interface EscapeOptions {
  /** Line feeds and tabs printed as they are (multi-line output such as a markdown post). */
  readonly keepLines?: boolean;
  /** Every escape as `\uXXXX`, so that escaping JSON text leaves it valid, equal JSON. */
  readonly json?: boolean;
}

/**
 * Text from the daemon made safe for a terminal: each control or invisible formatting character
 * shown as an escape (`\x1b`, `\u202e`), so that a hostile title or note cannot move the cursor,
 * recolour the screen or reorder what the operator reads. Every CLI output path goes through it.
 */
export function escapeControls(text: string, opts: EscapeOptions = {}): string {
  return text.replace(CONTROLS, (ch) => {
    if (opts.keepLines && (ch === '\n' || ch === '\t')) return ch;
    const code = ch.charCodeAt(0);
    return code <= 0xff && !opts.json ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

function clip(text: string, max: number | undefined): string {
  // One line per row: line breaks inside a cell would break the columns, tabs would misalign them.
  const flat = escapeControls(text.replace(/\s*[\r\n]+\s*/g, ' ').replace(/\t/g, ' '));
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
