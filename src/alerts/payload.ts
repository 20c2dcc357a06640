import { z } from 'zod';

/**
 * The Alertmanager webhook body, version 4 (prometheus.io/docs/alerting/latest/configuration/
 * #webhook_config). Only what Tocsin reads is required; unknown keys are kept out of the way
 * (`z.looseObject`), as later Alertmanager versions add fields to the same version.
 */
const Labels = z.record(z.string(), z.string());

export const AlertmanagerAlert = z.looseObject({
  status: z.enum(['firing', 'resolved']),
  labels: Labels,
  annotations: Labels.default({}),
  /** RFC 3339; Alertmanager writes nanoseconds, which Date.parse reads to the millisecond. */
  startsAt: z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'expected an RFC 3339 time'),
  /** `0001-01-01T00:00:00Z` while firing. */
  endsAt: z.string().optional(),
  generatorURL: z.string().optional(),
  /** Alertmanager's hash of the labels; computed from them when absent. */
  fingerprint: z.string().min(1).optional(),
});
export type AlertmanagerAlert = z.infer<typeof AlertmanagerAlert>;

export const AlertmanagerWebhook = z.looseObject({
  version: z.literal('4'),
  groupKey: z.string().optional(),
  truncatedAlerts: z.number().int().min(0).optional(),
  status: z.enum(['firing', 'resolved']).optional(),
  receiver: z.string().optional(),
  groupLabels: Labels.optional(),
  commonLabels: Labels.optional(),
  commonAnnotations: Labels.optional(),
  externalURL: z.string().optional(),
  alerts: z.array(AlertmanagerAlert),
});
export type AlertmanagerWebhook = z.infer<typeof AlertmanagerWebhook>;

/** Validates a webhook body; a problem names its field: `alerts[0].status: expected one of …`. */
export function parseWebhook(
  body: unknown,
): { ok: true; value: AlertmanagerWebhook } | { ok: false; message: string } {
  const parsed = AlertmanagerWebhook.safeParse(body, { reportInput: true });
  return parsed.success ? { ok: true, value: parsed.data } : { ok: false, message: describeIssue(parsed.error) };
}

function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid body';
  const path = issue.path.reduce<string>(
    (acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${String(p)}` : String(p)),
    '',
  );
  let what = issue.message;
  if ('input' in issue && issue.input === undefined) what = 'required';
  else if (issue.code === 'invalid_value') what = `expected ${issue.values.map((v) => JSON.stringify(v)).join(' or ')}`;
  else if (issue.code === 'invalid_type') what = `expected ${issue.expected}`;
  return `${path || 'body'}: ${what}`;
}
