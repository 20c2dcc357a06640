import { isIP } from 'node:net';
import { z } from 'zod';
import { TlsSpec } from '../../probes/shared/tls-spec.js';
import { redisUrlProblem } from '../redis/connection.js';
import { LOG_FORMATS, LOG_LEVELS } from '../log-format.js';
import { Duration } from '../duration.js';

/** Identifiers of components and probes: what metrics labels, URLs and rules refer to. */
const Id = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/, 'must be letters, digits, ".", "_", ":" or "-"');

/** `host:port` (IPv6 as `[::1]:9470`). */
export const HostPort = z.string().transform((text, ctx) => {
  const m = /^(\[[^\]]+\]|[^:\s]+):(\d{1,5})$/.exec(text.trim());
  const port = Number(m?.[2]);
  if (!m?.[1] || !(port >= 0 && port <= 65535)) {
    ctx.addIssue({ code: 'custom', message: `expected host:port, got "${text}"` });
    return z.NEVER;
  }
  return { host: m[1].replace(/^\[|\]$/g, ''), port };
});

/** The name of an environment variable holding a secret: secrets never live in the file. */
const EnvVarName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name');

export const TokenSpec = z
  .object({
    name: z.string().min(1),
    role: z.enum(['operator', 'viewer']),
    /** The environment variable holding the token; tokens never live in the file. */
    token_env: EnvVarName,
  })
  .strict();
export type TokenSpec = z.infer<typeof TokenSpec>;

/** An IP address, or a CIDR range (`10.0.0.0/8`, `fd00::/8`), as proxy-addr reads them. */
const ProxyAddress = z.string().refine(
  (text) => {
    const [address = '', prefix, extra] = text.split('/');
    const family = isIP(address);
    if (family === 0 || extra !== undefined) return false;
    if (prefix === undefined) return true;
    const bits = Number(prefix);
    return /^\d+$/.test(prefix) && bits <= (family === 4 ? 32 : 128);
  },
  { message: 'expected an IP address or a CIDR range (10.0.0.0/8)' },
);

export const ServerSpec = z
  .object({
    listen: HostPort.default({ host: '127.0.0.1', port: 9470 }),
    tokens: z.array(TokenSpec).default([]),
    /**
     * Lets a non-loopback `listen` start with no `tokens`, i.e. with the generated operator token
     * on disk as the only credential (src/api/binding.ts). Off unless said.
     */
    allow_unauthenticated_remote: z.boolean().optional(),
    /** `/metrics` needs a viewer (or operator) bearer token. Off by default: scrapers rarely send one. */
    metrics_auth: z.boolean().optional(),
    /**
     * Proxies whose X-Forwarded-For/-Proto/-Host are believed: the addresses (or CIDR ranges) of a
     * TLS-terminating proxy in front, or `true` for any sender (only when nothing but the proxy can
     * reach `listen`). Off by default: a forged X-Forwarded-For must not escape the auth backoff.
     */
    trust_proxy: z.union([z.boolean(), z.array(ProxyAddress).min(1)]).optional(),
  })
  .strict();
export type ServerSpec = z.infer<typeof ServerSpec>;

/** `redis://`, `rediss://`, `redis+sentinel://` (src/redis/connection.ts); a bad one says why. */
const RedisUrl = z.string().superRefine((url, ctx) => {
  const problem = redisUrlProblem(url);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

export const StoreSpec = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('sqlite'), path: z.string().min(1).default('data/tocsin.db') }).strict(),
  z
    .object({
      kind: z.literal('redis'),
      url: RedisUrl,
      /** The environment variable holding Redis's password (AUTH), rather than the URL. */
      password_env: EnvVarName.optional(),
      /** Key prefix of everything the store and the leader lease write. Default `tocsin:`. */
      prefix: z.string().min(1).optional(),
      /**
       * Incident and engine-state writes wait (`WAIT`) for this many replicas. Default: count 1
       * with a `redis+sentinel://` URL, 0 (off) otherwise; timeout 300ms, at most 3s (the lease
       * renewals share the connection, and an operator's verb is answered within 800 ms).
       */
      replicas_wait: z
        .object({
          count: z.number().int().min(0).max(16),
          timeout: Duration.pipe(z.number().min(1, 'must be positive').max(3000, 'must be at most 3s')).default(300),
        })
        .strict()
        .optional(),
    })
    .strict(),
]);
export type StoreSpec = z.infer<typeof StoreSpec>;

/**
 * Re-checks started per second at most, all probes and vantages together (a token bucket holding
 * one second of them): a zone-wide failure of 10,000 targets re-checks 200 a second, not 10,000.
 * Default 200 (`DEFAULT_RECHECK_RATE`).
 */
const RecheckRate = z.number().positive().max(100_000);

export const QueueSpec = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('inline'),
      /** Checks running at once in this process. Default 256. */
      concurrency: z.number().int().positive().default(256),
      recheck_rate: RecheckRate.optional(),
    })
    .strict(),
  z
    .object({
      kind: z.literal('bullmq'),
      redis_url: RedisUrl,
      /** The environment variable holding Redis's password (AUTH), rather than the URL. */
      password_env: EnvVarName.optional(),
      vantages: z.array(Id).min(1),
      concurrency: z.number().int().positive().default(256),
      recheck_rate: RecheckRate.optional(),
      /**
       * What a worker keeps while Redis is unreachable (results of its checks, delivered in order
       * once Redis answers), and how old a result `tocsin run` still takes from the stream.
       */
      buffer: z
        .object({
          /** Results held at most; the oldest go first. Default 200,000 (10,000 probes every 30 s for 10 min). */
          max_results: z.number().int().positive().default(200_000),
          /** Results older than this are dropped. Default 10 min. */
          max_age: Duration.pipe(z.number().min(1000, 'must be at least 1s')).default(600_000),
        })
        .strict()
        .default({ max_results: 200_000, max_age: 600_000 }),
    })
    .strict(),
]);
export type QueueSpec = z.infer<typeof QueueSpec>;

export const ComponentSpec = z
  .object({
    id: Id,
    name: z.string().min(1),
    group: z.string().min(1).default('Components'),
    region: z.string().min(1).optional(),
    description: z.string().optional(),
    depends_on: z.array(Id).default([]),
  })
  .strict();
export type ComponentSpec = z.infer<typeof ComponentSpec>;

export const MaintenanceSpec = z
  .object({
    id: Id,
    title: z.string().optional(),
    components: z.array(Id).min(1),
    start: z.iso.datetime({ offset: true }).optional(),
    end: z.iso.datetime({ offset: true }).optional(),
    cron: z.string().min(1).optional(),
    duration: Duration.optional(),
    timezone: z.string().min(1).optional(),
  })
  .strict()
  .superRefine((m, ctx) => {
    const oneOff = m.start !== undefined || m.end !== undefined;
    const recurring = m.cron !== undefined || m.duration !== undefined;
    if (oneOff === recurring) {
      ctx.addIssue({ code: 'custom', message: 'give either start and end, or cron and duration' });
    } else if (oneOff && (m.start === undefined || m.end === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: [m.start ? 'end' : 'start'],
        message: 'a one-off window needs both start and end',
      });
    } else if (oneOff && m.start && m.end && Date.parse(m.end) <= Date.parse(m.start)) {
      ctx.addIssue({ code: 'custom', path: ['end'], message: 'must be after start' });
    } else if (recurring && (m.cron === undefined || m.duration === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: [m.cron ? 'duration' : 'cron'],
        message: 'a recurring window needs both cron and duration',
      });
    }
  });
export type MaintenanceSpec = z.infer<typeof MaintenanceSpec>;

export const NOTIFIER_EVENTS = [
  'incident.opened',
  'incident.updated',
  'incident.confirmed',
  'incident.dismissed',
  'incident.resolved',
  'incident.rerooted',
] as const;

export const NotifierSpec = z
  .object({
    kind: z.enum(['webhook', 'slack']),
    url: z.url(),
    events: z.array(z.enum(NOTIFIER_EVENTS)).optional(),
    /** Environment variable holding the HMAC-SHA256 signing secret (webhook). */
    secret_env: z.string().optional(),
    timeout: Duration.default(5000),
    /**
     * How long the notification of a newly opened incident waits, so that it names the root and
     * components correlation settled on (a cascade is re-rooted seconds after its first failure);
     * changes within it are folded into that one message. `0s`: sent at once. Default 15s.
     */
    group_wait: Duration.refine((ms) => ms <= 3_600_000, { message: 'must be at most 1h' }).default(15_000),
  })
  .strict();
export type NotifierSpec = z.infer<typeof NotifierSpec>;

/** How Alertmanager alerts map to signals (docs/alertmanager.md). */
export const AlertmanagerSpec = z
  .object({
    /** The alert label naming the component the alert is about. Default `component`. */
    component_label: z.string().min(1).default('component'),
    /** The rule alert signals are reported under; not a rule of the pack. Default `alertmanager`. */
    rule: z
      .string()
      .regex(/^[a-z0-9][a-z0-9_-]*$/, 'must be lowercase letters, digits, "_" or "-"')
      .default('alertmanager'),
  })
  .strict();
export type AlertmanagerSpec = z.infer<typeof AlertmanagerSpec>;

/** Tunables of the rules engine (CONTRACT §5 gives the defaults). */
export const EngineSpec = z
  .object({
    /** Failures starting within this span of an incident's latest signal may merge into it. Default 2m. */
    correlation_window: Duration.default(120_000),
    /** A failure of a resolved incident's components within this span reopens it. Default 30m. */
    reopen_cooldown: Duration.default(1_800_000),
    /** A vantage silent for this many probe intervals is stale: it counts neither way. Default 3. */
    stale_intervals: z.number().int().min(1).max(100).default(3),
  })
  .strict();
export type EngineSpec = z.infer<typeof EngineSpec>;

/** `- include: glob` in `probes:` and `rules:`; relative to the including file. */
export const IncludeSpec = z.object({ include: z.string().min(1) }).strict();

/**
 * Re-checks after a failed check (docs/rules.md, "Re-checks"): `false` turns them off, `true` or
 * `{}` keeps the defaults, an object sets some keys (the others come from `defaults.recheck`).
 */
export const RecheckSpec = z.union([
  z.boolean(),
  z
    .object({
      /** Time between a check and its re-check; never below the probe's timeout. Default 2s. */
      interval: Duration.refine((ms) => ms >= 100, { message: 'must be at least 100ms' }).optional(),
      /** Re-checks in a row at most; then the probe waits for its interval. Default 5. */
      max: z.number().int().min(1).max(100).optional(),
    })
    .strict(),
]);
export type RecheckSpec = z.infer<typeof RecheckSpec>;

/** Values every probe takes unless it sets its own. */
export const DefaultsSpec = z
  .object({
    recheck: RecheckSpec.optional(),
  })
  .strict();
export type DefaultsSpec = z.infer<typeof DefaultsSpec>;

/** Keys every probe has, whatever its kind (CONTRACT §2). Kind-specific keys come from the kind. */
export const ProbeCommonShape = {
  id: Id,
  kind: z.string().min(1),
  component: Id,
  /** How often the probe runs at each vantage. Default 30s. */
  interval: Duration.default(30_000),
  /** Deadline of one check; default 10s, or half the interval when that is shorter; < interval. */
  timeout: Duration.optional(),
  /** Subset of the queue's vantages; default every vantage. */
  vantages: z.array(Id).min(1).optional(),
  labels: z.record(z.string(), z.string()).default({}),
  tls: TlsSpec.optional(),
  /** Re-checks after a failed check; default `defaults.recheck`, else on (2s, at most 5). */
  recheck: RecheckSpec.optional(),
};

/** `/metrics`: what the exposition holds beyond CONTRACT §7's per-probe gauges. */
export const MetricsSpec = z
  .object({
    /**
     * Check-duration histograms per probe as well as per kind and vantage. Off by default: at
     * 10,000 probes each bucket is 10,000 more series per scrape.
     */
    per_probe_histograms: z.boolean().default(false),
  })
  .strict();
export type MetricsSpec = z.infer<typeof MetricsSpec>;

/**
 * Logging of `run` and `worker`: `--log-level` and `--log-format` win over these. `auto` writes
 * JSON lines unless stderr is a terminal (docs/configuration.md, "log").
 */
export const LogSpec = z
  .object({
    level: z.enum(LOG_LEVELS).optional(),
    format: z.enum(LOG_FORMATS).default('auto'),
  })
  .strict();
export type LogSpec = z.infer<typeof LogSpec>;

/** The top-level file. `probes` and `rules` entries are checked one by one by the loader. */
export const ConfigFileSpec = z
  .object({
    server: ServerSpec.default({ listen: { host: '127.0.0.1', port: 9470 }, tokens: [] }),
    store: StoreSpec.default({ kind: 'sqlite', path: 'data/tocsin.db' }),
    queue: QueueSpec.default({ kind: 'inline', concurrency: 256 }),
    vantage: Id.default('local'),
    defaults: DefaultsSpec.default({}),
    components: z.array(ComponentSpec).min(1),
    probes: z.array(z.unknown()),
    rules: z.array(z.unknown()).optional(),
    maintenance: z.array(MaintenanceSpec).default([]),
    notifiers: z.array(NotifierSpec).default([]),
    alertmanager: AlertmanagerSpec.default({ component_label: 'component', rule: 'alertmanager' }),
    engine: EngineSpec.default({ correlation_window: 120_000, reopen_cooldown: 1_800_000, stale_intervals: 3 }),
    metrics: MetricsSpec.default({ per_probe_histograms: false }),
    log: LogSpec.default({ format: 'auto' }),
  })
  .strict();
export type ConfigFileSpec = z.infer<typeof ConfigFileSpec>;
