import { z } from 'zod';
import { Duration } from '../duration.js';
import { describeIssue } from './issues.js';
import type { KeyPath } from './problems.js';
import { ERROR_CODES } from '../events/error-codes.js';
import { IMPACTS, SEVERITIES } from '../events/incident.js';
import { isRecord } from '../json.js';

/**
 * The rule language (docs/rules.md). A rule says which results it watches (`match`), when they
 * amount to a signal (`condition` + `quorum`), when the signal is over (`recover_after`,
 * `keep_firing_for`) and how it reads on a status page (`impact`, `severity`, `title`, `text`).
 * Rules are validated here, beside the rest of the config, in its words; the engine compiles
 * validated specs (src/engine/rules.ts).
 */

/** Error-code sets usable in `match.errors`: `outage` = every non-degraded code, `degraded`, `any`. */
const ERROR_SETS = ['outage', 'degraded', 'any'] as const;
const ErrorRef = z.enum([...ERROR_CODES, ...ERROR_SETS]);

const RuleId = z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'must be lowercase letters, digits, "_" or "-"');

export const RuleMatch = z
  .object({
    /** Probe kinds watched (`http`, `tls`, `lb_sync`, `storage`). Default: every kind. */
    kinds: z.array(z.string().min(1)).min(1).optional(),
    /** Probe ids watched. Default: every probe. */
    probes: z.array(z.string().min(1)).min(1).optional(),
    /** Components whose probes are watched. Default: every component. */
    components: z.array(z.string().min(1)).min(1).optional(),
    /** Probe labels that must all be equal. Default: none. */
    labels: z.record(z.string(), z.string()).optional(),
    /**
     * Error codes that count as a failed check for this rule.
     * Default: `outage` (`degraded` for a degraded condition).
     */
    errors: z.array(ErrorRef).min(1).optional(),
    /** Error codes never counted, even when `errors` includes them. Default: none. */
    exclude_errors: z.array(z.enum(ERROR_CODES)).optional(),
  })
  .strict();
export type RuleMatch = z.infer<typeof RuleMatch>;

const Consecutive = z.number().int().min(1).max(1000);

export const RuleCondition = z.union([
  z.object({ consecutive: Consecutive }).strict(),
  z
    .object({
      ratio: z
        .object({
          /** Share of failed checks in the window, 0 < min ≤ 1. Default 0.4. */
          min: z.number().gt(0).max(1).default(0.4),
          /** At least this many checks in the window. Default 6. */
          min_checks: z.number().int().min(1).max(500).default(6),
          /** Sliding window. Default 10m. */
          window: Duration.default(600_000),
          /**
           * At least this many changes between failed and healthy checks in the window (Icinga's
           * flap detection). A solid outage followed by a recovery has one or two; a flapping
           * service has many. Default 0 (ratio only).
           */
          min_changes: z.number().int().min(0).max(500).default(0),
          /**
           * Once firing, the condition holds until the failed share drops below this (hysteresis,
           * as Icinga's low flap threshold): a flapping service dipping just under `min` for a
           * moment does not resolve and reopen. Default: half of `min`.
           */
          recover_below: z.number().gt(0).max(1).optional(),
        })
        .strict(),
    })
    .strict(),
  z.object({ degraded: z.object({ consecutive: Consecutive.default(3) }).strict() }).strict(),
]);
export type RuleCondition = z.infer<typeof RuleCondition>;

export const Quorum = z.union([
  z.literal('majority'),
  z.object({ at_least: z.number().int().min(1) }).strict(),
]);
export type Quorum = z.infer<typeof Quorum>;

export const RuleSpec = z
  .object({
    id: RuleId,
    description: z.string().optional(),
    match: RuleMatch.default({}),
    /** Default `{ consecutive: 3 }`. */
    condition: RuleCondition.default({ consecutive: 3 }),
    /**
     * Vantages that must see the condition: `majority` (more than half of the non-stale ones)
     * or `{ at_least: k }`. Default majority.
     */
    quorum: Quorum.default('majority'),
    /** Consecutive healthy checks that end the condition at a vantage. Default 2. */
    recover_after: z.number().int().min(1).max(1000).default(2),
    /** Keep the signal active this long after its condition cleared (Prometheus `keep_firing_for`). Default 0s. */
    keep_firing_for: Duration.default(0),
    /** Rules whose active signal on the same probe keeps this one from being raised (Alertmanager inhibition). */
    inhibited_by: z.array(RuleId).default([]),
    /** `auto` (from error codes and failing targets) or a fixed impact. Default auto. */
    impact: z.enum(['auto', ...IMPACTS]).default('auto'),
    /** `auto` (CONTRACT §5) or a fixed severity. Default auto. */
    severity: z.enum(['auto', ...SEVERITIES]).default('auto'),
    /** Incident title template ({placeholders}, see docs/rules.md). */
    title: z.string().min(1).optional(),
    /** Timeline text template of the signal. */
    text: z.string().min(1).optional(),
    /** Timeline text template when the signal recovers. */
    recovered_text: z.string().min(1).optional(),
  })
  .strict();
export type RuleSpec = z.infer<typeof RuleSpec>;

export interface RuleProblem {
  /** Index of the rule in the list given. */
  readonly index: number;
  readonly path: KeyPath;
  readonly message: string;
}

/**
 * Validates raw rules (as loaded from YAML): each against {@link RuleSpec}, ids unique among the
 * valid ones, `inhibited_by` naming one of them. Problems carry the rule's index and the key path
 * inside it, for `FILE:LINE: rules[i].key: reason`, in the words of ./issues.ts; `where(i)` names
 * rule i in messages pointing at it (its FILE:LINE when known).
 */
export function validateRules(
  raw: readonly unknown[],
  where: (index: number) => string = (i) => `rule ${i}`,
): { valid: { index: number; spec: RuleSpec }[]; problems: RuleProblem[] } {
  const valid: { index: number; spec: RuleSpec }[] = [];
  const problems: RuleProblem[] = [];
  const seen = new Map<string, number>();
  raw.forEach((item, index) => {
    const parsed = RuleSpec.safeParse(item, { reportInput: true });
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        for (const { path, message } of describeIssue(issue, [])) problems.push({ index, path, message });
      }
      return;
    }
    const first = seen.get(parsed.data.id);
    if (first !== undefined) {
      problems.push({ index, path: ['id'], message: `duplicate rule id "${parsed.data.id}" (first defined at ${where(first)})` });
      return;
    }
    seen.set(parsed.data.id, index);
    valid.push({ index, spec: parsed.data });
  });
  const ids = new Set(valid.map((v) => v.spec.id));
  raw.forEach((item, index) => {
    const inhibit = isRecord(item) && Array.isArray(item.inhibited_by) ? item.inhibited_by : [];
    inhibit.forEach((id: unknown, j) => {
      if (typeof id === 'string' && !ids.has(id)) problems.push({ index, path: ['inhibited_by', j], message: `unknown rule "${id}"` });
    });
  });
  return { valid, problems };
}
