import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpProbe } from '../../probes/http.js';
import { TokenTable } from '../../src/auth/tokens.js';
import { buildApi } from '../../src/api/server.js';
import { systemClock } from '../../src/clock.js';
import type { Plan } from '../../src/config/plan.js';
import { createEngine, type Engine } from '../../src/engine/engine.js';
import { rulesForPlan } from '../../src/engine/pack.js';
import type { Incident } from '../../src/events/incident.js';
import { type IncidentsContext, IncidentWriter } from '../../src/incidents/manager.js';
import { type SummarisedIncident, summariseDocument } from '../../src/events/incident-summary.js';
import { createLogger } from '../../src/log.js';
import { createMetrics } from '../../src/metrics/registry.js';
import { InlineQueue } from '../../src/queue/inline.js';
import { ResultsBus } from '../../src/results/bus.js';
import { LatestResults } from '../../src/results/latest.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { appId, BIG_COUNTS, largeIncident } from '../helpers/large-incident.js';
import { makePlan } from '../helpers/plan.js';
import { saveDoc } from '../helpers/store-writes.js';

// The incident routes in-process (fastify.inject), on a real SQLite store, a real IncidentWriter
// and a real rules engine fed synthetic probe results: one draft per component.

const COMPONENTS = ['c1', 'c2', 'c3', 'c4', 'c5', 'c6', 'c7'];
const OPS = 'operator-secret-1f3a-0123456789';
const VIEW = 'viewer-secret-9b2c-0123456789';
const dir = mkdtempSync(join(tmpdir(), 'tocsin-api-inc-'));

const plan: Plan = makePlan(
  COMPONENTS.map((c) => ({ id: `${c}-http`, kind: 'http', component: c, targets: [`http://${c}.test/`] })),
  {
    server: {
      listen: { host: '127.0.0.1', port: 0 },
      tokens: [
        { name: 'ops', role: 'operator', token_env: 'T_OPS' },
        { name: 'dash', role: 'viewer', token_env: 'T_VIEW' },
      ],
    },
    components: COMPONENTS.map((c, i) => ({
      id: c,
      name: `Component ${c}`,
      group: 'Apps',
      ...(i === 0 ? { region: 'PAR' } : {}),
      depends_on: [],
      source: { file: '/dev/null', line: i + 1 },
    })),
  },
);

/** Three failed checks per component, a minute apart per component: c1 oldest, c7 newest. */
async function openIncidents(engine: Engine, writer: IncidentWriter): Promise<void> {
  const base = Date.now() - 60 * 60_000;
  for (const [i, c] of COMPONENTS.entries()) {
    for (let k = 0; k < 3; k++) {
      const at = new Date(base + i * 60_000 + k * 1000).toISOString();
      const event = { at, probe: `${c}-http`, target: `http://${c}.test/`, vantage: 'local', ok: false, error: 'connect_refused' as const };
      await writer.apply(engine.ingest(event));
    }
  }
  await writer.apply(engine.flush());
}

function setup(withEngine: boolean) {
  const logger = createLogger('silent');
  const metrics = createMetrics({ version: 'test', processMetrics: false });
  const queue = new InlineQueue({ kinds: { http: httpProbe }, bus: new ResultsBus(), metrics, clock: systemClock, logger, vantage: 'local', concurrency: 1 });
  const store = SqliteStore.open(join(dir, `${Math.random().toString(36).slice(2)}.db`));
  const writer = new IncidentWriter(store);
  const engine = createEngine({ plan, rules: rulesForPlan(plan) });
  const incidents: IncidentsContext = { store, clock: systemClock, writer, ...(withEngine ? { engine } : {}) };
  const tokens = TokenTable.fromPlan(plan, { T_OPS: OPS, T_VIEW: VIEW });
  const app = buildApi({ plan, store, queue, latest: new LatestResults(), metrics, tokens, logger, incidents });
  return { app, store, engine, writer };
}

const auth = (token: string) => ({ authorization: `Bearer ${token}` });

describe('incident API', () => {
  let app: FastifyInstance;
  let store: SqliteStore;
  let ids: Record<string, string> = {};

  beforeAll(async () => {
    const s = setup(true);
    ({ app, store } = s);
    await openIncidents(s.engine, s.writer);
    const all = await store.listIncidents();
    ids = Object.fromEntries(all.map((i) => [i.root_component, i.id]));
  });
  afterAll(async () => {
    await app.close();
    await store.close();
  });

  const get = (url: string, token = VIEW) => app.inject({ url, headers: auth(token) });
  const post = (id: string, verb: string, body: unknown, token = OPS) =>
    app.inject({ method: 'POST', url: `/api/v1/incidents/${id}/${verb}`, headers: auth(token), payload: body as object });
  const stored = async (id: string) => store.getIncident(id);
  const idOf = (c: string): string => {
    const id = ids[c];
    if (!id) throw new Error(`no incident for ${c}`);
    return id;
  };

  /** Runs `request` and checks it left the incident exactly as it was (document and revision). */
  async function unchanged(id: string, request: () => Promise<{ statusCode: number; json: () => unknown }>) {
    const before = await stored(id);
    const res = await request();
    expect(await stored(id)).toEqual(before);
    return res;
  }

  it('opened one draft per component', () => {
    expect(Object.keys(ids).sort()).toEqual(COMPONENTS);
  });

  it('lists incidents newest first, for viewer and operator tokens', async () => {
    for (const token of [VIEW, OPS]) {
      const res = await get('/api/v1/incidents', token);
      expect(res.statusCode).toBe(200);
      const body = res.json() as { incidents: Incident[]; next_cursor: string | null };
      expect(body.incidents.map((i) => i.root_component)).toEqual([...COMPONENTS].reverse());
      expect(body.next_cursor).toBeNull();
      expect(body.incidents[0]).toMatchObject({ status: 'open', review: 'pending', timeline: [{ kind: 'opened', author: 'tocsin' }] });
    }
    expect((await app.inject({ url: '/api/v1/incidents' })).statusCode).toBe(401);
  });

  it('pages with limit and cursor, and filters by status and review', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await get(`/api/v1/incidents?limit=3${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.statusCode).toBe(200);
      const body = res.json() as { incidents: Incident[]; next_cursor: string | null };
      expect(body.incidents.length).toBeLessThanOrEqual(3);
      seen.push(...body.incidents.map((i) => i.root_component));
      cursor = body.next_cursor;
      pages++;
    } while (cursor && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toEqual([...COMPONENTS].reverse());

    // Exactly one page's worth: no next page announced.
    const exact = (await get('/api/v1/incidents?limit=7')).json() as { next_cursor: string | null };
    expect(exact.next_cursor).toBeNull();

    const open = (await get('/api/v1/incidents?status=open&review=pending&limit=500')).json() as { incidents: Incident[] };
    expect(open.incidents.length).toBeGreaterThan(0);
    expect(open.incidents.every((i) => i.status === 'open' && i.review === 'pending')).toBe(true);
  });

  it('refuses invalid query values with a 400 naming the field', async () => {
    const cases: [string, string][] = [
      ['status=bogus', 'status: expected one of open, resolved'],
      ['review=maybe', 'review: expected one of pending, confirmed, dismissed'],
      ['limit=0', 'limit: must be at least 1'],
      ['limit=501', 'limit: must be at most 500'],
      ['limit=abc', 'limit: expected an integer'],
      ['limit=2.5', 'limit: expected an integer'],
      ['cursor=inc_nope', 'cursor: no incident inc_nope'],
    ];
    for (const [query, message] of cases) {
      const res = await get(`/api/v1/incidents?${query}`);
      expect(res.statusCode, query).toBe(400);
      expect(res.json()).toEqual({ error: { code: 'INVALID', message } });
    }
  });

  it('returns one document unwrapped, and 404 for an unknown id', async () => {
    const res = await get(`/api/v1/incidents/${idOf('c1')}`);
    expect(res.statusCode).toBe(200);
    const doc = (await stored(idOf('c1')))?.incident;
    if (!doc) throw new Error('not stored');
    // A small incident is the stored document plus the counts, nothing cut.
    expect(res.json()).toEqual({
      ...doc,
      component_counts: { total: 1, degraded_performance: 0, partial_outage: 0, major_outage: 1 },
      components_truncated: false,
      signal_counts: { total: 1, by_rule: { outage: 1 } },
      signals_truncated: false,
    });
    // Field order too: the stored document's, the added fields last.
    expect(Object.keys(res.json() as object)).toEqual([...Object.keys(doc), 'component_counts', 'components_truncated', 'signal_counts', 'signals_truncated']);
    const missing = await get('/api/v1/incidents/inc_missing');
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toEqual({ error: { code: 'NOT_FOUND', message: 'no incident inc_missing' } });
  });

  it('refuses every mutation without a token (401), with an unknown one (401) and with a viewer token (403)', async () => {
    const id = idOf('c1');
    const verbs: [string, unknown][] = [['confirm', {}], ['dismiss', { reason: 'noise' }], ['resolve', {}], ['notes', { text: 'hi' }]];
    for (const [verb, body] of verbs) {
      const none = await unchanged(id, () =>
        app.inject({ method: 'POST', url: `/api/v1/incidents/${id}/${verb}`, payload: body as object }));
      expect(none.statusCode, verb).toBe(401);
      expect(none.json()).toEqual({ error: { code: 'UNAUTHORIZED', message: 'missing or unknown bearer token' } });
      const wrong = await unchanged(id, () => post(id, verb, body, `${OPS}x`));
      expect(wrong.statusCode, verb).toBe(401);
      const viewer = await unchanged(id, () => post(id, verb, body, VIEW));
      expect(viewer.statusCode, verb).toBe(403);
      expect(viewer.json()).toEqual({
        error: { code: 'FORBIDDEN', message: 'this action needs the operator role; token "dash" is a viewer' },
      });
    }
  });

  it('confirms with a note, authored by the token name', async () => {
    const id = idOf('c1');
    const res = await post(id, 'confirm', { note: 'customers report errors' });
    expect(res.statusCode).toBe(200);
    const doc = res.json() as Incident;
    expect(doc).toMatchObject({ id, review: 'confirmed', status: 'open' });
    expect(doc.timeline.at(-1)).toMatchObject({ kind: 'confirmed', author: 'ops', text: 'Confirmed by ops: customers report errors' });
    const after = (await stored(id))?.incident;
    expect(after && summariseDocument(after)).toEqual(doc);
  });

  it('dismisses with a reason, then refuses to confirm the dismissed incident (409), changing nothing', async () => {
    const id = idOf('c2');
    const res = await post(id, 'dismiss', { reason: 'planned switch-over' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ review: 'dismissed' });
    expect((res.json() as Incident).timeline.at(-1)).toMatchObject({ kind: 'dismissed', author: 'ops', text: 'Dismissed by ops: planned switch-over' });

    const again = await unchanged(id, () => post(id, 'confirm', {}));
    expect(again.statusCode).toBe(409);
    expect(again.json()).toEqual({ error: { code: 'CONFLICT', message: `incident ${id} is already dismissed` } });
  });

  it('resolves by hand, then refuses to resolve twice (409)', async () => {
    const id = idOf('c3');
    const res = await post(id, 'resolve', { note: 'failed over to the spare' });
    expect(res.statusCode).toBe(200);
    const doc = res.json() as Incident;
    expect(doc.status).toBe('resolved');
    expect(doc.resolved_at).not.toBeNull();
    expect(doc.timeline.at(-1)).toMatchObject({ kind: 'resolved', author: 'ops', text: 'Resolved by ops: failed over to the spare' });
    const twice = await unchanged(id, () => post(id, 'resolve', {}));
    expect(twice.statusCode).toBe(409);
  });

  it('adds notes', async () => {
    const id = idOf('c4');
    const res = await post(id, 'notes', { text: 'vendor ticket #4411 opened' });
    expect(res.statusCode).toBe(200);
    const doc = res.json() as Incident;
    expect(doc.review).toBe('pending');
    expect(doc.timeline.at(-1)).toMatchObject({ kind: 'note', author: 'ops', text: 'vendor ticket #4411 opened' });
  });

  it('accepts an empty body for confirm and resolve, with or without a JSON content type', async () => {
    const id = idOf('c5');
    const confirm = await app.inject({
      method: 'POST',
      url: `/api/v1/incidents/${id}/confirm`,
      headers: { ...auth(OPS), 'content-type': 'application/json' },
      payload: '',
    });
    expect(confirm.statusCode).toBe(200);
    expect(confirm.json()).toMatchObject({ review: 'confirmed' });
    const resolve = await app.inject({ method: 'POST', url: `/api/v1/incidents/${id}/resolve`, headers: auth(OPS) });
    expect(resolve.statusCode).toBe(200);
    expect(resolve.json()).toMatchObject({ status: 'resolved' });
  });

  it('refuses invalid bodies with a 400 naming the field, changing nothing', async () => {
    const id = idOf('c6');
    const cases: [string, unknown, string][] = [
      ['dismiss', {}, 'reason: required'],
      ['dismiss', { reason: '   ' }, 'reason: must not be empty'],
      ['dismiss', { reason: 42 }, 'reason: expected a string'],
      ['dismiss', [], 'body: expected a JSON object'],
      ['confirm', { note: 5 }, 'note: expected a string'],
      ['confirm', { notes: 'typo' }, 'notes: unknown field'],
      ['resolve', { note: 'x'.repeat(4001) }, 'note: at most 4000 characters'],
      ['notes', {}, 'text: required'],
      ['notes', { text: null }, 'text: expected a string'],
    ];
    for (const [verb, body, message] of cases) {
      const res = await unchanged(id, () => post(id, verb, body));
      expect(res.statusCode, `${verb} ${JSON.stringify(body)}`).toBe(400);
      expect(res.json()).toEqual({ error: { code: 'INVALID', message } });
    }
  });

  it('refuses truncated JSON and other content types with a 400, and a huge body with a 413', async () => {
    const id = idOf('c6');
    const raw = (payload: string, contentType: string) => () =>
      app.inject({ method: 'POST', url: `/api/v1/incidents/${id}/dismiss`, headers: { ...auth(OPS), 'content-type': contentType }, payload });
    const truncated = await unchanged(id, raw('{"reason": "planned', 'application/json'));
    expect(truncated.statusCode).toBe(400);
    expect(truncated.json()).toMatchObject({ error: { code: 'INVALID', message: expect.stringMatching(/^body: invalid JSON/) } });
    const text = await unchanged(id, raw('reason=planned', 'text/plain'));
    expect(text.statusCode).toBe(400);
    expect(text.json()).toEqual({ error: { code: 'INVALID', message: 'content-type: expected application/json, got text/plain' } });
    const form = await unchanged(id, raw('reason=planned', 'application/x-www-form-urlencoded'));
    expect(form.statusCode).toBe(400);
    const huge = await unchanged(id, raw(JSON.stringify({ reason: 'x'.repeat(64 * 1024) }), 'application/json'));
    expect(huge.statusCode).toBe(413);
    expect(huge.json()).toEqual({ error: { code: 'PAYLOAD_TOO_LARGE', message: 'request body too large' } });
    const unknown = await post('inc_missing', 'dismiss', { reason: 'x' });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toEqual({ error: { code: 'NOT_FOUND', message: 'no incident inc_missing' } });
  });

  it('serialises a concurrent confirm and dismiss over real HTTP: one 200, one 409', async () => {
    const id = idOf('c7');
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as AddressInfo;
    const call = (verb: string, body: unknown) =>
      fetch(`http://127.0.0.1:${port}/api/v1/incidents/${id}/${verb}`, {
        method: 'POST',
        headers: { ...auth(OPS), 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const [confirm, dismiss] = await Promise.all([call('confirm', {}), call('dismiss', { reason: 'race' })]);
    expect([confirm.status, dismiss.status].sort()).toEqual([200, 409]);
    const winner = confirm.status === 200 ? 'confirmed' : 'dismissed';
    const doc = (await stored(id))?.incident;
    expect(doc?.review).toBe(winner);
    expect(doc?.timeline.filter((e) => e.kind === 'confirmed' || e.kind === 'dismissed')).toHaveLength(1);
    const loser = confirm.status === 409 ? confirm : dismiss;
    expect(await loser.json()).toEqual({ error: { code: 'CONFLICT', message: `incident ${id} is already ${winner}` } });
  });

  it('lists components with their status from the engine', async () => {
    const res = await get('/api/v1/components');
    expect(res.statusCode).toBe(200);
    const { components } = res.json() as { components: { id: string; status: string }[] };
    expect(components.map((c) => c.id)).toEqual(COMPONENTS);
    expect(components[0]).toEqual({ id: 'c1', name: 'Component c1', group: 'Apps', region: 'PAR', depends_on: [], status: 'major_outage' });
    expect(components[1]).toMatchObject({ region: null });
    // c3 was resolved by hand: the engine no longer counts it.
    expect(components.find((c) => c.id === 'c3')?.status).toBe('operational');
    expect((await app.inject({ url: '/api/v1/components' })).statusCode).toBe(401);
  });
});

/** Sends `request` as it is over a socket; the status and the JSON body of the answer. */
function rawHttp(port: number, request: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let data = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      data += chunk;
    });
    socket.on('error', () => {}); // the server may reset after answering; what it sent is in `data`
    socket.on('close', () => {
      const [head = '', body = ''] = data.split('\r\n\r\n');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]);
      try {
        resolve({ status, body: JSON.parse(body) });
      } catch {
        reject(new Error(`not a JSON answer: ${data.slice(0, 300)}`));
      }
    });
    socket.write(request);
  });
}

describe('hostile requests: control characters, huge or malformed URLs and bodies', () => {
  const s = setup(true);
  const app = s.app;
  let id = '';
  let port = 0;
  beforeAll(async () => {
    await openIncidents(s.engine, s.writer);
    id = (await s.store.listIncidents())[0]?.id ?? '';
    await app.listen({ host: '127.0.0.1', port: 0 });
    port = (app.server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await app.close();
    await s.store.close();
  });
  const post = (verb: string, body: unknown) =>
    app.inject({ method: 'POST', url: `/api/v1/incidents/${id}/${verb}`, headers: auth(OPS), payload: body as object });
  const shape = { error: { code: expect.any(String), message: expect.any(String) } };

  it('refuses a note with ESC and a dismissal reason with U+202E, naming the field, changing nothing', async () => {
    const before = await s.store.getIncident(id);
    const note = await post('notes', { text: 'hi \u001b[31mred' });
    expect(note.statusCode).toBe(400);
    expect(note.json()).toEqual({ error: { code: 'INVALID', message: 'text: control characters are not allowed (U+001B at 3)' } });
    const dismiss = await post('dismiss', { reason: 'planned\u202eexe.txt' });
    expect(dismiss.statusCode).toBe(400);
    expect(dismiss.json()).toEqual({ error: { code: 'INVALID', message: 'reason: control characters are not allowed (U+202E at 7)' } });
    const confirm = await post('confirm', { note: 'ok\u2066' });
    expect(confirm.json()).toEqual({ error: { code: 'INVALID', message: 'note: control characters are not allowed (U+2066 at 2)' } });
    expect(await s.store.getIncident(id)).toEqual(before);
    // A multi-line note is still fine.
    expect((await post('notes', { text: 'line one\nline two' })).statusCode).toBe(200);
  });

  it('refuses numeric parameters that are not plain decimal integers', async () => {
    for (const url of ['/api/v1/incidents?limit=1e2', '/api/v1/incidents?limit=10.0', '/api/v1/incidents?limit=%205', `/api/v1/incidents/${id}/signals?limit=1e2`]) {
      const res = await app.inject({ url, headers: auth(VIEW) });
      expect(res.statusCode, url).toBe(400);
      expect(res.json()).toEqual({ error: { code: 'INVALID', message: 'limit: expected an integer' } });
    }
    const cap = await app.inject({ url: `/api/v1/incidents/${id}?components=1e2`, headers: auth(VIEW) });
    expect(cap.statusCode).toBe(400);
    expect(cap.json()).toMatchObject({ error: { code: 'INVALID', message: expect.stringMatching(/^components: /) } });
  });

  it('answers a malformed URL, a long path segment and an unknown route in the documented shape', async () => {
    const bad = await fetch(`http://127.0.0.1:${port}/api/v1/incidents/%`, { headers: auth(VIEW) });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: { code: 'INVALID', message: 'url: not a valid URL (bad percent-encoding)' } });
    const long = await fetch(`http://127.0.0.1:${port}/api/v1/incidents/${'x'.repeat(2000)}`, { headers: auth(VIEW) });
    expect(long.status).toBe(414);
    expect(await long.json()).toEqual({ error: { code: 'INVALID', message: 'url: a path segment is too long' } });
    const none = await fetch(`http://127.0.0.1:${port}/api/v2/nothing`);
    expect(none.status).toBe(404);
    expect(await none.json()).toEqual({ error: { code: 'NOT_FOUND', message: 'no route GET /api/v2/nothing' } });
  });

  it('answers a 100 KB path segment or cursor (over the header limit) with a 431 in the documented shape', async () => {
    const big = 'x'.repeat(100 * 1024);
    for (const path of [`/api/v1/incidents/${big}`, `/api/v1/incidents?cursor=${big}`]) {
      const res = await rawHttp(port, `GET ${path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${VIEW}\r\n\r\n`);
      expect(res.status).toBe(431);
      expect(res.body).toEqual({ error: { code: 'INVALID', message: 'request: the URL and headers are too large' } });
    }
    // Garbage instead of HTTP: a 400, same shape.
    const garbage = await rawHttp(port, 'NOT HTTP AT ALL\r\n\r\n');
    expect(garbage.status).toBe(400);
    expect(garbage.body).toMatchObject(shape);
  });

  it('answers an oversized body with a 413 and a wrong content type with a 400, in the documented shape', async () => {
    const huge = await fetch(`http://127.0.0.1:${port}/api/v1/incidents/${id}/notes`, {
      method: 'POST',
      headers: { ...auth(OPS), 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'x'.repeat(300 * 1024) }),
    });
    expect(huge.status).toBe(413);
    expect(await huge.json()).toEqual({ error: { code: 'PAYLOAD_TOO_LARGE', message: 'request body too large' } });
    const alert = await fetch(`http://127.0.0.1:${port}/api/v1/alerts/alertmanager`, {
      method: 'POST',
      headers: { ...auth(OPS), 'content-type': 'application/json' },
      body: JSON.stringify({ pad: 'x'.repeat(5 * 1024 * 1024) }), // over its 4 MiB limit
    });
    expect(alert.status).toBe(413);
    expect(await alert.json()).toEqual({ error: { code: 'PAYLOAD_TOO_LARGE', message: 'request body too large' } });
    const xml = await fetch(`http://127.0.0.1:${port}/api/v1/alerts/alertmanager`, {
      method: 'POST',
      headers: { ...auth(OPS), 'content-type': 'application/xml' },
      body: '<alerts/>',
    });
    expect(xml.status).toBeGreaterThanOrEqual(400);
    expect(xml.status).toBeLessThan(500);
    expect(await xml.json()).toMatchObject(shape);
  });
});

describe('incident API without a live engine', () => {
  it('reports every component operational and still applies verbs through the store', async () => {
    const withEngine = setup(true);
    await openIncidents(withEngine.engine, withEngine.writer);
    const [latest] = await withEngine.store.listIncidents({ limit: 1 });
    await withEngine.app.close();
    // Another API without the engine, its store holding one of those incidents (the verbs' store path).
    const s = setup(false);
    try {
      const res = await s.app.inject({ url: '/api/v1/components', headers: auth(VIEW) });
      expect((res.json() as { components: { status: string }[] }).components.every((c) => c.status === 'operational')).toBe(true);
      if (!latest) throw new Error('no incident');
      await s.writer.apply([{ incident: latest, appended: latest.timeline, opened: true, rule: 'outage', firstFailureMs: 0 }]);
      const confirmed = await s.app.inject({ method: 'POST', url: `/api/v1/incidents/${latest.id}/confirm`, headers: auth(OPS), payload: {} });
      expect(confirmed.statusCode).toBe(200);
      expect(confirmed.json()).toMatchObject({ review: 'confirmed' });
      const again = await s.app.inject({ method: 'POST', url: `/api/v1/incidents/${latest.id}/dismiss`, headers: auth(OPS), payload: { reason: 'x' } });
      expect(again.statusCode).toBe(409);
    } finally {
      await s.app.close();
      await s.store.close();
      await withEngine.store.close();
    }
  });
});

describe('OpenAPI document', () => {
  it('is served without auth, covers every route of CONTRACT §6, and every $ref resolves', async () => {
    const s = setup(false);
    try {
      const res = await s.app.inject({ url: '/api/v1/openapi.json' });
      expect(res.statusCode).toBe(200);
      const doc = JSON.parse(res.body) as {
        openapi: string;
        paths: Record<string, Record<string, unknown>>;
        components: { schemas: Record<string, unknown> };
      };
      expect(doc.openapi).toBe('3.1.0');
      const routes = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
      expect(routes.sort()).toEqual(
        [
          'GET /healthz',
          'GET /readyz',
          'GET /metrics',
          'GET /api/v1/incidents',
          'GET /api/v1/incidents/{id}',
          'GET /api/v1/incidents/{id}/components',
          'GET /api/v1/incidents/{id}/signals',
          'POST /api/v1/incidents/{id}/confirm',
          'POST /api/v1/incidents/{id}/dismiss',
          'POST /api/v1/incidents/{id}/resolve',
          'POST /api/v1/incidents/{id}/notes',
          'POST /api/v1/incidents',
          'PATCH /api/v1/incidents/{id}',
          'GET /api/v1/components',
          'GET /api/v1/components/{id}/history',
          'GET /api/v1/probes',
          'POST /api/v1/alerts/alertmanager',
          'GET /api/v1/openapi.json',
          'GET /status',
          'GET /status.json',
          'POST /-/reload',
          'PUT /-/reload',
        ].sort(),
      );
      const refs = [...res.body.matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1] ?? '');
      expect(refs.length).toBeGreaterThan(10);
      for (const name of refs) expect(doc.components.schemas, name).toHaveProperty(name);
      expect(doc.components.schemas.DismissBody).toMatchObject({ required: ['reason'], additionalProperties: false });
      expect(JSON.stringify(doc.paths['/api/v1/incidents'])).toContain('"name":"cursor"');
      expect(JSON.stringify(doc.paths['/api/v1/incidents/{id}'])).toContain('"name":"components"');
      expect(JSON.stringify(doc.paths['/api/v1/incidents/{id}/components'])).toContain('"name":"cursor"');
      expect(doc.components.schemas.SummarisedIncident).toMatchObject({
        required: expect.arrayContaining(['components', 'component_counts', 'components_truncated', 'signal_counts', 'signals_truncated']),
      });
    } finally {
      await s.app.close();
      await s.store.close();
    }
  });
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a 10,000-component incident over the API (CONTRACT §5.11)', () => {
  const big = largeIncident(10_000, { review: 'pending' });
  let s: ReturnType<typeof setup>;
  const get = (url: string, token = VIEW) => s.app.inject({ url, headers: auth(token) });

  beforeAll(async () => {
    s = setup(false);
    // Straight into the store, as the detector would have written it: the document is whole.
    const saved = await saveDoc(s.store, big, null);
    expect(saved.ok).toBe(true);
  });
  afterAll(async () => {
    await s.app.close();
    await s.store.close();
  });

  it('answers the document with the first 100 components and signals and the counts', async () => {
    const res = await get(`/api/v1/incidents/${big.id}`);
    expect(res.statusCode).toBe(200);
    expect(res.body.length).toBeLessThan(48 * 1024);
    const doc = res.json() as SummarisedIncident;
    expect(doc.components).toEqual(big.components.slice(0, 100));
    expect(doc.components[0]?.id).toBe('zone-par1');
    expect(doc.signals).toEqual(big.signals.slice(0, 100));
    expect(doc.component_counts).toEqual(BIG_COUNTS);
    expect(doc.signal_counts).toEqual({ total: 10_000, by_rule: { slow: 1000, outage: 9000 } });
    expect(doc).toMatchObject({ components_truncated: true, signals_truncated: true });
    expect(doc).toMatchObject({ timeline: big.timeline, title: big.title });
  });

  it('lists it summarised too, and lets the caller choose the caps', async () => {
    const list = (await get('/api/v1/incidents')).json() as { incidents: SummarisedIncident[] };
    expect(list.incidents).toHaveLength(1);
    expect(list.incidents[0]?.components).toHaveLength(100);
    expect(list.incidents[0]?.components_truncated).toBe(true);

    const counts = (await get('/api/v1/incidents?components=0&signals=0')).json() as { incidents: SummarisedIncident[] };
    expect(counts.incidents[0]).toMatchObject({ components: [], signals: [], component_counts: { total: 10_001 } });
    const five = (await get(`/api/v1/incidents/${big.id}?components=5&signals=all`)).json() as SummarisedIncident;
    expect(five.components.map((c) => c.id)).toEqual(['zone-par1', appId(0), appId(1), appId(2), appId(3)]);
    expect(five.signals).toHaveLength(10_000);
    expect(five).toMatchObject({ components_truncated: true, signals_truncated: false });
  });

  it('answers the whole document with ?components=all&signals=all', async () => {
    const res = await get(`/api/v1/incidents/${big.id}?components=all&signals=all`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual(summariseDocument(big, { components: 'all', signals: 'all' }));
    const doc = res.json() as SummarisedIncident;
    expect(doc.components).toEqual(big.components);
    expect(doc).toMatchObject({ components_truncated: false, signals_truncated: false });
  });

  it('pages the components and the signals with cursors', async () => {
    const components: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await get(`/api/v1/incidents/${big.id}/components?limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(res.statusCode).toBe(200);
      type Page = { components: { id: string }[]; component_counts: { total: number }; next_cursor: string | null };
      const body = res.json() as Page;
      expect(body.component_counts.total).toBe(10_001);
      components.push(...body.components.map((c) => c.id));
      cursor = body.next_cursor;
      pages++;
    } while (cursor && pages < 20);
    expect(pages).toBe(11);
    expect(components).toEqual(big.components.map((c) => c.id));

    const first = (await get(`/api/v1/incidents/${big.id}/signals?limit=2`)).json() as {
      signals: { probe: string }[];
      signal_counts: { total: number };
      next_cursor: string | null;
    };
    expect(first.signals.map((x) => x.probe)).toEqual([`${appId(0)}-http`, `${appId(1)}-http`]);
    expect(first.next_cursor).toBe(`outage/${appId(1)}-http`);
    expect(first.signal_counts.total).toBe(10_000);
    const next = (await get(`/api/v1/incidents/${big.id}/signals?limit=2&cursor=${encodeURIComponent(first.next_cursor ?? '')}`)).json() as {
      signals: { probe: string }[];
    };
    expect(next.signals.map((x) => x.probe)).toEqual([`${appId(2)}-http`, `${appId(3)}-http`]);
    // Default page: 100; the last page announces no next one.
    const defaults = (await get(`/api/v1/incidents/${big.id}/signals`)).json() as { signals: unknown[] };
    expect(defaults.signals).toHaveLength(100);
    const last = (await get(`/api/v1/incidents/${big.id}/components?cursor=${appId(9998)}`)).json() as { components: { id: string }[]; next_cursor: string | null };
    expect(last).toEqual({ components: [{ id: appId(9999), impact: 'major_outage' }], component_counts: expect.any(Object), next_cursor: null });
  });

  it('refuses bad caps, limits and cursors with a 400 naming the field, and needs a token', async () => {
    const cases: [string, string][] = [
      [`/api/v1/incidents/${big.id}?components=lots`, 'components: expected "all" or an integer from 0 to 1000'],
      [`/api/v1/incidents/${big.id}?signals=1001`, 'signals: expected "all" or an integer from 0 to 1000'],
      ['/api/v1/incidents?components=-1', 'components: expected "all" or an integer from 0 to 1000'],
      [`/api/v1/incidents/${big.id}/components?limit=0`, 'limit: must be at least 1'],
      [`/api/v1/incidents/${big.id}/components?limit=1001`, 'limit: must be at most 1000'],
      [`/api/v1/incidents/${big.id}/components?cursor=nope`, `cursor: no component nope in ${big.id}`],
      [`/api/v1/incidents/${big.id}/signals?cursor=outage/nope`, `cursor: no signal outage/nope in ${big.id}`],
    ];
    for (const [url, message] of cases) {
      const res = await get(url);
      expect(res.statusCode, url).toBe(400);
      expect(res.json()).toEqual({ error: { code: 'INVALID', message } });
    }
    expect((await get('/api/v1/incidents/inc_missing/components')).statusCode).toBe(404);
    expect((await s.app.inject({ url: `/api/v1/incidents/${big.id}/components` })).statusCode).toBe(401);
    expect((await s.app.inject({ url: `/api/v1/incidents/${big.id}/signals` })).statusCode).toBe(401);
  });

  it('answers an operator verb with the summarised document (and the caps it is given)', async () => {
    const res = await s.app.inject({
      method: 'POST',
      url: `/api/v1/incidents/${big.id}/notes`,
      headers: auth(OPS),
      payload: { text: 'zone PAR1 power restored, apps restarting' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.body.length).toBeLessThan(48 * 1024);
    const doc = res.json() as SummarisedIncident;
    expect(doc.components).toHaveLength(100);
    expect(doc.component_counts.total).toBe(10_001);
    expect(doc.timeline.at(-1)).toMatchObject({ kind: 'note', author: 'ops' });
    const confirmed = await s.app.inject({
      method: 'POST',
      url: `/api/v1/incidents/${big.id}/confirm?components=3`,
      headers: auth(OPS),
      payload: {},
    });
    expect(confirmed.statusCode).toBe(200);
    expect((confirmed.json() as SummarisedIncident).components).toHaveLength(3);
    // The store keeps the whole document.
    expect((await s.store.getIncident(big.id))?.incident.components).toHaveLength(10_001);
  });
});
