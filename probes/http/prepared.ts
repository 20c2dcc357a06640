import type { HostPort } from '../shared/host-port.js';
import { parseHostPort } from '../shared/host-port.js';
import { type CompiledExpectations, compileExpectations, needsBody } from './expect.js';
import { type HttpProbeSpec, redirectPolicy } from './spec.js';

/**
 * What a probe's spec asks of every check, worked out once: `address` split, the redirect policy,
 * the headers lower-cased, the expectations compiled (their regular expressions above all). A
 * check only reads it (nothing here is ever mutated: hops copy the headers they change).
 *
 * It is kept for as long as the spec, so it is kept small: the URL is parsed at each check (about
 * a microsecond, where a parsed URL per probe would hold some 250 bytes of heap), and every probe
 * without headers, `address` or expectations shares one (a plain health check: most of them).
 */
export interface PreparedSpec {
  readonly connectTo: HostPort | undefined;
  readonly follow: boolean;
  readonly allowLinkLocal: boolean;
  /** Keep the body text (for body_contains / body_regex); otherwise bytes are only counted. */
  readonly keepText: boolean;
  /** `headers`, names lower-cased. */
  readonly headers: Readonly<Record<string, string>>;
  /** `headers_env` as [lower-cased header name, name as written, variable]: read at every check. */
  readonly envHeaders: readonly (readonly [string, string, string])[];
  readonly expect: CompiledExpectations;
}

const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});
const NO_ENV_HEADERS: PreparedSpec['envHeaders'] = Object.freeze([]);

/** The prepared form of every plain spec, by `follow_redirects` (true, false). */
const PLAIN = new Map(
  [true, false].map((follow) => [
    follow,
    Object.freeze({
      connectTo: undefined,
      follow,
      allowLinkLocal: false,
      keepText: false,
      headers: NO_HEADERS,
      envHeaders: NO_ENV_HEADERS,
      expect: compileExpectations({}, follow),
    }),
  ]),
);

// Keyed by the spec object: the plan's specs live as long as the config, and a spec parsed anew
// (a reloaded config, a job from the queue) is simply prepared again.
const cache = new WeakMap<HttpProbeSpec, PreparedSpec>();

/** The prepared form of `spec`, made on its first check and kept with it. */
export function prepared(spec: HttpProbeSpec): PreparedSpec {
  let out = cache.get(spec);
  if (out === undefined) {
    out = prepare(spec);
    cache.set(spec, out);
  }
  return out;
}

function prepare(spec: HttpProbeSpec): PreparedSpec {
  const policy = redirectPolicy(spec.follow_redirects);
  const headers = Object.entries(spec.headers);
  const env = Object.entries(spec.headers_env);
  const plain = PLAIN.get(policy.follow);
  if (
    plain &&
    !policy.allowLinkLocal &&
    spec.address === undefined &&
    headers.length === 0 &&
    env.length === 0 &&
    Object.values(spec.expect).every((value) => value === undefined)
  ) {
    return plain;
  }
  return {
    connectTo: spec.address !== undefined ? parseHostPort(spec.address) : undefined,
    follow: policy.follow,
    allowLinkLocal: policy.allowLinkLocal,
    keepText: needsBody(spec.expect),
    headers:
      headers.length === 0
        ? NO_HEADERS
        : Object.freeze(Object.fromEntries(headers.map(([name, value]) => [name.toLowerCase(), value]))),
    envHeaders:
      env.length === 0
        ? NO_ENV_HEADERS
        : env.map(([name, variable]) => [name.toLowerCase(), name, variable] as const),
    expect: compileExpectations(spec.expect, policy.follow),
  };
}
