import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { TocsinError } from '../../errors.js';
import type { Incident } from '../../incidents/incident.js';
import { componentCatalog } from '../../incidents/edit.js';
import { addNote, confirmIncident, createIncident, dismissIncident, editIncident, resolveIncident } from '../../incidents/manager.js';
import {
  API_LIST_LIMIT,
  componentCounts,
  componentCursor,
  type ListLimit,
  pageAfter,
  signalCounts,
  signalCursor,
  type SummarisedIncident,
  summariseDocument,
  type SummaryLimits,
} from '../../incidents/summary.js';
import type { Principal, Role } from '../auth.js';
import type { ApiContext } from '../context.js';
import { requireRole } from '../guard.js';
import {
  type ComponentPage,
  ConfirmBody,
  CreateIncidentBody,
  DismissBody,
  EDIT_BODY_LIMIT_BYTES,
  EditIncidentBody,
  IncidentListQuery,
  IncidentParams,
  IncidentPartQuery,
  IncidentQuery,
  type IncidentList,
  NoteBody,
  type SignalPage,
  parseWith,
  ResolveBody,
  VERB_BODY_LIMIT_BYTES,
} from '../schemas.js';

/** The caller of each authenticated request, found once in its onRequest hook. */
const callers = new WeakMap<FastifyRequest, Principal>();

function authenticate(ctx: ApiContext, role: Role) {
  // Before the body is read: an unauthenticated or viewer caller learns nothing about its body.
  return async (req: FastifyRequest): Promise<void> => {
    callers.set(req, requireRole(ctx, req, role));
  };
}

function caller(req: FastifyRequest): Principal {
  const p = callers.get(req);
  if (!p) throw new TocsinError('INTERNAL', 'request reached a handler without authentication');
  return p;
}

function parse<T>(schema: z.ZodType<T>, input: unknown, where: string): T {
  const parsed = parseWith(schema, input, where);
  if (!parsed.ok) throw new TocsinError('INVALID', parsed.message);
  return parsed.value;
}

/** `?components=&signals=` as limits: the API's defaults where not given. */
function limitsOf(q: { components?: ListLimit; signals?: ListLimit }): SummaryLimits {
  return { components: q.components ?? API_LIST_LIMIT, signals: q.signals ?? API_LIST_LIMIT };
}

/**
 * The incident routes of CONTRACT §6: listing (cursor pagination, newest first), one document,
 * its components and signals a page at a time, the operator verbs, and incidents operators write
 * (`POST`) and edit (`PATCH`; src/incidents/edit.ts). Documents are answered
 * summarised (src/incidents/summary.ts, CONTRACT §5.11): at most 100 components and 100 signals
 * unless asked otherwise, with the counts over all of them.
 * Verbs go through src/incidents/manager.ts, which serialises them with
 * the detector's writes (an illegal transition is a 409, and a request that fails changes nothing:
 * everything is validated before the verb runs).
 */
export function incidentRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.register(async (scope) => {
    // JSON only, and an empty body is "no fields" (confirm and resolve take optional ones), even
    // when a client sends `Content-Type: application/json` with it. Other types are refused (400).
    const defaultJson = scope.getDefaultJsonParser('error', 'error');
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
      const text = typeof body === 'string' ? body : body.toString('utf8');
      if (text.trim() === '') return done(null, undefined);
      // Fastify's own parser (prototype-poisoning checks), with a message naming the body.
      void defaultJson(req, text, (err, value) => {
        if (err) done(new TocsinError('INVALID', `body: invalid JSON (${err.message})`), undefined);
        else done(null, value);
      });
    });
    // Anything else (`curl -d` sends a form type by default): a message saying what is expected.
    scope.addContentTypeParser('*', (req, _payload, done) => {
      const type = req.headers['content-type'] ?? '';
      done(new TocsinError('INVALID', `content-type: expected application/json, got ${type}`), undefined);
    });

    scope.get('/api/v1/incidents', { onRequest: authenticate(ctx, 'viewer') }, async (req): Promise<IncidentList> => {
      const q = parse(IncidentListQuery, req.query, 'query');
      if (q.cursor && !(await ctx.store.getIncident(q.cursor))) {
        throw new TocsinError('INVALID', `cursor: no incident ${q.cursor}`);
      }
      // One more than asked tells whether another page follows.
      const found = await ctx.store.listIncidents({
        status: q.status,
        review: q.review,
        limit: q.limit + 1,
        before: q.cursor,
      });
      const page = found.slice(0, q.limit);
      const last = page.at(-1);
      const limits = limitsOf(q);
      return {
        incidents: page.map((inc) => summariseDocument(inc, limits)),
        next_cursor: found.length > q.limit && last ? last.id : null,
      };
    });

    const load = async (req: FastifyRequest): Promise<Incident> => {
      const { id } = parse(IncidentParams, req.params, 'id');
      const found = await ctx.store.getIncident(id);
      if (!found) throw new TocsinError('NOT_FOUND', `no incident ${id}`);
      return found.incident;
    };

    scope.get('/api/v1/incidents/:id', { onRequest: authenticate(ctx, 'viewer') }, async (req): Promise<SummarisedIncident> => {
      const q = parse(IncidentQuery, req.query, 'query');
      return summariseDocument(await load(req), limitsOf(q));
    });

    scope.get('/api/v1/incidents/:id/components', { onRequest: authenticate(ctx, 'viewer') }, async (req): Promise<ComponentPage> => {
      const q = parse(IncidentPartQuery, req.query, 'query');
      const inc = await load(req);
      const page = pageAfter(inc.components, componentCursor, q.cursor, q.limit);
      if (!page.ok) throw new TocsinError('INVALID', `cursor: no component ${page.unknownCursor} in ${inc.id}`);
      const counts = componentCounts(inc.components);
      return { components: page.items, component_counts: counts, next_cursor: page.next_cursor };
    });

    scope.get('/api/v1/incidents/:id/signals', { onRequest: authenticate(ctx, 'viewer') }, async (req): Promise<SignalPage> => {
      const q = parse(IncidentPartQuery, req.query, 'query');
      const inc = await load(req);
      const page = pageAfter(inc.signals, signalCursor, q.cursor, q.limit);
      if (!page.ok) throw new TocsinError('INVALID', `cursor: no signal ${page.unknownCursor} in ${inc.id}`);
      return { signals: page.items, signal_counts: signalCounts(inc.signals), next_cursor: page.next_cursor };
    });

    const verb = <B>(
      path: string,
      schema: z.ZodType<B>,
      run: (id: string, by: string, body: B) => Promise<Incident>,
    ): void => {
      scope.post(
        `/api/v1/incidents/:id/${path}`,
        { onRequest: authenticate(ctx, 'operator'), bodyLimit: VERB_BODY_LIMIT_BYTES },
        async (req): Promise<SummarisedIncident> => {
          const { id } = parse(IncidentParams, req.params, 'id');
          const q = parse(IncidentQuery, req.query, 'query');
          const body = parse(schema, req.body ?? {}, 'body');
          return summariseDocument(await run(id, caller(req).name, body), limitsOf(q));
        },
      );
    };
    verb('confirm', ConfirmBody, (id, by, b) => confirmIncident(ctx.incidents, id, { by, note: b.note }));
    verb('dismiss', DismissBody, (id, by, b) => dismissIncident(ctx.incidents, id, { by, reason: b.reason }));
    verb('resolve', ResolveBody, (id, by, b) => resolveIncident(ctx.incidents, id, { by, note: b.note }));
    verb('notes', NoteBody, (id, by, b) => addNote(ctx.incidents, id, { by, text: b.text, phase: b.phase }));

    // An operator-written incident: 201 with the document (a new resource; the verbs answer 200).
    scope.post(
      '/api/v1/incidents',
      { onRequest: authenticate(ctx, 'operator'), bodyLimit: EDIT_BODY_LIMIT_BYTES },
      async (req, reply): Promise<SummarisedIncident> => {
        const q = parse(IncidentQuery, req.query, 'query');
        const b = parse(CreateIncidentBody, req.body, 'body');
        const created = await createIncident(ctx.incidents, {
          by: caller(req).name,
          catalog: componentCatalog(ctx.plan.components),
          title: b.title,
          components: b.components,
          openedAt: b.opened_at === undefined ? undefined : Date.parse(b.opened_at),
          resolvedAt: b.resolved_at === undefined ? undefined : Date.parse(b.resolved_at),
          update: b.update,
        });
        void reply.code(201).header('location', `/api/v1/incidents/${created.id}`);
        return summariseDocument(created, limitsOf(q));
      },
    );

    scope.patch(
      '/api/v1/incidents/:id',
      { onRequest: authenticate(ctx, 'operator'), bodyLimit: EDIT_BODY_LIMIT_BYTES },
      async (req): Promise<SummarisedIncident> => {
        const { id } = parse(IncidentParams, req.params, 'id');
        const q = parse(IncidentQuery, req.query, 'query');
        const edit = parse(EditIncidentBody, req.body, 'body');
        const catalog = componentCatalog(ctx.plan.components);
        const edited = await editIncident(ctx.incidents, id, { by: caller(req).name, edit, catalog });
        return summariseDocument(edited, limitsOf(q));
      },
    );
  });
}
