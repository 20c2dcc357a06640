import { redactUrl as redactUrlText } from './url.js';

/**
 * Every Redis URL Tocsin accepts, read in this one place: the daemon's store and queue
 * (`src/redis/connection.ts` turns them into ioredis options) and the storage probe's `redis`
 * backend (standalone forms only, no password: it speaks RESP itself).
 *
 *   redis://[user[:password]@]host[:port][/db]           a standalone server (port 6379)
 *   rediss://…                                           the same over TLS
 *   redis+sentinel://[user[:password]@]host1[:port1][,host2[:port2],…]/master-name[/db][?sentinel_username=…&sentinel_password=…]
 *   rediss+sentinel://…                                  the same, TLS to the sentinels and the data nodes
 *
 * The Sentinel form is the one of Redis-Sentinel-Url, redis-vl and Prefect/docket: the hosts are
 * Sentinels (port 26379 by default), the path names the monitored master; the userinfo
 * authenticates to the data nodes, `sentinel_username`/`sentinel_password` to the Sentinels.
 */

export const DEFAULT_REDIS_PORT = 6379;
const DEFAULT_PORT = DEFAULT_REDIS_PORT;
const DEFAULT_SENTINEL_PORT = 26379;
const SENTINEL_QUERY_KEYS = new Set(['sentinel_username', 'sentinel_password']);

export interface HostAndPort {
  readonly host: string;
  readonly port: number;
}

interface Common {
  readonly tls: boolean;
  readonly username?: string;
  readonly password?: string;
  readonly db: number;
}

export type RedisTarget =
  | (Common & { readonly kind: 'standalone'; readonly host: string; readonly port: number })
  | (Common & {
    readonly kind: 'sentinel';
    readonly sentinels: readonly HostAndPort[];
    /** The master name the Sentinels monitor (`sentinel monitor <name> …`). */
    readonly name: string;
    readonly sentinelUsername?: string;
    readonly sentinelPassword?: string;
  });

export type ParsedRedisUrl = { ok: true; target: RedisTarget } | { ok: false; error: string };

const SENTINEL_URL = /^(rediss?)\+sentinel:\/\/(?:([^@/?#]*)@)?([^/?#]*)(\/[^?#]*)?(?:\?([^#]*))?$/i;

/** True for `redis+sentinel://` and `rediss+sentinel://` URLs (the scheme alone is looked at). */
export function isSentinelUrl(url: string): boolean {
  return /^rediss?\+sentinel:/i.test(url.trim());
}

function decode(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

function parsePort(text: string, fallback: number): number | undefined {
  if (text === '') return fallback;
  if (!/^\d{1,5}$/.test(text)) return undefined;
  const port = Number(text);
  return port >= 1 && port <= 65535 ? port : undefined;
}

function parseDb(text: string | undefined): number | undefined {
  if (text === undefined || text === '') return 0;
  return /^\d{1,5}$/.test(text) ? Number(text) : undefined;
}

/** `user:password` (each percent-decoded); an empty part is absent. */
function parseUserinfo(text: string | undefined): { username?: string; password?: string } | undefined {
  if (text === undefined) return {};
  const colon = text.indexOf(':');
  const username = decode(colon < 0 ? text : text.slice(0, colon));
  const password = colon < 0 ? '' : decode(text.slice(colon + 1));
  if (username === undefined || password === undefined) return undefined;
  return { ...(username ? { username } : {}), ...(password ? { password } : {}) };
}

function parseSentinelUrl(url: string): ParsedRedisUrl {
  const m = SENTINEL_URL.exec(url);
  const fail = (why: string): ParsedRedisUrl => ({
    ok: false,
    error: `${why} (expected redis+sentinel://[user[:password]@]host1[:port1][,host2[:port2],…]/master-name[/db])`,
  });
  if (!m) return fail('malformed Sentinel URL');
  const [, scheme = '', userinfo, hostList = '', path = '', query] = m;
  const auth = parseUserinfo(userinfo);
  if (!auth) return fail('bad percent-encoding in the user or password');
  const sentinels: HostAndPort[] = [];
  for (const item of hostList.split(',')) {
    const hp = /^(\[[0-9A-Fa-f:.]+\]|[^:[\]\s]+)(?::(\d*))?$/.exec(item.trim());
    const port = hp ? parsePort(hp[2] ?? '', DEFAULT_SENTINEL_PORT) : undefined;
    if (!hp?.[1] || port === undefined) {
      return fail(item.trim() === '' ? 'a Sentinel host is missing' : `bad Sentinel address "${item}"`);
    }
    sentinels.push({ host: hp[1].replace(/^\[(.*)\]$/, '$1'), port });
  }
  const parts = path.split('/').slice(1);
  if (parts.at(-1) === '' && parts.length > 1) parts.pop(); // a trailing slash
  const name = decode(parts[0] ?? '');
  if (!name) return fail('the master name is missing');
  const db = parts.length <= 2 ? parseDb(parts[1]) : undefined;
  if (db === undefined) return fail(`bad database "${parts.slice(1).join('/')}" (an integer)`);
  const params = new URLSearchParams(query ?? '');
  for (const key of params.keys()) {
    if (!SENTINEL_QUERY_KEYS.has(key)) return fail(`unknown option "${key}" (sentinel_username, sentinel_password)`);
  }
  const sentinelUsername = params.get('sentinel_username') || undefined;
  const sentinelPassword = params.get('sentinel_password') || undefined;
  return {
    ok: true,
    target: {
      kind: 'sentinel',
      tls: scheme.toLowerCase() === 'rediss',
      sentinels,
      name,
      db,
      ...auth,
      ...(sentinelUsername ? { sentinelUsername } : {}),
      ...(sentinelPassword ? { sentinelPassword } : {}),
    },
  };
}

export type StandaloneRedisTarget = Extract<RedisTarget, { kind: 'standalone' }>;

/**
 * A `redis://` or `rediss://` URL (a Sentinel URL is refused by its scheme); a failure says why in
 * a few words, each caller adding the forms it accepts. An empty host is 127.0.0.1, as in ioredis.
 */
export function parseStandaloneRedisUrl(
  url: string,
): { ok: true; target: StandaloneRedisTarget } | { ok: false; error: string } {
  const fail = (error: string) => ({ ok: false, error }) as const;
  if (!URL.canParse(url)) return fail('malformed URL');
  const u = new URL(url);
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') return fail(`unsupported scheme "${u.protocol}"`);
  if (u.search !== '' || u.hash !== '') return fail('query options are not supported');
  const port = parsePort(u.port, DEFAULT_PORT);
  if (port === undefined) return fail(`bad port "${u.port}"`);
  const db = parseDb(u.pathname.replace(/^\//, ''));
  if (db === undefined) return fail(`bad database "${u.pathname.slice(1)}" (an integer)`);
  const auth = parseUserinfo(u.username || u.password ? `${u.username}:${u.password}` : undefined);
  if (!auth) return fail('bad percent-encoding in the user or password');
  return {
    ok: true,
    target: {
      kind: 'standalone',
      tls: u.protocol === 'rediss:',
      host: u.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1',
      port,
      db,
      ...auth,
    },
  };
}

function parseStandaloneUrl(url: string): ParsedRedisUrl {
  const parsed = parseStandaloneRedisUrl(url);
  if (parsed.ok) return parsed;
  return {
    ok: false,
    error: `${parsed.error} (expected redis://[user[:password]@]host[:port][/db], rediss://… or redis+sentinel://…)`,
  };
}

/** Parses a Redis URL of any accepted form; a bad one is a value with the reason, never a throw. */
export function parseRedisUrl(url: string): ParsedRedisUrl {
  return isSentinelUrl(url) ? parseSentinelUrl(url.trim()) : parseStandaloneUrl(url.trim());
}

/**
 * Where a Redis URL points, without its secrets, for log lines: a password as `***`, the query
 * (which may hold `sentinel_password`) dropped.
 */
export function redactRedisUrl(url: string): string {
  if (isSentinelUrl(url)) {
    const m = SENTINEL_URL.exec(url.trim());
    if (!m) return '(invalid url)';
    const [, scheme = '', userinfo, hosts = '', path = ''] = m;
    const colon = userinfo?.indexOf(':') ?? -1;
    const who = !userinfo ? '' : colon >= 0 ? `${userinfo.slice(0, colon)}:***@` : '***@';
    return `${scheme}+sentinel://${who}${hosts}${path}`;
  }
  return URL.canParse(url) ? redactUrlText(url) : '(invalid url)';
}
