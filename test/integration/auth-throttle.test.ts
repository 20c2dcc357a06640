import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpProbe } from '../../probes/http.js';
import { TokenTable } from '../../src/auth/tokens.js';
import { buildApi } from '../../src/api/server.js';
import { AuthThrottle } from '../../src/api/throttle.js';
import { IncidentWriter } from '../../src/incidents/manager.js';
import { createLogger } from '../../src/log.js';
import { createMetrics } from '../../src/metrics/registry.js';
import { InlineQueue } from '../../src/queue/inline.js';
import { ResultsBus } from '../../src/results/bus.js';
import { LatestResults } from '../../src/results/latest.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { runCli } from '../helpers/cli.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { makePlan } from '../helpers/plan.js';

const dir = mkdtempSync(join(tmpdir(), 'tocsin-throttle-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const OPS = 'throttle-operator-secret-0123456789';

describe('guessing bearer tokens costs time', () => {
  const plan = makePlan([{ id: 'web', kind: 'http' }], {
    server: { listen: { host: '127.0.0.1', port: 0 }, tokens: [{ name: 'ops', role: 'operator', token_env: 'T_OPS' }] },
  });
  const clock = new FakeClock();
  const metrics = createMetrics({ version: 'test', processMetrics: false });
  const store = SqliteStore.open(join(dir, 'api.db'));
  let app: FastifyInstance;
  let url: string;

  beforeAll(async () => {
    const logger = createLogger('silent');
    const bus = new ResultsBus();
    const queue = new InlineQueue({ kinds: { http: httpProbe }, bus, metrics, clock, logger, vantage: 'local', concurrency: 1 });
    const incidents = { store, clock, writer: new IncidentWriter(store) };
    const tokens = TokenTable.fromPlan(plan, { T_OPS: OPS });
    const throttle = new AuthThrottle({ clock });
    app = buildApi({ plan, store, queue, latest: new LatestResults(), metrics, tokens, logger, incidents, throttle });
    url = await app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await app.close();
    await store.close();
  });

  const get = (token: string) => fetch(`${url}/api/v1/components`, { headers: { authorization: `Bearer ${token}` } });

  it('10 wrong tokens, then the right one: 429 with Retry-After; after the wait it works', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) statuses.push((await get(`wrong-guess-${i}`)).status);
    // 5 failures are checked (401); the fifth starts a 1 s backoff, during which nothing is checked.
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429, 429, 429, 429]);

    const refused = await get(OPS);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(await refused.json()).toEqual({
      error: { code: 'RATE_LIMITED', message: 'too many failed authentications from this address; retry in 1 s' },
    });

    clock.advance(1000);
    expect((await get(OPS)).status).toBe(200);
    // The success reset the address: the next wrong token is a plain 401.
    expect((await get('wrong-again')).status).toBe(401);
  });

  it('counts checked failures in tocsin_auth_failures_total{kind="bearer"}', async () => {
    const text = await (await fetch(`${url}/metrics`)).text();
    expect(text).toContain('# TYPE tocsin_auth_failures_total counter');
    expect(text).toContain('tocsin_auth_failures_total{kind="bearer"} 6');
  });

  it('console sign-in: failures count, back off the address (429, Retry-After), the right token waits too', async () => {
    // One backoff per address for both kinds: start clean (a success resets it).
    expect((await get(OPS)).status).toBe(200);
    const form = await app.inject({ url: '/console/sign-in' });
    const pre = /tocsin_signin=([^;]+)/.exec(String(form.headers['set-cookie']))?.[1] ?? '';
    const csrf = /name="_csrf" value="([^"]+)"/.exec(form.body)?.[1] ?? '';
    const post = (token: string) =>
      app.inject({
        method: 'POST',
        url: '/console/sign-in',
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `tocsin_signin=${pre}` },
        payload: new URLSearchParams({ _csrf: csrf, token }).toString(),
      });
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await post(`console-guess-${i}`)).statusCode);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
    const refused = await post(OPS);
    expect(refused.statusCode).toBe(429);
    expect(refused.headers['retry-after']).toBe('1');
    expect(refused.body).toContain('Too many failed sign-ins from this address: try again in 1 s.');
    clock.advance(1000);
    expect((await post(OPS)).statusCode).toBe(303);
    const text = await (await fetch(`${url}/metrics`)).text();
    expect(text).toContain('tocsin_auth_failures_total{kind="console"} 5');
  });

  it('a request without a token is refused (401) but not counted as a guess', async () => {
    for (let i = 0; i < 10; i++) expect((await fetch(`${url}/api/v1/components`)).status).toBe(401);
    expect((await get(OPS)).status).toBe(200);
  });
});

describe('short configured tokens', () => {
  it('a 10-character token refuses to start, naming the token, never its value', async () => {
    const configFile = join(dir, 'short.yml');
    writeFileSync(
      configFile,
      `server: { listen: 127.0.0.1:0, tokens: [{ name: ops, role: operator, token_env: TOCSIN_SHORT_TOKEN }] }
store: { kind: sqlite, path: ${join(dir, 'short.db')} }
components:
  - { id: shop, name: Web shop }
probes:
  - { id: shop-home, kind: http, component: shop, url: "http://127.0.0.1:9/", interval: 10s, timeout: 1s }
`,
    );
    const run = await runCli(['run', '--config', configFile], { cwd: dir, env: { TOCSIN_SHORT_TOKEN: 'abcdefghij' } });
    expect(run.code).not.toBe(0);
    const out = run.stdout + run.stderr;
    expect(out).toContain('token "ops" (TOCSIN_SHORT_TOKEN) is 10 characters; tokens need at least 24');
    expect(out).not.toContain('abcdefghij');
  });
});

describe('behind a proxy (server.trust_proxy)', () => {
  const apps: FastifyInstance[] = [];
  const stores: SqliteStore[] = [];
  afterAll(async () => {
    for (const a of apps) await a.close();
    for (const s of stores) await s.close();
  });

  /** A daemon API on loopback; `trust` is server.trust_proxy (undefined: the default, off). */
  async function start(trust: boolean | string[] | undefined): Promise<string> {
    const plan = makePlan([{ id: 'web', kind: 'http' }], {
      server: {
        listen: { host: '127.0.0.1', port: 0 },
        tokens: [{ name: 'ops', role: 'operator', token_env: 'T_OPS' }],
        ...(trust !== undefined ? { trust_proxy: trust } : {}),
      },
    });
    const clock = new FakeClock();
    const metrics = createMetrics({ version: 'test', processMetrics: false });
    const store = SqliteStore.open(join(dir, `proxy-${stores.length}.db`));
    stores.push(store);
    const logger = createLogger('silent');
    const queue = new InlineQueue({ kinds: { http: httpProbe }, bus: new ResultsBus(), metrics, clock, logger, vantage: 'local', concurrency: 1 });
    const incidents = { store, clock, writer: new IncidentWriter(store) };
    const tokens = TokenTable.fromPlan(plan, { T_OPS: OPS });
    const throttle = new AuthThrottle({ clock });
    const latest = new LatestResults();
    const app = buildApi({ plan, store, queue, latest, metrics, tokens, logger, incidents, throttle });
    apps.push(app);
    return app.listen({ host: '127.0.0.1', port: 0 });
  }

  const get = (url: string, token: string, client: string) =>
    fetch(`${url}/api/v1/components`, { headers: { authorization: `Bearer ${token}`, 'x-forwarded-for': client } });
  const signInCookie = async (url: string): Promise<string> => {
    const res = await fetch(`${url}/console/sign-in`, { headers: { 'x-forwarded-proto': 'https' } });
    expect(res.status).toBe(200);
    return res.headers.getSetCookie().find((c) => c.startsWith('tocsin_signin=')) ?? '';
  };

  it('trusted: the backoff is per forwarded client, and cookies are Secure when the proxy terminated TLS', async () => {
    const url = await start(['127.0.0.1']);
    const guesses: number[] = [];
    for (let i = 0; i < 6; i++) guesses.push((await get(url, `wrong-${i}`, '203.0.113.7')).status);
    expect(guesses).toEqual([401, 401, 401, 401, 401, 429]);
    // Another client behind the same proxy is not held back by the first one's guesses.
    expect((await get(url, OPS, '203.0.113.8')).status).toBe(200);
    expect((await get(url, OPS, '203.0.113.7')).status).toBe(429);
    expect(await signInCookie(url)).toMatch(/; Secure$/);
  });

  it('not trusted (the default): X-Forwarded-* from anyone are ignored', async () => {
    const url = await start(undefined);
    // Each guess claims another client: the backoff still counts the connection's own address.
    for (let i = 0; i < 5; i++) expect((await get(url, `wrong-${i}`, `198.51.100.${i}`)).status).toBe(401);
    expect((await get(url, OPS, '198.51.100.200')).status).toBe(429);
    expect(await signInCookie(url)).not.toContain('Secure');
  });

  it('a proxy list that does not name the sender is not believed', async () => {
    const url = await start(['10.0.0.0/8']);
    for (let i = 0; i < 5; i++) expect((await get(url, `wrong-${i}`, `198.51.100.${i}`)).status).toBe(401);
    expect((await get(url, OPS, '198.51.100.200')).status).toBe(429);
    expect(await signInCookie(url)).not.toContain('Secure');
  });

  it('check-config names a trust_proxy entry that is not an address or range, with its line', async () => {
    const file = join(dir, 'proxy.yml');
    writeFileSync(
      file,
      ['server:', '  trust_proxy:', '    - 10.0.0.0/8', '    - proxy.internal', 'components: [{ id: app, name: App }]', 'probes: []', ''].join('\n'),
    );
    const r = await runCli(['check-config', '--config', file]);
    expect(r.code).not.toBe(0);
    expect(r.stderr + r.stdout).toContain(`${file}:4: server.trust_proxy[1]: expected an IP address or a CIDR range (10.0.0.0/8)`);
  });
});
