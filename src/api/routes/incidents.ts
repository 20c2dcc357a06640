import type { FastifyInstance, FastifyRequest } from 'fastify';
import { TocsinError } from '../../errors.js';
import type { Incident } from '../../events/incident.js';
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
} from '../../events/incident-summary.js';
import type { Principal, Role } from '../../auth/tokens.js';
import type { ApiContext } from '../context.js';
import { requireRole } from '../guard.js';
import { createIncidentVerb, INCIDENT_VERBS } from '../incident-verbs.js';
import {
  type ComponentPage,
  EDIT_BODY_LIMIT_BYTES,
  IncidentListQuery,
  IncidentParams,
  IncidentPartQuery,
  IncidentQuery,
  type IncidentList,
  parseInput,
  type SignalPage,
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

/** `?components=&signals=` as limits: the API's defaults where not given. */
function limitsOf(q: { components?: ListLimit; signals?: ListLimit }): SummaryLimits {
  return { components: q.components ?? API_LIST_LIMIT, signals: q.signals ?? API_LIST_LIMIT };
}

/**
 * The incident routes of CONTRACT §6: listing (cursor pagination, newest first), one document,
 * its components and signals a page at a time, the operator verbs, and incidents operators write
 * (`POST`) and edit (`PATCH`; src/engine/edit.ts). Documents are answered
 * summarised (src/events/incident-summary.ts, CONTRACT §5.11): at most 100 components and 100 signals
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
      const q = parseInput(IncidentListQuery, req.query, 'query');
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
      const { id } = parseInput(IncidentParams, req.params, 'id');
      const found = await ctx.store.getIncident(id);
      if (!found) throw new TocsinError('NOT_FOUND', `no incident ${id}`);
      return found.incident;
    };

    scope.get('/api/v1/incidents/:id', { onRequest: authenticate(ctx, 'viewer') }, async (req): Promise<SummarisedIncident> => {
      const q = parseInput(IncidentQuery, req.query, 'query');
      return summariseDocument(await load(req), limitsOf(q));
    });

    scope.get('/api/v1/incidents/:id/components', { onRequest: authenticate(ctx, 'viewer') }, async (req): Promise<ComponentPage> => {
      const q = parseInput(IncidentPartQuery, req.query, 'query');
      const inc = await load(req);
      const page = pageAfter(inc.components, componentCursor, q.cursor, q.limit);
      if (!page.ok) throw new TocsinError('INVALID', `cursor: no component ${page.unknownCursor} in ${inc.id}`);
      const counts = componentCounts(inc.components);
      return { components: page.items, component_counts: counts, next_cursor: page.next_cursor };
    });

    scope.get('/api/v1/incidents/:id/signals', { onRequest: authenticate(ctx, 'viewer') }, async (req): Promise<SignalPage> => {
      const q = parseInput(IncidentPartQuery, req.query, 'query');
      const inc = await load(req);
      const page = pageAfter(inc.signals, signalCursor, q.cursor, q.limit);
      if (!page.ok) throw new TocsinError('INVALID', `cursor: no signal ${page.unknownCursor} in ${inc.id}`);
      return { signals: page.items, signal_counts: signalCounts(inc.signals), next_cursor: page.next_cursor };
    });

    // The verbs and their bodies come from the table the console shares (src/api/incident-verbs.ts).
    for (const name of ['confirm', 'dismiss', 'resolve', 'notes'] as const) {
      scope.post(
        `/api/v1/incidents/:id/${name}`,
        { onRequest: authenticate(ctx, 'operator'), bodyLimit: VERB_BODY_LIMIT_BYTES },
        async (req): Promise<SummarisedIncident> => {
          const { id } = parseInput(IncidentParams, req.params, 'id');
          const q = parseInput(IncidentQuery, req.query, 'query');
          const done = await INCIDENT_VERBS[name].run(ctx, id, caller(req).name, req.body ?? {});
          return summariseDocument(done, limitsOf(q));
        },
      );
    }

    // An operator-written incident: 201 with the document (a new resource; the verbs answer 200).
    scope.post(
      '/api/v1/incidents',
      { onRequest: authenticate(ctx, 'operator'), bodyLimit: EDIT_BODY_LIMIT_BYTES },
      async (req, reply): Promise<SummarisedIncident> => {
        const q = parseInput(IncidentQuery, req.query, 'query');
        const created = await createIncidentVerb(ctx, caller(req).name, req.body);
        void reply.code(201).header('location', `/api/v1/incidents/${created.id}`);
        return summariseDocument(created, limitsOf(q));
      },
    );

    scope.patch(
      '/api/v1/incidents/:id',
      { onRequest: authenticate(ctx, 'operator'), bodyLimit: EDIT_BODY_LIMIT_BYTES },
      async (req): Promise<SummarisedIncident> => {
        const { id } = parseInput(IncidentParams, req.params, 'id');
        const q = parseInput(IncidentQuery, req.query, 'query');
        const edited = await INCIDENT_VERBS.edit.run(ctx, id, caller(req).name, req.body);
        return summariseDocument(edited, limitsOf(q));
      },
    );
  });
}
