import { Writable } from 'node:stream';
import Fastify from 'fastify';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { ApiContext } from '../../src/api/context.js';
import { installErrorHandlers } from '../../src/api/errors.js';
import { STATUS_STALE_HEADER, statusRoutes } from '../../src/api/routes/status.js';
import { TocsinError } from '../../src/errors.js';
import { makePlan } from '../helpers/plan.js';

// The status routes across a store outage (docs/status-page.md, "When the store is down"): 503
// before any good page, then the last good page marked stale, one log line per outage.

function setup() {
  let down = true;
  let now = Date.parse('2024-11-18T12:00:00Z');
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
    listIncidents: () => (down ? Promise.reject(new TocsinError('UNAVAILABLE', 'store unavailable: Connection is closed.')) : Promise.resolve([])),
  };
  const ctx = {
    plan,
    logger: pino({ level: 'info' }, sink),
    incidents: { store, clock: { now: () => now } },
  } as unknown as ApiContext;
  const app = Fastify();
  installErrorHandlers(app);
  statusRoutes(app, ctx);
  return {
    app,
    logs: () => logs.filter((l) => l.msg.startsWith('status page:')).map((l) => l.msg),
    setDown: (d: boolean) => (down = d),
    tick: (ms: number) => (now += ms),
  };
}

describe('status routes while the store is down', () => {
  it('answers 503 until a first good page, then serves the last one marked stale', async () => {
    const t = setup();
    expect((await t.app.inject('/status.json')).statusCode).toBe(503);
    expect((await t.app.inject('/status')).statusCode).toBe(503);
    expect(t.logs()).toHaveLength(1);

    t.setDown(false);
    const fresh = await t.app.inject('/status.json');
    expect(fresh.statusCode).toBe(200);
    expect(fresh.headers[STATUS_STALE_HEADER]).toBeUndefined();
    const good = fresh.json<{ generated_at: string; stale: boolean }>();
    expect(good).toMatchObject({ generated_at: '2024-11-18T12:00:00.000Z', stale: false });
    expect(t.logs()).toHaveLength(2); // back again

    t.setDown(true);
    t.tick(60_000);
    for (let i = 0; i < 3; i++) {
      const json = await t.app.inject('/status.json');
      expect(json.statusCode).toBe(200);
      expect(json.headers[STATUS_STALE_HEADER]).toBe('true');
      expect(json.json()).toEqual({ ...good, stale: true });
      const html = await t.app.inject('/status');
      expect(html.statusCode).toBe(200);
      expect(html.headers[STATUS_STALE_HEADER]).toBe('true');
      expect(html.body).toContain('id="stale"');
      expect(html.body).toContain('as of 2024-11-18 12:00 UTC');
    }
    expect(t.logs()).toHaveLength(3); // one line for the whole outage

    t.setDown(false);
    const back = (await t.app.inject('/status.json')).json<{ generated_at: string; stale: boolean }>();
    expect(back).toMatchObject({ generated_at: '2024-11-18T12:01:00.000Z', stale: false });
    expect((await t.app.inject('/status')).body).not.toContain('id="stale"');
    expect(t.logs()).toHaveLength(4);
    await t.app.close();
  });
});
