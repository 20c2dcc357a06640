import { readSource, walkFile, walkSection, type Walk } from './includes.js';
import { packFiles } from './pack.js';
import type { RulePlan } from './plan.js';
import { describeFsError, displayFile, ROOT_PATH } from './problems.js';
import { type KindsContext, unknownKind } from './probes.js';
import { validateRules } from './rule-spec.js';
import { lineOf, report, type Site, whereIs } from './site.js';
import { didYouMean } from './suggest.js';
import { isRecord } from '../json.js';

/**
 * The `rules:` list (with its includes), or the default pack without one, validated into
 * {@link RulePlan}s: each rule against the rule language (./rule-spec.ts), and its selectors
 * against what the config defines.
 */

/** What rule loading needs besides reporting and kinds: the default pack's directory. */
export interface RulesContext extends KindsContext {
  readonly packDir: string;
}

/** What rule selectors may name: every id and label key written, valid or not (one problem each). */
export interface RuleRefs {
  readonly components: ReadonlySet<string>;
  readonly probes: ReadonlySet<string>;
  readonly labels: ReadonlySet<string>;
}

/**
 * The config's rules (`list`, the `rules:` key at `site`). Without `rules:`, the default pack is
 * read here too: `run` and `check-config` then see the same rules and the same problems, with
 * the pack file's name and line.
 */
export async function loadRules(ctx: RulesContext, site: Site, list: unknown, refs: RuleRefs): Promise<RulePlan[]> {
  if (list === undefined) return loadPack(ctx, site, refs);
  return judgeRules(ctx, refs, (walk) => walkSection(ctx, walk, list, site));
}

/**
 * The default pack, read as rule files are: the daemon runs what this returns, so a broken pack
 * is reported by `check-config` with the pack file's name and line, not found at start-up.
 * `site` (the missing `rules:` key) is where problems about the pack as a whole point.
 */
async function loadPack(ctx: RulesContext, site: Site, refs: RuleRefs): Promise<RulePlan[]> {
  const dir = displayFile(ctx.packDir, ctx.cwd);
  let files: string[];
  try {
    files = packFiles(ctx.packDir);
  } catch (err) {
    report(ctx, site, [], `cannot read the default rule pack ${dir}: ${describeFsError(err)}`);
    return [];
  }
  if (files.length === 0) report(ctx, site, [], `the default rule pack ${dir} holds no rule file (*.yml)`);
  return judgeRules(ctx, refs, async (walk) => {
    for (const file of files) {
      const read = await readSource(ctx, file);
      if (read.kind === 'unreadable') ctx.problems.add(file, 1, ROOT_PATH, `cannot read rule file: ${read.reason}`);
      else if (read.kind === 'ok') await walkFile(ctx, walk, read.source, [file]);
    }
  });
}

/** Collects rules with `collect`, validates them, and returns the valid ones with their source. */
async function judgeRules(
  ctx: RulesContext,
  refs: RuleRefs,
  collect: (walk: Walk) => Promise<void>,
): Promise<RulePlan[]> {
  const raw: unknown[] = [];
  const sites: Site[] = [];
  const visit = (rule: unknown, s: Site): void => {
    raw.push(rule);
    sites.push(s);
  };
  await collect({ label: 'rules', visit });
  // Problems point at the key inside the rule; a duplicate names the first's FILE:LINE.
  const where = (i: number): string => {
    const s = sites[i];
    return s ? whereIs(ctx, s, ['id']) : `rule ${i}`;
  };
  const { valid, problems } = validateRules(raw, where);
  for (const p of problems) {
    const s = sites[p.index];
    if (s) report(ctx, s, p.path, p.message);
  }
  raw.forEach((rule, i) => {
    const s = sites[i];
    if (s) checkSelector(ctx, refs, s, rule);
  });
  return valid.flatMap(({ index, spec }) => {
    const s = sites[index];
    return s ? [{ spec, source: { file: s.src.file, line: lineOf(s) } }] : [];
  });
}

/**
 * A selector naming what does not exist matches nothing, silently: `kinds: [htpp]` would watch no
 * probe. Kinds must be registered, probes and components written in the config, and label keys
 * carried by at least one probe (a key no probe has is a typo; a value may be for probes to come).
 */
function checkSelector(ctx: KindsContext, refs: RuleRefs, site: Site, rule: unknown): void {
  if (!isRecord(rule) || !isRecord(rule.match)) return;
  const match = rule.match;
  const lists: [string, ReadonlySet<string>, (name: string) => string][] = [
    ['kinds', new Set(Object.keys(ctx.kinds)), (k) => unknownKind(ctx, k)],
    ['probes', refs.probes, (p) => `unknown probe "${p}"`],
    ['components', refs.components, (c) => `unknown component "${c}"`],
  ];
  for (const [key, known, unknown] of lists) {
    const names = match[key];
    if (!Array.isArray(names)) continue;
    names.forEach((name: unknown, j) => {
      if (typeof name === 'string' && !known.has(name))
        report(ctx, site, ['match', key, j], `${unknown(name)}${didYouMean(name, known)}`);
    });
  }
  if (!isRecord(match.labels)) return;
  const inUse = [...refs.labels].sort();
  for (const key of Object.keys(match.labels)) {
    if (refs.labels.has(key)) continue;
    const hint = inUse.length === 0 ? 'no probe has labels' : `labels in use: ${inUse.join(', ')}`;
    report(ctx, site, ['match', 'labels', key], `no probe has label "${key}" (${hint})${didYouMean(key, inUse)}`);
  }
}
