import { z } from 'zod';
import { Duration } from '../../src/duration.js';
import { parseHostPort } from '../shared/host-port.js';
import { credentialsInUrl, HttpUrl } from '../shared/url.js';
import { parseRegexLiteral, STATUS_PATTERN } from './expect.js';

/** 1 MiB: enough for any health endpoint, small enough that 256 concurrent checks stay bounded. */
export const DEFAULT_MAX_BODY_SIZE = 1_048_576;
/** Redirect hops followed before `too_many_redirects` (as browsers and Blackbox exporter do). */
export const MAX_REDIRECTS = 10;

const Regex = z.string().superRefine((source, ctx) => {
  try {
    new RegExp(source);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: `invalid regular expression: ${(err as Error).message}` });
  }
});

/** A header expectation: an exact value, or `/regex/flags`. */
const HeaderValue = z.string().superRefine((text, ctx) => {
  try {
    parseRegexLiteral(text);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: `invalid regular expression: ${(err as Error).message}` });
  }
});

const StatusEntry = z.union([
  z.number().int().min(100).max(599),
  z.string().regex(STATUS_PATTERN, 'must be a status (200) or a class ("2xx")'),
]);

export const HttpExpect = z
  .object({
    /**
     * Accepted statuses: numbers or classes like "2xx". Default ["2xx"] when redirects are
     * followed, ["2xx", "3xx"] when `follow_redirects: false` (the redirect is then the answer).
     */
    status: z.array(StatusEntry).min(1).optional(),
    /** The body must contain this text (the body is then kept, up to `max_body_size`). */
    body_contains: z.string().min(1).optional(),
    /** The body must match this regular expression (JavaScript syntax, no delimiters). */
    body_regex: Regex.optional(),
    /** Response headers (names case-insensitive): an exact value, or `/regex/flags` to match. */
    header: z.record(z.string().min(1), HeaderValue).optional(),
    /** A check slower than this is `ok: false, error: latency` (degraded). Default: no limit. */
    max_latency: Duration.optional(),
  })
  .strict();
export type HttpExpect = z.infer<typeof HttpExpect>;

/** The keys of `kind: http` (the common probe keys, `tls` included, are merged by the config loader). */
export const HttpProbeShape = {
  /** The URL to fetch (http:// or https://), without credentials (see `headers_env`). */
  url: HttpUrl.superRefine((text, ctx) => {
    const problem = credentialsInUrl(
      text,
      'send them in a header read from the environment, e.g. headers_env: { authorization: MY_AUTH_ENV }',
    );
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  }),
  /** Request method. Default GET. */
  method: z
    .string()
    .regex(/^[A-Za-z]+$/, 'must be an HTTP method such as GET or POST')
    .transform((m) => m.toUpperCase())
    .default('GET'),
  /** Extra request headers. A `host` header here replaces the URL's authority in the Host header. */
  headers: z
    .record(
      z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'must be an HTTP header name'),
      z.string().regex(/^[^\r\n\0]*$/, 'must not contain line breaks'),
    )
    .default({}),
  /**
   * Request headers whose value is read from an environment variable at each check (header name →
   * variable name): how credentials are sent, since they never live in the file. A variable unset
   * or empty fails the check (`internal`: a setup fault, never the target's). Wins over `headers`.
   */
  headers_env: z
    .record(
      z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'must be an HTTP header name'),
      z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name'),
    )
    .default({}),
  /** Request body (sent as is, with its Content-Length). Default: none. */
  body: z.string().optional(),
  /**
   * `host:port` to connect to instead of the URL's host, keeping the URL's Host header and SNI:
   * probes one load-balancer instance. Redirects to the same origin keep using it.
   */
  address: z
    .string()
    .refine((text) => parseHostPort(text) !== undefined, 'must be host:port (IPv6 as [::1]:443)')
    .optional(),
  /**
   * Follow 3xx answers with a Location, up to 10 hops. Default true. The object form follows
   * too, with options: `allow_link_local: true` lets redirects reach link-local and cloud
   * metadata addresses (refused by default with `redirect_refused`).
   */
  follow_redirects: z
    .union([z.boolean(), z.object({ allow_link_local: z.boolean().default(false) }).strict()])
    .default(true),
  /** Most bytes of body read; a longer body fails with `body_too_large`. Default 1 MiB (1048576). */
  max_body_size: z.number().int().positive().default(DEFAULT_MAX_BODY_SIZE),
  /** What a healthy answer looks like. Default: a 2xx status, any body, no latency limit. */
  expect: HttpExpect.default({}),
};

/** A `kind: http` probe's own keys, validated, with defaults applied. */
export const HttpProbeSpec = z.object(HttpProbeShape).strict();
export type HttpProbeSpec = z.infer<typeof HttpProbeSpec>;

/** What `follow_redirects` (a boolean or an object of options) asks for. */
export function redirectPolicy(value: HttpProbeSpec['follow_redirects']): {
  readonly follow: boolean;
  readonly allowLinkLocal: boolean;
} {
  if (typeof value === 'boolean') return { follow: value, allowLinkLocal: false };
  return { follow: true, allowLinkLocal: value.allow_link_local };
}
