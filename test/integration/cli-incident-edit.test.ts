import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpProbe } from '../../probes/http.js';
import { TokenTable } from '../../src/auth/tokens.js';
import { buildApi } from '../../src/api/server.js';
import { systemClock } from '../../src/clock.js';
import { createEngine } from '../../src/engine/engine.js';
import { rulesForPlan } from '../../src/engine/pack.js';
import { IncidentWriter } from '../../src/incidents/manager.js';
import { createLogger } from '../../src/log.js';
import { createMetrics } from '../../src/metrics/registry.js';
import { InlineQueue } from '../../src/queue/inline.js';
import { ResultsBus } from '../../src/results/bus.js';
import { LatestResults } from '../../src/results/latest.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { runCli } from '../helpers/cli.js';
import { makePlan } from '../helpers/plan.js';

// `tocsin incidents edit` (the built CLI) against an API in this process: its changes are applied
// to the incident as the writer reads it, so a component the detector writes into the incident
// while the command runs is not dropped by the removal of another.

const OPS = 'operator-secret-7a1f-0123456789';
const src = (line: number) => ({ file: '/dev/null', line });

describe('tocsin incidents edit while the detector writes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tocsin-cli-edit-'));
  const plan = makePlan(
    [{ id: 'web-http', kind: 'http', component: 'web', targets: ['http://web.test/'] }],
    {
      server: { listen: { host: '127.0.0.1', port: 0 }, tokens: [{ name: 'ops', role: 'operator', token_env: 'T_OPS' }] },
      components: ['web', 'api', 'dns'].map((id, i) => ({ id, name: `Service ${id}`, group: 'Apps', depends_on: [], source: src(i + 1) })),
    },
  );
  const logger = createLogger('silent');
  const metrics = createMetrics({ version: 'test', processMetrics: false });
  const store = SqliteStore.open(join(dir, 'tocsin.db'));
  const writer = new IncidentWriter(store);
  const engine = createEngine({ plan, rules: rulesForPlan(plan) });
  const queue = new InlineQueue({ kinds: { http: httpProbe }, bus: new ResultsBus(), metrics, clock: systemClock, logger, vantage: 'local', concurrency: 1 });
  const incidents = { store, clock: systemClock, writer, engine };
  const tokens = TokenTable.fromPlan(plan, { T_OPS: OPS });
  const app = buildApi({ plan, store, queue, latest: new LatestResults(), metrics, tokens, logger, incidents });
  let url = '';
  let id = '';

  /** Run before the next PATCH is handled: what the detector writes between the CLI's start and its edit. */
  let beforePatch: (() => Promise<void>) | undefined;
  app.addHook('onRequest', async (req) => {
    if (req.method !== 'PATCH' || !beforePatch) return;
    const run = beforePatch;
    beforePatch = undefined;
    await run();
  });

  beforeAll(async () => {
    // A draft of web's failure, to which an operator added api.
    const base = Date.now() - 60_000;
    for (let k = 0; k < 3; k++) {
      const at = new Date(base + k * 1000).toISOString();
      await writer.apply(engine.ingest({ at, probe: 'web-http', target: 'http://web.test/', vantage: 'local', ok: false, error: 'connect_refused' }));
    }
    await writer.apply(engine.flush());
    const [draft] = await store.listIncidents();
    id = draft?.id ?? '';
    url = await app.listen({ host: '127.0.0.1', port: 0 });
    const added = await fetch(`${url}/api/v1/incidents/${id}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${OPS}`, 'content-type': 'application/json' },
      body: JSON.stringify({ set: [{ id: 'api', impact: 'partial_outage' }] }),
    });
    expect(added.status).toBe(200);
  });
  afterAll(async () => {
    await app.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const cli = (args: string[]) =>
    runCli(['incidents', ...args, '--config', join(dir, 'none.yml')], { cwd: dir, env: { TOCSIN_URL: url, TOCSIN_TOKEN: OPS } });

  it('removes api and keeps dns, which the detector added after the command started', async () => {
    beforePatch = async () => {
      const seen = (await store.getIncident(id))?.incident;
      if (!seen) throw new Error('no draft');
      const incident = { ...seen, components: [...seen.components, { id: 'dns', impact: 'major_outage' as const }] };
      await writer.apply([{ incident, appended: [], opened: false, rule: 'test', firstFailureMs: Date.parse(seen.opened_at) }]);
    };
    const res = await cli(['edit', id, '--remove', 'api', '--json']);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(beforePatch).toBeUndefined();
    expect((await store.getIncident(id))?.incident.components).toEqual([
      { id: 'web', impact: 'major_outage' },
      { id: 'dns', impact: 'major_outage' },
    ]);
  });

  it('reports a component that is not in the incident with the API\'s message (exit 1)', async () => {
    const res = await cli(['edit', id, '--remove', 'api']);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('remove: api is not a component of this incident');
  });
});
