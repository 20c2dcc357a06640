import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROBE_KINDS } from '../../probes/index.js';
import type { CheckContext } from '../../probes/probe.js';
import { TlsSpec } from '../../probes/shared/tls-spec.js';
import { StorageProbeSpec, storageProbe } from '../../probes/storage.js';
import { systemClock } from '../../src/clock.js';
import { loadConfig } from '../../src/config/load.js';
import type { CheckResult } from '../../src/events/probe-result.js';
import { probeMetricsRecorder } from '../../src/metrics/probe-metrics.js';
import { createMetrics } from '../../src/metrics/registry.js';
import { planJobs } from '../../src/queue/jobs.js';
import { runCheck } from '../../src/queue/run-check.js';
import { createTestPki, type TestPki } from '../helpers/certs.js';
import { runCli } from '../helpers/cli.js';
import { type RedisServer, startRedisServer } from '../helpers/redis-server.js';
import { type S3Fault, type S3Server, S3RVER_CREDENTIALS, startS3FaultProxy, startS3rver } from '../helpers/s3rver.js';
import {
  closedPort,
  hostile,
  LOOPBACK,
  startSlowProxy,
  startTcpServer,
  startTlsServer,
  type TestServer,
} from '../helpers/servers.js';

// The storage probe against real servers on loopback: s3rver (with a SigV4 check in front),
// redis-server child processes, and proxies that slow down, break or swallow their traffic.
// Hostile cases use short deadlines and check that the probe gives up within them (+300 ms).

const SLACK_MS = 300;
const BUCKET = 'probe';
/** s3rver maps `Host: vhost.localhost` to the bucket named after the whole host (CNAME style). */
const VHOST_BUCKET = 'vhost';
const REDIS_PASSWORD = 'redis-test-password';

const ENV = {
  TOCSIN_TEST_S3_ACCESS: S3RVER_CREDENTIALS.accessKeyId,
  TOCSIN_TEST_S3_SECRET: S3RVER_CREDENTIALS.secretAccessKey,
  TOCSIN_TEST_S3_WRONG_SECRET: 'not-the-secret',
  TOCSIN_TEST_S3_UNKNOWN_ACCESS: 'NOSUCHKEY',
  TOCSIN_TEST_REDIS_PASSWORD: REDIS_PASSWORD,
  TOCSIN_TEST_REDIS_WRONG_PASSWORD: 'wrong-password',
};

let s3: S3Server;
let redis: RedisServer;
let redisAuth: RedisServer;
const servers: TestServer[] = [];
async function serve(start: Promise<TestServer>): Promise<TestServer> {
  const server = await start;
  servers.push(server);
  return server;
}

beforeAll(async () => {
  Object.assign(process.env, ENV);
  [s3, redis, redisAuth] = await Promise.all([
    startS3rver({ buckets: [BUCKET, `${VHOST_BUCKET}.localhost`] }),
    startRedisServer(),
    startRedisServer({ password: REDIS_PASSWORD }),
  ]);
});

afterAll(async () => {
  for (const name of Object.keys(ENV)) delete process.env[name];
  await Promise.all([
    ...servers.map((s) => s.close()),
    s3?.stop(),
    redis?.stop(),
    redisAuth?.stop(),
  ]);
});

/** Runs one check of a probe written as in the config (kind keys, and the common `tls` block). */
async function check(
  raw: Record<string, unknown>,
  timeoutMs = 3000,
  tls?: Record<string, unknown>,
): Promise<CheckResult> {
  const spec = StorageProbeSpec.parse(raw);
  const ctx: CheckContext = { signal: AbortSignal.timeout(timeoutMs), timeoutMs };
  const full = { ...spec, tls: tls ? TlsSpec.parse(tls) : undefined };
  const results = await storageProbe.run(full, storageProbe.targets(full), ctx);
  expect(results).toHaveLength(1);
  const [result] = results;
  if (!result) throw new Error('no result');
  return result;
}

/** Runs a check that must fail within its deadline (plus slack); returns it and how long it took. */
async function timed(raw: Record<string, unknown>, timeoutMs: number): Promise<CheckResult> {
  const started = performance.now();
  const result = await check(raw, timeoutMs);
  expect(performance.now() - started).toBeLessThan(timeoutMs + SLACK_MS);
  return result;
}

const opsOf = (r: CheckResult): Record<string, number> => (r.observations?.ops ?? {}) as Record<string, number>;

const s3Spec = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  backend: 's3',
  endpoint: s3.url,
  bucket: BUCKET,
  access_key_env: 'TOCSIN_TEST_S3_ACCESS',
  secret_key_env: 'TOCSIN_TEST_S3_SECRET',
  ...over,
});

describe('storage probe, backend s3 (s3rver)', () => {
  it('puts, gets back and deletes an object, timing each op, and leaves the bucket empty', async () => {
    const r = await check(s3Spec({ object_size: '4KiB', key_prefix: 'happy/' }));
    expect(r).toMatchObject({ target: s3.url, ok: true });
    expect(r.error).toBeUndefined();
    const ops = opsOf(r);
    expect(Object.keys(ops)).toEqual(['put', 'get', 'delete']);
    for (const ms of Object.values(ops)) expect(ms).toBeGreaterThan(0);
    expect(r.observations).toMatchObject({ object_size: 4096, remote_address: LOOPBACK });
    expect(r.observations?.timings).toMatchObject({ connect: expect.any(Number), ttfb: expect.any(Number) });
    expect(await s3.listKeys(BUCKET)).toEqual([]);
  });

  it('virtual-hosted style: dials the endpoint, sends Host: bucket.host; without delete it overwrites one object', async () => {
    const endpoint = `http://localhost:${s3.port}`;
    const spec = s3Spec({ endpoint, bucket: VHOST_BUCKET, path_style: false, ops: ['put', 'get'], key_prefix: 'vh/' });
    const first = await check({ ...spec });
    expect(first).toMatchObject({ target: endpoint, ok: true });
    expect(Object.keys(opsOf(first))).toEqual(['put', 'get']);
    const second = await check({ ...spec });
    expect(second.ok).toBe(true);
    // s3rver stored it under the bucket named by the Host header: the bucket was in the host, not the path.
    const keys = await s3.listKeys(`${VHOST_BUCKET}.localhost`);
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatch(/^vh\/probe-[0-9a-f]{8}$/);
  });

  it('a wrong secret key is an auth storage_error (SignatureDoesNotMatch)', async () => {
    const r = await check(s3Spec({ secret_key_env: 'TOCSIN_TEST_S3_WRONG_SECRET' }));
    expect(r).toMatchObject({ ok: false, error: 'storage_error' });
    expect(r.detail).toContain('put: auth: SignatureDoesNotMatch (403)');
    expect(r.detail).not.toContain(ENV.TOCSIN_TEST_S3_WRONG_SECRET);
    expect(await s3.listKeys(BUCKET)).toEqual([]);
  });

  it('an unknown access key is an auth storage_error (InvalidAccessKeyId)', async () => {
    const r = await check(s3Spec({ access_key_env: 'TOCSIN_TEST_S3_UNKNOWN_ACCESS' }));
    expect(r).toMatchObject({ ok: false, error: 'storage_error' });
    expect(r.detail).toContain('auth: InvalidAccessKeyId');
  });

  it('a credential variable that is not set fails the check, naming the variable', async () => {
    const r = await check(s3Spec({ secret_key_env: 'TOCSIN_TEST_S3_NOT_SET' }));
    expect(r).toMatchObject({ ok: false, error: 'storage_error' });
    expect(r.detail).toBe('environment variable TOCSIN_TEST_S3_NOT_SET (secret_key_env) is not set');
  });

  it('a missing bucket is a storage_error naming it', async () => {
    const r = await check(s3Spec({ bucket: 'no-such-bucket' }));
    expect(r).toMatchObject({ ok: false, error: 'storage_error' });
    expect(r.detail).toBe('put: missing bucket "no-such-bucket" (404 NoSuchBucket)');
  });

  describe('behind a fault proxy', () => {
    let fault: (method: string) => S3Fault = () => 'forward';
    let proxy: TestServer;
    beforeAll(async () => {
      proxy = await serve(startS3FaultProxy(s3, (req) => fault(req.method ?? '')));
    });
    const viaProxy = (over: Record<string, unknown> = {}) => s3Spec({ endpoint: proxy.url, ...over });

    it('an object that comes back different is a content mismatch, and is still deleted', async () => {
      fault = (m) => (m === 'GET' ? 'corrupt' : 'forward');
      const r = await check(viaProxy({ key_prefix: 'corrupt/' }));
      expect(r).toMatchObject({ ok: false, error: 'storage_error' });
      expect(r.detail).toMatch(/^get: content mismatch \(got 1024 bytes, sha256 [0-9a-f]{12}…; put 1024 bytes/);
      expect(Object.keys(opsOf(r))).toEqual(['put']);
      expect(await s3.listKeys(BUCKET)).toEqual([]);
    });

    it('a 5xx answer is a storage_error with the status and S3 code', async () => {
      fault = (m) => (m === 'PUT' ? { status: 503, code: 'SlowDown', message: 'Please reduce your request rate.' } : 'forward');
      const r = await check(viaProxy());
      expect(r).toMatchObject({ ok: false, error: 'storage_error' });
      expect(r.detail).toBe('put: 503 SlowDown: Please reduce your request rate.');
    });

    it('when GET fails, the object written by PUT is deleted in the same check', async () => {
      fault = (m) => (m === 'GET' ? { status: 500, code: 'InternalError' } : 'forward');
      const r = await check(viaProxy({ key_prefix: 'getfail/' }));
      expect(r).toMatchObject({ ok: false, error: 'storage_error', detail: 'get: 500 InternalError: InternalError' });
      expect(await s3.listKeys(BUCKET)).toEqual([]);
    });

    it('a PUT sent but never answered may have stored the object: the next check deletes its key', async () => {
      fault = (m) => (m === 'PUT' ? 'hang' : 'forward');
      const r = await timed(viaProxy({ key_prefix: 'put-hang/' }), 800);
      expect(r).toMatchObject({ ok: false, error: 'timeout' });
      expect(r.detail).toMatch(/^timeout during put \((send|ttfb), deadline 800 ms\)$/);
      fault = () => 'forward';
      const next = await check(viaProxy({ key_prefix: 'put-hang/' }));
      expect(next).toMatchObject({ ok: true, observations: { cleanup: { deleted: 1, pending: 0 } } });
    });

    it('a GET that never answers times out naming the op; the object is deleted at the next check', async () => {
      fault = (m) => (m === 'GET' ? 'hang' : 'forward');
      const r = await timed(viaProxy({ key_prefix: 'leftover/' }), 1000);
      expect(r).toMatchObject({ ok: false, error: 'timeout' });
      expect(r.detail).toMatch(/^timeout during get \(ttfb, deadline 1000 ms\)$/);
      // No time was left to delete it: it is remembered, not forgotten.
      const left = await s3.listKeys(BUCKET);
      expect(left).toHaveLength(1);
      expect(left[0]).toMatch(/^leftover\//);

      fault = () => 'forward';
      const next = await check(viaProxy({ key_prefix: 'leftover/' }));
      expect(next.ok).toBe(true);
      expect(next.observations?.cleanup).toEqual({ deleted: 1, pending: 0 });
      expect(await s3.listKeys(BUCKET)).toEqual([]);
    });
  });

  it('a slow link is a degraded result (latency) naming the slow ops, not a hard failure', async () => {
    const slow = await serve(startSlowProxy(s3, 300));
    const r = await check(s3Spec({ endpoint: `http://${slow.address}`, expect: { max_latency: { put: '100ms', get: '100ms' } } }), 5000);
    expect(r).toMatchObject({ ok: false, error: 'latency' });
    expect(r.detail).toMatch(/^slow: put \d+ ms > 100ms, get \d+ ms > 100ms$/);
    expect(opsOf(r).put).toBeGreaterThanOrEqual(300);
    expect(Object.keys(opsOf(r))).toEqual(['put', 'get', 'delete']);
    expect(await s3.listKeys(BUCKET)).toEqual([]);
  });

  it('an overall max_latency limits the sum of the ops', async () => {
    const within = await check(s3Spec({ expect: { max_latency: '2s' } }));
    expect(within.ok).toBe(true);
    const slow = await serve(startSlowProxy(s3, 300));
    const r = await check(s3Spec({ endpoint: `http://${slow.address}`, expect: { max_latency: '500ms' } }), 5000);
    expect(r).toMatchObject({ ok: false, error: 'latency' });
    expect(r.detail).toMatch(/^slow: \d+ ms in total > max_latency 500ms \(put \d+ ms, get \d+ ms, delete \d+ ms\)$/);
  });

  it('a closed port is connect_refused, and leaves nothing to clean up once it is back', async () => {
    const port = await closedPort();
    const endpoint = `http://${LOOPBACK}:${port}`;
    const r = await check(s3Spec({ endpoint }));
    expect(r).toMatchObject({ ok: false, error: 'connect_refused' });
    expect(r.detail).toMatch(/^put: connect ECONNREFUSED /);
    // The service comes back on the same port (a plain TCP relay to s3rver).
    const open = new Set<net.Socket>();
    const relay = net.createServer((socket) => {
      const upstream = net.connect({ host: s3.host, port: s3.port });
      open.add(socket).add(upstream);
      upstream.on('error', () => socket.destroy());
      socket.on('error', () => upstream.destroy());
      socket.pipe(upstream).pipe(socket);
    });
    await new Promise<void>((resolve) => relay.listen(port, LOOPBACK, resolve));
    try {
      const back = await check(s3Spec({ endpoint }));
      expect(back.ok).toBe(true);
      // A PUT that never reached a server wrote nothing: no leftover to delete.
      expect(back.observations?.cleanup).toBeUndefined();
    } finally {
      for (const socket of open) socket.destroy();
      await new Promise<void>((resolve) => relay.close(() => resolve()));
    }
  });

  it('a server that accepts and never answers times out during put, within the deadline', async () => {
    const silent = await serve(hostile.silentTcp());
    const r = await timed(s3Spec({ endpoint: silent.url.replace('tcp:', 'http:') }), 800);
    expect(r).toMatchObject({ ok: false, error: 'timeout' });
    expect(r.detail).toMatch(/^timeout during put \(ttfb, deadline 800 ms\)$/);
  });
});

const redisSpec = (url: string, over: Record<string, unknown> = {}): Record<string, unknown> => ({
  backend: 'redis',
  url,
  ...over,
});

describe('storage probe, backend redis (redis-server)', () => {
  it('connects, PINGs, SETs, GETs and DELs a key, timing each op', async () => {
    const r = await check(redisSpec(`${redis.url}/1`));
    expect(r).toMatchObject({ target: `${redis.url}/1`, ok: true });
    const ops = opsOf(r);
    expect(Object.keys(ops)).toEqual(['connect', 'ping', 'set', 'get', 'del']);
    for (const ms of Object.values(ops)) expect(ms).toBeGreaterThan(0);
    expect(r.observations?.timings).toMatchObject({ connect: expect.any(Number), select: expect.any(Number) });
  });

  it('authenticates with password_env', async () => {
    const r = await check(redisSpec(redisAuth.url, { password_env: 'TOCSIN_TEST_REDIS_PASSWORD' }));
    expect(r.ok).toBe(true);
    expect(r.observations?.timings).toMatchObject({ auth: expect.any(Number) });
  });

  it('a password in the url is refused by the config (password_env instead)', () => {
    const parsed = StorageProbeSpec.safeParse(redisSpec(`redis://:${REDIS_PASSWORD}@${redisAuth.address}/0`));
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.message).toMatch(/must not carry a password .*password_env/);
  });

  it('a wrong password is an auth storage_error (WRONGPASS)', async () => {
    const r = await check(redisSpec(redisAuth.url, { password_env: 'TOCSIN_TEST_REDIS_WRONG_PASSWORD' }));
    expect(r).toMatchObject({ ok: false, error: 'storage_error' });
    expect(r.detail).toMatch(/^auth: WRONGPASS /);
  });

  it('no password for a server that wants one is an auth storage_error (NOAUTH)', async () => {
    const r = await check(redisSpec(redisAuth.url));
    expect(r).toMatchObject({ ok: false, error: 'storage_error' });
    expect(r.detail).toMatch(/^auth: NOAUTH .*\(no password given: set password_env\)$/);
  });

  it('a slow link is a degraded result (latency)', async () => {
    const slow = await serve(startSlowProxy(redis, 300));
    const r = await check(redisSpec(`redis://${slow.address}`, { expect: { max_latency: { get: '100ms' } } }), 5000);
    expect(r).toMatchObject({ ok: false, error: 'latency' });
    expect(r.detail).toMatch(/^slow: get \d+ ms > 100ms$/);
  });

  it('a closed port is connect_refused', async () => {
    const port = await closedPort();
    const r = await check(redisSpec(`redis://${LOOPBACK}:${port}`));
    expect(r).toMatchObject({ ok: false, error: 'connect_refused' });
  });

  it('a server that accepts and never answers times out during ping, within the deadline', async () => {
    const silent = await serve(hostile.silentTcp());
    const r = await timed(redisSpec(`redis://${silent.address}`), 800);
    expect(r).toMatchObject({ ok: false, error: 'timeout', detail: 'timeout during ping (deadline 800 ms)' });
  });

  it('a peer that does not speak RESP is a protocol_error', async () => {
    const http = await serve(
      startTcpServer((socket) => socket.once('data', () => socket.end('HTTP/1.1 400 Bad Request\r\n\r\n'))),
    );
    const r = await check(redisSpec(`redis://${http.address}`));
    expect(r).toMatchObject({ ok: false, error: 'protocol_error' });
    expect(r.detail).toBe('ping: not a RESP reply (first byte 0x48 \'H\'), the peer does not speak RESP');
  });
});

describe('storage probe, backend tcp', () => {
  it('measures the connect latency', async () => {
    const r = await check({ backend: 'tcp', address: redis.address });
    expect(r).toMatchObject({ target: redis.address, ok: true });
    expect(Object.keys(opsOf(r))).toEqual(['connect']);
    expect(r.observations?.timings).toMatchObject({ connect: expect.any(Number) });
  });

  it('a closed port is connect_refused', async () => {
    const port = await closedPort();
    const r = await check({ backend: 'tcp', address: `${LOOPBACK}:${port}` });
    expect(r).toMatchObject({ ok: false, error: 'connect_refused' });
  });
});

describe('storage probe over TLS (s3 https, rediss)', () => {
  let pki: TestPki;
  let s3tls: S3Server;
  let redisTls: TestServer;
  beforeAll(async () => {
    pki = await createTestPki({ caKeyType: 'ec-p256' });
    const leaf = await pki.issue('storage', {
      dns: ['localhost', `${VHOST_BUCKET}.localhost`],
      ips: [LOOPBACK],
      keyType: 'ec-p256',
    });
    s3tls = await startS3rver({ buckets: [BUCKET, `${VHOST_BUCKET}.localhost`], tls: leaf });
    // A TLS terminator in front of the plain redis-server, as stunnel or a managed Redis would be.
    redisTls = await serve(
      startTlsServer({ cert: leaf.cert, key: leaf.key }, (socket) => {
        const upstream = net.connect({ host: redis.host, port: redis.port });
        upstream.on('error', () => socket.destroy());
        socket.on('close', () => upstream.destroy());
        socket.pipe(upstream).pipe(socket);
      }),
    );
  });
  afterAll(async () => {
    await s3tls?.stop();
    await pki?.cleanup();
  });

  it('s3 over https with the private CA: ok, with the TLS session in observations', async () => {
    const r = await check(s3Spec({ endpoint: s3tls.url }), 3000, { ca: pki.ca.cert });
    expect(r).toMatchObject({ ok: true, target: s3tls.url });
    expect(r.observations).toMatchObject({ tls_version: 'TLSv1.3', cert_not_after: expect.any(String) });
    expect(r.observations?.timings).toMatchObject({ tls: expect.any(Number) });
    expect(await s3tls.listKeys(BUCKET)).toEqual([]);
  });

  it('virtual-hosted over https checks the certificate against bucket.host', async () => {
    const endpoint = `https://localhost:${s3tls.port}`;
    const spec = s3Spec({ endpoint, bucket: VHOST_BUCKET, path_style: false });
    expect(await check(spec, 3000, { ca: pki.ca.cert })).toMatchObject({ ok: true });
    const wrongName = await check(spec, 3000, { ca: pki.ca.cert, server_name: 'other.localhost' });
    expect(wrongName).toMatchObject({ ok: false, error: 'tls_cert_invalid' });
  });

  it('s3 over https without the CA is tls_cert_invalid', async () => {
    const r = await check(s3Spec({ endpoint: s3tls.url }));
    expect(r).toMatchObject({ ok: false, error: 'tls_cert_invalid' });
    expect(r.detail).toMatch(/^put: /);
  });

  it('rediss:// with the private CA: ok; without it: tls_cert_invalid', async () => {
    const url = `rediss://${redisTls.address}`;
    const r = await check(redisSpec(url), 3000, { ca: pki.ca.cert });
    expect(r).toMatchObject({ ok: true, target: url });
    expect(r.observations).toMatchObject({ tls_version: 'TLSv1.3' });
    expect(r.observations?.timings).toMatchObject({ tls: expect.any(Number) });
    expect(await check(redisSpec(url))).toMatchObject({ ok: false, error: 'tls_cert_invalid' });
  });
});

describe('storage probe from the config: tocsin probe, check-config, metrics', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tocsin-storage-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const writeConfig = (): string => {
    const file = join(dir, 'tocsin.yml');
    writeFileSync(
      file,
      `components:
  - { id: cellar, name: Cellar object storage, group: Storage, region: PAR }
probes:
  - id: cellar-s3
    kind: storage
    component: cellar
    backend: s3
    endpoint: ${s3.url}
    bucket: ${BUCKET}
    access_key_env: TOCSIN_TEST_S3_ACCESS
    secret_key_env: TOCSIN_TEST_S3_SECRET
    object_size: 2KiB
    timeout: 5s
    expect: { max_latency: { put: 5s, get: 5s } }
  - { id: cache, kind: storage, component: cellar, backend: redis, url: "redis://${redisAuth.address}/0", password_env: TOCSIN_TEST_REDIS_PASSWORD }
  - { id: cellar-tcp, kind: storage, component: cellar, backend: tcp, address: "${s3.host}:${s3.port}" }
`,
    );
    return file;
  };

  it('tocsin probe ID prints the result event; a redis password never reaches the output', async () => {
    const file = writeConfig();
    const env = { ...ENV, TOCSIN_CONFIG: '' };
    const out = await runCli(['probe', '--config', file, 'cellar-s3'], { env });
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    const event = JSON.parse(out.stdout.trim()) as Record<string, unknown>;
    expect(event).toMatchObject({ probe: 'cellar-s3', vantage: 'local', target: s3.url, ok: true });
    expect(event.observations).toMatchObject({ object_size: 2048, ops: { put: expect.any(Number) } });

    const cache = await runCli(['probe', '--config', file, 'cache'], { env });
    expect(cache.code).toBe(0);
    expect(JSON.parse(cache.stdout.trim())).toMatchObject({ target: `redis://${redisAuth.address}/0`, ok: true });
    expect(`${cache.stdout}${cache.stderr}`).not.toContain(REDIS_PASSWORD);
  });

  it('check-config rejects an unknown backend and an s3 probe without a bucket, with FILE:LINE: key: reason', async () => {
    const file = join(dir, 'bad.yml');
    writeFileSync(
      file,
      `components: [{ id: cellar, name: Cellar }]
probes:
  - { id: ftp, kind: storage, component: cellar, backend: ftp, address: "127.0.0.1:21" }
  - id: no-bucket
    kind: storage
    component: cellar
    backend: s3
    endpoint: https://cellar-c2.services.clever-cloud.com
    access_key_env: CELLAR_KEY
    secret_key_env: CELLAR_SECRET
    url: redis://127.0.0.1:6379
    expect: { max_latency: { ping: 1s } }
`,
    );
    const res = await runCli(['check-config', '--config', file]);
    expect(res.code).toBe(1);
    const lines = res.stdout.trim().split('\n');
    expect(lines).toEqual([
      `${file}:3: probes[0].backend: expected one of "s3", "redis", "tcp", got "ftp"`,
      `${file}:4: probes[1].bucket: required for backend s3`,
      `${file}:11: probes[1].url: not used by backend s3 (only by redis)`,
      `${file}:12: probes[1].expect.max_latency.ping: backend s3 has no op "ping" (ops: put, get, delete)`,
    ]);
  });

  it('results update tocsin_storage_operation_seconds, and the exposition passes promtool', async () => {
    const loaded = await loadConfig(writeConfig());
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
    const metrics = createMetrics({ version: 'test', processMetrics: false });
    const record = probeMetricsRecorder(loaded.plan, metrics);
    for (const job of planJobs(loaded.plan, PROBE_KINDS, ['local'])) {
      const kind = PROBE_KINDS[job.probe.kind];
      if (!kind) throw new Error(`no kind ${job.probe.kind}`);
      for (const r of await runCheck(kind, job, { clock: systemClock })) {
        expect(r).toMatchObject({ ok: true });
        record(r);
      }
    }
    const text = await metrics.registry.metrics();
    for (const [probe, op] of [
      ['cellar-s3', 'put'],
      ['cellar-s3', 'get'],
      ['cellar-s3', 'delete'],
      ['cache', 'set'],
      ['cellar-tcp', 'connect'],
    ]) {
      expect(text).toMatch(
        new RegExp(`^tocsin_storage_operation_seconds_count\\{probe="${probe}",op="${op}",vantage="local"\\} 1$`, 'm'),
      );
    }
    const file = join(dir, 'metrics.txt');
    writeFileSync(file, text);
    const { stdout, stderr } = await promisify(execFile)('sh', ['-c', `promtool check metrics < ${file}`]).catch(
      (err: { stdout: string; stderr: string; code: number }) => {
        throw new Error(`promtool failed (${err.code}): ${err.stdout}${err.stderr}`);
      },
    );
    expect(`${stdout}${stderr}`).not.toMatch(/error/i);
  });
});
