import { mkdtempSync, rmSync } from 'node:fs';
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
import { Incident } from '../../src/events/incident.js';
import { IncidentWriter } from '../../src/incidents/manager.js';
import type { SummarisedIncident } from '../../src/events/incident-summary.js';
import { createLogger } from '../../src/log.js';
import { createMetrics } from '../../src/metrics/registry.js';
import { InlineQueue } from '../../src/queue/inline.js';
import { ResultsBus } from '../../src/results/bus.js';
import { LatestResults } from '../../src/results/latest.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { cookieValue, hidden } from '../helpers/console-forms.js';
import { makePlan } from '../helpers/plan.js';

// Operator-written incidents, edits and update phases through the HTTP API and the console
// (fastify.inject) on a real SQLite store, a real IncidentWriter and a real rules engine fed
// synthetic failures; what the public reads of them on /status and /status.json.

const OPS = 'operator-secret-5c2d-0123456789';
const VIEW = 'viewer-secret-8e4b-0123456789';
const dir = mkdtempSync(join(tmpdir(), 'tocsin-operator-inc-'));
const src = (line: number) => ({ file: '/dev/null', line });

const plan: Plan = makePlan(
  ['web', 'api'].map((c) => ({ id: `${c}-http`, kind: 'http', component: c, targets: [`http://${c}.test/`] })),
  {
    server: {
      listen: { host: '127.0.0.1', port: 0 },
      tokens: [
        { name: 'ops', role: 'operator', token_env: 'T_OPS' },
        { name: 'dash', role: 'viewer', token_env: 'T_VIEW' },
      ],
    },
    components: [
      { id: 'web', name: 'Web shop', group: 'Apps', region: 'PAR', depends_on: [], source: src(1) },
      { id: 'api', name: 'Public API', group: 'Apps', region: 'AMS', depends_on: [], source: src(2) },
      { id: 'dns', name: 'DNS', group: 'Network', depends_on: [], source: src(3) },
    ],
  },
);

async function fail(engine: Engine, writer: IncidentWriter, c: string, base: number): Promise<void> {
  for (let k = 0; k < 3; k++) {
    const at = new Date(base + k * 1000).toISOString();
    const event = { at, probe: `${c}-http`, target: `http://${c}.test/`, vantage: 'local', ok: false, error: 'connect_refused' as const };
    await writer.apply(engine.ingest(event));
  }
  await writer.apply(engine.flush());
}

/** The API on a fresh store in which each of `failing` has a draft (oldest first); their ids by component. */
async function start(db: string, failing: readonly string[]) {
  const logger = createLogger('silent');
  const metrics = createMetrics({ version: 'test', processMetrics: false });
  const queue = new InlineQueue({ kinds: { http: httpProbe }, bus: new ResultsBus(), metrics, clock: systemClock, logger, vantage: 'local', concurrency: 1 });
  const store = SqliteStore.open(join(dir, db));
  const writer = new IncidentWriter(store);
  const engine = createEngine({ plan, rules: rulesForPlan(plan) });
  for (const [i, c] of failing.entries()) await fail(engine, writer, c, Date.now() - (10 - i) * 60_000);
  const drafts = new Map((await store.listIncidents()).map((i) => [i.root_component, i.id]));
  const tokens = TokenTable.fromPlan(plan, { T_OPS: OPS, T_VIEW: VIEW });
  const incidents = { store, clock: systemClock, writer, engine };
  const app = buildApi({ plan, store, queue, latest: new LatestResults(), metrics, tokens, logger, incidents });
  await app.ready();
  return { app, store, writer, drafts };
}

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const auth = (token: string) => ({ authorization: `Bearer ${token}` });
const minutesAgo = (n: number) => new Date(Date.now() - n * 60_000).toISOString();

describe('operator-written incidents, edits and phases over the API', () => {
  let app: FastifyInstance;
  let store: SqliteStore;
  let draft = '';
  let other = '';

  beforeAll(async () => {
    let drafts: Map<string, string>;
    ({ app, store, drafts } = await start('api.db', ['web', 'api']));
    draft = drafts.get('web') ?? '';
    other = drafts.get('api') ?? '';
  });
  afterAll(async () => {
    await app.close();
    await store.close();
  });

  const create = (body: unknown, token = OPS) => app.inject({ method: 'POST', url: '/api/v1/incidents', headers: auth(token), payload: body as object });
  const patch = (id: string, body: unknown, token = OPS) =>
    app.inject({ method: 'PATCH', url: `/api/v1/incidents/${id}`, headers: auth(token), payload: body as object });
  const note = (id: string, body: unknown) => app.inject({ method: 'POST', url: `/api/v1/incidents/${id}/notes`, headers: auth(OPS), payload: body as object });
  const statusJson = async () => (await app.inject({ url: '/status.json' })).json<{ incidents: { id: string; title: string; timeline: Record<string, unknown>[] }[] }>();

  it('creates a published incident: 201, its URL, a whole document written by the token\'s name', async () => {
    const res = await create({
      title: 'Payments delayed',
      components: [{ id: 'api', impact: 'partial_outage' }, { id: 'dns', impact: 'degraded_performance' }],
      update: { text: 'Our card processor answers slowly.', phase: 'identified' },
    });
    expect(res.statusCode).toBe(201);
    const doc = res.json<SummarisedIncident>();
    expect(res.headers.location).toBe(`/api/v1/incidents/${doc.id}`);
    expect(doc).toMatchObject({ status: 'open', review: 'confirmed', severity: 'major', root_component: 'api', regions: ['AMS'], origin: 'operator' });
    expect(doc.timeline.map((e) => [e.kind, e.author, e.phase])).toEqual([
      ['opened', 'ops', 'identified'],
      ['confirmed', 'ops', undefined],
    ]);
    const stored = (await store.getIncident(doc.id))?.incident;
    expect(Incident.parse(stored)).toEqual(stored);
    // Published at once, its update headed by its phase.
    const page = (await statusJson()).incidents.find((i) => i.id === doc.id);
    expect(page?.timeline[0]).toMatchObject({ text: 'Our card processor answers slowly.', phase: 'identified', label: expect.stringMatching(/UTC — Identified$/) });
    const html = (await app.inject({ url: '/status' })).body;
    expect(html).toContain('Payments delayed');
    expect(html).toMatch(/UTC — Identified:<\/span> Our card processor answers slowly\./);
  });

  it('creates a retroactive post from past times', async () => {
    const [openedAt, resolvedAt] = [minutesAgo(300), minutesAgo(280)];
    const res = await create({ title: 'DNS failures last night', components: [{ id: 'dns', impact: 'major_outage' }], opened_at: openedAt, resolved_at: resolvedAt });
    expect(res.statusCode).toBe(201);
    const doc = res.json<SummarisedIncident>();
    expect(doc).toMatchObject({ status: 'resolved', severity: 'critical', opened_at: openedAt, resolved_at: resolvedAt });
    expect(doc.timeline.map((e) => e.kind)).toEqual(['opened', 'resolved', 'confirmed']);
    expect(doc.timeline[2]?.text).toMatch(/^Confirmed by ops \(retroactive: resolved at \d\d:\d\d UTC\)$/);
  });

  it.each([
    [{ components: [{ id: 'dns', impact: 'major_outage' }] }, 'title: required'],
    [{ title: 'x', components: [] }, 'components: must list at least one component'],
    [{ title: 'x', components: [{ id: 'nope', impact: 'major_outage' }] }, 'components.0.id: no component nope in the config'],
    [{ title: 'x', components: [{ id: 'dns', impact: 'down' }] }, 'components.0.impact: expected one of degraded_performance, partial_outage, major_outage'],
    [{ title: 'x'.repeat(201), components: [{ id: 'dns', impact: 'major_outage' }] }, 'title: at most 200 characters'],
    [{ title: 'x', components: [{ id: 'dns', impact: 'major_outage' }], opened_at: 'yesterday' }, 'opened_at: expected an RFC 3339 time with an offset, e.g. 2024-11-18T21:00:00Z'],
    [{ title: 'x', components: [{ id: 'dns', impact: 'major_outage' }], opened_at: new Date(Date.now() + 3_600_000).toISOString() }, 'opened_at: must not be in the future'],
    [{ title: 'x', components: [{ id: 'dns', impact: 'major_outage' }], opened_at: minutesAgo(10), resolved_at: minutesAgo(20) }, 'resolved_at: must not be before opened_at'],
    [{ title: 'x', components: [{ id: 'dns', impact: 'major_outage' }], update: { text: 'y', phase: 'fixed' } }, 'update.phase: expected one of investigating, identified, monitoring, resolved'],
    [{ title: 'x', components: [{ id: 'dns', impact: 'major_outage' }], review: 'pending' }, 'review: unknown field'],
  ])('refuses %j with a 400 naming the field', async (body, message) => {
    const before = (await store.listIncidents()).length;
    const res = await create(body);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: { code: 'INVALID', message } });
    expect(await store.listIncidents()).toHaveLength(before);
  });

  it('refuses a body over 1 MiB with a 413', async () => {
    const huge = { title: 'x', components: [{ id: 'dns', impact: 'major_outage' }], update: { text: 'y'.repeat(1100 * 1024) } };
    const res = await create(huge);
    expect(res.statusCode).toBe(413);
    expect(res.json().error.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('lets only operators create and edit (401 without a token, 403 for a viewer)', async () => {
    const body = { title: 'x', components: [{ id: 'dns', impact: 'major_outage' }] };
    expect((await app.inject({ method: 'POST', url: '/api/v1/incidents', payload: body })).statusCode).toBe(401);
    expect((await create(body, VIEW)).statusCode).toBe(403);
    expect((await patch(draft, { title: 'x' }, VIEW)).statusCode).toBe(403);
  });

  it('edits a draft: title, components and impacts, recorded in the timeline with its author', async () => {
    const res = await patch(draft, { title: 'Shop checkout failing', components: [{ id: 'web', impact: 'partial_outage' }, { id: 'dns', impact: 'degraded_performance' }] });
    expect(res.statusCode).toBe(200);
    const doc = res.json<SummarisedIncident>();
    expect(doc).toMatchObject({
      review: 'pending',
      title: 'Shop checkout failing',
      components: [{ id: 'web', impact: 'partial_outage' }, { id: 'dns', impact: 'degraded_performance' }],
      severity: 'major',
      regions: ['PAR'],
      overrides: { title: true, impacts: { web: 'partial_outage', dns: 'degraded_performance' }, removed: [] },
    });
    expect(doc.timeline.at(-1)).toMatchObject({
      kind: 'edited',
      author: 'ops',
      text: 'Title changed to “Shop checkout failing”. Impact: Web shop: partial outage and DNS: degraded performance.',
    });
    // A draft stays private: the edit is public only once it is confirmed.
    expect((await statusJson()).incidents.map((i) => i.id)).not.toContain(draft);
  });

  it('refuses an edit that changes nothing, of an unknown incident, or with a bad body', async () => {
    expect((await patch(draft, { title: 'Shop checkout failing' })).json()).toEqual({
      error: { code: 'INVALID', message: 'body: nothing to change (the title and components are as given)' },
    });
    expect((await patch(draft, {})).json()).toEqual({ error: { code: 'INVALID', message: 'body: expected title, components, set or remove' } });
    expect((await patch(draft, { components: [{ id: 'ghost', impact: 'major_outage' }] })).json()).toEqual({
      error: { code: 'INVALID', message: 'components.0.id: no component ghost in the config' },
    });
    expect((await patch(draft, { status: 'resolved' })).json().error.message).toBe('status: unknown field; body: expected title, components, set or remove');
    expect((await patch('inc_missing', { title: 'x' })).statusCode).toBe(404);
  });

  it('edits components by changes (set, remove) applied to the stored list; refuses what would empty it', async () => {
    const res = await patch(draft, { set: [{ id: 'api', impact: 'partial_outage' }], remove: ['dns'] });
    expect(res.statusCode).toBe(200);
    expect(res.json<SummarisedIncident>().components).toEqual([{ id: 'web', impact: 'partial_outage' }, { id: 'api', impact: 'partial_outage' }]);
    expect(res.json<SummarisedIncident>().timeline.at(-1)).toMatchObject({ kind: 'edited', text: 'Impact: Public API: partial outage. No longer affected: DNS.' });
    const refused = [
      [{ remove: ['web', 'api'] }, 'remove: an incident keeps at least one component'],
      [{ remove: ['dns'] }, 'remove: dns is not a component of this incident'],
      [{ set: [{ id: 'ghost', impact: 'major_outage' }] }, 'set.0.id: no component ghost in the config'],
      [{ set: [{ id: 'dns', impact: 'down' }] }, 'set.0.impact: expected one of degraded_performance, partial_outage, major_outage'],
      [{ remove: [''] }, 'remove.0: must not be empty'],
      [{ components: [{ id: 'web', impact: 'major_outage' }], remove: ['api'] }, 'components: the whole list, or changes (set, remove), not both'],
    ] as const;
    for (const [body, message] of refused) {
      const bad = await patch(draft, body);
      expect(bad.statusCode).toBe(400);
      expect(bad.json()).toEqual({ error: { code: 'INVALID', message } });
    }
    expect((await store.getIncident(draft))?.incident.components.map((c) => c.id)).toEqual(['web', 'api']);
  });

  it('adds a note in a phase; refuses an unknown phase; the status page heads the update with it', async () => {
    expect((await app.inject({ method: 'POST', url: `/api/v1/incidents/${draft}/confirm`, headers: auth(OPS), payload: {} })).statusCode).toBe(200);
    const bad = await note(draft, { text: 'x', phase: 'done' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toEqual({ error: { code: 'INVALID', message: 'phase: expected one of investigating, identified, monitoring, resolved' } });
    const res = await note(draft, { text: 'A fix is rolling out.', phase: 'monitoring' });
    expect(res.statusCode).toBe(200);
    expect(res.json<SummarisedIncident>().timeline.at(-1)).toMatchObject({ kind: 'note', text: 'A fix is rolling out.', phase: 'monitoring' });
    const page = (await statusJson()).incidents.find((i) => i.id === draft);
    expect(page?.title).toBe('Shop checkout failing');
    const entries = page?.timeline ?? [];
    expect(entries.find((e) => e.kind === 'edited')).toMatchObject({ label: expect.stringMatching(/^EDIT \d\d:\d\d UTC$/) });
    expect(entries.find((e) => e.kind === 'edited')).not.toHaveProperty('phase');
    expect(entries.at(-1)).toMatchObject({ text: 'A fix is rolling out.', phase: 'monitoring', label: expect.stringMatching(/^EDIT \d\d:\d\d UTC — Monitoring$/) });
    // The detector's own entries carry none.
    expect(entries.filter((e) => e.kind !== 'note' && e.kind !== 'edited').every((e) => !('phase' in e))).toBe(true);
  });

  it('refuses to edit a dismissed incident (409)', async () => {
    const dismissed = await app.inject({ method: 'POST', url: `/api/v1/incidents/${other}/dismiss`, headers: auth(OPS), payload: { reason: 'test probe' } });
    expect(dismissed.statusCode).toBe(200);
    const res = await patch(other, { title: 'x' });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toEqual({ error: { code: 'CONFLICT', message: `incident ${other} is dismissed: only drafts and published incidents are edited` } });
    expect((await store.getIncident(other))?.incident.timeline.some((e) => e.kind === 'edited')).toBe(false);
  });

  it('describes the new bodies in the OpenAPI document', async () => {
    const doc = (await app.inject({ url: '/api/v1/openapi.json' })).json<{ paths: Record<string, Record<string, { responses: Record<string, unknown>; requestBody?: unknown }>>; components: { schemas: Record<string, { properties?: Record<string, unknown> }> } }>();
    expect(doc.paths['/api/v1/incidents']?.post?.responses).toHaveProperty('201');
    expect(doc.paths['/api/v1/incidents']?.post?.requestBody).toMatchObject({ content: { 'application/json': { schema: { $ref: '#/components/schemas/CreateIncidentBody' } } } });
    expect(doc.paths['/api/v1/incidents/{id}']?.patch?.requestBody).toMatchObject({ content: { 'application/json': { schema: { $ref: '#/components/schemas/EditIncidentBody' } } } });
    expect(Object.keys(doc.components.schemas.NoteBody?.properties ?? {})).toEqual(['text', 'phase']);
    expect(Object.keys(doc.components.schemas.CreateIncidentBody?.properties ?? {})).toEqual(['title', 'components', 'opened_at', 'resolved_at', 'update']);
    expect(Object.keys(doc.components.schemas.EditIncidentBody?.properties ?? {})).toEqual(['title', 'components', 'set', 'remove']);
  });
});

describe('operator-written incidents, edits and phases in the console', () => {
  let app: FastifyInstance;
  let store: SqliteStore;
  let writer: IncidentWriter;
  let draft = '';

  beforeAll(async () => {
    let drafts: Map<string, string>;
    ({ app, store, writer, drafts } = await start('console.db', ['web']));
    draft = drafts.get('web') ?? '';
  });
  afterAll(async () => {
    await app.close();
    await store.close();
  });

  function postForm(url: string, form: Record<string, string>, headers: Record<string, string> = {}) {
    return app.inject({
      method: 'POST',
      url,
      headers: { 'content-type': 'application/x-www-form-urlencoded', host: 'console.test', origin: 'http://console.test', ...headers },
      payload: new URLSearchParams(form).toString(),
    });
  }

  async function signIn(token: string): Promise<{ cookie: string; csrf: string }> {
    const form = await app.inject({ url: '/console/sign-in' });
    const pre = cookieValue(form, 'tocsin_signin') ?? '';
    const res = await postForm('/console/sign-in', { _csrf: hidden(form.body, '_csrf'), token }, { cookie: `tocsin_signin=${pre}` });
    expect(res.statusCode).toBe(303);
    const cookie = `tocsin_session=${cookieValue(res, 'tocsin_session') ?? ''}`;
    const page = await app.inject({ url: '/', headers: { cookie } });
    return { cookie, csrf: hidden(page.body, '_csrf') };
  }

  /** The flash message of the page the console redirected to. */
  async function flash(cookie: string): Promise<string> {
    const page = await app.inject({ url: '/', headers: { cookie } });
    return /<p class="flash (?:ok|error)"[^>]*>([^<]*)<\/p>/.exec(page.body)?.[1] ?? '';
  }

  it('publishes an incident written in the form, its times read as UTC', async () => {
    const { cookie, csrf } = await signIn(OPS);
    const res = await postForm(
      '/console/incidents',
      { _csrf: csrf, title: 'DNS outage', components: 'dns=major\napi=degraded_performance', opened_at: '2024-11-18T02:00', resolved_at: '2024-11-18T02:25', update: 'Our DNS provider failed.', phase: 'identified' },
      { cookie },
    );
    expect(res.statusCode).toBe(303);
    const created = (await store.listIncidents()).find((i) => i.title === 'DNS outage');
    expect(created).toMatchObject({
      review: 'confirmed',
      status: 'resolved',
      opened_at: '2024-11-18T02:00:00.000Z',
      resolved_at: '2024-11-18T02:25:00.000Z',
      components: [{ id: 'dns', impact: 'major_outage' }, { id: 'api', impact: 'degraded_performance' }],
    });
    expect(created?.timeline[0]).toMatchObject({ kind: 'opened', text: 'Our DNS provider failed.', phase: 'identified', author: 'ops' });
    expect(res.headers.location).toBe(`/#${created?.id}`);
    expect(await flash(cookie)).toBe(`Published ${created?.id}: DNS outage`);
  });

  it('says what is wrong with a form instead of publishing it', async () => {
    const { cookie, csrf } = await signIn(OPS);
    const before = (await store.listIncidents()).length;
    expect((await postForm('/console/incidents', { _csrf: csrf, title: 'x', components: 'dns=broken' }, { cookie })).statusCode).toBe(303);
    expect(await flash(cookie)).toContain('Could not publish the incident: components: line 1: expected ID=IMPACT');
    await postForm('/console/incidents', { _csrf: csrf, title: 'x', components: 'ghost=major' }, { cookie });
    expect(await flash(cookie)).toBe('Could not publish the incident: components.0.id: no component ghost in the config');
    expect(await store.listIncidents()).toHaveLength(before);
  });

  it('edits a draft from its card and adds a note in a phase', async () => {
    const { cookie, csrf } = await signIn(OPS);
    const edit = await postForm(`/console/incidents/${draft}/edit`, { _csrf: csrf, title: 'Shop down', set: 'api=partial', remove: '' }, { cookie });
    expect(edit.statusCode).toBe(303);
    let doc = (await store.getIncident(draft))?.incident;
    expect(doc).toMatchObject({ title: 'Shop down', components: [{ id: 'web', impact: 'major_outage' }, { id: 'api', impact: 'partial_outage' }] });
    await postForm(`/console/incidents/${draft}/edit`, { _csrf: csrf, title: 'Shop down', set: '', remove: 'web' }, { cookie });
    doc = (await store.getIncident(draft))?.incident;
    expect(doc?.components).toEqual([{ id: 'api', impact: 'partial_outage' }]);
    expect(doc?.timeline.filter((e) => e.kind === 'edited').map((e) => [e.author, e.text])).toEqual([
      ['ops', 'Title changed to “Shop down”. Impact: Public API: partial outage.'],
      ['ops', 'No longer affected: Web shop.'],
    ]);
    await postForm(`/console/incidents/${draft}/edit`, { _csrf: csrf, title: 'Shop down', set: '', remove: 'web' }, { cookie });
    expect(await flash(cookie)).toBe(`Could not edit ${draft}: remove: web is not a component of this incident`);
    await postForm(`/console/incidents/${draft}/notes`, { _csrf: csrf, text: 'Found it', phase: 'identified' }, { cookie });
    expect((await store.getIncident(draft))?.incident.timeline.at(-1)).toMatchObject({ kind: 'note', text: 'Found it', phase: 'identified' });
    await postForm(`/console/incidents/${draft}/notes`, { _csrf: csrf, text: 'x', phase: 'later' }, { cookie });
    expect(await flash(cookie)).toBe(`Could not add the note to ${draft}: phase: expected one of investigating, identified, monitoring, resolved`);
  });

  it('sends an edit\'s changes, so a component the detector adds after the page was drawn survives a removal', async () => {
    const { cookie, csrf } = await signIn(OPS);
    await postForm(`/console/incidents/${draft}/edit`, { _csrf: csrf, title: 'Shop down', set: 'web=major', remove: '' }, { cookie });
    const page = await app.inject({ url: `/console/incidents/${draft}`, headers: { cookie } });
    expect(page.body).toContain('Public API');
    expect(page.body).not.toContain('DNS');
    // The detector writes dns into the incident while the operator looks at the page.
    const seen = (await store.getIncident(draft))?.incident;
    if (!seen) throw new Error('no draft');
    const added = { ...seen, components: [...seen.components, { id: 'dns', impact: 'major_outage' as const }] };
    await writer.apply([{ incident: added, appended: [], opened: false, rule: 'test', firstFailureMs: Date.parse(seen.opened_at) }]);
    // The operator removes api, as the page showed it.
    await postForm(`/console/incidents/${draft}/edit`, { _csrf: csrf, title: 'Shop down', set: '', remove: 'api' }, { cookie });
    expect(await flash(cookie)).toBe(`Edited ${draft}: Shop down`);
    expect((await store.getIncident(draft))?.incident.components).toEqual([
      { id: 'web', impact: 'major_outage' },
      { id: 'dns', impact: 'major_outage' },
    ]);
  });

  it('refuses a viewer and a post without its CSRF token', async () => {
    const viewer = await signIn(VIEW);
    const before = (await store.listIncidents()).length;
    expect((await postForm('/console/incidents', { _csrf: viewer.csrf, title: 'x', components: 'dns=major' }, { cookie: viewer.cookie })).statusCode).toBe(403);
    const ops = await signIn(OPS);
    expect((await postForm('/console/incidents', { title: 'x', components: 'dns=major' }, { cookie: ops.cookie })).statusCode).toBe(403);
    expect((await postForm(`/console/incidents/${draft}/edit`, { _csrf: viewer.csrf, title: 'y' }, { cookie: viewer.cookie })).statusCode).toBe(403);
    expect(await store.listIncidents()).toHaveLength(before);
  });
});
