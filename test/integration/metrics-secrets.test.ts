import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpProbe } from '../../probes/http.js';
import { HttpProbeSpec } from '../../probes/http/spec.js';
import { TokenTable } from '../../src/auth/tokens.js';
import { buildApi } from '../../src/api/server.js';
import { systemClock } from '../../src/clock.js';
import type { Plan } from '../../src/config/plan.js';
import { IncidentWriter } from '../../src/incidents/manager.js';
import { createLogger } from '../../src/log.js';
import { probeMetricsRecorder } from '../../src/metrics/probe-metrics.js';
import { createMetrics } from '../../src/metrics/registry.js';
import { InlineQueue } from '../../src/queue/inline.js';
import { ResultsBus } from '../../src/results/bus.js';
import { LatestResults } from '../../src/results/latest.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { makePlan } from '../helpers/plan.js';

const dir = mkdtempSync(join(tmpdir(), 'tocsin-metrics-secrets-'));
let server: Server;
let base: string;
const seen: IncomingHttpHeaders[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push(req.headers);
    res.end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

function api(plan: Plan, env: NodeJS.ProcessEnv) {
  const logger = createLogger('silent');
  const metrics = createMetrics({ version: 'test', processMetrics: false });
  const bus = new ResultsBus();
  bus.subscribe(probeMetricsRecorder(plan, metrics));
  const queue = new InlineQueue({ kinds: { http: httpProbe }, bus, metrics, clock: systemClock, logger, vantage: 'local', concurrency: 4 });
  const store = SqliteStore.open(join(dir, `${Math.random().toString(36).slice(2)}.db`));
  const incidents = { store, clock: systemClock, writer: new IncidentWriter(store) };
  const tokens = TokenTable.fromPlan(plan, env);
  const app = buildApi({ plan, store, queue, latest: new LatestResults(), metrics, tokens, logger, incidents });
  return { app, bus, store };
}

describe('/metrics without secrets', () => {
  const env = { T_OPS: 'operator-secret-0123456789abcdef', T_VIEW: 'viewer-secret-0123456789abcdef' };
  const server = {
    listen: { host: '127.0.0.1', port: 0 },
    tokens: [
      { name: 'ops', role: 'operator' as const, token_env: 'T_OPS' },
      { name: 'dash', role: 'viewer' as const, token_env: 'T_VIEW' },
    ],
    metrics_auth: true,
  };

  it('a target with a query string is labelled without it; headers_env sends the credential', async () => {
    process.env.TOCSIN_TEST_METRICS_AUTH = 'Bearer from-env';
    const url = `${base}/health?api_key=SECRETKEY`;
    const spec = HttpProbeSpec.parse({ url, headers_env: { authorization: 'TOCSIN_TEST_METRICS_AUTH' } });
    const [result] = await httpProbe.run(spec, [url], { signal: AbortSignal.timeout(3000), timeoutMs: 3000 });
    delete process.env.TOCSIN_TEST_METRICS_AUTH;
    if (!result) throw new Error('no result');
    expect(result).toMatchObject({ ok: true, target: url });
    expect(seen.at(-1)?.authorization).toBe('Bearer from-env');

    // Tokens configured (none would write a generated operator.token next to the store), metrics open.
    const plan = makePlan([{ id: 'web', kind: 'http', targets: [url] }], { server: { ...server, metrics_auth: false } });
    const ctx = api(plan, env);
    ctx.bus.publish({ ...result, at: new Date().toISOString(), probe: 'web', vantage: 'local' });
    const res = await ctx.app.inject({ url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain(`tocsin_probe_success{probe="web",kind="http",component="app",target="${base}/health",vantage="local"} 1`);
    expect(res.body).not.toContain('SECRETKEY');
    expect(res.body).not.toContain('api_key');
    await ctx.app.close();
    await ctx.store.close();
  });

  it('server.metrics_auth: 401 without a token, 200 with a viewer or operator token', async () => {
    const ctx = api(makePlan([], { server }), env);
    expect((await ctx.app.inject({ url: '/metrics' })).statusCode).toBe(401);
    const wrong = await ctx.app.inject({ url: '/metrics', headers: { authorization: 'Bearer nope' } });
    expect(wrong.statusCode).toBe(401);
    for (const token of [env.T_VIEW, env.T_OPS]) {
      const res = await ctx.app.inject({ url: '/metrics', headers: { authorization: `Bearer ${token}` } });
      expect(res.statusCode).toBe(200);
      expect(res.body).toContain('# TYPE tocsin_scheduler_lag_seconds histogram');
    }
    await ctx.app.close();
    await ctx.store.close();
  });
});
