import type { ProbePlan } from '../config/plan.js';
import { type Quorum, type RuleProblem, RuleSpec, validateRules } from '../config/rule-spec.js';
import { DEGRADED_CODES, ERROR_CODES, type ErrorCode } from '../events/error-codes.js';

/**
 * Rules compiled for the engine from validated specs. The rule language, its schema and its
 * validation live in the config (src/config/rule-spec.ts, docs/rules.md): a rule reaches the
 * engine checked, in the plan.
 */

// Rules written in code (the external rule, tests) are parsed with the config's schema.
export { RuleSpec };

export type ConditionKind = 'consecutive' | 'ratio' | 'degraded';

/** A rule ready for the engine: defaults applied, error sets expanded. */
export interface Rule {
  readonly id: string;
  readonly spec: RuleSpec;
  readonly condition: ConditionKind;
  /** consecutive/degraded: failed checks in a row. */
  readonly consecutive: number;
  readonly ratio: {
    readonly min: number;
    readonly minChecks: number;
    readonly windowMs: number;
    readonly minChanges: number;
    readonly recoverBelow: number;
  };
  readonly quorum: Quorum;
  readonly recoverAfter: number;
  readonly keepFiringForMs: number;
  readonly inhibitedBy: readonly string[];
  /** The codes counted as failures by this rule. */
  readonly errors: ReadonlySet<string>;
  readonly source: { readonly file: string; readonly line: number } | undefined;
}

function expandErrors(spec: RuleSpec, condition: ConditionKind): Set<string> {
  const refs = spec.match.errors ?? [condition === 'degraded' ? 'degraded' : 'outage'];
  const out = new Set<string>();
  for (const ref of refs) {
    if (ref === 'any') ERROR_CODES.forEach((c) => out.add(c));
    else if (ref === 'degraded') DEGRADED_CODES.forEach((c) => out.add(c));
    else if (ref === 'outage') ERROR_CODES.filter((c) => !DEGRADED_CODES.has(c)).forEach((c) => out.add(c));
    else out.add(ref);
  }
  // `internal` is Tocsin's own bug, never the target's fault.
  out.delete('internal');
  for (const c of spec.match.exclude_errors ?? []) out.delete(c);
  return out;
}

/** Builds an engine rule from a validated spec. */
export function compileRule(spec: RuleSpec, source?: { file: string; line: number }): Rule {
  const c = spec.condition;
  const condition: ConditionKind = 'consecutive' in c ? 'consecutive' : 'ratio' in c ? 'ratio' : 'degraded';
  return {
    id: spec.id,
    spec,
    condition,
    consecutive: 'consecutive' in c ? c.consecutive : 'degraded' in c ? c.degraded.consecutive : 1,
    ratio:
      'ratio' in c
        ? {
            min: c.ratio.min,
            minChecks: c.ratio.min_checks,
            windowMs: c.ratio.window,
            minChanges: c.ratio.min_changes,
            recoverBelow: Math.min(c.ratio.recover_below ?? c.ratio.min / 2, c.ratio.min),
          }
        : { min: 1, minChecks: 1, windowMs: 0, minChanges: 0, recoverBelow: 1 },
    quorum: spec.quorum,
    recoverAfter: spec.recover_after,
    keepFiringForMs: spec.keep_firing_for,
    inhibitedBy: spec.inhibited_by,
    errors: expandErrors(spec, condition),
    source,
  };
}

/**
 * Validates raw rules (rules written in code, tests) as the config loader does, and compiles the
 * valid ones; `where(i)` names rule i in messages pointing at it.
 */
export function compileRules(
  raw: readonly unknown[],
  where?: (index: number) => string,
): { rules: Rule[]; problems: RuleProblem[] } {
  const { valid, problems } = validateRules(raw, where);
  return { rules: valid.map((v) => compileRule(v.spec)), problems };
}

/** Whether a rule watches the results of a probe (everything in `match` but the error codes). */
export function ruleWatches(
  rule: Rule,
  probe: Pick<ProbePlan, 'id' | 'kind' | 'component' | 'labels'>,
): boolean {
  const m = rule.spec.match;
  if (m.kinds && !m.kinds.includes(probe.kind)) return false;
  if (m.probes && !m.probes.includes(probe.id)) return false;
  if (m.components && !m.components.includes(probe.component)) return false;
  if (m.labels) {
    for (const [k, v] of Object.entries(m.labels)) if (probe.labels[k] !== v) return false;
  }
  return true;
}

/**
 * How one result reads for a rule: `bad` (an error the rule counts), `good` (ok, or a degraded
 * code the rule does not count: the service answered) or `neutral` (another outage says nothing
 * about this rule's condition, e.g. a timeout for a latency rule).
 */
export type Outcome = 'bad' | 'good' | 'neutral';

export function outcomeFor(rule: Rule, ok: boolean, error: string | undefined): Outcome {
  if (ok) return 'good';
  // A failure without a code is a hard failure (an event written by hand or by an older worker).
  if (error === undefined) return rule.condition === 'degraded' ? 'neutral' : 'bad';
  const code = error;
  if (rule.errors.has(code)) return 'bad';
  if (code === 'internal') return 'neutral';
  return DEGRADED_CODES.has(code as ErrorCode) ? 'good' : 'neutral';
}
