import { getEventListeners } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpProbeSpec, httpProbe } from '../../probes/http.js';
import { exchange } from '../../probes/http/exchange.js';
import type { CheckContext } from '../../probes/probe.js';
import { Deadline } from '../../probes/shared/deadline.js';
import type { NetPhase } from '../../probes/shared/net-errors.js';
import { PhaseClock } from '../../probes/shared/phase-clock.js';
import { TlsSpec } from '../../probes/shared/tls-spec.js';
import type { CheckResult } from '../../src/events/probe-result.js';
import { type FixtureCerts, makeFixtureCerts } from '../helpers/certs.js';
import {
  closedPort,
  hostile,
  startHttpServer,
  startHttpsServer,
  type TestServer,
} from '../helpers/servers.js';

// The http probe against real loopback servers: well-behaved, TLS variants and hostile ones.
// Hostile cases use 1 s deadlines and check that the probe gives up within the deadline (+300 ms).

const SLACK_MS = 300;

const servers: TestServer[] = [];
async function serve(start: Promise<TestServer>): Promise<TestServer> {
  const server = await start;
  servers.push(server);
  return server;
}

function ctxFor(timeoutMs: number, signal: AbortSignal = AbortSignal.timeout(timeoutMs)): CheckContext {
  return { signal, timeoutMs };
}

/** Runs one check of a probe written as in the config (kind keys + optional `tls`). */
async function check(
  raw: Record<string, unknown>,
  options: { timeoutMs?: number; tls?: Record<string, unknown>; signal?: AbortSignal } = {},
): Promise<CheckResult> {
  const spec = HttpProbeSpec.parse(raw);
  const tls = options.tls ? TlsSpec.parse(options.tls) : undefined;
  const timeoutMs = options.timeoutMs ?? 2000;
  const results = await httpProbe.run(
    { ...spec, tls },
    httpProbe.targets(spec),
    ctxFor(timeoutMs, options.signal),
  );
  expect(results).toHaveLength(1);
  const [result] = results;
  if (!result) throw new Error('no result');
  return result;
}

function obs(result: CheckResult): Record<string, unknown> {
  return result.observations ?? {};
}

function timingsOf(result: CheckResult): Record<string, number> {
  return (obs(result).timings ?? {}) as Record<string, number>;
}

/** The routes of the well-behaved HTTP(S) test server. */
const app: http.RequestListener = (req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  const path = url.pathname;
  const send = (status: number, body: string, headers: http.OutgoingHttpHeaders = {}): void => {
    res.writeHead(status, {
      'content-type': 'text/plain',
      'content-length': Buffer.byteLength(body),
      ...headers,
    });
    res.end(body);
  };
  const status = /^\/status\/(\d{3})$/.exec(path);
  const slow = /^\/slow\/(\d+)$/.exec(path);
  const hops = /^\/redirect\/(\d+)$/.exec(path);
  if (path === '/ok')
    send(200, 'hello tocsin, all systems go', { 'x-config-version': '42', 'cache-control': 'no-store' });
  else if (status) send(Number(status[1]), `status ${status[1]}`);
  else if (slow) setTimeout(() => send(200, 'slow but fine'), Number(slow[1]));
  else if (hops)
    send(302, '', { location: Number(hops[1]) > 0 ? `/redirect/${Number(hops[1]) - 1}` : '/ok' });
  else if (path === '/loop') send(302, '', { location: '/loop' });
  else if (path === '/moved') send(301, '', { location: '/ok' });
  else if (path === '/see-other') send(303, '', { location: '/echo' });
  else if (path === '/elsewhere') send(302, '', { location: url.searchParams.get('to') ?? '/ok' });
  else if (path === '/bad-scheme') send(302, '', { location: 'ftp://example.test/file' });
  else if (path === '/echo') {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => {
      body += c;
    });
    req.on('end', () => send(200, `${req.method} ${body} auth=${req.headers.authorization ?? '-'}`));
  } else if (path === '/whoami') {
    const sni = (req.socket as { servername?: string | false }).servername;
    send(200, `host=${req.headers.host} sni=${sni || '-'} ua=${req.headers['user-agent']}`);
  } else if (path === '/secret') send(200, `x-secret=${req.headers['x-secret'] ?? '-'}`);
  else if (path === '/big') send(200, 'b'.repeat(10_000));
  else send(404, 'not found');
};

let certs: FixtureCerts;
let web: TestServer;
let secure: TestServer;
let appHost: TestServer;
let expired: TestServer;
let notYetValid: TestServer;
let wrongHost: TestServer;
let selfSigned: TestServer;
let ecdsa: TestServer;
let legacy: TestServer;

beforeAll(async () => {
  certs = await makeFixtureCerts();
  const tlsServer = (pair: { cert: string; key: string }, extra: Record<string, unknown> = {}) =>
    serve(startHttpsServer(app, { cert: pair.cert, key: pair.key, ...extra }));
  web = await serve(startHttpServer(app));
  secure = await tlsServer(certs.localhost);
  appHost = await tlsServer(certs.app);
  expired = await tlsServer(certs.expired);
  notYetValid = await tlsServer(certs.notYetValid);
  wrongHost = await tlsServer(certs.wrongHost);
  selfSigned = await tlsServer(certs.selfSigned);
  ecdsa = await tlsServer(certs.ecdsa);
  // Node 20's OpenSSL still speaks TLS 1.1 when the security level is lowered explicitly.
  legacy = await tlsServer(certs.localhost, {
    minVersion: 'TLSv1',
    maxVersion: 'TLSv1.1',
    ciphers: 'DEFAULT:@SECLEVEL=0',
  });
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await certs?.pki.cleanup();
});

describe('http probe: answers', () => {
  it('succeeds on a 2xx and reports phase timings and the status', async () => {
    const result = await check({ url: `${web.url}/ok` });
    expect(result).toMatchObject({ target: `${web.url}/ok`, ok: true });
    expect(result.error).toBeUndefined();
    expect(result.duration_ms).toBeGreaterThan(0);
    expect(obs(result)).toMatchObject({ status: 200, http_version: '1.1', redirects: 0, body_bytes: 28 });
    const t = timingsOf(result);
    // An IP literal needs no DNS; every other phase is measured.
    expect(t.dns).toBeUndefined();
    for (const phase of ['connect', 'ttfb', 'transfer']) expect(t[phase]).toBeGreaterThanOrEqual(0);
    expect(t.tls).toBeUndefined();
  });

  it('measures DNS for a host name', async () => {
    const result = await check({ url: `http://localhost:${web.port}/ok` });
    expect(result.ok).toBe(true);
    expect(timingsOf(result).dns).toBeGreaterThanOrEqual(0);
  });

  it('fails a 503 with error status and says what was expected', async () => {
    const result = await check({ url: `${web.url}/status/503` });
    expect(result).toMatchObject({ ok: false, error: 'status', detail: 'status 503, expected 2xx' });
    expect(obs(result).status).toBe(503);
  });

  it('accepts listed statuses and classes', async () => {
    expect((await check({ url: `${web.url}/status/404`, expect: { status: [200, 404] } })).ok).toBe(true);
    expect((await check({ url: `${web.url}/status/503`, expect: { status: ['5xx'] } })).ok).toBe(true);
    const miss = await check({ url: `${web.url}/status/500`, expect: { status: ['2xx', 404] } });
    expect(miss).toMatchObject({ ok: false, error: 'status', detail: 'status 500, expected 2xx, 404' });
  });

  it('checks body_contains and body_regex', async () => {
    expect((await check({ url: `${web.url}/ok`, expect: { body_contains: 'all systems go' } })).ok).toBe(
      true,
    );
    expect((await check({ url: `${web.url}/ok`, expect: { body_regex: '^hello \\w+,' } })).ok).toBe(true);
    const contains = await check({ url: `${web.url}/ok`, expect: { body_contains: 'degraded' } });
    expect(contains).toMatchObject({
      ok: false,
      error: 'body_mismatch',
      detail: 'body does not contain "degraded"',
    });
    const regex = await check({ url: `${web.url}/ok`, expect: { body_regex: 'version \\d+' } });
    expect(regex).toMatchObject({ ok: false, error: 'body_mismatch' });
  });

  it('checks response headers, exact or by /regex/', async () => {
    const good = await check({
      url: `${web.url}/ok`,
      expect: { header: { 'X-Config-Version': '42', 'content-type': '/^text\\/plain/' } },
    });
    expect(good.ok).toBe(true);
    const wrong = await check({ url: `${web.url}/ok`, expect: { header: { 'x-config-version': '41' } } });
    expect(wrong).toMatchObject({
      ok: false,
      error: 'header_mismatch',
      detail: 'header x-config-version is "42", expected "41"',
    });
    const missing = await check({ url: `${web.url}/ok`, expect: { header: { etag: '/.+/' } } });
    expect(missing).toMatchObject({
      ok: false,
      error: 'header_mismatch',
      detail: 'header etag missing, expected /.+/',
    });
  });

  it('reports a slow but correct answer as latency, with the figure', async () => {
    const result = await check(
      { url: `${web.url}/slow/400`, expect: { max_latency: '150ms' } },
      { timeoutMs: 2000 },
    );
    expect(result).toMatchObject({ ok: false, error: 'latency' });
    expect(result.detail).toMatch(/^took \d+ ms, max_latency 150 ms$/);
    expect(result.duration_ms).toBeGreaterThanOrEqual(400);
    expect((await check({ url: `${web.url}/ok`, expect: { max_latency: '1s' } })).ok).toBe(true);
  });

  it('sends the method, headers and body, and a default User-Agent', async () => {
    const posted = await check({
      url: `${web.url}/echo`,
      method: 'post',
      body: '{"ping":1}',
      headers: { Authorization: 'Bearer t0k' },
      expect: { body_contains: 'POST {"ping":1} auth=Bearer t0k' },
    });
    expect(posted.ok).toBe(true);
    const who = await check({ url: `${web.url}/whoami`, expect: { body_contains: 'ua=Tocsin-Probe/1' } });
    expect(who.ok).toBe(true);
  });

  it('prepares a spec once, yet reads headers_env at every check of it', async () => {
    // The same spec object, as the scheduler hands it to every check of a probe.
    const spec = HttpProbeSpec.parse({
      url: `${web.url}/echo`,
      headers_env: { Authorization: 'TOCSIN_TEST_HTTP_AUTH' },
      expect: { body_contains: 'auth=Bearer one' },
    });
    const once = async (): Promise<CheckResult | undefined> =>
      (await httpProbe.run(spec, httpProbe.targets(spec), ctxFor(2000)))[0];
    try {
      process.env.TOCSIN_TEST_HTTP_AUTH = 'Bearer one';
      expect(await once()).toMatchObject({ ok: true });
      process.env.TOCSIN_TEST_HTTP_AUTH = 'Bearer two';
      expect(await once()).toMatchObject({ ok: false, error: 'body_mismatch' });
      delete process.env.TOCSIN_TEST_HTTP_AUTH;
      expect(await once()).toMatchObject({
        ok: false,
        error: 'internal',
        detail: 'environment variable TOCSIN_TEST_HTTP_AUTH (headers_env.Authorization) is not set',
      });
    } finally {
      delete process.env.TOCSIN_TEST_HTTP_AUTH;
    }
  });
});

describe('http probe: redirects', () => {
  it('follows redirects and counts them', async () => {
    const result = await check({ url: `${web.url}/redirect/3`, expect: { body_contains: 'all systems go' } });
    expect(result.ok).toBe(true);
    expect(obs(result)).toMatchObject({ status: 200, redirects: 4, final_url: `${web.url}/ok` });
  });

  it('stops after 10 redirects with too_many_redirects', async () => {
    const result = await check({ url: `${web.url}/loop` });
    expect(result).toMatchObject({ ok: false, error: 'too_many_redirects' });
    expect(obs(result).redirects).toBe(10);
    // Exactly 10 hops is still fine.
    expect((await check({ url: `${web.url}/redirect/9` })).ok).toBe(true);
  });

  it('returns the redirect itself when follow_redirects is false (3xx passes by default)', async () => {
    const result = await check({ url: `${web.url}/moved`, follow_redirects: false });
    expect(result).toMatchObject({ ok: true, observations: { status: 301, redirects: 0 } });
    const strict = await check({
      url: `${web.url}/moved`,
      follow_redirects: false,
      expect: { status: [200] },
    });
    expect(strict).toMatchObject({ ok: false, error: 'status', detail: 'status 301, expected 200' });
  });

  it('turns a POST into a GET on 303', async () => {
    const result = await check({
      url: `${web.url}/see-other`,
      method: 'POST',
      body: 'x=1',
      expect: { body_contains: 'GET  auth=-' },
    });
    expect(result.ok).toBe(true);
  });

  it('does not carry credentials to another origin', async () => {
    const to = encodeURIComponent(`http://localhost:${web.port}/echo`);
    const result = await check({
      url: `${web.url}/elsewhere?to=${to}`,
      headers: { authorization: 'Bearer secret' },
      expect: { body_contains: 'auth=-' },
    });
    expect(result.ok).toBe(true);
  });

  it('drops custom headers on a redirect to another host, keeps them on the same host', async () => {
    // 127.0.0.2 is another host than 127.0.0.1 (the whole 127/8 is loopback on Linux).
    const seen: http.IncomingHttpHeaders[] = [];
    const other = http.createServer((req, res) => {
      seen.push(req.headers);
      res.end('second hop');
    });
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.2', resolve));
    try {
      const { port } = other.address() as AddressInfo;
      const headers = { 'X-Secret': 's3cr3t', Authorization: 'Bearer t', 'User-Agent': 'custom/1' };
      const to = encodeURIComponent(`http://127.0.0.2:${port}/landing`);
      const away = await check({ url: `${web.url}/elsewhere?to=${to}`, headers });
      expect(away).toMatchObject({ ok: true, observations: { redirects: 1 } });
      expect(seen).toHaveLength(1);
      expect(seen[0]?.['x-secret']).toBeUndefined();
      expect(seen[0]?.authorization).toBeUndefined();
      expect(seen[0]?.['user-agent']).toBe('Tocsin-Probe/1');
      expect(seen[0]?.host).toBe(`127.0.0.2:${port}`);

      const same = await check({
        url: `${web.url}/elsewhere?to=${encodeURIComponent('/secret')}`,
        headers,
        expect: { body_contains: 'x-secret=s3cr3t' },
      });
      expect(same).toMatchObject({ ok: true, observations: { redirects: 1 } });
    } finally {
      other.closeAllConnections();
      await new Promise<void>((resolve) => other.close(() => resolve()));
    }
  });

  it('refuses a redirect to the metadata address before connecting (redirect_refused)', async () => {
    const location = 'http://169.254.169.254/latest/meta-data/';
    const started = performance.now();
    const result = await check({ url: `${web.url}/elsewhere?to=${encodeURIComponent(location)}` }, { timeoutMs: 5000 });
    expect(result).toMatchObject({
      ok: false,
      error: 'redirect_refused',
      observations: { status: 302, redirects: 0 },
    });
    expect(result.detail).toContain(location);
    // Refused at once: no connect attempt to wait for (an attempt would hang until the deadline).
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('refuses metadata names, IPv6 link-local and other IPv4 notations too', async () => {
    for (const location of [
      'http://metadata.google.internal/computeMetadata/v1/',
      'http://[fe80::1]:1/',
      'http://2852039166/latest/',
      'http://[::ffff:169.254.169.254]/',
    ]) {
      const result = await check({ url: `${web.url}/elsewhere?to=${encodeURIComponent(location)}` });
      expect(result, location).toMatchObject({ ok: false, error: 'redirect_refused' });
    }
  });

  it('follows such a redirect when follow_redirects.allow_link_local is set', async () => {
    // fe80::1 without a zone cannot be connected to: the kernel refuses at once, no packet leaves.
    const location = 'http://[fe80::1]:1/';
    const result = await check(
      {
        url: `${web.url}/elsewhere?to=${encodeURIComponent(location)}`,
        follow_redirects: { allow_link_local: true },
      },
      { timeoutMs: 1000 },
    );
    expect(result.ok).toBe(false);
    expect(result.error).not.toBe('redirect_refused');
    expect(obs(result).final_url).toBe(location);
  });

  it('refuses a refused address in the exchange itself, before DNS or connect', async () => {
    const deadline = new Deadline(ctxFor(2000));
    const clock = new PhaseClock<NetPhase>();
    try {
      const result = await exchange(
        { url: new URL('http://169.254.169.254/latest/meta-data/'), method: 'GET', headers: {} },
        { stopAtRedirect: true, keepText: false, maxBodySize: 1024, tls: undefined, refuseLinkLocal: true },
        deadline,
        clock,
      );
      expect(result.failure?.error).toBe('redirect_refused');
      expect(result.remoteAddress).toBeUndefined();
      expect(clock.timings()).toEqual({});
    } finally {
      deadline.dispose();
    }
  });

  it('fails a redirect to a non-HTTP scheme as protocol_error', async () => {
    const result = await check({ url: `${web.url}/bad-scheme` });
    expect(result).toMatchObject({ ok: false, error: 'protocol_error' });
  });
});

describe('http probe: address override', () => {
  it('connects to address while sending the URL host as Host', async () => {
    const result = await check({
      url: 'http://www.example.test/whoami',
      address: web.address,
      expect: { body_contains: 'host=www.example.test sni=-' },
    });
    expect(result).toMatchObject({ ok: true, target: web.address });
    expect(
      httpProbe.targets(HttpProbeSpec.parse({ url: 'http://www.example.test/', address: web.address })),
    ).toEqual([web.address]);
  });

  it('keeps a non-default port in the Host header', async () => {
    const result = await check({
      url: 'http://www.example.test:8080/whoami',
      address: web.address,
      expect: { body_contains: 'host=www.example.test:8080 ' },
    });
    expect(result.ok).toBe(true);
  });

  it('uses the URL host for SNI and certificate checks over HTTPS', async () => {
    const result = await check(
      {
        url: 'https://app.example.test/whoami',
        address: appHost.address,
        expect: { body_contains: 'host=app.example.test sni=app.example.test' },
      },
      { tls: { ca: certs.pki.ca.cert } },
    );
    expect(result).toMatchObject({ ok: true, target: appHost.address });
    expect(obs(result)).toMatchObject({ status: 200, tls_version: 'TLSv1.3' });
    expect(timingsOf(result).tls).toBeGreaterThan(0);
  });

  it('uses tls.server_name for SNI and verification when given', async () => {
    const result = await check(
      { url: `https://127.0.0.1:${appHost.port}/whoami`, expect: { body_contains: 'sni=app.example.test' } },
      { tls: { ca: certs.pki.ca.cert, server_name: 'app.example.test' } },
    );
    expect(result.ok).toBe(true);
  });

  it('keeps using address on a same-origin redirect', async () => {
    const result = await check({
      url: 'http://www.example.test/redirect/2',
      address: web.address,
      expect: { body_contains: 'all systems go' },
    });
    expect(result).toMatchObject({ ok: true, observations: { redirects: 3 } });
  });
});

describe('http probe: TLS', () => {
  it('trusts a private CA given in tls.ca and reports the session', async () => {
    const result = await check({ url: `${secure.url}/ok` }, { tls: { ca: certs.pki.ca.cert } });
    expect(result.ok).toBe(true);
    const o = obs(result);
    expect(o.tls_version).toBe('TLSv1.3');
    expect(typeof o.tls_cipher).toBe('string');
    expect(typeof o.cert_not_after).toBe('string');
    expect(Date.parse(String(o.cert_not_after))).toBeGreaterThan(Date.now());
    expect(timingsOf(result).tls).toBeGreaterThan(0);
  });

  it('accepts an EC P-256 certificate', async () => {
    const result = await check({ url: `${ecdsa.url}/ok` }, { tls: { ca: certs.pki.ca.cert } });
    expect(result.ok).toBe(true);
  });

  it('rejects a certificate from an unknown CA as tls_cert_invalid', async () => {
    const result = await check({ url: `${secure.url}/ok` });
    expect(result).toMatchObject({ ok: false, error: 'tls_cert_invalid' });
  });

  it('rejects an expired certificate as tls_cert_expired', async () => {
    const result = await check({ url: `${expired.url}/ok` }, { tls: { ca: certs.pki.ca.cert } });
    expect(result).toMatchObject({ ok: false, error: 'tls_cert_expired' });
    expect(result.detail).toMatch(/expired/);
  });

  it('rejects a not-yet-valid certificate as tls_cert_expired', async () => {
    const result = await check({ url: `${notYetValid.url}/ok` }, { tls: { ca: certs.pki.ca.cert } });
    expect(result).toMatchObject({ ok: false, error: 'tls_cert_expired' });
  });

  it('rejects a certificate for another host as tls_cert_invalid', async () => {
    const result = await check({ url: `${wrongHost.url}/ok` }, { tls: { ca: certs.pki.ca.cert } });
    expect(result).toMatchObject({ ok: false, error: 'tls_cert_invalid' });
    expect(result.detail).toMatch(/ERR_TLS_CERT_ALTNAME_INVALID/);
  });

  it('rejects a self-signed certificate as tls_cert_invalid', async () => {
    const result = await check({ url: `${selfSigned.url}/ok` }, { tls: { ca: certs.pki.ca.cert } });
    expect(result).toMatchObject({ ok: false, error: 'tls_cert_invalid' });
  });

  it('skips verification with tls.insecure, still measuring the handshake', async () => {
    for (const server of [expired, wrongHost, selfSigned]) {
      const result = await check({ url: `${server.url}/ok` }, { tls: { insecure: true } });
      expect(result.ok).toBe(true);
      expect(timingsOf(result).tls).toBeGreaterThan(0);
    }
  });

  it('fails a server that only speaks TLS 1.1 with tls_protocol (min_version default TLSv1.2)', async () => {
    const result = await check({ url: `${legacy.url}/ok` }, { tls: { ca: certs.pki.ca.cert } });
    expect(result).toMatchObject({ ok: false, error: 'tls_protocol' });
  });

  it('accepts that server when min_version allows TLS 1.1', async () => {
    const result = await check(
      { url: `${legacy.url}/ok` },
      { tls: { ca: certs.pki.ca.cert, min_version: 'TLSv1.1' } },
    );
    expect(result).toMatchObject({ ok: true, observations: { tls_version: 'TLSv1.1' } });
  });

  it('fails TLS to a plain HTTP server as tls_handshake', async () => {
    const result = await check({ url: `https://${web.address}/ok` });
    expect(result).toMatchObject({ ok: false, error: 'tls_handshake' });
  });
});

describe('http probe: hostile targets', () => {
  const within = (result: CheckResult, timeoutMs: number): void => {
    expect(result.duration_ms).toBeLessThan(timeoutMs + SLACK_MS);
  };

  it('times out on a TCP server that never speaks (ttfb over http, tls over https)', async () => {
    const silent = await serve(hostile.silentTcp());
    const plain = await check({ url: `${silent.url.replace('tcp', 'http')}/` }, { timeoutMs: 1000 });
    expect(plain).toMatchObject({ ok: false, error: 'timeout' });
    expect(plain.detail).toMatch(/^timeout during ttfb/);
    within(plain, 1000);
    const tls = await check({ url: `https://${silent.address}/` }, { timeoutMs: 1000 });
    expect(tls).toMatchObject({ ok: false, error: 'timeout' });
    expect(tls.detail).toMatch(/^timeout during tls/);
    within(tls, 1000);
    // The probe closed its side: no connection lingers on the server.
    await expect.poll(() => silent.openConnections(), { timeout: 10_000 }).toBe(0);
  });

  it('times out on an HTTP server that never answers', async () => {
    const mute = await serve(hostile.neverAnswers());
    const result = await check({ url: `${mute.url}/` }, { timeoutMs: 1000 });
    expect(result).toMatchObject({ ok: false, error: 'timeout' });
    expect(result.detail).toMatch(/^timeout during ttfb/);
    within(result, 1000);
  });

  it('times out during transfer on a body trickled one byte per 200 ms', async () => {
    const trickle = await serve(hostile.trickle(200));
    const result = await check({ url: `${trickle.url}/` }, { timeoutMs: 1000 });
    expect(result).toMatchObject({ ok: false, error: 'timeout', observations: { status: 200 } });
    expect(result.detail).toMatch(/^timeout during transfer/);
    expect(timingsOf(result).transfer).toBeGreaterThan(0);
    within(result, 1000);
  });

  it('stops reading an endless body at max_body_size (body_too_large)', async () => {
    const endless = await serve(hostile.endlessBody());
    const result = await check({ url: `${endless.url}/`, max_body_size: 100_000 }, { timeoutMs: 2000 });
    expect(result).toMatchObject({ ok: false, error: 'body_too_large', observations: { status: 200 } });
    expect(Number(obs(result).body_bytes)).toBeLessThanOrEqual(100_000);
    within(result, 2000);
  });

  it('refuses a declared Content-Length over the cap without reading it', async () => {
    const result = await check({ url: `${web.url}/big`, max_body_size: 1000 });
    expect(result).toMatchObject({
      ok: false,
      error: 'body_too_large',
      detail: 'content-length 10000 exceeds max_body_size 1000',
    });
    expect(obs(result).body_bytes).toBe(0);
    // A HEAD answer declares the length of a body it does not send: not a reason to fail.
    expect((await check({ url: `${web.url}/big`, method: 'HEAD', max_body_size: 1000 })).ok).toBe(true);
  });

  it('reports a reset connection as connect_error naming the phase', async () => {
    const reset = await serve(hostile.reset());
    const result = await check({ url: `${reset.url.replace('tcp', 'http')}/` }, { timeoutMs: 1000 });
    expect(result).toMatchObject({ ok: false, error: 'connect_error' });
    expect(result.detail).toMatch(/during ttfb/);
    within(result, 1000);
  });

  it('reports a reset during the TLS handshake as tls_handshake', async () => {
    const reset = await serve(hostile.reset());
    const result = await check({ url: `https://${reset.address}/` }, { timeoutMs: 1000 });
    expect(result).toMatchObject({ ok: false, error: 'tls_handshake' });
    within(result, 1000);
  });

  it('reports a body cut short as connect_error during transfer', async () => {
    const cut = await serve(hostile.truncatedBody());
    const result = await check({ url: `http://${cut.address}/` }, { timeoutMs: 1000 });
    expect(result).toMatchObject({ ok: false, error: 'connect_error', observations: { status: 200 } });
    expect(result.detail).toMatch(/closed by peer during transfer|during transfer, body incomplete/);
  });

  it('reports a non-existent name as dns', async () => {
    const result = await check({ url: 'http://nxdomain.invalid/' }, { timeoutMs: 2000 });
    expect(result).toMatchObject({ ok: false, error: 'dns', target: 'http://nxdomain.invalid/' });
    within(result, 2000);
  });

  it('reports a closed port as connect_refused', async () => {
    const port = await closedPort();
    const result = await check({ url: `http://127.0.0.1:${port}/` }, { timeoutMs: 1000 });
    expect(result).toMatchObject({ ok: false, error: 'connect_refused' });
    within(result, 1000);
  });

  it('reports malformed HTTP as protocol_error', async () => {
    const junk = await serve(hostile.malformedHttp());
    const result = await check({ url: `http://${junk.address}/` }, { timeoutMs: 1000 });
    expect(result).toMatchObject({ ok: false, error: 'protocol_error' });
    within(result, 1000);
  });

  it('honours the runner aborting early, and leaves no listener on its signal', async () => {
    const mute = await serve(hostile.neverAnswers());
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    const result = await check({ url: `${mute.url}/` }, { timeoutMs: 5000, signal: controller.signal });
    expect(result).toMatchObject({ ok: false, error: 'timeout' });
    expect(result.duration_ms).toBeLessThan(200 + SLACK_MS);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);

    const live = new AbortController();
    expect((await check({ url: `${web.url}/ok` }, { signal: live.signal })).ok).toBe(true);
    expect(getEventListeners(live.signal, 'abort')).toHaveLength(0);
  });

  it('keeps memory bounded over 30 checks of an endless body', async () => {
    const endless = await serve(hostile.endlessBody());
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 30; i++) {
      // Half the checks keep the body text (body_contains), half only count bytes.
      const result = await check(
        { url: `${endless.url}/`, expect: i % 2 ? { body_contains: 'never there' } : {} },
        { timeoutMs: 3000 },
      );
      expect(result.error).toBe('body_too_large');
      expect(Number(obs(result).body_bytes)).toBeLessThanOrEqual(1_048_576);
    }
    const growth = process.memoryUsage().heapUsed - before;
    expect(growth).toBeLessThan(64 * 1024 * 1024);
    await expect.poll(() => endless.openConnections(), { timeout: 10_000 }).toBe(0);
  });
});
