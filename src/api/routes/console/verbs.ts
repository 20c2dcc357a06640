import type { FastifyInstance, FastifyRequest } from 'fastify';
import { CONSOLE_PATHS, type ConsoleVerb, renderErrorPage } from '../../../console/render.js';
import { TocsinError } from '../../../errors.js';
import { type ComponentImpact, parseComponentImpact } from '../../../engine/edit.js';
import { createIncidentVerb, INCIDENT_VERBS } from '../../incident-verbs.js';
import { operatorTime } from '../../time-input.js';
import { field, FORM_BODY_LIMIT_BYTES, given } from './form.js';
import { html, redirect } from './reply.js';
import { type ConsoleDeps, operatorSession } from './session.js';

/**
 * A console action: how its form becomes the verb's API body, and the words of its flash
 * messages. The body is parsed and the verb run by the table the JSON API uses
 * (src/api/incident-verbs.ts), so a form is refused with the API's message for the same field.
 */
interface FormVerb {
  /** `Confirmed inc_…: title`. */
  readonly done: string;
  /** `Could not confirm inc_…: why`. */
  readonly failed: string;
  readonly body: (req: FastifyRequest) => unknown;
}

const FORM_VERBS: Record<ConsoleVerb, FormVerb> = {
  confirm: { done: 'Confirmed', failed: 'confirm', body: (req) => ({ note: given(req, 'note') }) },
  dismiss: { done: 'Dismissed', failed: 'dismiss', body: (req) => ({ reason: given(req, 'reason') }) },
  resolve: { done: 'Resolved', failed: 'resolve', body: (req) => ({ note: given(req, 'note') }) },
  notes: {
    done: 'Note added to',
    failed: 'add the note to',
    body: (req) => ({ text: given(req, 'text'), phase: given(req, 'phase') }),
  },
  edit: {
    done: 'Edited',
    failed: 'edit',
    // Changes, never the whole list: the writer applies them to the stored list (a component
    // the detector added since the page was drawn stays).
    body: (req) => ({ title: given(req, 'title'), set: impactLines(field(req, 'set'), 'set'), remove: ids(field(req, 'remove')) }),
  },
};

/**
 * The console's actions, for operators only: writing an incident and the verbs on one. An
 * expected refusal (409 already dismissed, 400 missing reason, 404) is a flash message on the
 * page the operator came from; anything else is a real failure.
 */
export function verbRoutes(scope: FastifyInstance, deps: ConsoleDeps): void {
  const { ctx } = deps;
  const expected = (err: unknown): err is TocsinError => err instanceof TocsinError && err.code !== 'INTERNAL';

  scope.post(CONSOLE_PATHS.create, { bodyLimit: FORM_BODY_LIMIT_BYTES }, async (req, reply) => {
    const session = operatorSession(deps, req, reply);
    if (!session) return reply;
    try {
      const inc = await createIncidentVerb(ctx, session.principal.name, createBody(req));
      session.flash = { kind: 'ok', text: `Published ${inc.id}: ${inc.title}` };
      return redirect(reply, `${CONSOLE_PATHS.home}#${encodeURIComponent(inc.id)}`);
    } catch (err) {
      if (!expected(err)) throw err;
      session.flash = { kind: 'error', text: `Could not publish the incident: ${err.message}` };
      return redirect(reply, CONSOLE_PATHS.home);
    }
  });

  scope.post<{ Params: { id: string; verb: string } }>(
    '/console/incidents/:id/:verb',
    { bodyLimit: FORM_BODY_LIMIT_BYTES },
    async (req, reply) => {
      const { id, verb } = req.params;
      if (!Object.hasOwn(FORM_VERBS, verb)) return html(reply, 404, renderErrorPage('Not found', `No action ${verb}.`));
      const action = verb as ConsoleVerb;
      const session = operatorSession(deps, req, reply);
      if (!session) return reply;
      const back = field(req, 'back') === 'incident' ? CONSOLE_PATHS.incident(id) : `${CONSOLE_PATHS.home}#${encodeURIComponent(id)}`;
      const form = FORM_VERBS[action];
      try {
        const inc = await INCIDENT_VERBS[action].run(ctx, id, session.principal.name, form.body(req));
        session.flash = { kind: 'ok', text: `${form.done} ${inc.id}: ${inc.title}` };
      } catch (err) {
        if (!expected(err)) throw err;
        session.flash = { kind: 'error', text: `Could not ${form.failed} ${id}: ${err.message}` };
      }
      return redirect(reply, back);
    },
  );
}

/** The write form as `POST /api/v1/incidents`'s body. */
function createBody(req: FastifyRequest): unknown {
  const update = given(req, 'update');
  const phase = given(req, 'phase');
  // The form has the phase beside the update; the API has it inside.
  if (phase && !update) throw new TocsinError('INVALID', 'phase: give the update it is the phase of');
  return {
    title: given(req, 'title'),
    components: impactLines(field(req, 'components'), 'components') ?? [],
    opened_at: typedTime(field(req, 'opened_at'), 'opened_at'),
    resolved_at: typedTime(field(req, 'resolved_at'), 'resolved_at'),
    update: update === undefined ? undefined : { text: update, phase },
  };
}

/** `id=impact` lines (commas too); blank lines are skipped; none: undefined. */
function impactLines(value: string | undefined, name: string): ComponentImpact[] | undefined {
  const out: ComponentImpact[] = [];
  for (const [i, line] of (value ?? '').split(/[\r\n,]+/).entries()) {
    if (line.trim() === '') continue;
    const parsed = parseComponentImpact(line.trim());
    if (!parsed.ok) throw new TocsinError('INVALID', `${name}: line ${i + 1}: ${parsed.message}`);
    out.push(parsed.value);
  }
  return out.length > 0 ? out : undefined;
}

/** Ids separated by spaces or commas; none: undefined. */
function ids(value: string | undefined): string[] | undefined {
  const out = (value ?? '').split(/[\s,]+/).filter((r) => r !== '');
  return out.length > 0 ? out : undefined;
}

/** A `datetime-local` value (UTC, as the form says) or an RFC 3339 time; empty: none. */
function typedTime(value: string | undefined, name: string): string | undefined {
  if (!value?.trim()) return undefined;
  const time = operatorTime(value);
  if (!time.ok) throw new TocsinError('INVALID', `${name}: ${time.message}`);
  return time.value;
}
