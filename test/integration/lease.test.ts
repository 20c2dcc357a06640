import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock.js';
import { RedisLease, type RedisLeaseOptions } from '../../src/lease/lease.js';
import { startLeaderRuntime } from '../../src/lease/standby.js';
import { createLogger } from '../../src/log.js';
import { createMetrics } from '../../src/metrics/registry.js';
import { ResultsBus } from '../../src/results/bus.js';
import { FencedError, RedisStore } from '../../src/store/redis.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { makePlan } from '../helpers/plan.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { incident } from '../helpers/store-contract.js';
import { saveDoc } from '../helpers/store-writes.js';

let server: RedisServer;
beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(async () => {
  await server.stop();
});

// Short timings keep the file fast; the logic is the same at 10 s / 3 s.
const fast = { ttlMs: 600, renewEveryMs: 150, retryEveryMs: 100 };
const cleanup: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

let n = 0;
function client(): Redis {
  const redis = new Redis(server.url, { maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: true });
  redis.on('error', () => undefined);
  cleanup.push(() => redis.disconnect());
  return redis;
}
async function connected(): Promise<Redis> {
  const redis = client();
  await redis.connect();
  return redis;
}
function lease(redis: Redis, key: string, opts: Partial<RedisLeaseOptions> = {}): RedisLease {
  const l = new RedisLease({ redis, key, ...fast, ...opts });
  cleanup.push(() => l.stop());
  return l;
}

describe('RedisLease', () => {
  it('of two competing processes exactly one wins, with a fencing token', async () => {
    const key = `compete${++n}`;
    const a = lease(await connected(), key, { holder: 'a' });
    const b = lease(await connected(), key, { holder: 'b' });
    const [ta, tb] = await Promise.all([a.acquire(), b.acquire()]);
    expect([ta, tb].filter((t) => t !== undefined)).toEqual([1]);
    const [winner, loser] = ta === 1 ? [a, b] : [b, a];
    expect(winner.isLeader()).toBe(true);
    expect(winner.token()).toBe(1);
    expect(loser.isLeader()).toBe(false);
    expect(loser.token()).toBeUndefined();
    const raw = await connected();
    expect(await raw.get(key)).toBe(`${winner.holder}#1`);
    expect(await raw.get(`${key}:token`)).toBe('1');
    // Acquiring again while leader keeps the same token.
    expect(await winner.acquire()).toBe(1);
    // Releasing lets the other take it, with a higher token.
    await winner.release();
    expect(winner.isLeader()).toBe(false);
    expect(await loser.acquire()).toBe(2);
  });

  it('renews only its own lease and releases only its own', async () => {
    const key = `own${++n}`;
    const raw = await connected();
    const lost: string[] = [];
    const a = lease(raw, key, { holder: 'a', onLost: (r) => lost.push(r) });
    expect(await a.acquire()).toBe(1);
    expect(await a.renew()).toBe(true);
    // The key is someone else's now (it expired and another process took it).
    await raw.set(key, 'other#2', 'PX', 5000);
    expect(await a.renew()).toBe(false);
    expect(lost).toEqual(['replaced']);
    expect(a.isLeader()).toBe(false);
    expect(await raw.get(key)).toBe('other#2');

    await raw.del(key);
    const c = lease(raw, key, { holder: 'c' });
    expect(await c.acquire()).toBe(2);
    await raw.set(key, 'other#3', 'PX', 5000);
    await c.release();
    expect(await raw.get(key)).toBe('other#3');
  });

  it('a standby takes over after the leader dies, never overlapping with it', async () => {
    const key = `takeover${++n}`;
    const events: { who: string; what: string; at: number }[] = [];
    const record = (who: string, what: string) => events.push({ who, what, at: Date.now() });
    const aClient = await connected();
    const a = lease(aClient, key, {
      holder: 'a',
      onAcquired: () => record('a', 'acquired'),
      onLost: (r) => record('a', `lost:${r}`),
    });
    a.start();
    await expect.poll(() => a.isLeader(), { timeout: 5000, interval: 20 }).toBe(true);
    const b = lease(await connected(), key, {
      holder: 'b',
      onAcquired: () => record('b', 'acquired'),
      onLost: (r) => record('b', `lost:${r}`),
    });
    b.start();
    // Several renewal periods: a keeps it, b stands by.
    await new Promise((r) => setTimeout(r, 4 * fast.renewEveryMs));
    expect(a.isLeader()).toBe(true);
    expect(b.isLeader()).toBe(false);

    // a's process dies: its connection drops and no renewal reaches Redis any more.
    aClient.disconnect();
    await expect.poll(() => b.isLeader(), { timeout: 5000, interval: 20 }).toBe(true);
    expect(b.token()).toBe(2);
    expect(a.isLeader()).toBe(false);
    const aLost = events.find((e) => e.who === 'a' && e.what === 'lost:expired');
    const bAcquired = events.find((e) => e.who === 'b' && e.what === 'acquired');
    expect(aLost).toBeDefined();
    expect(bAcquired).toBeDefined();
    // a gave up (by its own clock) before b could take over.
    expect(aLost?.at).toBeLessThanOrEqual(bAcquired?.at ?? 0);
    expect(events.filter((e) => e.what === 'acquired').map((e) => e.who)).toEqual(['a', 'b']);
  });

  it('a stale leader’s write with an old fencing token is refused by Redis', async () => {
    const prefix = `fenced${++n}:`;
    const store = await RedisStore.open({ url: server.url, prefix });
    cleanup.push(() => store.close());
    // a's clock stands still: it believes it still leads (a long GC pause, a frozen VM).
    const frozen = new FakeClock();
    const a = lease(store.client, `${prefix}leader`, { holder: 'a', clock: frozen });
    const b = lease(await connected(), `${prefix}leader`, { holder: 'b' });
    expect(await a.acquire()).toBe(1);
    const aStore = store.withFence(a);
    const doc = incident('inc_a', '2026-01-01T00:00:00.000Z');
    expect(await saveDoc(aStore, doc, null)).toEqual({ ok: true, revision: 1 });

    // Meanwhile the key expires in Redis and b takes over.
    await expect.poll(() => b.acquire(), { timeout: 5000, interval: 50 }).toBe(2);
    const bStore = store.withFence(b);
    expect(a.isLeader()).toBe(true);

    await expect(saveDoc(aStore, { ...doc, title: 'stale' }, 1)).rejects.toBeInstanceOf(FencedError);
    await expect(aStore.putState('engine', 'stale')).rejects.toThrow(/fencing token 1 is older than 2/);
    expect((await store.getIncident('inc_a'))?.incident.title).toBe(doc.title);
    expect(await saveDoc(bStore, { ...doc, title: 'b' }, 1)).toEqual({ ok: true, revision: 2 });
    await bStore.putState('engine', 'b');
    expect(await store.getState('engine')).toBe('b');
  });
});

describe('startLeaderRuntime (fleet mode)', () => {
  it('runs the engine only on the leader; the standby takes over without a duplicate incident', async () => {
    const prefix = `fleet${++n}:`;
    // Interval 30 s: the events below (10 s apart, up to a minute old) stay within the stale
    // horizon (3 intervals), so the engine takes them at their own time (CONTRACT §5.10).
    const plan = makePlan([{ id: 'p', kind: 'http', component: 'app', intervalMs: 30_000, targets: ['t'] }]);
    const logger = createLogger('silent');
    const node = async () => {
      const store = await RedisStore.open({ url: server.url, prefix });
      const bus = new ResultsBus(() => undefined);
      const metrics = createMetrics({ version: 'test', processMetrics: false });
      const runtime = await startLeaderRuntime({ plan, store, bus, metrics, clock: systemClock, logger, lease: fast });
      cleanup.push(() => store.close());
      cleanup.push(() => runtime.stop());
      return { store, bus, runtime };
    };
    // The same failure, one check every 10 s (event time), as both daemons would hear it.
    const t0 = Date.now() - 60_000;
    const failure = (i: number) => ({
      at: new Date(t0 + i * 10_000).toISOString(),
      probe: 'p',
      target: 't',
      vantage: 'local',
      ok: false,
      error: 'timeout' as const,
    });

    const a = await node();
    await expect.poll(() => a.runtime.ctx.engine !== undefined, { timeout: 5000, interval: 20 }).toBe(true);
    const b = await node();
    await new Promise((r) => setTimeout(r, 2 * fast.renewEveryMs));
    // b stands by: no engine, but reads work.
    expect(b.runtime.ctx.engine).toBeUndefined();
    expect(b.runtime.lease.isLeader()).toBe(false);

    for (const i of [0, 1, 2]) a.bus.publish(failure(i));
    await expect.poll(async () => (await b.store.listIncidents()).length, { timeout: 5000, interval: 50 }).toBe(1);
    await a.runtime.ctx.writer.idle();
    const opened = (await b.store.listIncidents())[0];

    // a dies (its connection to Redis is gone); b takes over within the lease ttl.
    a.store.client.disconnect();
    await expect.poll(() => b.runtime.ctx.engine !== undefined, { timeout: 5000, interval: 20 }).toBe(true);
    expect(a.runtime.ctx.engine).toBeUndefined();
    expect(b.runtime.lease.token()).toBe(2);

    // The failure goes on: b's engine knows the incident (snapshot + adoption) and opens no other.
    for (const i of [3, 4, 5]) b.bus.publish(failure(i));
    // The engine batches events until its next tick (every second): wait until it took them in.
    const pending = () => (b.runtime.ctx.engine?.snapshot() as { state: { pending: unknown[] } }).state.pending.length;
    await expect.poll(pending, { timeout: 5000, interval: 50 }).toBe(0);
    await b.runtime.ctx.writer.idle();
    const after = await b.store.listIncidents();
    expect(after.map((i) => i.id)).toEqual([opened?.id]);
    expect(after[0]?.status).toBe('open');
  });
});
