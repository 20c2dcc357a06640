import { Writable } from 'node:stream';
import Fastify from 'fastify';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { ApiContext } from '../../src/api/context.js';
import { installErrorHandlers } from '../../src/api/errors.js';
import { STATUS_STALE_HEADER } from '../../src/api/routes/status.js';
import { statusFeedRoutes } from '../../src/api/routes/status-feeds.js';
import { publishedSource } from '../../src/api/routes/status-source.js';
import { statusV2Routes } from '../../src/api/routes/status-v2.js';
import { TocsinError } from '../../src/errors.js';
import type { Incident } from '../../src/events/incident.js';
import { makePlan } from '../helpers/plan.js';

// The feeds and /api/v2 across a store outage, as /status (docs/status-page.md, "When the store
// is down"): 503 before any good read, then the last good read marked stale, rendered once per
// outage, one log line when it starts and one when it ends.

const PATHS = [
  '/status/feed.atom',
  '/status/feed.rss',
  '/api/v2/summary.json',
  '/api/v2/status.json',
  '/api/v2/components.json',
  '/api/v2/incidents.json',
  '/api/v2/incidents/unresolved.json',
  '/api/v2/scheduled-maintenances/upcoming.json',
];

function setup() {
  let down = true;
  let now = Date.parse('2024-11-18T12:00:00Z');
  let reads = 0;
  let incidents: Incident[] = [];
  const logs: { msg: string }[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l !== '') logs.push(JSON.parse(l) as { msg: string });
      done();
    },
  });
  const src = { file: '/dev/null', line: 1 };
  const plan = makePlan([], { components: [{ id: 'db', name: 'PostgreSQL', group: 'Databases', depends_on: [], source: src }] });
  const store = {
    listIncidents: () => {
      reads++;
      return down ? Promise.reject(new TocsinError('UNAVAILABLE', 'store unavailable: Connection is closed.')) : Promise.resolve(incidents);
    },
  };
  const ctx = { plan, logger: pino({ level: 'info' }, sink), incidents: { store, clock: { now: () => now } } } as unknown as ApiContext;
  const app = Fastify();
  installErrorHandlers(app);
  const source = publishedSource(ctx);
  statusFeedRoutes(app, ctx, source);
  statusV2Routes(app, ctx, source);
  return {
    app,
    logs: () => logs.filter((l) => l.msg.startsWith('status feeds and /api/v2:')).map((l) => l.msg),
    setDown: (d: boolean) => (down = d),
    setIncidents: (list: Incident[]) => (incidents = list),
    tick: (ms: number) => (now += ms),
    reads: () => reads,
  };
}

const published: Incident = {
  id: 'inc_001',
  title: 'PostgreSQL unreachable',
  status: 'open',
  review: 'confirmed',
  severity: 'major',
  opened_at: '2024-11-18T11:00:00.000Z',
  resolved_at: null,
  root_component: 'db',
  components: [{ id: 'db', impact: 'major_outage' }],
  regions: [],
  signals: [],
  timeline: [{ at: '2024-11-18T11:00:00.000Z', kind: 'note', text: 'We are on it.', author: 'ops' }],
  fingerprint: 'fp',
};

describe('feeds and /api/v2 while the store is down', () => {
  it('answers 503 until a first good read, then serves the last one marked stale', async () => {
    const t = setup();
    for (const url of PATHS) expect((await t.app.inject(url)).statusCode, url).toBe(503);
    expect(t.logs()).toHaveLength(1);

    t.setDown(false);
    t.setIncidents([published]);
    const fresh = new Map<string, string>();
    for (const url of PATHS) {
      const res = await t.app.inject({ url, headers: { host: 'status.example.com' } });
      expect(res.statusCode, url).toBe(200);
      expect(res.headers[STATUS_STALE_HEADER], url).toBeUndefined();
      expect(res.headers['cache-control'], url).toBe('public, max-age=15');
      expect(res.headers['access-control-allow-origin'], url).toBe('*');
      expect(res.headers['x-content-type-options'], url).toBe('nosniff');
      expect(res.body, url).toContain('http://status.example.com/status');
      fresh.set(url, res.body);
    }
    expect(fresh.get('/status/feed.atom')).toContain('We are on it.');
    expect(JSON.parse(fresh.get('/api/v2/status.json') ?? '')).toMatchObject({ status: { indicator: 'critical' } });
    expect(t.logs()).toHaveLength(2); // back again

    t.setDown(true);
    t.tick(60_000);
    for (let i = 0; i < 2; i++) {
      for (const url of PATHS) {
        const res = await t.app.inject({ url, headers: { host: 'status.example.com' } });
        expect(res.statusCode, url).toBe(200);
        expect(res.headers[STATUS_STALE_HEADER], url).toBe('true');
        // The last good documents as they were (their times included: they say how old they are).
        expect(res.body, url).toBe(fresh.get(url));
      }
    }
    expect(t.logs()).toHaveLength(3); // one line for the whole outage

    t.setDown(false);
    const back = await t.app.inject('/api/v2/status.json');
    expect(back.headers[STATUS_STALE_HEADER]).toBeUndefined();
    expect(back.json<{ page: { updated_at: string } }>().page.updated_at).toBe('2024-11-18T12:01:00.000Z');
    expect(t.logs()).toHaveLength(4);
    await t.app.close();
  });

  it('the documents answer with their media types', async () => {
    const t = setup();
    t.setDown(false);
    expect((await t.app.inject('/status/feed.atom')).headers['content-type']).toBe('application/atom+xml; charset=utf-8');
    expect((await t.app.inject('/status/feed.rss')).headers['content-type']).toBe('application/rss+xml; charset=utf-8');
    expect((await t.app.inject('/api/v2/summary.json')).headers['content-type']).toBe('application/json; charset=utf-8');
    // Two bounded reads per request (open incidents, newest incidents), whatever the history holds.
    expect(t.reads()).toBe(6);
    await t.app.close();
  });
});
