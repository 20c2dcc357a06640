import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TocsinError } from '../../src/errors.js';
import { FencedError, RedisStore } from '../../src/store/redis.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { incident, storeContract } from '../helpers/store-contract.js';
import { saveDoc } from '../helpers/store-writes.js';

let server: RedisServer;
beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(async () => {
  await server.stop();
});

// Each contract test gets its own key prefix on the shared server; reopen = a new client, same prefix.
let n = 0;
let prefix = '';
storeContract(
  'redis',
  async () => {
    prefix = `t${++n}:`;
    return RedisStore.open({ url: server.url, prefix });
  },
  async () => RedisStore.open({ url: server.url, prefix }),
);

describe('RedisStore', () => {
  it('lays keys out under its prefix, as docs/fleet.md describes', async () => {
    const store = await RedisStore.open({ url: `${server.url}/3`, prefix: 'layout:' });
    const raw = new Redis(`${server.url}/3`);
    try {
      await saveDoc(store, incident('inc_a', '2026-01-01T00:00:00.000Z'), null);
      await store.saveLatestResults([{ at: '2026-01-01T00:00:00.000Z', probe: 'p', target: 't', vantage: 'v', ok: true }]);
      await store.putState('engine', { a: 1 });
      expect((await raw.keys('*')).sort()).toEqual([
        'layout:idx:all',
        'layout:idx:review:pending',
        'layout:idx:status:open',
        'layout:idx:status:open:review:pending',
        'layout:incident:inc_a',
        'layout:incident:inc_a:timeline',
        'layout:latest',
        'layout:latest:at',
        'layout:state',
      ]);
      expect(await raw.hget('layout:incident:inc_a', 'rev')).toBe('1');
      expect(await raw.zscore('layout:idx:all', 'inc_a')).toBe(String(Date.parse('2026-01-01T00:00:00.000Z')));
      expect(await raw.hkeys('layout:latest')).toEqual(['p\0t\0v']);
    } finally {
      raw.disconnect();
      await store.close();
    }
  });

  it('moves an incident between the status and review indices', async () => {
    const store = await RedisStore.open({ url: server.url, prefix: 'moves:' });
    try {
      const a = incident('inc_a', '2026-01-01T00:00:00.000Z');
      await saveDoc(store, a, null);
      const resolved = {
        ...a,
        status: 'resolved' as const,
        review: 'confirmed' as const,
        timeline: [...a.timeline, { at: 'y', kind: 'resolved' as const, text: 'r', author: 'tocsin' }],
      };
      expect(await saveDoc(store, resolved, 1)).toEqual({ ok: true, revision: 2 });
      expect(await store.listIncidents({ status: 'open' })).toEqual([]);
      expect(await store.listIncidents({ review: 'pending' })).toEqual([]);
      expect(await store.listIncidents({ status: 'resolved', review: 'confirmed' })).toEqual([resolved]);
      expect(await store.listIncidents({ status: 'open', review: 'confirmed' })).toEqual([]);
      // Saving the same timeline again appends nothing.
      await saveDoc(store, resolved, 2);
      expect((await store.getIncident('inc_a'))?.incident.timeline).toHaveLength(2);
    } finally {
      await store.close();
    }
  });

  it('orders equal opened_at by id and pages through ties with the cursor', async () => {
    const store = await RedisStore.open({ url: server.url, prefix: 'ties:' });
    try {
      const at = '2026-01-01T00:00:00.000Z';
      for (const id of ['inc_b', 'inc_a', 'inc_c']) await saveDoc(store, incident(id, at), null);
      await saveDoc(store, incident('inc_0', '2025-12-31T00:00:00.000Z'), null);
      const ids = async (f: Parameters<RedisStore['listIncidents']>[0]) =>
        (await store.listIncidents(f)).map((i) => i.id);
      expect(await ids({})).toEqual(['inc_c', 'inc_b', 'inc_a', 'inc_0']);
      expect(await ids({ before: 'inc_c', limit: 2 })).toEqual(['inc_b', 'inc_a']);
      expect(await ids({ before: 'inc_a', limit: 2 })).toEqual(['inc_0']);
      expect(await ids({ before: 'inc_b', status: 'open' })).toEqual(['inc_a', 'inc_0']);
      expect(await ids({ before: 'inc_missing' })).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('refuses a fenced write whose token is older than the current one, changing nothing', async () => {
    const store = await RedisStore.open({ url: server.url, prefix: 'fence:' });
    const fenceKey = 'fence:leader:token';
    let token: number | undefined = 1;
    const fenced = store.withFence({ fenceKey, token: () => token });
    try {
      await store.client.set(fenceKey, '1');
      const a = incident('inc_a', '2026-01-01T00:00:00.000Z');
      expect(await saveDoc(fenced, a, null)).toEqual({ ok: true, revision: 1 });
      await fenced.putState('engine', 1);
      // A newer leader took over.
      await store.client.set(fenceKey, '2');
      await expect(saveDoc(fenced, { ...a, title: 'stale' }, 1)).rejects.toThrow(FencedError);
      await expect(fenced.putState('engine', 2)).rejects.toThrow(/FENCED|fencing token 1 is older than 2/);
      expect((await store.getIncident('inc_a'))?.incident.title).toBe(a.title);
      expect(await store.getState('engine')).toBe(1);
      // Without the lease, writes are refused before reaching Redis.
      token = undefined;
      await expect(fenced.putState('engine', 3)).rejects.toThrow(/does not hold the leader lease/);
      // The unfenced store (operator verbs: guarded by revisions) still writes.
      await store.putState('engine', 4);
      expect(await fenced.getState('engine')).toBe(4);
    } finally {
      await fenced.close();
      await store.close();
    }
  });

  it('fails fast with UNAVAILABLE while Redis is down and recovers when it is back', async () => {
    const own = await startRedisServer();
    const store = await RedisStore.open({ url: own.url, prefix: 'outage:' });
    try {
      await saveDoc(store, incident('inc_a', '2026-01-01T00:00:00.000Z'), null);
      await own.stop();

      const t0 = Date.now();
      await expect(store.ping()).rejects.toMatchObject({ code: 'UNAVAILABLE' });
      const err = await saveDoc(store, incident('inc_b', '2026-01-01T00:01:00.000Z'), null).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TocsinError);
      expect(err).toMatchObject({ code: 'UNAVAILABLE', message: expect.stringMatching(/^store unavailable: /) });
      await expect(store.listIncidents()).rejects.toMatchObject({ code: 'UNAVAILABLE' });
      // Failed fast: no offline queue waiting for a reconnect (the command timeout is 5 s).
      expect(Date.now() - t0).toBeLessThan(4000);

      const again = await startRedisServer({ port: own.port });
      try {
        // The client reconnects on its own (backoff capped at 2 s).
        const answers = () => store.ping().then(() => true, () => false);
        await expect.poll(answers, { timeout: 10_000, interval: 100 }).toBe(true);
        // No persistence in the test server: the data is gone, the store works again.
        expect(await saveDoc(store, incident('inc_b', '2026-01-01T00:01:00.000Z'), null)).toEqual({
          ok: true,
          revision: 1,
        });
        expect((await store.listIncidents()).map((i) => i.id)).toEqual(['inc_b']);
      } finally {
        await store.close();
        await again.stop();
      }
    } finally {
      await store.close();
      await own.stop();
    }
  });

  it('fails to open with UNAVAILABLE when nothing listens', async () => {
    const own = await startRedisServer();
    await own.stop();
    await expect(RedisStore.open({ url: own.url })).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });
});
