import { describe, expect, it } from 'vitest';
import { StoreSpec, QueueSpec } from '../../src/config/schema.js';
import {
  daemonRedisOptions,
  isSentinelUrl,
  parseRedisUrl,
  passwordsInUrl,
  reconnectOnReadonly,
  redactRedisUrl,
  redisOptions,
} from '../../src/redis/connection.js';
import { defaultReplicasWait } from '../../src/store/redis.js';

describe('parseRedisUrl', () => {
  it('reads the standalone forms, with defaults', () => {
    expect(parseRedisUrl('redis://127.0.0.1')).toEqual({
      ok: true,
      target: { kind: 'standalone', tls: false, host: '127.0.0.1', port: 6379, db: 0 },
    });
    expect(parseRedisUrl('rediss://alice:s%40cret@redis.example.com:6380/4')).toEqual({
      ok: true,
      target: {
        kind: 'standalone',
        tls: true,
        host: 'redis.example.com',
        port: 6380,
        db: 4,
        username: 'alice',
        password: 's@cret',
      },
    });
    expect(parseRedisUrl('redis://:pw@[::1]:7000/')).toMatchObject({ ok: true, target: { host: '::1', port: 7000, db: 0, password: 'pw' } });
    expect(parseRedisUrl('redis://h/0')).toMatchObject({ ok: true, target: { host: 'h', db: 0 } });
  });

  it('reads the Sentinel form: hosts (port 26379 by default), master name, db, Sentinel credentials', () => {
    expect(parseRedisUrl('redis+sentinel://s1,s2:26380,[::1]:26381/mymaster')).toEqual({
      ok: true,
      target: {
        kind: 'sentinel',
        tls: false,
        sentinels: [
          { host: 's1', port: 26379 },
          { host: 's2', port: 26380 },
          { host: '::1', port: 26381 },
        ],
        name: 'mymaster',
        db: 0,
      },
    });
    expect(
      parseRedisUrl('rediss+sentinel://bob:p%2Fw@s1:26379/my%20master/2/?sentinel_username=sen&sentinel_password=x%26y'),
    ).toEqual({
      ok: true,
      target: {
        kind: 'sentinel',
        tls: true,
        sentinels: [{ host: 's1', port: 26379 }],
        name: 'my master',
        db: 2,
        username: 'bob',
        password: 'p/w',
        sentinelUsername: 'sen',
        sentinelPassword: 'x&y',
      },
    });
    expect(isSentinelUrl('REDIS+SENTINEL://s1/m')).toBe(true);
    expect(isSentinelUrl('redis://s1')).toBe(false);
  });

  it.each([
    ['http://h:6379', /unsupported scheme "http:"/],
    ['redis://h:99999', /malformed URL|bad port/],
    ['redis://h/abc', /bad database "abc"/],
    ['redis://h/0/1', /bad database/],
    ['redis://h?db=1', /query options are not supported/],
    ['not a url', /malformed URL/],
    ['redis+sentinel://s1:26379', /master name is missing/],
    ['redis+sentinel://s1:26379/', /master name is missing/],
    ['redis+sentinel:///mymaster', /a Sentinel host is missing/],
    ['redis+sentinel://s1,,s2/mymaster', /a Sentinel host is missing/],
    ['redis+sentinel://s1:0/mymaster', /bad Sentinel address "s1:0"/],
    ['redis+sentinel://s1:26379x/mymaster', /bad Sentinel address/],
    ['redis+sentinel://s1/mymaster/x', /bad database "x"/],
    ['redis+sentinel://s1/mymaster/1/2', /bad database "1\/2"/],
    ['redis+sentinel://s1/mymaster?role=slave', /unknown option "role"/],
    ['redis+sentinel://u:%zz@s1/mymaster', /percent-encoding/],
  ])('refuses %s with the reason', (url, reason) => {
    const parsed = parseRedisUrl(url);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error).toMatch(reason);
  });
});

describe('redisOptions', () => {
  it('standalone: host, port, db, the password from the URL winning over the given one, TLS', () => {
    const o = redisOptions('rediss://:inurl@h:6380/3', 'fromenv');
    expect(o).toMatchObject({ host: 'h', port: 6380, db: 3, password: 'inurl', tls: {} });
    expect(redisOptions('redis://h', 'fromenv')).toMatchObject({ password: 'fromenv' });
    expect(o.sentinels).toBeUndefined();
  });

  it('Sentinel: sentinels, master name, role master, TLS everywhere with rediss+sentinel', () => {
    const o = redisOptions('rediss+sentinel://s1,s2:1/m/1?sentinel_password=sp', 'pw');
    expect(o).toMatchObject({
      sentinels: [{ host: 's1', port: 26379 }, { host: 's2', port: 1 }],
      name: 'm',
      role: 'master',
      db: 1,
      password: 'pw',
      sentinelPassword: 'sp',
      tls: {},
      enableTLSForSentinelMode: true,
      sentinelTLS: {},
    });
    expect(o.host).toBeUndefined();
    expect(o.failoverDetector).toBeUndefined();
    expect(redisOptions('redis+sentinel://s1/m').tls).toBeUndefined();
  });

  it('reconnects forever at most every 2 s, and on READONLY (a primary turned replica)', () => {
    for (const o of [redisOptions('redis://h'), redisOptions('redis+sentinel://s/m'), daemonRedisOptions()]) {
      expect(o.retryStrategy?.(1)).toBe(100);
      expect(o.retryStrategy?.(1000)).toBe(2000);
      expect(o.reconnectOnError).toBe(reconnectOnReadonly);
    }
    expect(redisOptions('redis+sentinel://s/m').sentinelRetryStrategy?.(1000)).toBe(2000);
    expect(reconnectOnReadonly(new Error('READONLY You can\'t write against a read only replica.'))).toBe(2);
    expect(reconnectOnReadonly(new Error('ERR wrong number of arguments'))).toBe(false);
  });

  it('throws on a URL the config would refuse', () => {
    expect(() => redisOptions('redis+sentinel://s1')).toThrow(/invalid Redis URL/);
  });
});

describe('redactRedisUrl and passwordsInUrl', () => {
  it('hides passwords and the query', () => {
    expect(redactRedisUrl('redis://:secret@h:6379/0')).toBe('redis://:***@h:6379/0');
    expect(redactRedisUrl('redis+sentinel://u:secret@s1,s2/m/1?sentinel_password=x')).toBe('redis+sentinel://u:***@s1,s2/m/1');
    expect(redactRedisUrl('redis+sentinel://token@s1/m')).toBe('redis+sentinel://***@s1/m');
    expect(redactRedisUrl('redis+sentinel://s1/m')).toBe('redis+sentinel://s1/m');
    expect(redactRedisUrl('::nope')).toBe('(invalid url)');
  });

  it('says which secrets a URL carries', () => {
    expect(passwordsInUrl('redis://:a@h')).toEqual({ password: true, sentinelPassword: false });
    expect(passwordsInUrl('redis+sentinel://s/m?sentinel_password=b')).toEqual({ password: false, sentinelPassword: true });
    expect(passwordsInUrl('redis://h')).toEqual({ password: false, sentinelPassword: false });
  });
});

describe('config schema', () => {
  it('accepts every form and refuses a bad URL with the reason', () => {
    expect(StoreSpec.safeParse({ kind: 'redis', url: 'redis+sentinel://s1,s2,s3/tocsin' }).success).toBe(true);
    expect(QueueSpec.safeParse({ kind: 'bullmq', redis_url: 'rediss://h/1', vantages: ['a'] }).success).toBe(true);
    const bad = StoreSpec.safeParse({ kind: 'redis', url: 'redis+sentinel://s1:26379' });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]).toMatchObject({ path: ['url'], message: expect.stringMatching(/master name is missing/) });
    const badQueue = QueueSpec.safeParse({ kind: 'bullmq', redis_url: 'redis://h/x', vantages: ['a'] });
    expect(badQueue.error?.issues[0]).toMatchObject({ path: ['redis_url'] });
  });

  it('store.replicas_wait: count, timeout (default 300ms, at most 3s)', () => {
    const ok = StoreSpec.parse({ kind: 'redis', url: 'redis://h', replicas_wait: { count: 1 } });
    expect(ok).toMatchObject({ replicas_wait: { count: 1, timeout: 300 } });
    expect(StoreSpec.safeParse({ kind: 'redis', url: 'redis://h', replicas_wait: { count: 1, timeout: '5s' } }).success).toBe(false);
    expect(StoreSpec.safeParse({ kind: 'redis', url: 'redis://h', replicas_wait: { count: -1 } }).success).toBe(false);
  });

  it('replicas wait by default: one behind Sentinel, none on a standalone URL', () => {
    expect(defaultReplicasWait('redis+sentinel://s/m')).toEqual({ count: 1, timeoutMs: 300 });
    expect(defaultReplicasWait('redis://h')).toEqual({ count: 0, timeoutMs: 300 });
  });
});
