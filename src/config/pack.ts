import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RulePlan } from './plan.js';
import { formatPath } from './problems.js';
import { validateRules } from './rule-spec.js';
import { parseYaml } from './yaml-source.js';
import { TocsinError } from '../errors.js';
import { PACKAGE_ROOT } from '../package-info.js';

/**
 * The default rule pack: the YAML files in the package's `rules/` directory (shipped so users can
 * copy and edit them). The config loader reads it, with file:line problems, when the config has
 * no `rules:` (./rules.ts).
 */
export const DEFAULT_PACK_DIR: string = join(PACKAGE_ROOT, 'rules');

/** A pack's rule files (`*.yml`), in name order; fs errors are thrown for the caller to report. */
export function packFiles(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.endsWith('.yml')).sort().map((f) => join(dir, f));
}

/**
 * The default pack's rules, validated, file by file in name order, for hand-built plans (tests,
 * benchmarks). A loaded plan carries the pack as the loader read and checked it, so here a
 * problem is a broken package: thrown.
 */
export function defaultPackRules(): RulePlan[] {
  if (!existsSync(DEFAULT_PACK_DIR)) {
    throw new TocsinError('INTERNAL', 'the default rule pack (rules/) is missing from the package');
  }
  const raw: { rule: unknown; file: string; line: number }[] = [];
  for (const file of packFiles(DEFAULT_PACK_DIR)) {
    const parsed = parseYaml(readFileSync(file, 'utf8'), file);
    if (!parsed.ok) throw new TocsinError('INVALID', `invalid rule file ${file}: ${parsed.errors[0]?.message ?? ''}`);
    const { value, lineOf } = parsed.source;
    if (Array.isArray(value)) value.forEach((rule: unknown, i) => raw.push({ rule, file, line: lineOf([i]) }));
  }
  const where = (i: number): string => `${raw[i]?.file ?? '?'}:${raw[i]?.line ?? 0}`;
  const { valid, problems } = validateRules(raw.map((r) => r.rule), where);
  const first = problems[0];
  if (first) {
    throw new TocsinError('INVALID', `invalid rule at ${where(first.index)}: ${formatPath(first.path)}: ${first.message}`);
  }
  return valid.map(({ index, spec }) => ({ spec, source: { file: raw[index]?.file ?? '?', line: raw[index]?.line ?? 0 } }));
}
