import { z } from 'zod';
import { ProbeResult } from '../events/probe-result.js';
import { Incident, Signal, TimelineEntry } from '../events/incident.js';
import { ComponentCounts, SignalCounts, SummarisedIncident } from '../events/incident-summary.js';
import { VERSION } from '../package-info.js';
import type { Role } from '../auth/tokens.js';
import {
  AlertmanagerAccepted,
  AlertmanagerWebhook,
  ComponentHistory,
  ComponentHistoryQuery,
  ComponentList,
  ComponentPage,
  ComponentStatus,
  ComponentView,
  ConfirmBody,
  CreateIncidentBody,
  DismissBody,
  EditIncidentBody,
  ErrorResponse,
  Health,
  IncidentList,
  IncidentListQuery,
  IncidentParams,
  IncidentPartQuery,
  IncidentQuery,
  NoteBody,
  ProbeList,
  Readiness,
  ReloadAnswer,
  ReloadRefused,
  ResolveBody,
  SignalPage,
  StatusPage,
} from './schemas.js';

// The OpenAPI 3.1 document of CONTRACT §6, generated from the zod schemas the handlers validate
// with (zod 4's z.toJSONSchema emits JSON Schema 2020-12, the dialect OpenAPI 3.1 uses).

type JsonObject = Record<string, unknown>;

/** Every named schema, under components.schemas; nested ones become `$ref`s. */
const NAMED = {
  ErrorResponse,
  Incident,
  SummarisedIncident,
  ComponentCounts,
  SignalCounts,
  Signal,
  TimelineEntry,
  IncidentList,
  ComponentPage,
  SignalPage,
  ComponentStatus,
  ComponentView,
  ComponentList,
  ComponentHistory,
  ConfirmBody,
  DismissBody,
  ResolveBody,
  NoteBody,
  CreateIncidentBody,
  EditIncidentBody,
  ProbeResult,
  ProbeList,
  Health,
  Readiness,
  ReloadAnswer,
  ReloadRefused,
  AlertmanagerWebhook,
  AlertmanagerAccepted,
  StatusPage,
} satisfies Record<string, z.ZodType>;
type Named = keyof typeof NAMED;

const ref = (name: Named) => ({ $ref: `#/components/schemas/${name}` });
const json = (name: Named) => ({ 'application/json': { schema: ref(name) } });

const ERRORS: Record<number, string> = {
  400: 'invalid request: the message names the field',
  401: 'no or unknown bearer token',
  403: 'the token lacks the role this route needs',
  404: 'no such incident',
  409: 'an illegal transition (e.g. confirming a dismissed incident)',
  413: 'request body too large',
};

interface Operation {
  readonly summary: string;
  readonly role?: Role;
  readonly parameters?: JsonObject[];
  readonly body?: { readonly name: Named; readonly required: boolean };
  readonly ok: JsonObject;
  /** The status `ok` answers with (default 200; 201 for a creation). */
  readonly okStatus?: number;
  readonly errors?: readonly number[];
  readonly extra?: Record<string, JsonObject>;
}

function operation(id: string, tag: string, op: Operation): JsonObject {
  const responses: Record<string, JsonObject> = { [op.okStatus ?? 200]: op.ok, ...op.extra };
  for (const status of op.errors ?? []) {
    responses[status] = { description: ERRORS[status] ?? 'error', content: json('ErrorResponse') };
  }
  return {
    operationId: id,
    tags: [tag],
    summary: op.summary,
    ...(op.role
      ? { security: [{ bearer: [] }], 'x-tocsin-role': op.role }
      : { security: [] }),
    ...(op.parameters ? { parameters: op.parameters } : {}),
    ...(op.body
      ? { requestBody: { required: op.body.required, content: json(op.body.name) } }
      : {}),
    responses,
  };
}

function schemaOf(schema: z.ZodType): JsonObject {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { io: 'input' }) as JsonObject;
  return rest;
}

function queryParameters(shape: Record<string, z.ZodType>): JsonObject[] {
  return Object.entries(shape).map(([name, schema]) => ({
    name,
    in: 'query',
    required: false,
    ...(schema.description ? { description: schema.description } : {}),
    schema: schemaOf(schema),
  }));
}

function componentSchemas(): Record<string, JsonObject> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(NAMED)) registry.add(schema, { id });
  const out = z.toJSONSchema(registry, { io: 'input', uri: (id) => `#/components/schemas/${id}` }) as {
    schemas: Record<string, JsonObject>;
  };
  return Object.fromEntries(
    Object.entries(out.schemas).map(([id, s]) => {
      const { $schema: _s, $id: _i, ...rest } = s;
      return [id, rest];
    }),
  );
}

function build(): JsonObject {
  const idParam = {
    name: 'id',
    in: 'path',
    required: true,
    description: IncidentParams.shape.id.description,
    schema: { type: 'string' },
  };
  const incidentOk = {
    description: 'the updated incident document, summarised as `GET /api/v1/incidents/{id}` answers it',
    content: json('SummarisedIncident'),
  };
  const capParams = queryParameters(IncidentQuery.shape);
  const verb = (id: string, summary: string, body: Named, required: boolean) => ({
    post: operation(id, 'incidents', {
      summary,
      role: 'operator',
      parameters: [idParam, ...capParams],
      body: { name: body, required },
      ok: incidentOk,
      errors: [400, 401, 403, 404, 409, 413],
    }),
  });
  return {
    openapi: '3.1.0',
    info: {
      title: 'Tocsin API',
      version: VERSION,
      description:
        'Draft incidents from correlated probe failures, for operators to confirm or dismiss. ' +
        'Auth: `Authorization: Bearer <token>`; viewer tokens read, operator tokens also act. ' +
        'Errors are `{"error":{"code","message"}}`.',
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    paths: {
      '/healthz': {
        get: operation('healthz', 'health', {
          summary: 'liveness',
          ok: { description: 'the process answers', content: json('Health') },
        }),
      },
      '/readyz': {
        get: operation('readyz', 'health', {
          summary: 'readiness: the store is reachable and the scheduler runs',
          ok: { description: 'ready', content: json('Readiness') },
          extra: { 503: { description: 'not ready, with the reason', content: json('Readiness') } },
        }),
      },
      '/-/reload': Object.fromEntries(
        (['post', 'put'] as const).map((method) => [
          method,
          operation(`reload${method === 'put' ? 'Put' : ''}`, 'health', {
            summary: 're-read the configuration and apply the difference (as SIGHUP does); a config with any problem changes nothing',
            role: 'operator',
            ok: { description: 'applied: probes added, removed, changed, unchanged; settings needing a restart', content: json('ReloadAnswer') },
            extra: { 400: { description: 'refused: every problem as FILE:LINE, the running configuration kept', content: json('ReloadRefused') } },
            errors: [401, 403],
          }),
        ]),
      ),
      '/metrics': {
        get: operation('metrics', 'health', {
          summary: 'Prometheus text exposition',
          ok: { description: 'metrics', content: { 'text/plain': { schema: { type: 'string' } } } },
        }),
      },
      '/api/v1/incidents': {
        get: operation('listIncidents', 'incidents', {
          summary: 'incidents, newest first, a page at a time',
          role: 'viewer',
          parameters: queryParameters(IncidentListQuery.shape),
          ok: { description: 'one page; `next_cursor` is null on the last one', content: json('IncidentList') },
          errors: [400, 401],
        }),
        post: operation('createIncident', 'incidents', {
          summary:
            'an operator-written incident, published at once (review `confirmed`); past `opened_at`/`resolved_at` make a retroactive post',
          role: 'operator',
          parameters: capParams,
          body: { name: 'CreateIncidentBody', required: true },
          okStatus: 201,
          ok: {
            description: 'the new incident document (its URL in `Location`), summarised as `GET /api/v1/incidents/{id}` answers it',
            content: json('SummarisedIncident'),
          },
          errors: [400, 401, 403, 413],
        }),
      },
      '/api/v1/incidents/{id}': {
        get: operation('getIncident', 'incidents', {
          summary: 'one incident document, its components and signals cut to the first 100 unless asked otherwise',
          role: 'viewer',
          parameters: [idParam, ...capParams],
          ok: {
            description: 'the incident document with its whole timeline, and counts of its components and signals',
            content: json('SummarisedIncident'),
          },
          errors: [400, 401, 404],
        }),
        patch: operation('editIncident', 'incidents', {
          summary:
            'edits the title, components and impacts of a draft or a published incident (an `edited` timeline entry): components as a whole list, or as changes (`set`, `remove`) applied to the stored list; the detector keeps what is set',
          role: 'operator',
          parameters: [idParam, ...capParams],
          body: { name: 'EditIncidentBody', required: true },
          ok: incidentOk,
          errors: [400, 401, 403, 404, 409, 413],
        }),
      },
      '/api/v1/incidents/{id}/components': {
        get: operation('listIncidentComponents', 'incidents', {
          summary: 'the components of one incident, in document order, a page at a time',
          role: 'viewer',
          parameters: [idParam, ...queryParameters(IncidentPartQuery.shape)],
          ok: { description: 'one page; `next_cursor` is null on the last one', content: json('ComponentPage') },
          errors: [400, 401, 404],
        }),
      },
      '/api/v1/incidents/{id}/signals': {
        get: operation('listIncidentSignals', 'incidents', {
          summary: 'the signals of one incident, in document order, a page at a time',
          role: 'viewer',
          parameters: [idParam, ...queryParameters(IncidentPartQuery.shape)],
          ok: { description: 'one page; `next_cursor` is null on the last one', content: json('SignalPage') },
          errors: [400, 401, 404],
        }),
      },
      '/api/v1/incidents/{id}/confirm': verb('confirmIncident', 'review pending → confirmed', 'ConfirmBody', false),
      '/api/v1/incidents/{id}/dismiss': verb('dismissIncident', 'review pending → dismissed (reason required)', 'DismissBody', true),
      '/api/v1/incidents/{id}/resolve': verb('resolveIncident', 'status open → resolved, by hand', 'ResolveBody', false),
      '/api/v1/incidents/{id}/notes': verb('addNote', 'adds a `note` timeline entry, a public update in its `phase` if given', 'NoteBody', true),
      '/api/v1/components': {
        get: operation('listComponents', 'components', {
          summary: 'each component with its current status',
          role: 'viewer',
          ok: { description: 'the components, in config order', content: json('ComponentList') },
          errors: [401],
        }),
      },
      '/api/v1/components/{id}/history': {
        get: operation('componentHistory', 'components', {
          summary: 'one component\'s uptime per day, from published incidents and maintenance (docs/status-page.md)',
          role: 'viewer',
          parameters: [
            { name: 'id', in: 'path', required: true, description: 'the component id', schema: { type: 'string' } },
            ...queryParameters(ComponentHistoryQuery.shape),
          ],
          ok: { description: 'every day of the window, oldest first', content: json('ComponentHistory') },
          errors: [400, 401, 404],
        }),
      },
      '/api/v1/probes': {
        get: operation('listProbes', 'probes', {
          summary: 'each probe with its latest result per target and vantage',
          role: 'viewer',
          ok: { description: 'the probes, in config order', content: json('ProbeList') },
          errors: [401],
        }),
      },
      '/api/v1/alerts/alertmanager': {
        post: operation('alertmanagerWebhook', 'alerts', {
          summary: 'ingests an Alertmanager webhook (version 4) as signals',
          role: 'operator',
          body: { name: 'AlertmanagerWebhook', required: true },
          ok: { description: 'accepted', content: json('AlertmanagerAccepted') },
          errors: [400, 401, 403, 413],
        }),
      },
      '/api/v1/openapi.json': {
        get: operation('openapi', 'meta', {
          summary: 'this document',
          ok: { description: 'the OpenAPI 3.1 document', content: { 'application/json': { schema: { type: 'object' } } } },
        }),
      },
      '/status': {
        get: operation('statusPage', 'status', {
          summary: 'the public status page: components and confirmed incidents only',
          ok: { description: 'an HTML page', content: { 'text/html': { schema: { type: 'string' } } } },
        }),
      },
      '/status.json': {
        get: operation('statusPageJson', 'status', {
          summary: 'the public status page as JSON: components and confirmed incidents only',
          ok: { description: 'components and confirmed incidents', content: json('StatusPage') },
        }),
      },
    },
    components: {
      schemas: componentSchemas(),
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'a token from `server.tokens` or the generated operator.token' },
      },
    },
  };
}

let cached: JsonObject | undefined;

/** The OpenAPI document (built once: the schemas are constants). */
export function openApiDocument(): JsonObject {
  cached ??= build();
  return cached;
}
