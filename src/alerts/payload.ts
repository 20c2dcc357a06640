import { setImmediate } from 'node:timers/promises';
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

/**
 * The most alerts one webhook may carry. The issue's targets (answered in 3 s, 400 MB of RSS) are
 * measured at this size (bench/alert-burst.ts); a terse alert is ~50 bytes, so the 4 MiB body
 * limit alone would let ~80,000 through. Alertmanager's `max_alerts` on the webhook receiver keeps
 * a group under it (docs/alertmanager.md).
 */
export const MAX_ALERTS_PER_WEBHOOK = 10_000;

/**
 * How many alerts a parsed JSON body holds, read before validating it (validation and mapping
 * cost per alert); undefined when `alerts` is not an array, which validation then reports.
 */
export function alertCount(body: unknown): number | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const alerts = (body as { alerts?: unknown }).alerts;
  return Array.isArray(alerts) ? alerts.length : undefined;
}

/** The webhook without its alerts, validated first; each alert is then validated on its own. */
const WebhookEnvelope = AlertmanagerWebhook.extend({ alerts: z.array(z.unknown()) });

/** Alerts validated between two pauses: a few milliseconds of work. */
export const ALERTS_PER_SLICE = 500;

/**
 * Validates a webhook body; a problem names its field: `alerts[0].status: expected one of …`.
 * The alerts are validated in slices of ALERTS_PER_SLICE with `pause()` between slices (the next
 * turn of the event loop by default), so that 10,000 alerts do not hold every other request
 * (`/healthz` first) for the whole validation.
 */
export async function parseWebhook(
  body: unknown,
  pause: () => Promise<unknown> = setImmediate,
): Promise<{ ok: true; value: AlertmanagerWebhook } | { ok: false; message: string }> {
  const envelope = WebhookEnvelope.safeParse(body, { reportInput: true });
  if (!envelope.success) return { ok: false, message: describeIssue(envelope.error) };
  const raw = envelope.data.alerts;
  const alerts: AlertmanagerAlert[] = new Array<AlertmanagerAlert>(raw.length);
  for (let i = 0; i < raw.length; i++) {
    if (i > 0 && i % ALERTS_PER_SLICE === 0) await pause();
    const alert = AlertmanagerAlert.safeParse(raw[i], { reportInput: true });
    if (!alert.success) return { ok: false, message: describeIssue(alert.error, ['alerts', i]) };
    alerts[i] = alert.data;
  }
  return { ok: true, value: { ...envelope.data, alerts } };
}

function describeIssue(error: z.ZodError, prefix: readonly PropertyKey[] = []): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid body';
  const path = [...prefix, ...issue.path].reduce<string>(
    (acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${String(p)}` : String(p)),
    '',
  );
  let what = issue.message;
  if ('input' in issue && issue.input === undefined) what = 'required';
  else if (issue.code === 'invalid_value') what = `expected ${issue.values.map((v) => JSON.stringify(v)).join(' or ')}`;
  else if (issue.code === 'invalid_type') what = `expected ${issue.expected}`;
  return `${path || 'body'}: ${what}`;
}
