import type { z } from 'zod';
import { describeIssue } from './issues.js';
import { displayFile, type KeyPath, type ProblemList } from './problems.js';
import type { YamlSource } from './yaml-source.js';
import { isRecord } from '../json.js';

/**
 * Where config elements are written, and problems reported there. Every part of the loader
 * reports through {@link report}, so every problem reads `FILE:LINE: path: message`.
 */

/** What reporting needs: the problems collected, and the directory files are shown relative to. */
export interface Reporting {
  readonly cwd: string;
  readonly problems: ProblemList;
}

/**
 * Where an element is written: its file, its key path in that file's document, and its path as
 * shown in problems. They differ for included files: an included probe file is a bare list, so
 * its item 3 is `[3]` in the document but is shown as `probes[3]` (the index within that file's
 * list, next to that file's name — the pair an operator needs to find it).
 */
export interface Site {
  readonly src: YamlSource;
  readonly doc: KeyPath;
  readonly shown: KeyPath;
}

export const at = (site: Site, ...segs: (string | number)[]): Site => ({
  src: site.src,
  doc: [...site.doc, ...segs],
  shown: [...site.shown, ...segs],
});

export const lineOf = (site: Site, path: KeyPath = []): number => site.src.lineOf([...site.doc, ...path]);

export function report(ctx: Reporting, site: Site, path: KeyPath, message: string): void {
  ctx.problems.add(site.src.file, lineOf(site, path), [...site.shown, ...path], message);
}

/** Zod's issues, each in the words of ./issues.ts, at the key it is about. */
export function reportIssues(ctx: Reporting, site: Site, issues: readonly z.core.$ZodIssue[]): void {
  for (const issue of issues) {
    for (const { path, message } of describeIssue(issue, [])) report(ctx, site, path, message);
  }
}

/** `FILE:LINE` of an element, for messages that point at another place (the first duplicate). */
export const whereIs = (ctx: Reporting, site: Site, path: KeyPath = []): string =>
  `${displayFile(site.src.file, ctx.cwd)}:${lineOf(site, path)}`;

/** Reports an id seen before in the same list, at the second occurrence, naming the first. */
export function noteDuplicate(
  ctx: Reporting,
  firstAt: Map<string, string>,
  site: Site,
  item: unknown,
  what: string,
): void {
  if (!isRecord(item) || typeof item.id !== 'string') return;
  const first = firstAt.get(item.id);
  if (first === undefined) firstAt.set(item.id, whereIs(ctx, site, ['id']));
  else report(ctx, site, ['id'], `duplicate ${what} id "${item.id}" (first defined at ${first})`);
}
