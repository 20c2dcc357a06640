import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { Plan } from '../config/plan.js';
import { TocsinError } from '../errors.js';
import { PACKAGE_ROOT } from '../package-info.js';
import type { EngineOptions } from './engine.js';
import { compileRules, type Rule } from './rules.js';

/**
 * The default rule pack: the YAML files in the package's `rules/` directory (shipped so users can
 * copy and edit them).
 */
export function defaultPackDir(): string {
  const dir = join(PACKAGE_ROOT, 'rules');
  if (!existsSync(dir)) throw new TocsinError('INTERNAL', 'the default rule pack (rules/) is missing from the package');
  return dir;
}

/** The default pack's raw rules, file by file in name order. */
export function defaultPackSources(): { file: string; rule: unknown }[] {
  const dir = defaultPackDir();
  const out: { file: string; rule: unknown }[] = [];
  for (const name of readdirSync(dir).filter((f) => f.endsWith('.yml')).sort()) {
    const file = join(dir, name);
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
 * The plan's rules compiled (the default pack when the config has no `rules:`). Problems were
 * reported by `check-config`, so here any is a bug or a broken package: thrown.
 */
export function rulesForPlan(plan: Pick<Plan, 'rules'>): Rule[] {
  const sources = plan.rules ?? defaultPackSources().map((s) => ({ source: { file: s.file, line: 1 }, rule: s.rule }));
  const { rules, problems } = compileRules(sources.map((s) => s.rule));
  const first = problems[0];
  if (first) {
    const src = sources[first.index]?.source;
    throw new TocsinError('INVALID', `invalid rule at ${src?.file ?? '?'}:${src?.line ?? 0}: ${first.path.join('.')}: ${first.message}`);
  }
  return rules;
}
