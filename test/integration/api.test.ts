import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpProbe } from '../../probes/http.js';
import { TokenTable } from '../../src/auth/tokens.js';
import { buildApi } from '../../src/api/server.js';
import { systemClock } from '../../src/clock.js';
import type { Plan } from '../../src/config/plan.js';
import { IncidentWriter } from '../../src/incidents/manager.js';
import { createLogger } from '../../src/log.js';
import { createMetrics } from '../../src/metrics/registry.js';
import { InlineQueue } from '../../src/queue/inline.js';
import { ResultsBus } from '../../src/results/bus.js';
import { LatestResults } from '../../src/results/latest.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { makePlan } from '../helpers/plan.js';

const dir = mkdtempSync(join(tmpdir(), 'tocsin-api-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function context(plan: Plan, env: NodeJS.ProcessEnv = {}) {
  const logger = createLogger('silent');
  const metrics = createMetrics({ version: 'test', processMetrics: false });
  const bus = new ResultsBus();
  const queue = new InlineQueue({ kinds: { http: httpProbe }, bus, metrics, clock: systemClock, logger, vantage: 'local', concurrency: 4 });
  const store = SqliteStore.open(join(dir, `${Math.random().toString(36).slice(2)}.db`));
  const latest = new LatestResults();
  const incidents = { store, clock: systemClock, writer: new IncidentWriter(store) };
  const tokens = TokenTable.fromPlan(plan, env);
  const app = buildApi({ plan, store, queue, latest, metrics, tokens, logger, incidents });
  return { app, queue, store, latest };
}

describe('API', () => {
  const plan = makePlan([{ id: 'web', kind: 'http' }], {
    server: {
      listen: { host: '127.0.0.1', port: 0 },
      tokens: [
        { name: 'ops', role: 'operator', token_env: 'T_OPS' },
        { name: 'dash', role: 'viewer', token_env: 'T_VIEW' },
      ],
    },
  });
  const env = { T_OPS: 'operator-secret-0123456789ab', T_VIEW: 'viewer-secret-0123456789abc' };
  let ctx: ReturnType<typeof context>;
  beforeAll(() => {
    ctx = context(plan, env);
  });
  afterAll(async () => {
    await ctx.app.close();
    await ctx.store.close();
  });

  it('readyz is 503 with the reason until the scheduler runs, then 200', async () => {
    const before = await ctx.app.inject({ url: '/readyz' });
    expect(before.statusCode).toBe(503);
    expect(before.json()).toEqual({ status: 'unavailable', reason: 'scheduler not running' });
    await ctx.queue.start();
    expect((await ctx.app.inject({ url: '/readyz' })).statusCode).toBe(200);
    await ctx.queue.stop(0);
  });

  it('readyz is 503 when the store is gone', async () => {
    const other = context(plan, env);
    await other.queue.start();
    await other.store.close();
    const res = await other.app.inject({ url: '/readyz' });
    expect(res.statusCode).toBe(503);
    expect(res.json().reason).toMatch(/store unreachable/);
    await other.queue.stop(0);
    await other.app.close();
  });

  it('accepts viewer and operator tokens for reads, and nothing else', async () => {
    ctx.latest.record({ at: '2026-01-01T00:00:00.000Z', probe: 'web', target: 't0', vantage: 'local', ok: false, error: 'timeout' });
    for (const token of ['viewer-secret-0123456789abc', 'operator-secret-0123456789ab']) {
      const res = await ctx.app.inject({ url: '/api/v1/probes', headers: { authorization: `Bearer ${token}` } });
      expect(res.statusCode).toBe(200);
      expect(res.json().probes[0]).toMatchObject({ id: 'web', interval: '1s', latest: [{ ok: false, error: 'timeout' }] });
    }
    for (const headers of [{}, { authorization: 'Bearer nope' }, { authorization: 'Basic b3BzOm9wcw==' }, { authorization: 'Bearer ' }]) {
      const res = await ctx.app.inject({ url: '/api/v1/probes', headers });
      expect(res.statusCode).toBe(401);
      expect(res.json()).toEqual({ error: { code: 'UNAUTHORIZED', message: 'missing or unknown bearer token' } });
    }
  });

  it('answers unknown routes with the error shape, never a stack trace', async () => {
    const res = await ctx.app.inject({ url: '/api/v1/nope' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: { code: 'NOT_FOUND', message: 'no route GET /api/v1/nope' } });
  });

  it('exposes metrics in the Prometheus text format', async () => {
    const res = await ctx.app.inject({ url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.body).toContain('# TYPE tocsin_scheduler_lag_seconds histogram');
  });
});

describe('local operator token', () => {
  it('is generated once, 0600, in the data directory, when the config names no token', () => {
    const dataDir = join(dir, 'fresh');
    const plan = makePlan([], { store: { kind: 'sqlite', path: join(dataDir, 'tocsin.db') } });
    const table = TokenTable.fromPlan(plan, {});
    const file = join(dataDir, 'operator.token');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const token = readFileSync(file, 'utf8').trim();
    expect(token.length).toBeGreaterThanOrEqual(40);
    expect(table.authenticate(token)).toEqual({ name: 'local-operator', role: 'operator' });
    expect(table.authenticate(`${token}x`)).toBeUndefined();
    // A second start keeps the same token.
    TokenTable.fromPlan(plan, {});
    expect(readFileSync(file, 'utf8').trim()).toBe(token);
  });

  it('is not generated when tokens are configured, and an unset variable grants nothing', () => {
    const dataDir = join(dir, 'configured');
    const plan = makePlan([], {
      store: { kind: 'sqlite', path: join(dataDir, 'tocsin.db') },
      server: { listen: { host: '127.0.0.1', port: 0 }, tokens: [{ name: 'ops', role: 'operator', token_env: 'UNSET_VAR' }] },
    });
    const table = TokenTable.fromPlan(plan, {});
    expect(table.authenticate('')).toBeUndefined();
    expect(() => statSync(join(dataDir, 'operator.token'))).toThrow();
  });
});
