import type { ProbePlan } from '../config/plan.js';
import { outcomeFor, type Rule, ruleWatches } from '../engine/rules.js';

/**
 * What re-checks serve (docs/rules.md, "Re-checks"): a rule counting checks in a row that watches
 * a probe, as the number of failed checks that make its condition hold at a vantage and the
 * number of healthy ones that end it. Ratio rules are not gates: they judge a share of checks
 * over minutes, which re-checks must not hurry; re-check results still count for them.
 */
export interface RecheckGate {
  readonly rule: Rule;
  /** Failed checks in a row that make the condition hold (`consecutive`). */
  readonly failAfter: number;
  /** Healthy checks in a row that end it (`recover_after`). */
  readonly recoverAfter: number;
}

/**
 * The gates of a probe: the consecutive (and degraded) rules watching it that take more than one
 * check either way. A probe with none is never re-checked: one check settles every rule.
 */
export function recheckGates(
  probe: Pick<ProbePlan, 'id' | 'kind' | 'component' | 'labels'>,
  rules: readonly Rule[],
): RecheckGate[] {
  const gates: RecheckGate[] = [];
  for (const rule of rules) {
    if (rule.condition === 'ratio' || !ruleWatches(rule, probe)) continue;
    if (rule.consecutive <= 1 && rule.recoverAfter <= 1) continue;
    gates.push({ rule, failAfter: rule.consecutive, recoverAfter: rule.recoverAfter });
  }
  return gates;
}

/**
 * One series' counts (probe, target, vantage), per gate: failed and healthy checks in a row, and
 * whether the condition holds. A copy of the engine's series layer for these rules only, kept by
 * the scheduler: the engine may run in another process (a fleet's leader), and a re-check
 * decided on a slightly different count costs one check, nothing more.
 */
export interface RecheckSeries {
  readonly bad: number[];
  readonly good: number[];
  readonly firing: boolean[];
  /** Per gate, while it holds: whether its recovery is re-checked (`stepRecheckSeries`). */
  readonly solid: boolean[];
  /** Not re-checked while it lasts: the series is flapping (`flapping` below). */
  readonly quiet: boolean;
}

export function newRecheckSeries(gates: readonly RecheckGate[], quiet = false): RecheckSeries {
  const none = (): false => false;
  return { bad: gates.map(() => 0), good: gates.map(() => 0), firing: gates.map(none), solid: gates.map(none), quiet };
}

/** What the ratio rules watching a probe ask of its re-checks (both 0 when none watches it). */
export interface RatioNeeds {
  /**
   * The flap window: the longest window of those rules. A series that starts failing again within
   * it after an earlier failure is flapping: judging it is the ratio rule's work, over checks
   * spread in time, and re-checks would both over-sample its failures and let `consecutive` rules
   * open and resolve on lucky streaks a few seconds apart.
   */
  readonly flapWindowMs: number;
  /**
   * Failed checks in a row a series must have seen before its recovery is re-checked: the most
   * those rules need to judge (`min_checks`, 6 for `intermittent`). A shorter failure that ends may
   * be a flapping service's lucky streak (re-checks make three in a row come quickly); confirming
   * its recovery in seconds would resolve the incident before the ratio rule has seen enough checks
   * to hold it open, and it would reopen at the next burst (the noise benchmark's S10). Such a
   * recovery is counted at the regular interval.
   */
  readonly solidStreak: number;
}

export function ratioNeeds(
  probe: Pick<ProbePlan, 'id' | 'kind' | 'component' | 'labels'>,
  rules: readonly Rule[],
): RatioNeeds {
  let flapWindowMs = 0;
  let solidStreak = 0;
  for (const rule of rules) {
    if (rule.condition !== 'ratio' || !ruleWatches(rule, probe)) continue;
    flapWindowMs = Math.max(flapWindowMs, rule.ratio.windowMs);
    solidStreak = Math.max(solidStreak, rule.ratio.minChecks);
  }
  return { flapWindowMs, solidStreak };
}

/**
 * Steps a series with one result, as the engine's series do (a neutral result changes nothing),
 * and tells whether a rule is half-way: failing but not yet for `failAfter` checks, or holding
 * and healthy again but not yet for `recoverAfter` checks after a failure of at least
 * `solidAfter` checks in a row (`ratioNeeds`). Then a re-check settles it sooner.
 */
export function stepRecheckSeries(
  gates: readonly RecheckGate[],
  s: RecheckSeries,
  ok: boolean,
  error: string | undefined,
  solidAfter = 0,
): boolean {
  let halfway = false;
  for (let i = 0; i < gates.length; i++) {
    const g = gates[i] as RecheckGate;
    const outcome = outcomeFor(g.rule, ok, error);
    let bad = s.bad[i] ?? 0;
    let good = s.good[i] ?? 0;
    let firing = s.firing[i] ?? false;
    if (outcome === 'bad') {
      bad++;
      good = 0;
      if (bad >= g.failAfter) firing = true;
    } else if (outcome === 'good') {
      // The first healthy check ends the failed streak: its length says whether to hurry recovery.
      if (good === 0) s.solid[i] = bad >= solidAfter;
      good++;
      bad = 0;
      if (firing && good >= g.recoverAfter) firing = false;
    }
    s.bad[i] = bad;
    s.good[i] = good;
    s.firing[i] = firing;
    if (firing ? good > 0 && good < g.recoverAfter && s.solid[i] : bad > 0 && bad < g.failAfter) halfway = true;
  }
  return halfway;
}

/** Nothing to remember: no failure being counted, no condition holding (the series is dropped). */
export function recheckSeriesIdle(s: RecheckSeries): boolean {
  for (let i = 0; i < s.bad.length; i++) if ((s.bad[i] ?? 0) > 0 || s.firing[i]) return false;
  return true;
}
