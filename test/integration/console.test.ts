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
import { ResultHistory } from '../../src/console/history.js';
import { createEngine, type Engine } from '../../src/engine/engine.js';
import { rulesForPlan } from '../../src/engine/pack.js';
import { IncidentWriter } from '../../src/incidents/manager.js';
import { createLogger } from '../../src/log.js';
import { createMetrics } from '../../src/metrics/registry.js';
import { InlineQueue } from '../../src/queue/inline.js';
import { ResultsBus } from '../../src/results/bus.js';
import { LatestResults } from '../../src/results/latest.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { cookies, cookieValue, hidden } from '../helpers/console-forms.js';
import { appId, largeIncident } from '../helpers/large-incident.js';
import { makePlan } from '../helpers/plan.js';
import { saveDoc } from '../helpers/store-writes.js';

// The operator console over HTTP (fastify.inject) on a real SQLite store, a real IncidentWriter
// and a real rules engine fed synthetic failures: sign-in, cookies, CSRF, roles, the verbs.

const OPS = 'operator-secret-7d1e-0123456789';
const VIEW = 'viewer-secret-2a9f-0123456789';
const COMPONENTS = ['c1', 'c2', 'c3', 'c4', 'c5'];
const dir = mkdtempSync(join(tmpdir(), 'tocsin-console-'));

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
      // Config text is not markup: the first name must come out escaped.
      name: i === 0 ? '<img src=x onerror=alert(1)> Shop' : `Component ${c}`,
      group: i < 2 ? 'Apps' : 'Infra',
      depends_on: [],
      source: { file: '/dev/null', line: i + 1 },
    })),
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

describe('operator console over HTTP', () => {
  let app: FastifyInstance;
  let store: SqliteStore;
  const ids: Record<string, string> = {};
  const history = new ResultHistory();
  const latest = new LatestResults();

  beforeAll(async () => {
    const logger = createLogger('silent');
    const metrics = createMetrics({ version: 'test', processMetrics: false });
    const queue = new InlineQueue({ kinds: { http: httpProbe }, bus: new ResultsBus(), metrics, clock: systemClock, logger, vantage: 'local', concurrency: 1 });
    store = SqliteStore.open(join(dir, 'console.db'));
    const writer = new IncidentWriter(store);
    const engine = createEngine({ plan, rules: rulesForPlan(plan) });
    const base = Date.now() - 30 * 60_000;
    for (const [i, c] of COMPONENTS.entries()) await fail(engine, writer, c, base + i * 60_000);
    for (const inc of await store.listIncidents()) ids[inc.root_component] = inc.id;
    // Probe results for the probes table: two successes and a failure on c2's series.
    for (const [k, ok] of [true, true, false].entries()) {
      const r = { at: new Date(Date.now() - (3 - k) * 1000).toISOString(), probe: 'c2-http', target: 'http://c2.test/', vantage: 'local', ok, duration_ms: 10 + k * 5, ...(ok ? {} : { error: 'timeout' as const }) };
      latest.record(r);
      history.record(r);
    }
    const tokens = TokenTable.fromPlan(plan, { T_OPS: OPS, T_VIEW: VIEW });
    const incidents = { store, clock: systemClock, writer, engine };
    app = buildApi({ plan, store, queue, latest, metrics, tokens, logger, incidents, history });
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const idOf = (c: string): string => {
    const id = ids[c];
    if (!id) throw new Error(`no incident for ${c}`);
    return id;
  };

  /** The sign-in form: its CSRF cookie and field. */
  async function signInForm(): Promise<{ pre: string; field: string }> {
    const res = await app.inject({ url: '/console/sign-in' });
    expect(res.statusCode).toBe(200);
    const pre = cookieValue(res, 'tocsin_signin');
    if (!pre) throw new Error('no sign-in cookie');
    return { pre, field: hidden(res.body, '_csrf') };
  }

  function postForm(url: string, form: Record<string, string>, headers: Record<string, string> = {}) {
    return app.inject({
      method: 'POST',
      url,
      headers: { 'content-type': 'application/x-www-form-urlencoded', host: 'console.test', ...headers },
      payload: new URLSearchParams(form).toString(),
    });
  }

  /** Signs in and returns the session cookie and the page's CSRF token. */
  async function signIn(token: string): Promise<{ cookie: string; csrf: string; page: string }> {
    const { pre, field } = await signInForm();
    const res = await postForm('/console/sign-in', { _csrf: field, token }, { cookie: `tocsin_signin=${pre}`, origin: 'http://console.test' });
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/');
    const sid = cookieValue(res, 'tocsin_session');
    if (!sid) throw new Error('no session cookie');
    const cookie = `tocsin_session=${sid}`;
    const page = await app.inject({ url: '/', headers: { cookie } });
    expect(page.statusCode).toBe(200);
    return { cookie, csrf: hidden(page.body, '_csrf'), page: page.body };
  }

  const stored = async (c: string) => (await store.getIncident(idOf(c)))?.incident;

  it('sends a visitor without a session to the sign-in form', async () => {
    const res = await app.inject({ url: '/' });
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/console/sign-in');
    const live = await app.inject({ url: '/console/live.json' });
    expect(live.statusCode).toBe(401);
    expect(live.json()).toMatchObject({ error: { code: 'UNAUTHORIZED' } });
  });

  it('refuses a wrong token with an error page and sets no cookie', async () => {
    const { pre, field } = await signInForm();
    const res = await postForm('/console/sign-in', { _csrf: field, token: 'not-a-token-xyz' }, { cookie: `tocsin_signin=${pre}` });
    expect(res.statusCode).toBe(401);
    expect(res.body).toContain('that token is not valid');
    expect(res.body).not.toContain('not-a-token-xyz');
    expect(res.headers['set-cookie']).toBeUndefined();
  });

  it('refuses a sign-in POST without its CSRF token or from another origin', async () => {
    const { pre, field } = await signInForm();
    const noField = await postForm('/console/sign-in', { token: OPS }, { cookie: `tocsin_signin=${pre}` });
    expect(noField.statusCode).toBe(403);
    const noCookie = await postForm('/console/sign-in', { _csrf: field, token: OPS });
    expect(noCookie.statusCode).toBe(403);
    const foreign = await postForm('/console/sign-in', { _csrf: field, token: OPS }, { cookie: `tocsin_signin=${pre}`, origin: 'https://evil.example' });
    expect(foreign.statusCode).toBe(403);
    for (const r of [noField, noCookie, foreign]) expect(cookieValue(r, 'tocsin_session')).toBeUndefined();
  });

  it('signs in with an httpOnly, SameSite=Strict, Path=/ session cookie that is not the token', async () => {
    const { pre, field } = await signInForm();
    const res = await postForm('/console/sign-in', { _csrf: field, token: OPS }, { cookie: `tocsin_signin=${pre}` });
    expect(res.statusCode).toBe(303);
    const session = cookies(res).find((c) => c.startsWith('tocsin_session='));
    expect(session).toBeDefined();
    const attrs = (session ?? '').split(';').map((a) => a.trim());
    expect(attrs).toEqual(expect.arrayContaining(['HttpOnly', 'SameSite=Strict', 'Path=/']));
    // Plain http (the daemon's default): a Secure cookie would never come back.
    expect(attrs).not.toContain('Secure');
    const value = cookieValue(res, 'tocsin_session') ?? '';
    expect(value).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(value).not.toContain(OPS);
    // The one-shot sign-in cookie is cleared.
    expect(cookies(res).find((c) => c.startsWith('tocsin_signin='))).toContain('Max-Age=0');
    // Another sign-in gets another session id.
    const again = await signIn(OPS);
    expect(again.cookie).not.toBe(`tocsin_session=${value}`);
  });

  it('renders drafts first with their evidence, the components board and the probes table', async () => {
    const { page } = await signIn(OPS);
    const drafts = page.indexOf('id="drafts"');
    expect(drafts).toBeGreaterThan(-1);
    expect(drafts).toBeLessThan(page.indexOf('id="open"'));
    expect(page.indexOf('id="open"')).toBeLessThan(page.indexOf('id="components"'));
    for (const c of COMPONENTS) expect(page).toContain(`id="${idOf(c)}"`);
    expect(page).toContain('connect_refused');
    expect(page).toContain('http://c3.test/');
    expect(page).toContain('data-action="confirm"');
    expect(page).toContain('data-action="dismiss"');
    expect(page).toContain('name="reason"');
    // Escaped config text, never markup.
    expect(page).toContain('&lt;img src=x onerror=alert(1)&gt; Shop');
    expect(page).not.toContain('<img src=x');
    // Drafts count on the board (unlike the public page): each component shows its outage.
    expect(page).toMatch(/data-component="c3" data-status="major_outage"/);
    // Probe table with a sparkline of recent durations.
    expect(page).toMatch(/data-probe="c2-http"[\s\S]*<svg class="spark"[^>]*aria-label="last 3 checks: 10–15 ms, 1 failed"/);
    expect(page).toContain('<span class="fail">timeout</span>');
  });

  it('serves pages with a strict CSP, no caching, and the compiled client script', async () => {
    const { cookie } = await signIn(VIEW);
    const page = await app.inject({ url: '/', headers: { cookie } });
    expect(page.headers['content-security-policy']).toContain('script-src \'self\'');
    expect(page.headers['content-security-policy']).toContain('frame-ancestors \'none\'');
    expect(page.headers['cache-control']).toBe('no-store');
    expect(page.body).toContain('<script type="module" src="/console/client.js"></script>');
    const js = await app.inject({ url: '/console/client.js' });
    expect(js.statusCode).toBe(200);
    expect(js.headers['content-type']).toContain('text/javascript');
    expect(js.body).toContain('/console/live.json');
    expect(js.body).not.toContain('sourceMappingURL');
    const css = await app.inject({ url: '/console/console.css' });
    expect(css.headers['content-type']).toContain('text/css');
  });

  it('refuses a console POST without the CSRF token, with a wrong one, or from another origin', async () => {
    const { cookie, csrf } = await signIn(OPS);
    const before = await stored('c1');
    const url = `/console/incidents/${idOf('c1')}/confirm`;
    const none = await postForm(url, {}, { cookie });
    const wrong = await postForm(url, { _csrf: `${csrf.slice(0, -2)}xx` }, { cookie });
    const foreign = await postForm(url, { _csrf: csrf }, { cookie, origin: 'http://evil.example' });
    const foreignReferer = await postForm(url, { _csrf: csrf }, { cookie, referer: 'http://evil.example/page' });
    const opaque = await postForm(url, { _csrf: csrf }, { cookie, origin: 'null' });
    for (const r of [none, wrong, foreign, foreignReferer, opaque]) {
      expect(r.statusCode).toBe(403);
      expect(r.headers['content-type']).toContain('text/html');
    }
    expect(await stored('c1')).toEqual(before);
  });

  it('shows a viewer no action buttons and refuses its mutations with 403', async () => {
    const { cookie, csrf, page } = await signIn(VIEW);
    expect(page).toContain('read only');
    expect(page).not.toContain('data-action="confirm"');
    expect(page).not.toContain('data-action="dismiss"');
    expect(page).not.toContain('/confirm"');
    const before = await stored('c1');
    for (const verb of ['confirm', 'dismiss', 'resolve', 'notes']) {
      const res = await postForm(`/console/incidents/${idOf('c1')}/${verb}`, { _csrf: csrf, reason: 'r', text: 't' }, { cookie, origin: 'http://console.test' });
      expect(res.statusCode).toBe(403);
      expect(res.body).toContain('viewer');
    }
    expect(await stored('c1')).toEqual(before);
  });

  it('confirms and dismisses through the console forms, the timeline author being the token name', async () => {
    const { cookie, csrf } = await signIn(OPS);
    const confirm = await postForm(`/console/incidents/${idOf('c1')}/confirm`, { _csrf: csrf, back: 'home', note: 'We are on it.' }, { cookie, origin: 'http://console.test' });
    expect(confirm.statusCode).toBe(303);
    expect(confirm.headers.location).toBe(`/#${idOf('c1')}`);
    const c1 = await stored('c1');
    expect(c1?.review).toBe('confirmed');
    expect(c1?.timeline.at(-1)).toMatchObject({ kind: 'confirmed', author: 'ops' });
    expect(c1?.timeline.at(-1)?.text).toContain('We are on it.');

    // The flash shows once on the next page, and the incident moved from drafts to open.
    const next = await app.inject({ url: '/', headers: { cookie } });
    expect(next.body).toContain(`Confirmed ${idOf('c1')}`);
    const openSection = next.body.slice(next.body.indexOf('id="open"'), next.body.indexOf('id="recent"'));
    expect(openSection).toContain(`id="${idOf('c1')}"`);
    expect((await app.inject({ url: '/', headers: { cookie } })).body).not.toContain(`Confirmed ${idOf('c1')}`);

    // Dismiss without a reason: nothing changes, the page says why.
    const noReason = await postForm(`/console/incidents/${idOf('c2')}/dismiss`, { _csrf: csrf, reason: '  ' }, { cookie });
    expect(noReason.statusCode).toBe(303);
    expect((await stored('c2'))?.review).toBe('pending');
    expect((await app.inject({ url: '/', headers: { cookie } })).body).toContain('reason: required');

    const dismiss = await postForm(`/console/incidents/${idOf('c2')}/dismiss`, { _csrf: csrf, reason: 'planned switch test' }, { cookie, referer: 'http://console.test/' });
    expect(dismiss.statusCode).toBe(303);
    const c2 = await stored('c2');
    expect(c2?.review).toBe('dismissed');
    expect(c2?.timeline.at(-1)).toMatchObject({ kind: 'dismissed', author: 'ops', text: 'Dismissed by ops: planned switch test' });

    // An illegal transition (confirming a dismissed incident) is a message, not a change.
    await postForm(`/console/incidents/${idOf('c2')}/confirm`, { _csrf: csrf }, { cookie });
    expect((await stored('c2'))?.review).toBe('dismissed');
    expect((await app.inject({ url: '/', headers: { cookie } })).body).toContain('is already dismissed');
  });

  it('resolves and adds notes, returning to the incident page when asked', async () => {
    const { cookie, csrf } = await signIn(OPS);
    const note = await postForm(`/console/incidents/${idOf('c3')}/notes`, { _csrf: csrf, text: 'Looking at <the> switch', back: 'incident' }, { cookie });
    expect(note.statusCode).toBe(303);
    expect(note.headers.location).toBe(`/console/incidents/${idOf('c3')}`);
    const resolve = await postForm(`/console/incidents/${idOf('c3')}/resolve`, { _csrf: csrf, note: 'fixed' }, { cookie });
    expect(resolve.statusCode).toBe(303);
    const c3 = await stored('c3');
    expect(c3?.status).toBe('resolved');
    expect(c3?.timeline.slice(-2).map((e) => [e.kind, e.author])).toEqual([['note', 'ops'], ['resolved', 'ops']]);
    const page = await app.inject({ url: `/console/incidents/${idOf('c3')}`, headers: { cookie } });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('Looking at &lt;the&gt; switch');
    expect((await app.inject({ url: '/console/incidents/inc_nope', headers: { cookie } })).statusCode).toBe(404);
    const unknownVerb = await postForm(`/console/incidents/${idOf('c3')}/delete`, { _csrf: csrf }, { cookie });
    expect(unknownVerb.statusCode).toBe(404);
  });

  it('serves the live sections as JSON for the page script', async () => {
    const { cookie } = await signIn(VIEW);
    const res = await app.inject({ url: '/console/live.json', headers: { cookie } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const body = res.json() as { title: string; sections: Record<string, string> };
    expect(Object.keys(body.sections)).toEqual(['nav', 'drafts', 'open', 'recent', 'components', 'probes']);
    expect(body.sections.drafts).toContain(`data-key="${idOf('c4')}"`);
    expect(body.sections.drafts).toMatch(/data-sig="[0-9a-f]{16}"/);
    expect(body.title).toMatch(/^\(\d+\) Tocsin console$/);
  });

  it('signs out: the session is gone and its cookie cleared', async () => {
    const { cookie, csrf } = await signIn(OPS);
    const noToken = await postForm('/console/sign-out', {}, { cookie });
    expect(noToken.statusCode).toBe(403);
    const out = await postForm('/console/sign-out', { _csrf: csrf }, { cookie, origin: 'http://console.test' });
    expect(out.statusCode).toBe(303);
    expect(out.headers.location).toBe('/console/sign-in');
    expect(cookies(out).find((c) => c.startsWith('tocsin_session='))).toContain('Max-Age=0');
    expect((await app.inject({ url: '/', headers: { cookie } })).statusCode).toBe(303);
    expect((await app.inject({ url: '/console/live.json', headers: { cookie } })).statusCode).toBe(401);
    // The old session's CSRF token and cookie can no longer act.
    const before = await stored('c4');
    const after = await postForm(`/console/incidents/${idOf('c4')}/confirm`, { _csrf: csrf }, { cookie });
    expect(after.statusCode).toBe(401);
    expect(await stored('c4')).toEqual(before);
  });

  it('leaves the JSON API and the public status page where they were', async () => {
    const api = await app.inject({ url: '/api/v1/incidents', headers: { authorization: `Bearer ${VIEW}` } });
    expect(api.statusCode).toBe(200);
    expect((await app.inject({ url: '/status' })).statusCode).toBe(200);
    // A bearer token does not open the console: it is a browser session thing.
    expect((await app.inject({ url: '/', headers: { authorization: `Bearer ${OPS}` } })).statusCode).toBe(303);
  });

  it('keeps the page short with a 10,000-component incident, and lists them all on request', async () => {
    const big = largeIncident(10_000);
    expect((await saveDoc(store, big, null)).ok).toBe(true);
    const { cookie } = await signIn(VIEW);
    const home = await app.inject({ url: '/', headers: { cookie } });
    expect(home.statusCode).toBe(200);
    expect(home.body.length).toBeLessThan(128 * 1024);
    expect(home.body).toContain('<p class="counts">10,001 components: ');
    expect(home.body).toContain(`and 9,981 more · <a href="/console/incidents/${big.id}?components=all" data-show="components">show all</a>`);
    const live = await app.inject({ url: '/console/live.json', headers: { cookie } });
    expect(live.body.length).toBeLessThan(128 * 1024);

    const page = await app.inject({ url: `/console/incidents/${big.id}`, headers: { cookie } });
    expect(page.statusCode).toBe(200);
    expect(page.body.match(/<li><span class="imp /g)).toHaveLength(20);
    const all = await app.inject({ url: `/console/incidents/${big.id}?components=all`, headers: { cookie } });
    expect(all.statusCode).toBe(200);
    expect(all.body.match(/<li><span class="imp /g)).toHaveLength(10_001);
    expect(all.body).toContain(`<code>${appId(9999)}</code>`);
    expect(all.headers['content-security-policy']).toContain('default-src \'none\'');
  });
});
