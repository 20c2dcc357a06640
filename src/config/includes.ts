import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { glob, isDynamicPattern } from 'tinyglobby';
import { typeName } from './issues.js';
import { describeFsError, displayFile, YAML_PATH } from './problems.js';
import { IncludeSpec } from './schema.js';
import { at, report, reportIssues, type Reporting, type Site } from './site.js';
import { parseYaml, type YamlSource } from './yaml-source.js';
import { isRecord } from '../json.js';

/** Deeper include chains are almost certainly a mistake (or a cycle through symlinks). */
const MAX_INCLUDE_DEPTH = 8;

export type Read =
  | { readonly kind: 'ok'; readonly source: YamlSource }
  | { readonly kind: 'unreadable'; readonly reason: string }
  | { readonly kind: 'invalid' };

/** Reads and parses one YAML file; syntax errors are reported here, read errors by the caller. */
export async function readSource(ctx: Reporting, file: string): Promise<Read> {
  ctx.problems.noteFile(file);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    return { kind: 'unreadable', reason: describeFsError(err) };
  }
  const parsed = parseYaml(text, file);
  if (parsed.ok) return { kind: 'ok', source: parsed.source };
  for (const e of parsed.errors) ctx.problems.add(file, e.line, YAML_PATH, e.message);
  return { kind: 'invalid' };
}

/** A `probes:` or `rules:` list being walked: what its items are called, and what is done with each. */
export interface Walk {
  readonly label: 'probes' | 'rules';
  readonly visit: (item: unknown, site: Site) => Promise<void> | void;
}

/**
 * Walks a section of the main file (`probes:`, `rules:`). Anything but a list there is the
 * top-level schema's problem, reported once by it.
 */
export async function walkSection(ctx: Reporting, walk: Walk, list: unknown, site: Site): Promise<void> {
  if (Array.isArray(list)) await walkList(ctx, walk, list, site, [site.src.file]);
}

/**
 * Visits each item of a `probes:` or `rules:` list in order, expanding `- include:` items in place.
 * `chain` is the files being included, the list's own file first (cycles are reported).
 */
async function walkList(
  ctx: Reporting,
  walk: Walk,
  list: readonly unknown[],
  site: Site,
  chain: readonly string[],
): Promise<void> {
  for (const [i, item] of list.entries()) {
    const itemSite = at(site, i);
    if (isRecord(item) && 'include' in item) await expandInclude(ctx, walk, item, itemSite, chain);
    else await walk.visit(item, itemSite);
  }
}

/**
 * A glob with wildcards may match nothing (a `checks.d/` with no file yet is normal, as with
 * Prometheus's `rule_files`); a literal path must exist.
 */
async function expandInclude(
  ctx: Reporting,
  walk: Walk,
  item: Record<string, unknown>,
  site: Site,
  chain: readonly string[],
): Promise<void> {
  const parsed = IncludeSpec.safeParse(item, { reportInput: true });
  if (!parsed.success) return reportIssues(ctx, site, parsed.error.issues);
  if (chain.length > MAX_INCLUDE_DEPTH) {
    return report(ctx, site, ['include'], `includes nested more than ${MAX_INCLUDE_DEPTH} levels deep`);
  }
  const pattern = parsed.data.include;
  const baseDir = dirname(site.src.file);
  const files = isDynamicPattern(pattern)
    ? (
        await glob(pattern, { cwd: baseDir, absolute: true, onlyFiles: true, expandDirectories: false })
      ).sort()
    : [resolve(baseDir, pattern)];
  for (const file of files.map((f) => resolve(f))) await includeFile(ctx, walk, file, site, chain);
}

async function includeFile(
  ctx: Reporting,
  walk: Walk,
  file: string,
  site: Site,
  chain: readonly string[],
): Promise<void> {
  const shownFile = displayFile(file, ctx.cwd);
  if (chain.includes(file)) {
    const cycle = [...chain.slice(chain.indexOf(file)), file].map((f) => displayFile(f, ctx.cwd)).join(' → ');
    return report(ctx, site, ['include'], `include cycle: ${cycle}`);
  }
  const read = await readSource(ctx, file);
  if (read.kind === 'unreadable')
    return report(ctx, site, ['include'], `cannot read include ${shownFile}: ${read.reason}`);
  if (read.kind === 'ok') await walkFile(ctx, walk, read.source, [...chain, file]);
}

/** Visits the items of a file holding a list (an included file, a rule file of the pack). */
export async function walkFile(ctx: Reporting, walk: Walk, src: YamlSource, chain: readonly string[]): Promise<void> {
  const value = src.value;
  const fileRoot: Site = { src, doc: [], shown: [walk.label] };
  // An empty file (everything commented out) is an empty list.
  if (value === null) return;
  if (!Array.isArray(value)) {
    return report(
      ctx,
      fileRoot,
      [],
      `an included file holds a list of ${walk.label}, got ${typeName(value)}`,
    );
  }
  await walkList(ctx, walk, value, fileRoot, chain);
}
