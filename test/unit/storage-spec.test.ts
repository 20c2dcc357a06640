import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { storageProbe } from '../../probes/storage.js';
import { parseSize, resolveBackend, StorageProbeSpec } from '../../probes/storage/spec.js';
import { withoutPassword } from '../../probes/shared/url.js';
import { formatProblem, loadConfig } from '../../src/config/load.js';

const s3 = {
  backend: 's3',
  endpoint: 'https://cellar-c2.services.clever-cloud.com',
  bucket: 'tocsin-probe',
  access_key_env: 'CELLAR_KEY',
  secret_key_env: 'CELLAR_SECRET',
};

/** The issues of a spec as `path: message`. */
function issues(raw: Record<string, unknown>): string[] {
  const parsed = StorageProbeSpec.safeParse(raw);
  if (parsed.success) return [];
  return parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

describe('object_size', () => {
  test.each([
    ['512', 512],
    ['4KiB', 4096],
    ['1MiB', 1_048_576],
    ['1.5 MiB', 1_572_864],
    ['10kB', 10_000],
    ['64MiB', 67_108_864],
    ['2B', 2],
  ])('%s is %d bytes', (text, bytes) => {
    expect(parseSize(text)).toBe(bytes);
  });

  test.each(['', 'KiB', '4 KiBs', '-1', '0.5B', '1e3'])('"%s" is not a size', (text) => {
    expect(parseSize(text)).toBeUndefined();
  });

  test('defaults to 1KiB, accepts numbers, and is capped at 64MiB', () => {
    expect(resolveBackend(StorageProbeSpec.parse(s3))).toMatchObject({ objectSize: 1024 });
    expect(resolveBackend(StorageProbeSpec.parse({ ...s3, object_size: 2048 }))).toMatchObject({ objectSize: 2048 });
    expect(issues({ ...s3, object_size: '65MiB' })).toEqual([
      'object_size: must be between 1 byte and 64MiB, got 68157440 bytes',
    ]);
    expect(issues({ ...s3, object_size: 0 })).toEqual(['object_size: must be between 1 byte and 64MiB, got 0 bytes']);
    expect(issues({ ...s3, object_size: 'big' })).toEqual([
      'object_size: invalid size "big" (use bytes, or e.g. 4KiB, 1MiB)',
    ]);
  });
});

describe('per-backend keys', () => {
  test('s3 defaults: region, ops in order, path style, key prefix', () => {
    expect(resolveBackend(StorageProbeSpec.parse(s3))).toEqual({
      backend: 's3',
      endpoint: new URL(s3.endpoint),
      bucket: 'tocsin-probe',
      region: 'us-east-1',
      accessKeyEnv: 'CELLAR_KEY',
      secretKeyEnv: 'CELLAR_SECRET',
      ops: ['put', 'get', 'delete'],
      objectSize: 1024,
      pathStyle: true,
      keyPrefix: 'tocsin-probe/',
    });
  });

  test('ops run put, get, delete whatever the order written; put is required; no repeats', () => {
    expect(resolveBackend(StorageProbeSpec.parse({ ...s3, ops: ['delete', 'put'] }))).toMatchObject({
      ops: ['put', 'delete'],
    });
    expect(issues({ ...s3, ops: ['get', 'delete'] })).toEqual([
      'ops: must include put (the probe only reads what it wrote)',
    ]);
    expect(issues({ ...s3, ops: ['put', 'put'] })).toEqual(['ops: must not repeat an operation']);
  });

  test('keys required by the backend, and keys of another backend, are reported by path', () => {
    expect(issues({ backend: 's3', endpoint: s3.endpoint })).toEqual([
      'bucket: required for backend s3',
      'access_key_env: required for backend s3',
      'secret_key_env: required for backend s3',
    ]);
    expect(issues({ backend: 'redis' })).toEqual(['url: required for backend redis']);
    expect(issues({ backend: 'tcp', address: 'db:5432', bucket: 'x', object_size: 10 })).toEqual([
      'bucket: not used by backend tcp (only by s3)',
      'object_size: not used by backend tcp (only by s3)',
    ]);
    expect(issues({ backend: 'redis', url: 'redis://h', key_prefix: 'p/' })).toEqual([]);
  });

  test('per-op max_latency must name ops of the backend; a duration or a map', () => {
    expect(StorageProbeSpec.parse({ ...s3, expect: { max_latency: { put: '500ms', get: '300ms' } } }).expect).toEqual({
      max_latency: { put: 500, get: 300 },
    });
    expect(StorageProbeSpec.parse({ ...s3, expect: { max_latency: '2s' } }).expect).toEqual({ max_latency: 2000 });
    expect(issues({ backend: 'tcp', address: 'db:5432', expect: { max_latency: { get: '1s' } } })).toEqual([
      'expect.max_latency.get: backend tcp has no op "get" (ops: connect)',
    ]);
    expect(issues({ ...s3, expect: { max_latency: { upload: '1s' } } })).toEqual([
      'expect.max_latency: Unrecognized key: "upload"',
    ]);
  });

  test('endpoint and url checks', () => {
    expect(issues({ ...s3, endpoint: 'ftp://x' })).toEqual(['endpoint: must be an http:// or https:// URL, got "ftp:"']);
    expect(issues({ ...s3, endpoint: 'https://k:s@x' })).toEqual([
      'endpoint: must not carry credentials (use access_key_env, secret_key_env)',
    ]);
    expect(issues({ ...s3, endpoint: 'http://127.0.0.1:9000', path_style: false })).toEqual([
      'path_style: virtual-hosted style (false) needs an endpoint with a DNS name (bucket.HOST), not an IP address',
    ]);
    expect(issues({ backend: 'redis', url: 'http://h' })).toEqual(['url: must be a redis:// or rediss:// URL, got "http:"']);
    expect(issues({ backend: 'redis', url: 'redis://h/x' })).toEqual([
      'url: bad database "x" (an integer) (expected redis://[user@]host:port/db)',
    ]);
    expect(issues({ backend: 'redis', url: 'redis://h/0?timeout=1' })).toEqual([
      'url: query options are not supported (expected redis://[user@]host:port/db)',
    ]);
    expect(issues({ backend: 'redis', url: 'redis+sentinel://s1/mymaster' })).toEqual([
      'url: must be a redis:// or rediss:// URL, got "redis+sentinel:"',
    ]);
    expect(issues({ backend: 'redis', url: 'redis:///0' })).toEqual(['url: must name a host (redis://host:6379/0)']);
    expect(issues({ backend: 'redis', url: 'redis://:pw@h', password_env: 'PW' })).toEqual([
      'url: must not carry a password (a secret never lives in the config file): give it with password_env',
    ]);
    expect(issues({ backend: 'redis', url: 'redis://app@h/0', password_env: 'PW' })).toEqual([]);
    expect(issues({ backend: 'tcp', address: 'no-port' })).toEqual(['address: must be host:port (IPv6 as [::1]:443)']);
    expect(issues({ ...s3, access_key_env: 'not a name' })).toEqual(['access_key_env: must be an environment variable name']);
  });

  test('the redis server is read from the url as the store reads its own', () => {
    const server = (url: string) => resolveBackend(StorageProbeSpec.parse({ backend: 'redis', url }));
    expect(server('redis://cache')).toMatchObject({ server: { host: 'cache', port: 6379, db: 0, tls: false } });
    expect(server('rediss://app%40x@[::1]:6380/3')).toMatchObject({
      server: { host: '::1', port: 6380, db: 3, tls: true, username: 'app@x' },
    });
  });

  test('the common tls block is refused where it would be ignored', () => {
    const refine = (spec: Record<string, unknown>): string[] => {
      const out: string[] = [];
      const parsed = StorageProbeSpec.parse(spec);
      storageProbe.refine?.({ ...parsed, tls: { insecure: true, min_version: 'TLSv1.2' } }, {
        addIssue: (issue: { path?: PropertyKey[]; message?: string }) =>
          out.push(`${(issue.path ?? []).join('.')}: ${issue.message}`),
        value: parsed,
      } as never);
      return out;
    };
    expect(refine({ backend: 'tcp', address: 'db:5432' })).toEqual([
      'tls: not used by backend tcp (it measures the TCP connect)',
    ]);
    expect(refine({ backend: 'redis', url: 'redis://h' })).toEqual(['tls: only used with a rediss:// url']);
    expect(refine({ backend: 'redis', url: 'rediss://h' })).toEqual([]);
    expect(refine(s3)).toEqual([]);
  });
});

describe('targets', () => {
  test('the endpoint, the url without its password, or the address', () => {
    const target = (raw: Record<string, unknown>) => storageProbe.targets(StorageProbeSpec.parse(raw));
    expect(target(s3)).toEqual([s3.endpoint]);
    expect(target({ backend: 'redis', url: 'redis://app@cache/0' })).toEqual(['redis://app@cache/0']);
    expect(target({ backend: 'redis', url: 'redis://cache:6379' })).toEqual(['redis://cache:6379']);
    expect(target({ backend: 'tcp', address: '[::1]:5432' })).toEqual(['[::1]:5432']);
  });

  test('the target keeps a URL without password as written, and drops a password', () => {
    expect(withoutPassword('rediss://cache.example.com:6380/1')).toBe('rediss://cache.example.com:6380/1');
    expect(withoutPassword('redis://:p%40ss@h')).toBe('redis://h');
    expect(withoutPassword('redis://user:p@h:6379/2')).toBe('redis://user@h:6379/2');
    expect(withoutPassword('h:6379')).toBe('h:6379');
  });
});

describe('check-config: storage problems at FILE:LINE', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tocsin-storage-spec-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('a valid seed-000 style config loads; bad ones give one problem per key', async () => {
    const good = join(dir, 'good.yml');
    await writeFile(
      good,
      `components: [{ id: cellar, name: Cellar, group: Storage, region: PAR }]
probes:
  - id: cellar-c2
    kind: storage
    component: cellar
    backend: s3
    endpoint: https://cellar-c2.services.clever-cloud.com
    bucket: tocsin-probe
    access_key_env: CELLAR_KEY_ID
    secret_key_env: CELLAR_SECRET
    object_size: 1MiB
    tls: { min_version: TLSv1.2 }
    expect: { max_latency: { put: 500ms, get: 300ms } }
`,
    );
    const loaded = await loadConfig(good, { cwd: dir, env: {} });
    if (!loaded.ok) throw new Error(loaded.problems.map(formatProblem).join('\n'));
    expect(loaded.plan.probes[0]).toMatchObject({
      kind: 'storage',
      targets: ['https://cellar-c2.services.clever-cloud.com'],
      spec: { object_size: 1_048_576, expect: { max_latency: { put: 500, get: 300 } } },
    });

    const bad = join(dir, 'bad.yml');
    await writeFile(
      bad,
      `components: [{ id: cellar, name: Cellar }]
probes:
  - id: cache
    kind: storage
    component: cellar
    backend: redis
    url: redis://:pw@cache:6379/0
    password_env: CACHE_PW
    bucket: nope
  - { id: s3, kind: storage, component: cellar, backend: s3, endpoint: "https://x", bucket: b, access_key_env: K }
`,
    );
    const res = await loadConfig(bad, { cwd: dir, env: {} });
    expect(res.ok).toBe(false);
    expect(res.ok ? [] : res.problems.map(formatProblem)).toEqual([
      'bad.yml:7: probes[0].url: must not carry a password (a secret never lives in the config file): give it with password_env',
      'bad.yml:9: probes[0].bucket: not used by backend redis (only by s3)',
      'bad.yml:10: probes[1].secret_key_env: required for backend s3',
    ]);
  });
});
