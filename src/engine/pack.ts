import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { Plan } from '../config/plan.js';
import { formatPath } from '../config/problems.js';
import { TocsinError } from '../errors.js';
import { PACKAGE_ROOT } from '../package-info.js';
import type { EngineOptions } from './engine.js';
import { compileRules, type Rule } from './rules.js';

/**
 * The default rule pack: the YAML files in the package's `rules/` directory (shipped so users can
 * copy and edit them).
 */
export const DEFAULT_PACK_DIR: string = join(PACKAGE_ROOT, 'rules');

/** The default pack's directory; a package without it is broken. */
export function defaultPackDir(): string {
  const dir = DEFAULT_PACK_DIR;
  if (!existsSync(dir)) throw new TocsinError('INTERNAL', 'the default rule pack (rules/) is missing from the package');
  return dir;
}

/**
 * A pack's rule files (`*.yml`), in name order. The config loader reads them (with file:line
 * problems) when the config has no `rules:`; fs errors are thrown for it to report.
 */
export function packFiles(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.endsWith('.yml')).sort().map((f) => join(dir, f));
}

/**
 * The default pack's raw rules, file by file in name order, for hand-built plans (`rules:
 * undefined`, in tests). A loaded plan carries the pack as the loader read and validated it.
 */
export function defaultPackSources(): { file: string; rule: unknown }[] {
  const out: { file: string; rule: unknown }[] = [];
  for (const file of packFiles(defaultPackDir())) {
    const list: unknown = parse(readFileSync(file, 'utf8'));
    if (Array.isArray(list)) for (const rule of list) out.push({ file, rule });
  }
  return out;
}

/** The engine's tunables from the config's `engine:` section (the engine's defaults without it). */
export function engineOptionsForPlan(
  plan: Pick<Plan, 'engine'>,
): Pick<EngineOptions, 'correlationWindowMs' | 'reopenCooldownMs' | 'staleIntervals'> {
  if (!plan.engine) return {};
  return {
    correlationWindowMs: plan.engine.correlation_window,
    reopenCooldownMs: plan.engine.reopen_cooldown,
    staleIntervals: plan.engine.stale_intervals,
  };
}

/**
 * The plan's rules compiled. A loaded plan carries its rules, the config's or the default pack's
 * (the loader reads and validates both, so `run` and `check-config` report the same problems);
 * `rules: undefined` (hand-built plans) means the default pack. Problems were reported by the
 * loader, so here any is a bug: thrown.
 */
export function rulesForPlan(plan: Pick<Plan, 'rules'>): Rule[] {
  const sources = plan.rules ?? defaultPackSources().map((s) => ({ source: { file: s.file, line: 1 }, rule: s.rule }));
  const where = (i: number): string => `${sources[i]?.source.file ?? '?'}:${sources[i]?.source.line ?? 0}`;
  const { rules, problems } = compileRules(sources.map((s) => s.rule), where);
  const first = problems[0];
  if (first) {
    throw new TocsinError('INVALID', `invalid rule at ${where(first.index)}: ${formatPath(first.path)}: ${first.message}`);
  }
  return rules;
}
