import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import type { Plan } from '../../src/config/plan.js';
import { type Daemon, startDaemon } from '../../src/daemon.js';
import type { Incident } from '../../src/events/incident.js';
import { createLogger } from '../../src/log.js';
import type { PublicHistory } from '../../src/status/history.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { waitFor } from '../helpers/cli.js';
import { incident } from '../helpers/store-contract.js';
import { saveDoc } from '../helpers/store-writes.js';

// Uptime history on a live daemon (docs/status-page.md, "Uptime history"): incidents stored
// before the start are reconciled into it, those written while it runs are recorded as they are
// stored; only confirmed ones colour a day, on /status, /status.json and the API alike, and the
// history is still there after a restart.

const H = 3_600_000;
const DAY = 24 * H;
const VIEWER = 'viewer-token-for-history-tests-0123456789';

interface StatusJson {
  components: { id: string; status: string; history?: PublicHistory }[];
}

describe('uptime history on a live daemon', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tocsin-status-history-'));
  const dbFile = join(dir, 'data', 'tocsin.db');
  const configFile = join(dir, 'tocsin.yml');
  const now = Date.now();
  const iso = (ms: number) => new Date(ms).toISOString();
  // Whole past days, well inside the window whatever the hour the test runs at.
  const dayStart = Date.parse(`${iso(now - 3 * DAY).slice(0, 10)}T00:00:00.000Z`);
  const threeDaysAgo = iso(dayStart).slice(0, 10);
  let plan: Plan;
  let daemon: Daemon | undefined;

  const get = async (path: string, token?: string) =>
    fetch(`${daemon?.url}${path}`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  const statusJson = async () => (await (await get('/status.json')).json()) as StatusJson;
  const historyOf = (page: StatusJson, id: string) => page.components.find((c) => c.id === id)?.history;

  beforeAll(async () => {
    writeFileSync(
      configFile,
      `server:
  listen: 127.0.0.1:0
  tokens: [{ name: dash, role: viewer, token_env: T_VIEW }]
store: { kind: sqlite, path: ${dbFile} }
components:
  - { id: drafted, name: Drafted only, group: Apps }
  - { id: dismissed, name: Dismissed only, group: Apps }
  - { id: db, name: Databases, group: Data }
  - { id: api, name: Public API, group: Apps }
probes: []
`,
    );
    const loaded = await loadConfig(configFile, { cwd: dir, env: { T_VIEW: VIEWER } });
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
    plan = loaded.plan;
    // Stored before the daemon ever ran (an upgrade): reconciled at start.
    const seed = SqliteStore.open(dbFile);
    await saveDoc(
      seed,
      incident('inc_db', iso(dayStart + 10 * H), {
        review: 'confirmed',
        status: 'resolved',
        resolved_at: iso(dayStart + 16 * H),
        components: [{ id: 'db', impact: 'major_outage' }],
      }),
      null,
    );
    await seed.close();
    daemon = await startDaemon({ plan, logger: createLogger('silent'), env: { T_VIEW: VIEWER } });
  });
  afterAll(async () => {
    await daemon?.stop(0);
    rmSync(dir, { recursive: true, force: true });
  });

  it('colours days from confirmed incidents only: a pending draft and a dismissed incident colour none', async () => {
    const store = daemon?.incidents.store;
    if (!store) throw new Error('daemon not started');
    const day = (id: string, component: string, overrides: Partial<Incident>) =>
      incident(id, iso(dayStart + DAY + 8 * H), {
        status: 'resolved',
        resolved_at: iso(dayStart + DAY + 20 * H),
        components: [{ id: component, impact: 'major_outage' }],
        ...overrides,
      });
    await saveDoc(store, day('inc_draft', 'drafted', { review: 'pending' }), null);
    await saveDoc(store, day('inc_dismissed', 'dismissed', { review: 'dismissed' }), null);
    // Open and confirmed: colours today, and keeps counting as time passes.
    await saveDoc(
      store,
      incident('inc_api', iso(now - 2 * H), { review: 'confirmed', components: [{ id: 'api', impact: 'partial_outage' }] }),
      null,
    );

    const page = await waitFor(async () => {
      const p = await statusJson();
      return historyOf(p, 'api')?.days.length && historyOf(p, 'db')?.days.length ? p : undefined;
    }, 20_000);
    const db = historyOf(page, 'db');
    expect(db?.days).toEqual([{ day: threeDaysAgo, uptime: 75, worst: 'major_outage' }]);
    expect(db?.days_with_incidents).toBe(1);
    // History starts with the earliest published incident: three days and today so far.
    expect(db?.since).toBe(threeDaysAgo);
    expect(db?.uptime).toBeLessThan(100);
    const api = historyOf(page, 'api');
    expect(api?.days.at(-1)).toMatchObject({ day: iso(now).slice(0, 10), worst: 'partial_outage' });
    for (const id of ['drafted', 'dismissed']) {
      expect(historyOf(page, id)).toMatchObject({ uptime: 100, days_with_incidents: 0, days: [] });
    }

    const html = await (await get('/status')).text();
    const row = (id: string) => html.slice(html.indexOf(`data-component="${id}"`), html.indexOf('</div></div>', html.indexOf(`data-component="${id}"`)));
    expect(row('db')).toContain(`data-day="${threeDaysAgo}" data-worst="major_outage"`);
    expect(row('db')).toContain('day with incidents');
    for (const id of ['drafted', 'dismissed']) {
      expect(row(id)).toMatch(/data-worst="operational"/);
      expect(row(id)).not.toMatch(/data-worst="(major_outage|partial_outage|degraded_performance)"/);
      expect(row(id)).toContain('100.00% uptime over 90 days; 0 days with incidents');
    }
    expect((row('db').match(/<rect /g) ?? []).length).toBe(90);
  });

  it('answers a component\'s days on the API, viewer role, and names a bad parameter', async () => {
    const res = await get('/api/v1/components/db/history?days=7', VIEWER);
    expect(res.status).toBe(200);
    type Day = { day: string; uptime: number; worst: string; seconds: Record<string, number> };
    const body = (await res.json()) as { days: Day[] };
    expect(body.days).toHaveLength(7);
    expect(body.days.find((d) => d.day === threeDaysAgo)).toEqual({
      day: threeDaysAgo,
      uptime: 75,
      worst: 'major_outage',
      seconds: { major_outage: 6 * 3600, partial_outage: 0, degraded_performance: 0, under_maintenance: 0 },
    });
    expect((await get('/api/v1/components/db/history')).status).toBe(401);
    const bad = await get('/api/v1/components/db/history?days=91', VIEWER);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(/^days: /);
    expect((await get('/api/v1/components/nope/history', VIEWER)).status).toBe(404);
  });

  it('keeps history across a restart', async () => {
    const before = historyOf(await statusJson(), 'db');
    await daemon?.stop(0);
    daemon = await startDaemon({ plan, logger: createLogger('silent'), env: { T_VIEW: VIEWER } });
    const after = historyOf(await statusJson(), 'db');
    // Uptime moves with today's elapsed time; the days and where history starts do not.
    expect(after?.days).toEqual(before?.days);
    expect(after?.since).toBe(before?.since);
    expect(after?.uptime).toBeCloseTo(before?.uptime ?? 0, 2);
  });
});
