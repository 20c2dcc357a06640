import { isIP } from 'node:net';
import { z } from 'zod';
import { Duration } from '../../src/duration.js';
import { parseHostPort } from '../shared/host-port.js';
import { parseStandaloneRedisUrl, type StandaloneRedisTarget } from '../shared/redis-url.js';
import { HttpUrl, withoutPassword } from '../shared/url.js';

/** The storage backends a `kind: storage` probe speaks. */
export const STORAGE_BACKENDS = ['s3', 'redis', 'tcp'] as const;
export type StorageBackend = (typeof STORAGE_BACKENDS)[number];

/** The operations each backend measures (`observations.ops` keys, the metric's `op` label). */
export const BACKEND_OPS = {
  s3: ['put', 'get', 'delete'],
  redis: ['connect', 'ping', 'set', 'get', 'del'],
  tcp: ['connect'],
} as const satisfies Record<StorageBackend, readonly string[]>;
export type S3Op = (typeof BACKEND_OPS.s3)[number];
export type StorageOp = (typeof BACKEND_OPS)[StorageBackend][number];

/** Every op name of every backend, for the per-op `max_latency` map (checked per backend). */
const ALL_OPS = [
  ...new Set<StorageOp>([
    ...BACKEND_OPS.s3,
    ...BACKEND_OPS.redis,
    ...BACKEND_OPS.tcp,
  ]),
];

/** Default `object_size`: 1 KiB, enough to exercise a real write without costing bandwidth. */
export const DEFAULT_OBJECT_SIZE = 1024;
/** Largest `object_size`: a probe holds its object in memory, and 256 concurrent checks must stay bounded. */
export const MAX_OBJECT_SIZE = 64 * 1024 * 1024;
export const DEFAULT_REGION = 'us-east-1';
export const DEFAULT_KEY_PREFIX = 'tocsin-probe/';

const SIZE_UNITS: Readonly<Record<string, number>> = {
  b: 1,
  kb: 1000,
  mb: 1000 ** 2,
  gb: 1000 ** 3,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
};
const SIZE = /^(\d+(?:\.\d+)?)\s*([KMG]i?B|B)?$/i;

/** Parses `512`, `4KiB`, `1.5MiB`, `10kB` (SI) into bytes; undefined when malformed or fractional bytes. */
export function parseSize(text: string): number | undefined {
  const m = SIZE.exec(text.trim());
  if (!m?.[1]) return undefined;
  const bytes =
    Number(m[1]) * (SIZE_UNITS[(m[2] ?? 'b').toLowerCase()] ?? Number.NaN);
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

/** A byte count: a number of bytes or a size string; 1 byte to 64 MiB. */
const ObjectSize = z.union([z.number(), z.string()]).transform((value, ctx) => {
  const bytes = typeof value === 'number' ? value : parseSize(value);
  if (bytes === undefined || !Number.isSafeInteger(bytes)) {
    ctx.addIssue({
      code: 'custom',
      message: `invalid size ${JSON.stringify(value)} (use bytes, or e.g. 4KiB, 1MiB)`,
    });
    return z.NEVER;
  }
  if (bytes < 1 || bytes > MAX_OBJECT_SIZE) {
    ctx.addIssue({
      code: 'custom',
      message: `must be between 1 byte and 64MiB, got ${bytes} bytes`,
    });
    return z.NEVER;
  }
  return bytes;
});

/** The S3 endpoint: an http(s) URL without credentials (they come from the environment) or query. */
const EndpointUrl = HttpUrl.superRefine((text, ctx) => {
  if (!URL.canParse(text)) return; // HttpUrl reported it
  const url = new URL(text);
  if (url.username || url.password) {
    ctx.addIssue({ code: 'custom', message: 'must not carry credentials (use access_key_env, secret_key_env)' });
  } else if (url.search || url.hash) {
    ctx.addIssue({ code: 'custom', message: 'must not have a query or a fragment' });
  }
});

/**
 * The Redis URL: the standalone forms the daemon's store accepts (probes/shared/redis-url.ts), with
 * a host and without a password (a secret never lives in the config file).
 */
const RedisUrl = z.string().superRefine((text, ctx) => {
  const problem = (message: string) => ctx.addIssue({ code: 'custom', message });
  if (!URL.canParse(text)) return problem('invalid URL (expected redis://[user@]host:port/db)');
  const url = new URL(text);
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    return problem(`must be a redis:// or rediss:// URL, got "${url.protocol}"`);
  }
  if (url.password) {
    return problem('must not carry a password (a secret never lives in the config file): give it with password_env');
  }
  if (!url.hostname) return problem('must name a host (redis://host:6379/0)');
  const parsed = parseStandaloneRedisUrl(text);
  if (!parsed.ok) problem(`${parsed.error} (expected redis://[user@]host:port/db)`);
});

/** An environment variable name (the probe reads the secret from it at check time). */
const EnvName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name');

/** `max_latency`: one limit for the sum of the ops, or one per op. */
export const MaxLatency = z.union([
  Duration,
  z
    .object(
      Object.fromEntries(
        ALL_OPS.map((op) => [op, Duration.optional()]),
      ) as Record<StorageOp, z.ZodOptional<typeof Duration>>,
    )
    .strict(),
]);
export type MaxLatency = z.infer<typeof MaxLatency>;

export const StorageExpect = z
  .object({
    /**
     * A check whose ops all succeed but that is slower than this is `ok: false, error: latency`
     * (degraded, not down). A duration limits the sum of the ops; a map (`{ put: 500ms, get: 300ms }`)
     * limits each op named. Default: no limit.
     */
    max_latency: MaxLatency.optional(),
  })
  .strict();
export type StorageExpect = z.infer<typeof StorageExpect>;

/**
 * The keys of `kind: storage`. Backend-specific keys are optional here and their presence is checked
 * per backend by {@link refineStorageSpec} (the config loader merges this shape with the common keys
 * into one strict object, so it cannot be a discriminated union). Defaults of backend keys are applied
 * when the backend's settings are resolved, so that a key given to the wrong backend can be reported.
 */
export const StorageProbeShape = {
  /** Which protocol to speak: `s3` (put/get/delete an object), `redis` (SET/GET/DEL a key), `tcp` (connect). */
  backend: z.enum(STORAGE_BACKENDS),
  /** s3: the service URL (`https://cellar-c2.services.clever-cloud.com`); a path is kept as a prefix. */
  endpoint: EndpointUrl.optional(),
  /** s3: the bucket the probe writes to (it must exist). */
  bucket: z
    .string()
    .regex(
      /^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/,
      'must be a bucket name (letters, digits, ".", "-", "_")',
    )
    .optional(),
  /** s3: the SigV4 signing region. Default `us-east-1`. */
  region: z
    .string()
    .regex(/^[A-Za-z0-9-]+$/, 'must be a region name such as us-east-1')
    .optional(),
  /** s3: the environment variable holding the access key id (read at each check, never logged). */
  access_key_env: EnvName.optional(),
  /** s3: the environment variable holding the secret key (read at each check, never logged). */
  secret_key_env: EnvName.optional(),
  /**
   * s3: the operations measured, always run in the order put, get, delete. Default all three.
   * `put` is required (the probe only reads what it wrote); without `delete` each check overwrites
   * one object per probe and process instead of writing and removing a new one.
   */
  ops: z
    .array(z.enum(BACKEND_OPS.s3))
    .min(1)
    .refine(
      (ops) => new Set(ops).size === ops.length,
      'must not repeat an operation',
    )
    .refine(
      (ops) => ops.includes('put'),
      'must include put (the probe only reads what it wrote)',
    )
    .optional(),
  /** s3: bytes written per check: a number of bytes or a size (`4KiB`, `1MiB`); at most 64MiB. Default 1KiB. */
  object_size: ObjectSize.optional(),
  /** s3: `true` addresses `endpoint/bucket/key`; `false` addresses `bucket.endpoint-host/key`. Default true. */
  path_style: z.boolean().optional(),
  /** s3, redis: prefix of the keys the probe writes. Default `tocsin-probe/`. */
  key_prefix: z
    .string()
    .regex(
      /^[A-Za-z0-9!_.*'()/-]{1,200}$/,
      'must be letters, digits and !_.*\'()/- only',
    )
    .refine((p) => !p.startsWith('/'), 'must not start with "/"')
    .optional(),
  /** redis: `redis://[user@]host:port/db` or `rediss://` (TLS); no password here (`password_env`). */
  url: RedisUrl.optional(),
  /** redis: environment variable holding the password, instead of writing it in `url`. */
  password_env: EnvName.optional(),
  /** tcp: `host:port` to connect to. */
  address: z
    .string()
    .refine(
      (text) => parseHostPort(text) !== undefined,
      'must be host:port (IPv6 as [::1]:443)',
    )
    .optional(),
  /** What a healthy check looks like. Default: every op succeeds, no latency limit. */
  expect: StorageExpect.default({}),
};

/** A `kind: storage` probe's own keys, validated (per backend too), before backend defaults. */
export const StorageProbeSpec = z
  .object(StorageProbeShape)
  .strict()
  .superRefine(refineStorageSpec);
export type StorageProbeSpec = z.infer<typeof StorageProbeSpec>;

type BackendKey = Exclude<keyof typeof StorageProbeShape, 'backend' | 'expect'>;

const REQUIRED: Readonly<Record<StorageBackend, readonly BackendKey[]>> = {
  s3: ['endpoint', 'bucket', 'access_key_env', 'secret_key_env'],
  redis: ['url'],
  tcp: ['address'],
};
const OPTIONAL: Readonly<Record<StorageBackend, readonly BackendKey[]>> = {
  s3: ['region', 'ops', 'object_size', 'path_style', 'key_prefix'],
  redis: ['password_env', 'key_prefix'],
  tcp: [],
};
const BACKEND_KEYS = Object.keys(StorageProbeShape).filter(
  (k): k is BackendKey => k !== 'backend' && k !== 'expect',
);

/** What the per-backend check needs to see: the kind's keys plus the common `tls` block. */
interface RefineInput {
  readonly backend: StorageBackend;
  readonly expect: StorageExpect;
  readonly url?: string | undefined;
  readonly endpoint?: string | undefined;
  readonly path_style?: boolean | undefined;
  readonly password_env?: string | undefined;
  readonly tls?: unknown;
  readonly [key: string]: unknown;
}

/**
 * The checks a shape cannot express: keys required by the chosen backend, keys that belong to
 * another backend, per-op latency limits naming ops the backend does not run. Issues carry the key's
 * path so that `check-config` points at the right line.
 */
export function refineStorageSpec(
  spec: RefineInput,
  ctx: z.core.$RefinementCtx,
): void {
  const backend = spec.backend;
  const allowed = new Set<BackendKey>([
    ...REQUIRED[backend],
    ...OPTIONAL[backend],
  ]);
  for (const key of REQUIRED[backend]) {
    if (spec[key] === undefined)
      ctx.addIssue({
        code: 'custom',
        path: [key],
        message: `required for backend ${backend}`,
      });
  }
  for (const key of BACKEND_KEYS) {
    if (spec[key] !== undefined && !allowed.has(key)) {
      const owners = STORAGE_BACKENDS.filter(
        (b) => REQUIRED[b].includes(key) || OPTIONAL[b].includes(key),
      );
      ctx.addIssue({
        code: 'custom',
        path: [key],
        message: `not used by backend ${backend} (only by ${owners.join(', ')})`,
      });
    }
  }
  const limits = spec.expect.max_latency;
  if (typeof limits === 'object') {
    const ops: readonly string[] = BACKEND_OPS[backend];
    for (const [op, ms] of Object.entries(limits)) {
      if (ms !== undefined && !ops.includes(op)) {
        ctx.addIssue({
          code: 'custom',
          path: ['expect', 'max_latency', op],
          message: `backend ${backend} has no op "${op}" (ops: ${ops.join(', ')})`,
        });
      }
    }
  }
  if (backend === 'redis' && spec.url !== undefined && URL.canParse(spec.url)) {
    const url = new URL(spec.url);
    if (spec.tls !== undefined && url.protocol !== 'rediss:') {
      ctx.addIssue({
        code: 'custom',
        path: ['tls'],
        message: 'only used with a rediss:// url',
      });
    }
  }
  if (backend === 's3' && spec.path_style === false && spec.endpoint !== undefined && URL.canParse(spec.endpoint)) {
    if (isIP(new URL(spec.endpoint).hostname.replace(/^\[|\]$/g, '')) !== 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['path_style'],
        message: 'virtual-hosted style (false) needs an endpoint with a DNS name (bucket.HOST), not an IP address',
      });
    }
  }
  if (backend === 'tcp' && spec.tls !== undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['tls'],
      message: 'not used by backend tcp (it measures the TCP connect)',
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Settings of one backend, defaults applied (what the backends run with)

export interface S3Settings {
  readonly backend: 's3';
  readonly endpoint: URL;
  readonly bucket: string;
  readonly region: string;
  readonly accessKeyEnv: string;
  readonly secretKeyEnv: string;
  /** In execution order (put, get, delete), whatever the order written. */
  readonly ops: readonly S3Op[];
  readonly objectSize: number;
  readonly pathStyle: boolean;
  readonly keyPrefix: string;
}

export interface RedisSettings {
  readonly backend: 'redis';
  /** Where to connect, as the URL says (a password only when a spec skipped validation). */
  readonly server: StandaloneRedisTarget;
  readonly passwordEnv: string | undefined;
  readonly keyPrefix: string;
}

export interface TcpSettings {
  readonly backend: 'tcp';
  readonly host: string;
  readonly port: number;
}

export type BackendSettings = S3Settings | RedisSettings | TcpSettings;

/** Thrown only when a spec skipped validation (a Tocsin bug): the runner reports it as `internal`. */
function missing(backend: string, key: string): never {
  throw new Error(
    `storage probe: backend ${backend} without ${key} (the spec was not validated)`,
  );
}

/** The settings of the spec's backend, defaults applied. */
export function resolveBackend(spec: StorageProbeSpec): BackendSettings {
  switch (spec.backend) {
    case 's3': {
      const ops = spec.ops ?? BACKEND_OPS.s3;
      return {
        backend: 's3',
        endpoint: new URL(spec.endpoint ?? missing('s3', 'endpoint')),
        bucket: spec.bucket ?? missing('s3', 'bucket'),
        region: spec.region ?? DEFAULT_REGION,
        accessKeyEnv: spec.access_key_env ?? missing('s3', 'access_key_env'),
        secretKeyEnv: spec.secret_key_env ?? missing('s3', 'secret_key_env'),
        ops: BACKEND_OPS.s3.filter((op) => ops.includes(op)),
        objectSize: spec.object_size ?? DEFAULT_OBJECT_SIZE,
        pathStyle: spec.path_style ?? true,
        keyPrefix: spec.key_prefix ?? DEFAULT_KEY_PREFIX,
      };
    }
    case 'redis':
      return {
        backend: 'redis',
        server: redisServer(spec.url ?? missing('redis', 'url')),
        passwordEnv: spec.password_env,
        keyPrefix: spec.key_prefix ?? DEFAULT_KEY_PREFIX,
      };
    case 'tcp': {
      const hp =
        parseHostPort(spec.address ?? missing('tcp', 'address')) ??
        missing('tcp', 'a valid address');
      return { backend: 'tcp', host: hp.host, port: hp.port };
    }
  }
}

function redisServer(url: string): StandaloneRedisTarget {
  const parsed = parseStandaloneRedisUrl(url);
  return parsed.ok ? parsed.target : missing('redis', `a valid url (${parsed.error})`);
}

/** The event target (CONTRACT §2): the endpoint, the url without its password, or the address. */
export function storageTarget(spec: StorageProbeSpec): string {
  switch (spec.backend) {
    case 's3':
      return spec.endpoint ?? '';
    case 'redis':
      return withoutPassword(spec.url ?? '');
    case 'tcp':
      return spec.address ?? '';
  }
}
