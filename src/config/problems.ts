import { isAbsolute, relative } from 'node:path';

/** A key path inside a YAML document or a config object: `['probes', 3, 'url']`. */
export type KeyPath = readonly (string | number)[];

/**
 * One thing wrong with the config, pointing at where it is written.
 * `tocsin check-config` prints each as `FILE:LINE: PATH.TO.KEY: reason` (see {@link formatProblem}).
 */
export interface ConfigProblem {
  /** The file the offending key is written in, relative to the working directory when inside it. */
  readonly file: string;
  /** 1-based line of the offending key (of its parent object when the key is missing). */
  readonly line: number;
  /**
   * Dotted key path with bracket indices, e.g. `probes[3].expect.status[0]`; `(root)` for the whole
   * file, `(yaml)` for a syntax error.
   */
  readonly path: string;
  readonly message: string;
}

/** Shown as the path of problems about a whole file (unreadable, not a mapping). */
export const ROOT_PATH = '(root)';
/** Shown as the path of YAML syntax errors, which have a line but no key path. */
export const YAML_PATH = '(yaml)';

/** `['probes', 3, 'expect', 'status', 0]` → `probes[3].expect.status[0]`. */
export function formatPath(path: KeyPath): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(seg)) out += out === '' ? seg : `.${seg}`;
    // Keys that would make the dotted form ambiguous (dots, spaces) are quoted, as jq does.
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out === '' ? ROOT_PATH : out;
}

/** `FILE:LINE: path.to.key: reason`, the line format of `tocsin check-config`. */
export function formatProblem(p: ConfigProblem): string {
  return `${p.file}:${p.line}: ${p.path}: ${p.message}`;
}

/** How a file is named in messages: relative to `cwd` when inside it (as typed), else absolute. */
export function displayFile(file: string, cwd: string): string {
  const rel = relative(cwd, file);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file;
}

/** `ENOENT: no such file or directory, open '/x/y'` → `ENOENT: no such file or directory`. */
export function describeFsError(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  // The path is already in our own message; Node's suffix would repeat it in absolute form.
  return message.replace(/, \w+ '.*'$/, '');
}

/**
 * Collects problems from every file; `list()` returns them ordered by file (in the order files
 * were first read, the main file first) and line, so output reads top to bottom like a compiler's.
 */
export class ProblemList {
  private readonly items: ConfigProblem[] = [];
  private readonly fileOrder = new Map<string, number>();

  constructor(private readonly cwd: string) {}

  /** Registers a file so its problems sort in reading order even when it has none yet. */
  noteFile(absFile: string): void {
    const shown = displayFile(absFile, this.cwd);
    if (!this.fileOrder.has(shown)) this.fileOrder.set(shown, this.fileOrder.size);
  }

  add(absFile: string, line: number, path: KeyPath | string, message: string): void {
    this.noteFile(absFile);
    const shownPath = typeof path === 'string' ? path : formatPath(path);
    this.items.push({ file: displayFile(absFile, this.cwd), line, path: shownPath, message });
  }

  get size(): number {
    return this.items.length;
  }

  list(): ConfigProblem[] {
    const rank = (p: ConfigProblem): number => this.fileOrder.get(p.file) ?? Number.MAX_SAFE_INTEGER;
    // Array.prototype.sort is stable, so problems on one line keep their discovery order.
    return [...this.items].sort((a, b) => rank(a) - rank(b) || a.line - b.line);
  }
}
