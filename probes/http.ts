import type { CheckResult } from '../src/events/probe-result.js';
import { type ExchangeResult, exchange } from './http/exchange.js';
import { checkCompiled } from './http/expect.js';
import { type PreparedSpec, prepared } from './http/prepared.js';
import { type HopRequest, isFailure, nextHop } from './http/redirect.js';
import { guardsRedirect, redirectRefused, refusedByUrl } from './http/redirect-guard.js';
import { HttpProbeShape, HttpProbeSpec, MAX_REDIRECTS } from './http/spec.js';
import type { CheckContext, ProbeKind } from './probe.js';
import { Deadline, roundMs } from './shared/deadline.js';
import type { Failure, NetPhase } from './shared/net-errors.js';
import { PhaseClock } from './shared/phase-clock.js';
import type { TlsSpec } from './shared/tls-spec.js';

export { HttpProbeSpec };

/** What `run` receives: the kind's keys plus the common ones; only `tls` matters here. */
export type HttpCheckSpec = HttpProbeSpec & { readonly tls?: TlsSpec | undefined };

/** The event's target: the instance dialled when `address` is set, else the URL. */
function targetOf(spec: HttpProbeSpec): string {
  return spec.address ?? spec.url;
}

/**
 * The request headers: `headers` plus `headers_env` read now (secrets never live in the file, and
 * a rotated secret is sent at the next check); a message when a variable is unset.
 */
function headersWithEnv(prep: PreparedSpec): Readonly<Record<string, string>> | string {
  if (prep.envHeaders.length === 0) return prep.headers;
  const out = { ...prep.headers };
  for (const [header, name, variable] of prep.envHeaders) {
    const value = process.env[variable];
    if (value === undefined || value === '') {
      return `environment variable ${variable} (headers_env.${name}) is ${value === undefined ? 'not set' : 'empty'}`;
    }
    out[header] = value;
  }
  return out;
}

/** Observations of the last hop plus the check-wide ones (timings summed over hops, redirects). */
function observe(
  last: ExchangeResult,
  redirects: number,
  finalUrl: URL,
  clock: PhaseClock,
): Record<string, unknown> {
  const obs: Record<string, unknown> = { timings: clock.timings(), redirects, body_bytes: last.bodyBytes };
  if (last.response) {
    obs.status = last.response.status;
    obs.http_version = last.response.httpVersion;
  }
  if (last.remoteAddress) obs.remote_address = last.remoteAddress;
  if (redirects > 0) obs.final_url = finalUrl.href;
  if (last.tls) Object.assign(obs, last.tls);
  return obs;
}

/** The check's result, timed when it is made. */
function checkResult(
  target: string,
  deadline: Deadline,
  failure: Failure | undefined,
  observations?: Record<string, unknown>,
): CheckResult {
  const out: CheckResult = { target, ok: failure === undefined, duration_ms: roundMs(deadline.elapsedMs()) };
  if (failure) {
    out.error = failure.error;
    out.detail = failure.detail;
  }
  if (observations) out.observations = observations;
  return out;
}

/** One check of one target: every redirect hop under one deadline, then the expectations. */
async function checkOnce(spec: HttpCheckSpec, target: string, ctx: CheckContext): Promise<CheckResult> {
  const deadline = new Deadline(ctx);
  const clock = new PhaseClock<NetPhase>();
  const done = (failure: Failure | undefined, observations?: Record<string, unknown>): CheckResult =>
    checkResult(target, deadline, failure, observations);

  try {
    const prep = prepared(spec);
    const headers = headersWithEnv(prep);
    if (typeof headers === 'string') return done({ error: 'internal', detail: headers });
    const url = new URL(spec.url);
    // The probe's own origin and `address`, read only when a redirect is followed.
    const home = {
      get origin(): string {
        return url.origin;
      },
      connectTo: prep.connectTo,
    };
    // Redirects may not reach link-local or metadata addresses unless allowed: judged by URL before
    // the hop, then by the resolved address in exchange (the one the socket would connect to).
    const guarded = (request: HopRequest): boolean =>
      guardsRedirect(request.url, home.origin, prep.allowLinkLocal);
    let hop: HopRequest = {
      url,
      method: spec.method,
      headers,
      body: spec.body,
      connectTo: prep.connectTo,
    };

    for (let redirects = 0; ; redirects++) {
      const result = await exchange(
        hop,
        {
          stopAtRedirect: prep.follow,
          keepText: prep.keepText,
          maxBodySize: spec.max_body_size,
          tls: spec.tls,
          localAddress: ctx.sourceAddress,
          refuseLinkLocal: redirects > 0 && guarded(hop),
        },
        deadline,
        clock,
      );
      const observations = observe(result, redirects, hop.url, clock);
      if (result.failure || !result.response) return done(result.failure, observations);

      const { status, headers } = result.response;
      const next = prep.follow ? nextHop(hop, status, headers.location, home) : undefined;
      if (next !== undefined) {
        if (isFailure(next)) return done(next, observations);
        const refused = guarded(next) ? refusedByUrl(next.url) : undefined;
        if (refused !== undefined) return done(redirectRefused(next.url, refused), observations);
        if (redirects >= MAX_REDIRECTS) {
          return done(
            {
              error: 'too_many_redirects',
              detail: `more than ${MAX_REDIRECTS} redirects (next: ${next.url.href})`,
            },
            observations,
          );
        }
        hop = next;
        continue;
      }

      const failure = checkCompiled(prep.expect, {
        status,
        headers,
        body: result.body,
        durationMs: deadline.elapsedMs(),
      });
      return done(failure, observations);
    }
  } catch (err) {
    // Only a bug gets here (exchange never rejects): report it as Tocsin's own failure, not the target's.
    return done({
      error: 'internal',
      detail: `http probe: ${err instanceof Error ? err.message : String(err)}`,
    });
  } finally {
    deadline.dispose();
  }
}

/**
 * `kind: http`: fetches a URL over a fresh connection and checks status, headers, body and latency
 * (CONTRACT §2). Timings per phase, TLS session facts and the status go to `observations`.
 */
export const httpProbe: ProbeKind<HttpCheckSpec> = {
  kind: 'http',
  shape: HttpProbeShape,
  grouping: 'each',
  targets: (spec) => [targetOf(spec)],
  run: (spec, targets, ctx) => Promise.all(targets.map((target) => checkOnce(spec, target, ctx))),
};
