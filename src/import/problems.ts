import { displayFile } from '../config/problems.js';

/** Where something is written: an absolute file path and a 1-based line. */
export interface Where {
  readonly file: string;
  readonly line: number;
}

/** Something the import could not carry over, at the line that says it. */
export interface ImportProblem {
  readonly where: Where;
  readonly reason: string;
}

/** How a module, a job or a target reports what it cannot map. */
export type Report = (where: Where, reason: string) => void;

/**
 * Every problem of one import, each once (a module used by a hundred targets says what it cannot
 * map once), ordered like a compiler's output: by file in the order files were read, then by line.
 */
export class ImportProblems {
  private readonly seen = new Set<string>();
  private readonly items: ImportProblem[] = [];
  private readonly fileOrder = new Map<string, number>();

  /** Registers a file so that its problems sort in reading order. */
  noteFile(file: string): void {
    if (!this.fileOrder.has(file)) this.fileOrder.set(file, this.fileOrder.size);
  }

  readonly add: Report = (where, reason) => {
    const key = `${where.file}\0${where.line}\0${reason}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.noteFile(where.file);
    this.items.push({ where, reason });
  };

  get size(): number {
    return this.items.length;
  }

  list(): ImportProblem[] {
    const order = (file: string): number => this.fileOrder.get(file) ?? Number.MAX_SAFE_INTEGER;
    // A stable sort keeps problems of one line in the order they were found.
    return [...this.items].sort((a, b) => order(a.where.file) - order(b.where.file) || a.where.line - b.where.line);
  }
}

/** `FILE:LINE: reason`, FILE relative to `cwd` when inside it. */
export function formatImportProblem(p: ImportProblem, cwd: string): string {
  return `${displayFile(p.where.file, cwd)}:${p.where.line}: ${p.reason}`;
}
