import { type Job, Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisOptions } from '../../src/redis/connection.js';
import { RedisStore } from '../../src/store/redis.js';
import { type SentinelDeployment, startSentinelDeployment, until } from '../helpers/redis-sentinel.js';
import { LOOPBACK } from '../helpers/servers.js';
import { incident } from '../helpers/store-contract.js';
import { saveDoc } from '../helpers/store-writes.js';

// Real processes: a primary, a replica and three Sentinels (test/helpers/redis-sentinel.ts). The
// tests run in order: the failover test changes which node is the primary, and the last test
// checks that the BullMQ queue and worker opened before it still work after it.

let dep: SentinelDeployment;
beforeAll(async () => {
  dep = await startSentinelDeployment();
});
afterAll(async () => {
  // The last test shows both working on the new primary: a close that fails is a failure too.
  await queue?.close();
  await worker?.close(true);
  await dep?.stop();
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A plain client on one data node (no Sentinel), for looking at what a node holds. */
async function onNode<T>(port: number, fn: (c: Redis) => Promise<T>): Promise<T> {
  const c = new Redis({ host: LOOPBACK, port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  c.on('error', () => undefined);
  try {
    await c.connect();
    return await fn(c);
  } finally {
    c.disconnect();
  }
}

let queue: Queue | undefined;
let worker: Worker | undefined;
const processed: number[] = [];

describe('Redis Sentinel', () => {
  it('the store opened with a redis+sentinel:// URL writes on the primary and waits for the replica', async () => {
    const [primary = 0, replica = 0] = dep.dataPorts;
    const store = await RedisStore.open({ url: dep.url, prefix: 'basic:' });
    try {
      expect(await saveDoc(store, incident('inc_a', '2026-01-01T00:00:00.000Z'), null)).toEqual({ ok: true, revision: 1 });
      await store.putState('engine', { a: 1 });
      expect((await store.getIncident('inc_a'))?.revision).toBe(1);
      expect(await store.getState('engine')).toEqual({ a: 1 });
      // Default with a Sentinel URL: WAIT 1 after the write, so the replica holds it when the call returns.
      expect(store.unreplicatedWrites).toBe(0);
      expect(await onNode(replica, (c) => c.hget('basic:incident:inc_a', 'rev'))).toBe('1');
      expect(await onNode(primary, (c) => c.hget('basic:state', 'engine'))).toBe('{"a":1}');
    } finally {
      await store.close();
    }
  });

  it('a BullMQ queue and worker connect through the Sentinels (redisOptions of the URL)', async () => {
    const connection = redisOptions(dep.url);
    expect(connection).toMatchObject({ name: dep.name, role: 'master', sentinels: dep.sentinelPorts.map((port) => ({ host: LOOPBACK, port })) });
    queue = new Queue('sentinel-test', { connection: { ...connection }, prefix: 'tocsin:probes' });
    queue.on('error', () => undefined);
    worker = new Worker('sentinel-test', async (job: Job<{ n: number }>) => {
      processed.push(job.data.n);
      return job.data.n * 2;
    }, { connection: { ...connection, maxRetriesPerRequest: null }, prefix: 'tocsin:probes' });
    worker.on('error', () => undefined);
    await worker.waitUntilReady();
    const job = await queue.add('double', { n: 21 });
    await until('the worker to finish the job', 20_000, async () => (await job.getState()) === 'completed');
    expect(processed).toEqual([21]);
    expect((await queue.getJob(job.id ?? ''))?.returnvalue).toBe(42);
  });

  it('kill -9 of the primary while writing: after the failover the store writes to the promoted replica, and every write acknowledged with WAIT survives', async () => {
    const [primary = 0, replica = 0] = dep.dataPorts;
    expect(await dep.primaryPort()).toBe(primary);
    // WAIT timeout 2 s (the default is 1 s) so a slow machine does not make a write "unconfirmed".
    const store = await RedisStore.open({ url: dep.url, prefix: 'failover:', replicasWait: { count: 1, timeoutMs: 2000 } });
    /** ok, and WAIT saw the replica: must survive the failover. */
    const confirmed: string[] = [];
    /** ok, but WAIT saw no replica in time (counted in unreplicatedWrites): stored on a primary only. */
    const unconfirmed: string[] = [];
    /** the call failed (UNAVAILABLE): outcome unknown, the write may or may not exist. */
    const failed: string[] = [];
    /** Distinct error messages seen (for a failure message). */
    const errors = new Set<string>();
    let n = 0;
    let killedAt = 0;
    let firstOkAfterKill: { id: string; at: number } | undefined;
    const writeOne = async (): Promise<void> => {
      const id = `w${String(++n).padStart(4, '0')}`;
      const before = store.unreplicatedWrites;
      const startedAt = Date.now();
      try {
        const out = await saveDoc(store, incident(id, '2026-01-01T00:00:00.000Z'), null);
        if (!out.ok) throw new Error(`unexpected conflict on ${id}`);
        (store.unreplicatedWrites > before ? unconfirmed : confirmed).push(id);
        // Only a write started once the primary is gone tells that the store found the new one.
        if (killedAt > 0 && startedAt > killedAt && !firstOkAfterKill) firstOkAfterKill = { id, at: Date.now() };
      } catch (err) {
        errors.add(`${(err as { code?: string }).code ?? (err as Error).name}: ${(err as Error).message}`);
        failed.push(id);
      }
    };
    try {
      // Writes run one after another, all the time; the primary is killed in the middle of them.
      let writing = true;
      const loop = (async () => {
        while (writing) {
          await writeOne();
          await sleep(10);
        }
      })();
      await until('20 confirmed writes before the kill', 15_000, async () => confirmed.length >= 20);
      const confirmedBeforeKill = [...confirmed];
      await dep.kill(primary);
      killedAt = Date.now();
      await until('a write to succeed after the failover', 30_000, async () => firstOkAfterKill !== undefined);
      writing = false;
      await loop;
      const failoverMs = (firstOkAfterKill?.at ?? 0) - killedAt;

      // The Sentinels promoted the replica, and the store's writes land there.
      expect(await dep.primaryPort()).toBe(replica);
      const firstId = firstOkAfterKill?.id ?? '';
      expect(await onNode(replica, (c) => c.hget(`failover:incident:${firstId}`, 'rev'))).toBe('1');
      // Every write acknowledged before the kill, and every one confirmed by WAIT at any time, is there.
      expect(confirmedBeforeKill.length).toBeGreaterThanOrEqual(20);
      const survivors = async (ids: readonly string[]): Promise<string[]> => {
        const found: string[] = [];
        for (const id of ids) if ((await store.getIncident(id)) !== undefined) found.push(id);
        return found;
      };
      expect(await survivors(confirmedBeforeKill)).toEqual(confirmedBeforeKill);
      expect(await survivors(confirmed)).toEqual(confirmed);
      // The promoted node has no replica now (the old primary is dead): the writes after the
      // failover are stored but unconfirmed, and counted so.
      expect(unconfirmed).toContain(firstId);
      expect(store.unreplicatedWrites).toBe(unconfirmed.length);
      // Only UNAVAILABLE while there is no primary: nothing else went wrong.
      expect([...errors].filter((e) => !e.startsWith('UNAVAILABLE'))).toEqual([]);
      const failedPresent = await survivors(failed);
      console.info(
        `sentinel failover: first write ok ${failoverMs} ms after kill -9; confirmed ${confirmed.length} ` +
          `(${confirmedBeforeKill.length} before the kill, all present), unconfirmed ${unconfirmed.length}, ` +
          `failed ${failed.length} (${failedPresent.length} of them present: ${failedPresent.join(' ') || 'none'})`,
      );
    } catch (err) {
      const seen = `confirmed ${confirmed.length}, unconfirmed ${unconfirmed.length}, failed ${failed.length}; ` +
        `client ${store.client.status}; errors: ${[...errors].join(' | ')}`;
      throw new Error(`${(err as Error).message}\n${seen}\n${dep.log().slice(-3000)}`);
    } finally {
      await store.close();
    }
  });

  it('the BullMQ queue and worker opened before the failover run jobs on the new primary', async () => {
    expect(queue).toBeDefined();
    let n = 100;
    // A job added while the clients still reconnect may fail to be added: add again until one is
    // done. Each refusal is kept: if none ever succeeds, the failure says why.
    const refused: string[] = [];
    await until('a job to be processed after the failover', 30_000, async () => {
      const value = ++n;
      const adding = queue?.add('double', { n: value }).catch((err: unknown) => {
        refused.push((err as Error).message);
      });
      // Bounded: an add queued by ioredis while it reconnects may wait long.
      await Promise.race([adding, sleep(2000)]);
      for (let i = 0; i < 10 && !processed.includes(value); i++) await sleep(100);
      return processed.some((v) => v > 100);
    }).catch((err: unknown) => {
      throw new Error(`${(err as Error).message}; adds refused: ${refused.slice(-5).join(' | ') || 'none'}`);
    });
    expect(processed.some((v) => v > 100)).toBe(true);
  });
});
