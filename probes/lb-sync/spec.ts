import { z } from 'zod';
import { Duration } from '../../src/duration.js';
import { DEFAULT_MAX_BODY_SIZE } from '../http/spec.js';
import { parseHostPort } from '../shared/host-port.js';
import { credentialsInUrl } from '../shared/url.js';
import { JSON_PATH_PATTERN } from './version.js';

/** What `compare` may name: a fixed item, or `header:<name>` (any response header). */
export const COMPARE_ITEMS = ['status', 'cert_fingerprint', 'body_sha256'] as const;
const HEADER_ITEM = /^header:([!#$%&'*+.^_`|~0-9A-Za-z-]+)$/;

/** The compare items when `compare` is not given: what a client sees first. */
export const DEFAULT_COMPARE: readonly string[] = ['status', 'body_sha256'];

/** Placeholders of `version.url`, replaced per instance. */
const PLACEHOLDERS = /\{(instance|host)\}/g;

/** `status`, `cert_fingerprint`, `body_sha256` or `header:<name>` (the name is lower-cased). */
export const CompareItem = z.string().transform((text, ctx) => {
  if ((COMPARE_ITEMS as readonly string[]).includes(text)) return text;
  const header = HEADER_ITEM.exec(text);
  if (header?.[1]) return `header:${header[1].toLowerCase()}`;
  ctx.addIssue({
    code: 'custom',
    message: `unknown compare item "${text}" (use status, cert_fingerprint, body_sha256 or header:<name>)`,
  });
  return z.NEVER;
});
export type CompareItem = z.infer<typeof CompareItem>;

/** A host name (or IPv4, or [IPv6]) with an optional port, as written in a Host header. */
const RouteHost = z
  .string()
  .regex(
    /^([A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?(\.[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?)*\.?|\[[0-9A-Fa-f:.]+\])(:\d{1,5})?$/,
    'must be a host name, optionally with :port (e.g. app1.example.com)',
  );

const RoutePath = z
  .string()
  .regex(/^\/[^\s#]*$/, 'must start with "/" and contain no spaces or fragment (e.g. /health?full=1)');

export const LbSyncRoute = z
  .object({
    /** The site to ask for: Host header, and SNI/certificate name unless `tls.server_name` is set. */
    host: RouteHost,
    /** Path (and query) requested. Default "/". */
    path: RoutePath.default('/'),
    /** Default https. */
    scheme: z.enum(['http', 'https']).default('https'),
  })
  .strict();
export type LbSyncRoute = z.infer<typeof LbSyncRoute>;

function validUrl(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return `invalid URL "${text}"`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return `must be an http:// or https:// URL, got "${url.protocol}"`;
  }
  return credentialsInUrl(text);
}

/** A regular expression with at least one capture group (the version is the first group). */
const VersionRegex = z.string().superRefine((source, ctx) => {
  let re: RegExp;
  try {
    re = new RegExp(source);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: `invalid regular expression: ${(err as Error).message}` });
    return;
  }
  // `re|` matches the empty string, and its match array has one slot per capture group.
  const groups = (new RegExp(`${re.source}|`).exec('')?.length ?? 1) - 1;
  if (groups < 1) ctx.addIssue({ code: 'custom', message: 'needs a capture group: the version is group 1' });
});

const JsonPath = z
  .string()
  .regex(JSON_PATH_PATTERN, 'must be a dotted path of keys (e.g. config.version, or items.0.version)');

/** Where a version is read: a URL, then exactly one of `json_path` or `regex`. */
function versionSource(url: z.ZodType<string>) {
  return z
    .object({
      url,
      /** Dotted path into the JSON answer (`config.version`; array items by index: `items.0.v`). */
      json_path: JsonPath.optional(),
      /** Regular expression on the answer's text; the version is its first capture group. */
      regex: VersionRegex.optional(),
    })
    .strict()
    .superRefine((source, ctx) => {
      if ((source.json_path === undefined) === (source.regex === undefined)) {
        ctx.addIssue({ code: 'custom', message: 'give exactly one of json_path or regex' });
      }
    });
}

/** `version.url` may carry `{instance}` (host:port) and `{host}`; valid once they are filled in. */
const InstanceUrlTemplate = z.string().superRefine((text, ctx) => {
  const problem = validUrl(
    text.replace(PLACEHOLDERS, (_m, name) => (name === 'host' ? '192.0.2.1' : '192.0.2.1:1')),
  );
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

const PlainUrl = z.string().superRefine((text, ctx) => {
  const problem = /\{(instance|host)\}/.test(text)
    ? 'the control plane is one URL: {instance} and {host} are for version.url'
    : validUrl(text);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

export const VersionSpec = versionSource(InstanceUrlTemplate);
export type VersionSpec = z.infer<typeof VersionSpec>;
export const ExpectedVersionSpec = versionSource(PlainUrl);
export type ExpectedVersionSpec = z.infer<typeof ExpectedVersionSpec>;

/** Fills `{instance}` and `{host}` of a version URL for one instance (`host:port`). */
export function instanceUrl(template: string, instance: string): string {
  const host = parseHostPort(instance)?.host ?? instance;
  const bracketed = host.includes(':') ? `[${host}]` : host;
  return template.replace(PLACEHOLDERS, (_m, name) => (name === 'host' ? bracketed : instance));
}

/** Rejects repeated entries, naming the first one (targets and routes must be unique). */
function unique<T>(label: (item: T) => string, what: string) {
  return (items: T[], ctx: z.RefinementCtx): void => {
    const seen = new Map<string, number>();
    items.forEach((item, index) => {
      const key = label(item);
      const first = seen.get(key);
      if (first === undefined) seen.set(key, index);
      else ctx.addIssue({ code: 'custom', path: [index], message: `duplicate ${what} (same as [${first}])` });
    });
  };
}

/** The label of a route in events and details: `host/path`, prefixed with `http://` for plain HTTP. */
export function routeLabel(route: LbSyncRoute): string {
  return route.scheme === 'https' ? `${route.host}${route.path}` : `http://${route.host}${route.path}`;
}

/** The keys of `kind: lb_sync` (the common probe keys, `tls` included, are merged by the config loader). */
export const LbSyncProbeShape = {
  /** The load-balancer instances to compare, as `host:port` (IPv6 as `[::1]:443`). Each is a target. */
  instances: z
    .array(z.string().refine((t) => parseHostPort(t) !== undefined, 'must be host:port (IPv6 as [::1]:443)'))
    .min(1)
    .superRefine(unique((t: string) => t.trim(), 'instance')),
  /** The sites requested through every instance. */
  routes: z.array(LbSyncRoute).min(1).superRefine(unique(routeLabel, 'route')),
  /** What makes two answers the same. Default [status, body_sha256]. */
  compare: z
    .array(CompareItem)
    .min(1)
    .transform((items) => [...new Set(items)])
    .default(() => [...DEFAULT_COMPARE]),
  /** Each instance's config version, read from its own endpoint (`{instance}`, `{host}` filled in). */
  version: VersionSpec.optional(),
  /** The version every instance should serve, from a control plane; fetched once per check. */
  expected_version: ExpectedVersionSpec.optional(),
  /** How long an instance may differ before it is `config_out_of_sync`. Default 30s; 0s = at once. */
  max_lag: Duration.default(30_000),
  /** Most bytes of body read per answer (hashed as it streams, never kept). Default 1 MiB. */
  max_body_size: z.number().int().positive().default(DEFAULT_MAX_BODY_SIZE),
};

/** A `kind: lb_sync` probe's own keys, validated, with defaults applied. */
export const LbSyncProbeSpec = z.object(LbSyncProbeShape).strict();
export type LbSyncProbeSpec = z.infer<typeof LbSyncProbeSpec>;
