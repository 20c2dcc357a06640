import { type ExchangeOptions, exchange } from '../http/exchange.js';
import type { HopRequest } from '../http/redirect.js';
import type { Deadline } from '../shared/deadline.js';
import { parseHostPort } from '../shared/host-port.js';
import { type Failure, type NetPhase, timeoutFailure } from '../shared/net-errors.js';
import { PhaseClock } from '../shared/phase-clock.js';
import type { TlsSpec } from '../shared/tls-spec.js';
import { fingerprint } from './fingerprint.js';
import type { RouteOutcome } from './majority.js';
import { instanceUrl, type LbSyncProbeSpec } from './spec.js';
import { extractVersion, type VersionExtractor } from './version.js';

// The I/O of one lb_sync check: every route through every instance, each instance's version and
// the expected version, all at once under the check's one deadline.

/**
 * Requests in flight at once per check. A check of 50 instances x 20 routes must not open 1000
 * sockets at the same instant; requests beyond this wait their turn (under the same deadline).
 */
export const MAX_CONCURRENT_REQUESTS = 32;

/** What `collect` needs of a probe: its keys plus the common `tls` block. */
export type CollectSpec = Pick<
  LbSyncProbeSpec,
  'routes' | 'compare' | 'version' | 'expected_version' | 'max_body_size'
> & { readonly tls?: TlsSpec | undefined };

export interface CollectedInstance {
  readonly instance: string;
  /** One outcome per route, in the spec's order. */
  readonly routes: RouteOutcome[];
  version?: string;
  versionError?: string;
  /** Time from the check's start to this instance's last answer. */
  durationMs: number;
}

export interface Collected {
  readonly instances: CollectedInstance[];
  readonly expectedVersion?: string;
  readonly expectedVersionError?: string;
}

/** Runs at most `limit` tasks at once, in order of arrival. */
export function limiter(limit: number): <T>(task: () => Promise<T>) => Promise<T> {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async (task) => {
    // A finishing task hands its slot straight to the next waiter, so a newcomer cannot slip in between.
    if (running >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    else running++;
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else running--;
    }
  };
}

type Get = (
  hop: HopRequest,
  opts: Partial<ExchangeOptions> & { tls: TlsSpec | undefined },
) => ReturnType<typeof exchange>;

/** Why `expected_version` is ignored when `version` is not set (the loader cannot cross-check keys). */
export const NO_INSTANCE_VERSION = 'not compared: set `version` so that instances report theirs';

function failureText(f: Failure): string {
  return `${f.error}: ${f.detail}`;
}

/** GETs a version endpoint and reads the version out of it. */
async function fetchVersion(
  get: Get,
  url: string,
  how: VersionExtractor,
  tls: TlsSpec | undefined,
): Promise<{ version: string } | { error: string }> {
  const res = await get({ url: new URL(url), method: 'GET', headers: {} }, { keepText: true, tls });
  if (res.failure) return { error: failureText(res.failure) };
  const status = res.response?.status ?? 0;
  if (status < 200 || status > 299) return { error: `status ${status} from ${url}` };
  return extractVersion(res.body ?? '', how);
}

/** Fetches everything one check compares. Never rejects: every failure is a value. */
export async function collect(
  spec: CollectSpec,
  instances: readonly string[],
  deadline: Deadline,
  localAddress: string | undefined,
): Promise<Collected> {
  const limit = limiter(MAX_CONCURRENT_REQUESTS);
  const get: Get = (hop, opts) =>
    limit(async () => {
      if (deadline.expired) return { bodyBytes: 0, failure: timeoutFailure('queue', deadline.budgetMs) };
      const clock = new PhaseClock<NetPhase>();
      return exchange(
        hop,
        {
          stopAtRedirect: false,
          keepText: false,
          maxBodySize: spec.max_body_size,
          localAddress,
          ...opts,
        },
        deadline,
        clock,
      );
    });
  const hashBody = spec.compare.includes('body_sha256');
  const certFingerprint = spec.compare.includes('cert_fingerprint');
  const urls = spec.routes.map((route) => new URL(`${route.scheme}://${route.host}${route.path}`));

  const perInstance = instances.map(async (instance): Promise<CollectedInstance> => {
    const out: CollectedInstance = { instance, routes: [], durationMs: 0 };
    const done = (): void => {
      out.durationMs = Math.max(out.durationMs, deadline.elapsedMs());
    };
    const connectTo = parseHostPort(instance);
    const routes = urls.map(async (url): Promise<RouteOutcome> => {
      if (!connectTo)
        return { kind: 'failed', failure: { error: 'internal', detail: `"${instance}" is not host:port` } };
      const res = await get(
        { url, method: 'GET', headers: {}, connectTo },
        { tls: spec.tls, hashBody, certFingerprint },
      );
      done();
      if (res.failure || !res.response) {
        return {
          kind: 'failed',
          failure: res.failure ?? { error: 'internal', detail: 'exchange ended without an answer' },
        };
      }
      return {
        kind: 'answer',
        fingerprint: fingerprint(spec.compare, {
          status: res.response.status,
          headers: res.response.headers,
          certFingerprint256: res.certFingerprint256,
          bodySha256: res.bodySha256,
        }),
      };
    });
    const version = spec.version
      ? fetchVersion(get, instanceUrl(spec.version.url, instance), spec.version, spec.tls).then((v) => {
          done();
          return v;
        })
      : undefined;
    out.routes.push(...(await Promise.all(routes)));
    const v = await version;
    if (v && 'version' in v) out.version = v.version;
    else if (v) out.versionError = v.error;
    return out;
  });

  // The control plane is another server than the instances: its TLS uses the system's CAs and its
  // own host name, never the probe's `tls` block (which describes the load balancers). Without
  // `version` there is nothing to hold the expected version against, so it is not fetched.
  const expected =
    spec.expected_version && spec.version
      ? fetchVersion(get, spec.expected_version.url, spec.expected_version, undefined)
      : undefined;
  const [collected, exp] = await Promise.all([Promise.all(perInstance), expected]);
  if (spec.expected_version && !spec.version) {
    return { instances: collected, expectedVersionError: NO_INSTANCE_VERSION };
  }
  if (exp === undefined) return { instances: collected };
  return 'error' in exp
    ? { instances: collected, expectedVersionError: exp.error }
    : { instances: collected, expectedVersion: exp.version };
}
