import type { RedisOptions } from 'ioredis';
import { parseRedisUrl, redactRedisUrl } from '../../probes/shared/redis-url.js';

export {
  type HostAndPort,
  isSentinelUrl,
  parseRedisUrl,
  type ParsedRedisUrl,
  redactRedisUrl,
  type RedisTarget,
} from '../../probes/shared/redis-url.js';

/**
 * ioredis options for every Redis URL Tocsin accepts (store.url, queue.redis_url; the forms are in
 * probes/shared/redis-url.ts), built in this one place so the store, the leader lease (it shares
 * the store's client), the BullMQ queue and the workers all reach Redis the same way.
 */

/** Reconnect backoff: 100 ms more per attempt, capped here; never gives up (a fleet outlives outages). */
export const MAX_RECONNECT_DELAY_MS = 2000;
/** A command waiting longer than this for Redis rejects (a hung server is an unavailable store). */
export const DEFAULT_COMMAND_TIMEOUT_MS = 5000;
/** Why a config's Redis URL is refused, or undefined when it is fine (the config schema's check). */
export function redisUrlProblem(url: string): string | undefined {
  const parsed = parseRedisUrl(url);
  return parsed.ok ? undefined : parsed.error;
}

/** Reconnect forever, at most every 2 s: a daemon and a fleet outlive Redis restarts and failovers. */
export function reconnectDelay(attempt: number): number {
  return Math.min(attempt * 100, MAX_RECONNECT_DELAY_MS);
}

/**
 * After a failover the server this client talks to may have become a replica (a primary that came
 * back, DNS pointing at the old address): reconnect (2 = reconnect and resend the command), so the
 * client asks the Sentinels for the current primary.
 */
export function reconnectOnReadonly(err: Error): 2 | false {
  return err.message.startsWith('READONLY') ? 2 : false;
}

/**
 * ioredis options from any accepted Redis URL; `password` (`store.password_env`,
 * `queue.password_env`) is used when the URL has none (a password in the URL wins, as in ioredis).
 * Throws on a URL the config schema would refuse (the plan is validated before this is called).
 */
export function redisOptions(url: string, password?: string): RedisOptions {
  const parsed = parseRedisUrl(url);
  if (!parsed.ok) throw new Error(`invalid Redis URL ${redactRedisUrl(url)}: ${parsed.error}`);
  const t = parsed.target;
  const common: RedisOptions = {
    ...(t.username ? { username: t.username } : {}),
    ...(t.password ? { password: t.password } : password ? { password } : {}),
    db: t.db,
    retryStrategy: reconnectDelay,
    reconnectOnError: reconnectOnReadonly,
  };
  if (t.kind === 'standalone') {
    return { host: t.host, port: t.port, ...common, ...(t.tls ? { tls: {} } : {}) };
  }
  return {
    ...common,
    sentinels: t.sentinels.map((s) => ({ host: s.host, port: s.port })),
    name: t.name,
    role: 'master',
    ...(t.sentinelUsername ? { sentinelUsername: t.sentinelUsername } : {}),
    ...(t.sentinelPassword ? { sentinelPassword: t.sentinelPassword } : {}),
    // No Sentinel answers (all restarting): keep asking, as for the data nodes.
    sentinelRetryStrategy: reconnectDelay,
    // No `failoverDetector`: its +switch-master subscription disconnects the connector even in the
    // middle of a reconnection, which ends the client for good (status "end", seen in
    // test/integration/redis-sentinel.test.ts). Sentinel kills the clients of a node it turns into
    // a replica, and READONLY reconnects (above), so the client still moves to the new primary.
    // ioredis's `tls` alone would not encrypt the data nodes in Sentinel mode.
    ...(t.tls ? { tls: {}, enableTLSForSentinelMode: true, sentinelTLS: {} } : {}),
  };
}

/**
 * ioredis options for a daemon's store client: reconnect forever with capped backoff; no offline
 * queue and at most one retry, so while Redis is away commands fail at once (readiness turns 503,
 * API mutations answer 503) instead of piling up and replaying late.
 */
export function daemonRedisOptions(commandTimeoutMs = DEFAULT_COMMAND_TIMEOUT_MS): RedisOptions {
  return {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: commandTimeoutMs,
    connectTimeout: commandTimeoutMs,
    sentinelCommandTimeout: commandTimeoutMs,
    retryStrategy: reconnectDelay,
    reconnectOnError: reconnectOnReadonly,
  };
}

/** The password and the Sentinel password a URL carries (for the "secret in the config" warning). */
export function passwordsInUrl(url: string): { password: boolean; sentinelPassword: boolean } {
  const parsed = parseRedisUrl(url);
  if (!parsed.ok) return { password: false, sentinelPassword: false };
  const t = parsed.target;
  return { password: t.password !== undefined, sentinelPassword: t.kind === 'sentinel' && t.sentinelPassword !== undefined };
}
