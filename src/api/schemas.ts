import { z } from 'zod';
import { TocsinError } from '../errors.js';
import { ProbeResult } from '../events/probe-result.js';
import {
  IMPACTS, INCIDENT_STATUSES, MAX_TEXT_CHARS, MAX_TITLE_CHARS, REVIEW_STATES, Signal, UPDATE_PHASES,
} from '../events/incident.js';
import { API_LIST_LIMIT, ComponentCounts, type ListLimit, MAX_LIST_LIMIT, SignalCounts, SummarisedIncident } from '../events/incident-summary.js';
import { Time } from './time-input.js';

// The HTTP API's request and response shapes (CONTRACT §6). Handlers validate with them and
// src/api/openapi.ts turns the same schemas into the OpenAPI document, so the two cannot drift.

/** Page size of `GET /api/v1/incidents` when `limit` is not given. */
export const DEFAULT_PAGE_SIZE = 50;
/** The largest page `GET /api/v1/incidents` serves. */
export const MAX_PAGE_SIZE = 500;
/** Body limit of the operator verbs: a note of MAX_TEXT_CHARS multi-byte characters fits. */
export const VERB_BODY_LIMIT_BYTES = 16 * 1024;

export const COMPONENT_STATUSES = [
  'operational',
  'degraded_performance',
  'partial_outage',
  'major_outage',
  'under_maintenance',
] as const;

/**
 * Characters an operator's text may not carry: C0 controls but tab and line feed (a carriage return
 * only before a line feed: browsers post CRLF), DEL, C1 controls, the bidirectional embeddings,
 * overrides and isolates (U+202A–U+202E, U+2066–U+2069) and other invisible formatting marks
 * (U+061C, U+200B, U+200E, U+200F, U+2028, U+2029, U+2060–U+2064, U+FEFF, U+FFF9–U+FFFB), and lone
 * UTF-16 surrogates. Such a text could drive a terminal or disguise itself on the status page.
 * Zero-width (non-)joiners stay allowed: emoji sequences and several scripts need them.
 */
const FORBIDDEN_TEXT =
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u061C\u200B\u200E\u200F\u2028\u2029\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF\uFFF9-\uFFFB]|\r(?!\n)|[\uD800-\uDFFF]/u;

/**
 * Why `text` may not be stored (`control characters are not allowed (U+001B at 5)`, the position
 * counted in characters from 0), or undefined when it may (the operator text schemas below).
 */
export function textProblem(text: string): string | undefined {
  // Each well-formed pair as one character: positions count characters, and what is left is lone.
  const found = FORBIDDEN_TEXT.exec(text.replace(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g, 'x'));
  if (!found) return undefined;
  const ch = found[0].charCodeAt(0);
  return `control characters are not allowed (U+${ch.toString(16).toUpperCase().padStart(4, '0')} at ${found.index})`;
}

/** An operator's words of at most `max` characters: trimmed, not empty, no control characters. */
function operatorText(max: number) {
  return z
    .string()
    .trim()
    .min(1)
    .max(max)
    .check((ctx) => {
      const problem = textProblem(ctx.value);
      if (problem) ctx.issues.push({ code: 'custom', message: problem, input: ctx.value });
    });
}

/** An operator's text (note, reason). */
const Text = operatorText(MAX_TEXT_CHARS);

/** A non-negative decimal integer in a query string: `10`, not `1e1`, `10.0`, ` 10` or `0x0a`. */
const DECIMAL = /^\d+$/;

/** `?limit=`: a plain decimal integer from `min` to `max`, `fallback` when not given. */
function pageSize(min: number, max: number, fallback: number) {
  return z
    .string({ error: 'expected an integer' })
    .regex(DECIMAL, { error: 'expected an integer' })
    .transform(Number)
    .pipe(z.number().int().min(min).max(max))
    .default(fallback);
}

/** The error body of every failed request. */
export const ErrorResponse = z.object({
  error: z.object({
    code: z.enum(['INVALID', 'UNAUTHORIZED', 'FORBIDDEN', 'NOT_FOUND', 'CONFLICT', 'PAYLOAD_TOO_LARGE', 'RATE_LIMITED', 'UNAVAILABLE', 'OUTCOME_UNKNOWN', 'INTERNAL']),
    message: z.string(),
  }),
});
export type ErrorResponse = z.infer<typeof ErrorResponse>;

/** `POST /-/reload`: what the reload changed (src/config/reload.ts, ReloadAnswer). */
export const ReloadAnswer = z.object({
  status: z.literal('success'),
  probes: z.object({
    added: z.number().int(),
    removed: z.number().int(),
    changed: z.number().int(),
    unchanged: z.number().int(),
  }),
  restart_required: z.array(z.string()).describe('changed settings that apply only at the next start (server.listen, store, queue, …)'),
});

/** `POST /-/reload` refused: the error body, with every problem of the config as `FILE:LINE: …`. */
export const ReloadRefused = z.object({
  error: ErrorResponse.shape.error.extend({ problems: z.array(z.string()) }),
});

const CAP_MESSAGE = `expected "all" or an integer from 0 to ${MAX_LIST_LIMIT}`;

/** `?components=` / `?signals=`: how many to list in each document, or `all` (CONTRACT §5.11). */
function listCap(what: string) {
  return z
    .string()
    .regex(/^(all|\d+)$/, { error: CAP_MESSAGE })
    .transform((v): ListLimit => (v === 'all' ? 'all' : Number(v)))
    .refine((v) => v === 'all' || v <= MAX_LIST_LIMIT, { error: CAP_MESSAGE })
    .optional()
    .describe(
      `${what} listed per document: the first N in document order (default ${API_LIST_LIMIT}, at most ${MAX_LIST_LIMIT}), ` +
        `or \`all\`; the counts always cover every one`,
    );
}

/** Query string of `GET /api/v1/incidents/{id}` and of the operator verbs: how much of the lists to return. */
export const IncidentQuery = z.object({
  components: listCap('components'),
  signals: listCap('signals'),
});
export type IncidentQuery = z.infer<typeof IncidentQuery>;

/** Query string of `GET /api/v1/incidents`. Unknown parameters are ignored, as in most APIs. */
export const IncidentListQuery = z.object({
  status: z.enum(INCIDENT_STATUSES).optional().describe('only incidents with this detector status'),
  review: z.enum(REVIEW_STATES).optional().describe('only incidents with this review state (pending = draft)'),
  /** Page size; default 50, at most 500. */
  limit: pageSize(1, MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE).describe(`page size (default ${DEFAULT_PAGE_SIZE}, at most ${MAX_PAGE_SIZE})`),
  cursor: z
    .string()
    .min(1)
    .optional()
    .describe('the `next_cursor` of the previous page (the id of its last incident)'),
  components: listCap('components'),
  signals: listCap('signals'),
});
export type IncidentListQuery = z.infer<typeof IncidentListQuery>;

/** Path parameters of `/api/v1/incidents/{id}…`. */
export const IncidentParams = z.object({ id: z.string().min(1).describe('the incident id (`inc_…`)') });
export type IncidentParams = z.infer<typeof IncidentParams>;

/** Page size of `GET /api/v1/incidents/{id}/components` and `…/signals` when `limit` is not given. */
export const DEFAULT_PART_PAGE_SIZE = API_LIST_LIMIT;

/** Query string of `GET /api/v1/incidents/{id}/components` and `…/signals`. */
export const IncidentPartQuery = z.object({
  limit: pageSize(1, MAX_LIST_LIMIT, DEFAULT_PART_PAGE_SIZE).describe(`page size (default ${DEFAULT_PART_PAGE_SIZE}, at most ${MAX_LIST_LIMIT})`),
  cursor: z
    .string()
    .min(1)
    .optional()
    .describe('the `next_cursor` of the previous page (the last entry of that page: a component id, or `<rule>/<probe>` for a signal)'),
});
export type IncidentPartQuery = z.infer<typeof IncidentPartQuery>;

/** `POST …/confirm`: an optional note kept in the `confirmed` timeline entry. An empty body is fine. */
export const ConfirmBody = z.strictObject({ note: Text.optional() });
export type ConfirmBody = z.infer<typeof ConfirmBody>;

/** `POST …/dismiss`: why this draft is not an incident (required; kept in the timeline). */
export const DismissBody = z.strictObject({ reason: Text });
export type DismissBody = z.infer<typeof DismissBody>;

/** `POST …/resolve`: an optional note kept in the `resolved` timeline entry. An empty body is fine. */
export const ResolveBody = z.strictObject({ note: Text.optional() });
export type ResolveBody = z.infer<typeof ResolveBody>;

/** A public update's phase, as status pages name them (CONTRACT §6). */
const Phase = z.enum(UPDATE_PHASES).describe('the public update phase: investigating, identified, monitoring or resolved');

/** `POST …/notes`: the text of a `note` timeline entry, and its public update phase if any. */
export const NoteBody = z.strictObject({ text: Text, phase: Phase.optional() });
export type NoteBody = z.infer<typeof NoteBody>;

/** Components an operator may list in one incident or edit (the whole list of a large incident fits). */
export const MAX_LISTED_COMPONENTS = 10_000;
/** Body limit of creating and editing incidents: MAX_LISTED_COMPONENTS components with long ids fit. */
export const EDIT_BODY_LIMIT_BYTES = 1024 * 1024;

/** An incident's title as an operator writes it. */
const Title = operatorText(MAX_TITLE_CHARS);

/** Components with their impacts; each must be a component of the config (checked by the verb). */
const ComponentImpacts = z
  .array(z.strictObject({ id: z.string().min(1).describe('a component id of the config'), impact: z.enum(IMPACTS) }))
  .max(MAX_LISTED_COMPONENTS);

/** The affected components of an incident: at least one. */
const ListedComponents = ComponentImpacts.min(1, { error: 'must list at least one component' });

/** `POST /api/v1/incidents`: an operator-written incident, published at once. */
export const CreateIncidentBody = z.strictObject({
  title: Title,
  components: ListedComponents.describe('affected components, the first one the root'),
  opened_at: Time.optional().describe('when it started (default: now); a past time makes a retroactive post'),
  resolved_at: Time.optional().describe('when it ended: the incident is created resolved (not before opened_at, not in the future)'),
  update: z
    .strictObject({ text: Text, phase: Phase.optional() })
    .optional()
    .describe('the first public update (default: the title)'),
});
export type CreateIncidentBody = z.infer<typeof CreateIncidentBody>;

/**
 * `PATCH /api/v1/incidents/{id}`: what changes. Components change either as a whole new list
 * (`components`) or by changes (`set`, `remove`) applied to the list as it is stored when the
 * edit is written, so a component the detector adds meanwhile stays (src/engine/edit.ts).
 */
export const EditIncidentBody = z
  .strictObject({
    title: Title.optional(),
    components: ListedComponents.optional().describe('the whole list of affected components: those left out are removed'),
    set: ComponentImpacts.optional().describe(
      'impacts to set, applied to the list as stored when the edit is written; a component not listed is added (last). Not with `components`',
    ),
    remove: z
      .array(z.string().min(1))
      .max(MAX_LISTED_COMPONENTS)
      .optional()
      .describe('ids of components no longer affected, each listed now; at least one component must remain. Not with `components`'),
  })
  .refine((b) => b.title !== undefined || b.components !== undefined || b.set !== undefined || b.remove !== undefined, {
    error: 'expected title, components, set or remove',
  });
export type EditIncidentBody = z.infer<typeof EditIncidentBody>;

/** `GET /api/v1/incidents`: newest first; `next_cursor` is null on the last page. */
export const IncidentList = z.object({
  incidents: z.array(SummarisedIncident),
  next_cursor: z.string().nullable(),
});
export type IncidentList = z.infer<typeof IncidentList>;

/** `GET /api/v1/incidents/{id}/components`: a page of the incident's components, in document order. */
export const ComponentPage = z.object({
  components: z.array(z.object({ id: z.string(), impact: z.enum(IMPACTS) })),
  component_counts: ComponentCounts,
  next_cursor: z.string().nullable().describe('the id of the page\'s last component when another page follows, else null'),
});
export type ComponentPage = z.infer<typeof ComponentPage>;

/** `GET /api/v1/incidents/{id}/signals`: a page of the incident's signals, in document order. */
export const SignalPage = z.object({
  signals: z.array(Signal),
  signal_counts: SignalCounts,
  next_cursor: z.string().nullable().describe('`<rule>/<probe>` of the page\'s last signal when another page follows, else null'),
});
export type SignalPage = z.infer<typeof SignalPage>;

export const ComponentStatus = z.enum(COMPONENT_STATUSES);
export type ComponentStatus = z.infer<typeof ComponentStatus>;

/** One component of the config with its current status from the live rules engine. */
export const ComponentView = z.object({
  id: z.string(),
  name: z.string(),
  group: z.string(),
  region: z.string().nullable(),
  depends_on: z.array(z.string()),
  status: ComponentStatus,
});
export type ComponentView = z.infer<typeof ComponentView>;

export const ComponentList = z.object({ components: z.array(ComponentView) });
export type ComponentList = z.infer<typeof ComponentList>;

/** Query string of `GET /api/v1/components/{id}/history`. */
export const ComponentHistoryQuery = z.object({
  days: pageSize(1, 90, 90).describe('how many days, ending today (default 90, at most 90)'),
});
export type ComponentHistoryQuery = z.infer<typeof ComponentHistoryQuery>;

const HistoryWorst = z.enum([...COMPONENT_STATUSES, 'no_data']);

/** One day of a component's uptime history (docs/status-page.md, "Uptime history"). */
export const HistoryDay = z.object({
  day: z.string().describe('UTC day, YYYY-MM-DD'),
  uptime: z.number().nullable().describe('percent: 1 − (major + 0.3 × partial) / the day\'s seconds so far; null: no data'),
  worst: HistoryWorst.describe('the worst state of the day; `no_data` before history started'),
  seconds: z.object({
    major_outage: z.number().int(),
    partial_outage: z.number().int(),
    degraded_performance: z.number().int(),
    under_maintenance: z.number().int(),
  }),
});
export type HistoryDay = z.infer<typeof HistoryDay>;

/** `GET /api/v1/components/{id}/history`: every day of the window, oldest first. */
export const ComponentHistory = z.object({
  id: z.string(),
  uptime: z.number().nullable().describe('percent over the days with data'),
  days_with_incidents: z.number().int(),
  since: z.string().nullable().describe('the first day with data'),
  days: z.array(HistoryDay),
});
export type ComponentHistory = z.infer<typeof ComponentHistory>;

/** `GET /api/v1/probes`: each probe with its latest result per target and vantage. */
export const ProbeList = z.object({
  probes: z.array(
    z.object({
      id: z.string(),
      kind: z.string(),
      component: z.string(),
      interval: z.string(),
      timeout: z.string(),
      targets: z.array(z.string()),
      vantages: z.array(z.string()),
      labels: z.record(z.string(), z.string()),
      latest: z.array(ProbeResult),
    }),
  ),
});
export type ProbeList = z.infer<typeof ProbeList>;

export const Health = z.object({ status: z.literal('ok') });
export type Health = z.infer<typeof Health>;

export const Readiness = z.object({
  status: z.enum(['ready', 'unavailable']),
  reason: z.string().optional().describe('why the daemon is not ready'),
});
export type Readiness = z.infer<typeof Readiness>;

/** Alertmanager's webhook payload (version 4), described loosely: the intake route validates it. */
export const AlertmanagerWebhook = z.looseObject({
  version: z.string(),
  status: z.string().optional(),
  receiver: z.string().optional(),
  groupKey: z.string().optional(),
  alerts: z.array(
    z.looseObject({
      status: z.string(),
      labels: z.record(z.string(), z.string()),
      annotations: z.record(z.string(), z.string()).optional(),
      startsAt: z.string().optional(),
      endsAt: z.string().optional(),
      fingerprint: z.string().optional(),
    }),
  ),
});
export type AlertmanagerWebhook = z.infer<typeof AlertmanagerWebhook>;

/** What the Alertmanager intake answers (its route owns the details). */
export const AlertmanagerAccepted = z.looseObject({});
export type AlertmanagerAccepted = z.infer<typeof AlertmanagerAccepted>;

/** `GET /status.json`: the public status page: components and confirmed incidents only. */
export const StatusPage = z.looseObject({
  generated_at: z.string().describe('when this page was built (a stale page keeps the time of its last good build)'),
  stale: z
    .boolean()
    .describe('true when the store is unreachable and this is the last good page, served as it was'),
  components: z.array(
    z.looseObject({
      id: z.string(),
      name: z.string(),
      group: z.string(),
      status: ComponentStatus,
      history: z
        .looseObject({
          from: z.string(),
          to: z.string(),
          since: z.string().nullable(),
          uptime: z.number().nullable(),
          days_with_incidents: z.number().int(),
          days: z.array(z.looseObject({ day: z.string(), uptime: z.number().nullable(), worst: HistoryWorst })),
        })
        .optional()
        .describe('uptime over the last 90 days; `days` lists only the days that were not fully operational'),
    }),
  ),
  incidents: z.array(
    z.looseObject({
      id: z.string(),
      title: z.string(),
      status: z.enum(INCIDENT_STATUSES),
      components: z
        .array(z.looseObject({ id: z.string(), impact: z.enum(IMPACTS) }))
        .describe('the first 20 affected components (the root first)'),
      component_counts: ComponentCounts.describe('every affected component, counted per impact'),
      components_truncated: z.boolean().describe('`components` lists only the first ones'),
      timeline: z.array(z.looseObject({ at: z.string(), text: z.string() })),
    }),
  ),
});
export type StatusPage = z.infer<typeof StatusPage>;

/**
 * Messages that name the field and say what is expected ("reason: required", "status: expected
 * one of open, resolved"), for an API client reading one line.
 */
const errorMap: z.core.$ZodErrorMap = (iss) => {
  switch (iss.code) {
    case 'invalid_type':
      if (iss.input === undefined) return 'required';
      if (iss.expected === 'object') return 'expected a JSON object';
      if (iss.expected === 'int' || (iss.expected === 'number' && Number.isNaN(iss.input))) return 'expected an integer';
      return `expected ${iss.expected === 'array' ? 'an' : 'a'} ${iss.expected}`;
    case 'invalid_value':
      return `expected one of ${iss.values.map(String).join(', ')}`;
    case 'too_small':
      if (iss.origin === 'string') return Number(iss.minimum) <= 1 ? 'must not be empty' : `at least ${iss.minimum} characters`;
      return `must be at least ${iss.minimum}`;
    case 'too_big':
      if (iss.origin === 'string') return `at most ${iss.maximum} characters`;
      return `must be at most ${iss.maximum}`;
    case 'unrecognized_keys':
      return 'unknown field';
    default:
      return undefined;
  }
};

/** Parses `input`; on failure, one message naming each bad field (`where` names a whole-value problem). */
export function parseWith<T>(
  schema: z.ZodType<T>,
  input: unknown,
  where: string,
): { ok: true; value: T } | { ok: false; message: string } {
  const result = schema.safeParse(input, { error: errorMap });
  if (result.success) return { ok: true, value: result.data };
  const message = result.error.issues
    .map((iss) => {
      const at = iss.path.map(String);
      // An unknown key is named itself ("notes: unknown field"), as a missing one is.
      const path = iss.code === 'unrecognized_keys' ? iss.keys.map((k) => [...at, k].join('.')).join(', ') : at.join('.');
      return `${path || where}: ${iss.message}`;
    })
    .join('; ');
  return { ok: false, message };
}

/** Parses `input`, or throws INVALID with {@link parseWith}'s message (a route's 400). */
export function parseInput<T>(schema: z.ZodType<T>, input: unknown, where: string): T {
  const parsed = parseWith(schema, input, where);
  if (!parsed.ok) throw new TocsinError('INVALID', parsed.message);
  return parsed.value;
}
