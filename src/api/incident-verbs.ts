import type { z } from 'zod';
import { componentCatalog } from '../engine/edit.js';
import type { Incident } from '../events/incident.js';
import { addNote, confirmIncident, createIncident, dismissIncident, editIncident, resolveIncident } from '../incidents/manager.js';
import type { ApiContext } from './context.js';
import {
  ConfirmBody,
  CreateIncidentBody,
  DismissBody,
  EditIncidentBody,
  NoteBody,
  parseInput,
  ResolveBody,
} from './schemas.js';

/**
 * The operators' verbs, once for the JSON API (src/api/routes/incidents.ts) and the console
 * (src/api/routes/console/verbs.ts): each verb's body schema and the manager function it calls.
 * The API hands `run` a JSON body, the console the body it reads from a form; both are parsed
 * with the same schema, so the two cannot disagree on what a verb accepts or on the message
 * naming a bad field.
 */
export interface IncidentVerb {
  readonly body: z.ZodType;
  /** Parses `input` with `body` (INVALID naming the field), then runs the verb as `by`. */
  readonly run: (ctx: ApiContext, id: string, by: string, input: unknown) => Promise<Incident>;
}

function verb<B>(
  body: z.ZodType<B>,
  apply: (ctx: ApiContext, id: string, by: string, body: B) => Promise<Incident>,
): IncidentVerb {
  return { body, run: (ctx, id, by, input) => apply(ctx, id, by, parseInput(body, input, 'body')) };
}

/** The verbs on one incident, by the last segment of their path (`/api/v1/incidents/{id}/confirm`). */
export const INCIDENT_VERBS = {
  confirm: verb(ConfirmBody, (ctx, id, by, b) => confirmIncident(ctx.incidents, id, { by, note: b.note })),
  dismiss: verb(DismissBody, (ctx, id, by, b) => dismissIncident(ctx.incidents, id, { by, reason: b.reason })),
  resolve: verb(ResolveBody, (ctx, id, by, b) => resolveIncident(ctx.incidents, id, { by, note: b.note })),
  notes: verb(NoteBody, (ctx, id, by, b) => addNote(ctx.incidents, id, { by, text: b.text, phase: b.phase })),
  /** `PATCH /api/v1/incidents/{id}`: applied inside the incident writer, to the stored list. */
  edit: verb(EditIncidentBody, (ctx, id, by, edit) =>
    editIncident(ctx.incidents, id, { by, edit, catalog: componentCatalog(ctx.plan.components) }),
  ),
} satisfies Record<string, IncidentVerb>;
export type IncidentVerbName = keyof typeof INCIDENT_VERBS;

/** `POST /api/v1/incidents`: an incident an operator writes, published at once. */
export function createIncidentVerb(ctx: ApiContext, by: string, input: unknown): Promise<Incident> {
  const b = parseInput(CreateIncidentBody, input, 'body');
  return createIncident(ctx.incidents, {
    by,
    catalog: componentCatalog(ctx.plan.components),
    title: b.title,
    components: b.components,
    openedAt: b.opened_at === undefined ? undefined : Date.parse(b.opened_at),
    resolvedAt: b.resolved_at === undefined ? undefined : Date.parse(b.resolved_at),
    update: b.update,
  });
}
