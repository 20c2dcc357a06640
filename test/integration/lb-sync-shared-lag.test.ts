import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SharedLagStore } from '../../src/worker/shared-lag.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';

// lb_sync lags shared by the workers of a vantage through a real redis-server: two workers (two
// stores, two connections) see one lag, whichever runs the check; without Redis, each falls
// back on its own tracker.

const T0 = Date.parse('2026-01-01T00:00:00Z');
let server: RedisServer;
const clients: Redis[] = [];
beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(async () => {
  for (const c of clients) c.disconnect();
  await server.stop();
});

function worker(url = server.url): SharedLagStore {
  const redis = new Redis(url, { maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: false });
  redis.on('error', () => undefined);
  clients.push(redis);
  return new SharedLagStore(redis, 'par-a');
}

describe('SharedLagStore', () => {
  it('gives the same lag whichever worker checks the instance', async () => {
    const a = worker();
    const b = worker();
    await new Promise((r) => setTimeout(r, 200));
    const key = 'lb-config\u0000lb-3';
    expect(await a.record(key, true, T0)).toEqual({ since: T0, lagMs: 0 });
    // The next check runs on the other worker: the lag goes on from the first difference.
    expect(await b.record(key, true, T0 + 5000)).toEqual({ since: T0, lagMs: 5000 });
    // Unreachable at the next check: the lag is held, not restarted.
    expect(await a.hold(key, T0 + 10_000)).toEqual({ since: T0, lagMs: 10_000 });
    // Back in sync on one worker: the other starts a new lag at the next difference.
    expect(await b.record(key, false, T0 + 15_000)).toBeUndefined();
    expect(await a.hold(key, T0 + 16_000)).toBeUndefined();
    expect(await a.record(key, true, T0 + 20_000)).toEqual({ since: T0 + 20_000, lagMs: 0 });
    // Another vantage keeps lags of its own.
    const other = new SharedLagStore(clients[0] as Redis, 'par-b');
    expect(await other.record(key, true, T0 + 21_000)).toEqual({ since: T0 + 21_000, lagMs: 0 });
  });

  it('answers from the worker\'s own tracker while Redis is away', async () => {
    const closed = worker('redis://127.0.0.1:1');
    const key = 'lb-config\u0000lb-4';
    expect(await closed.record(key, true, T0)).toEqual({ since: T0, lagMs: 0 });
    expect(await closed.record(key, true, T0 + 3000)).toEqual({ since: T0, lagMs: 3000 });
    expect(await closed.hold(key, T0 + 4000)).toEqual({ since: T0, lagMs: 4000 });
  });
});
