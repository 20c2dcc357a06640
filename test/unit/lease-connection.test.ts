import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { RedisLease } from '../../src/lease/lease.js';
import { FakeClock } from '../helpers/fake-clock.js';

const timing = { ttlMs: 10_000, renewEveryMs: 3000, retryEveryMs: 3000 };

/**
 * A stand-in for the shared ioredis client: the lease's three scripts answer what the test says,
 * and the test emits the connection's events ('close', 'ready') as ioredis does.
 */
class FakeRedis extends EventEmitter {
  /** What the next acquire / renew answers: a value, or an error to reject with. */
  acquire: () => Promise<number | null> = () => Promise.resolve(1);
  renew: () => Promise<number> = () => Promise.resolve(1);
  calls: string[] = [];

  defineCommand(): void {}

  tocsinLeaseAcquire(): Promise<number | null> {
    this.calls.push('acquire');
    return this.acquire();
  }

  tocsinLeaseRenew(): Promise<number> {
    this.calls.push('renew');
    return this.renew();
  }

  tocsinLeaseRelease(): Promise<number> {
    this.calls.push('release');
    return Promise.resolve(1);
  }
}

function setup() {
  const clock = new FakeClock();
  const redis = new FakeRedis();
  const events: string[] = [];
  const lease = new RedisLease({
    redis: redis as unknown as Redis,
    key: 'k',
    holder: 'me',
    clock,
    ...timing,
    onAcquired: (token) => events.push(`acquired:${token}`),
    onLost: (reason) => events.push(`lost:${reason}`),
  });
  return { clock, redis, events, lease };
}

/** Lets the lease's promise callbacks run (the fake clock fires timers synchronously). */
const settle = () => new Promise((r) => setImmediate(r));

describe('RedisLease and the client connection', () => {
  it('a closed connection ends leadership at once, long before the validity would run out', async () => {
    const { redis, events, lease, clock } = setup();
    expect(await lease.acquire()).toBe(1);
    clock.advance(100);
    expect(lease.isLeader()).toBe(true);
    redis.emit('close');
    expect(lease.isLeader()).toBe(false);
    expect(lease.token()).toBeUndefined();
    expect(events).toEqual(['acquired:1', 'lost:expired']);
    // Further closes (reconnection attempts failing) report nothing more.
    redis.emit('close');
    redis.emit('end');
    expect(events).toEqual(['acquired:1', 'lost:expired']);
  });

  it('campaigns again as soon as the connection is ready, with a new token', async () => {
    const { redis, events, lease, clock } = setup();
    lease.start();
    clock.advance(0);
    await settle();
    expect(lease.token()).toBe(1);
    redis.emit('close');
    expect(lease.isLeader()).toBe(false);
    // While away, no attempt before the retry time.
    redis.acquire = () => Promise.reject(new Error('Stream is not writeable'));
    clock.advance(1000);
    await settle();
    expect(redis.calls).toEqual(['acquire']);
    redis.acquire = () => Promise.resolve(2);
    redis.emit('ready');
    clock.advance(0);
    await settle();
    expect(redis.calls).toEqual(['acquire', 'acquire']);
    expect(lease.token()).toBe(2);
    expect(events).toEqual(['acquired:1', 'lost:expired', 'acquired:2']);
    await lease.stop();
  });

  it('a renewal that fails ends leadership at once', async () => {
    const { redis, events, lease, clock } = setup();
    expect(await lease.acquire()).toBe(1);
    clock.advance(3000);
    redis.renew = () => Promise.reject(new Error('Command timed out'));
    await expect(lease.renew()).rejects.toThrow(/timed out/);
    expect(lease.isLeader()).toBe(false);
    expect(events).toEqual(['acquired:1', 'lost:expired']);
  });

  it('a renewal answered after the connection closed does not bring leadership back', async () => {
    const { redis, events, lease } = setup();
    expect(await lease.acquire()).toBe(1);
    let answer: (v: number) => void = () => undefined;
    redis.renew = () => new Promise<number>((resolve) => (answer = resolve));
    const renewing = lease.renew();
    redis.emit('close');
    answer(1);
    expect(await renewing).toBe(false);
    expect(lease.isLeader()).toBe(false);
    expect(events).toEqual(['acquired:1', 'lost:expired']);
  });

  it('stop() leaves the client’s events alone', async () => {
    const { redis, lease } = setup();
    lease.start();
    await lease.stop();
    expect(redis.listenerCount('close') + redis.listenerCount('end') + redis.listenerCount('ready')).toBe(0);
  });
});
