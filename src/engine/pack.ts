import type { Plan } from '../config/plan.js';
import type { EngineOptions } from './engine.js';
import { compileRule, type Rule } from './rules.js';

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
 * The plan's rules compiled. A loaded plan carries its rules validated, the config's or the
 * default pack's (the loader reads and checks both, so `run` and `check-config` report the same
 * problems): compiling them reads nothing. Hand-built plans (tests, benchmarks) carry the default
 * pack as `defaultPackRules()` of src/config/pack.ts reads it: the engine reads no files.
 */
export function rulesForPlan(plan: Pick<Plan, 'rules'>): Rule[] {
  return plan.rules.map((r) => compileRule(r.spec, r.source));
}
