import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { getEventListeners } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSecureContext, type SecureContext, type TLSSocket } from 'node:tls';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckContext } from '../../probes/probe.js';
import { TlsSpec } from '../../probes/shared/tls-spec.js';
import { TlsProbeSpec, tlsProbe } from '../../probes/tls.js';
import { peerCertificates } from '../../probes/tls/chain.js';
import { systemClock } from '../../src/clock.js';
import type { CheckResult } from '../../src/events/probe-result.js';
import { probeMetricsRecorder } from '../../src/metrics/probe-metrics.js';
import { createMetrics } from '../../src/metrics/registry.js';
import { runCheck } from '../../src/queue/run-check.js';
import { type CertPair, type FixtureCerts, makeFixtureCerts } from '../helpers/certs.js';
import { runCli } from '../helpers/cli.js';
import { makePlan } from '../helpers/plan.js';
import {
  closedPort,
  hostile,
  LOOPBACK,
  type OpensslServer,
  startHttpServer,
  startOpensslServer,
  startTcpServer,
  startTlsServer,
  type TestServer,
} from '../helpers/servers.js';

// The tls probe against real peers on loopback: Node TLS servers with certificates made at run time
// (RSA 2048/4096, EC P-256, expired, not yet valid, wrong host, self-signed, expiring), openssl
// s_server for old protocols and an RSA 4096 peer that is not Node, and hostile TCP servers.
// Hostile cases use 1 s deadlines and check that the probe gives up within it (+300 ms).

const SLACK_MS = 300;
const DAY_MS = 86_400_000;
const execFileP = promisify(execFile);

const servers: { close(): Promise<void> }[] = [];
async function serve<S extends { close(): Promise<void> }>(start: Promise<S>): Promise<S> {
  const server = await start;
  servers.push(server);
  return server;
}

/** A Node TLS server with `pair`; it offers h2 and http/1.1 by ALPN unless told otherwise. */
function tlsServer(
  pair: { cert: string; key: string },
  extra: Record<string, unknown> = {},
  onSocket: (socket: TLSSocket) => void = () => undefined,
): Promise<TestServer> {
  return serve(
    startTlsServer({ cert: pair.cert, key: pair.key, ALPNProtocols: ['h2', 'http/1.1'], ...extra }, (socket) => {
      onSocket(socket);
      socket.resume();
    }),
  );
}

/** Runs one check of every target of a probe written as in the config (kind keys + optional `tls`). */
async function checkAll(
  raw: Record<string, unknown>,
  options: { timeoutMs?: number; tls?: Record<string, unknown>; signal?: AbortSignal } = {},
): Promise<CheckResult[]> {
  const spec = TlsProbeSpec.parse(raw);
  const tls = options.tls ? TlsSpec.parse(options.tls) : undefined;
  const timeoutMs = options.timeoutMs ?? 3000;
  const ctx: CheckContext = { signal: options.signal ?? AbortSignal.timeout(timeoutMs), timeoutMs };
  const results = await tlsProbe.run({ ...spec, tls }, tlsProbe.targets(spec), ctx);
  expect(results.map((r) => r.target)).toEqual(spec.targets);
  return results;
}

/** One check of one target. */
async function check(
  target: string,
  raw: Record<string, unknown> = {},
  options: Parameters<typeof checkAll>[1] = {},
): Promise<CheckResult> {
  const [result] = await checkAll({ targets: [target], ...raw }, options);
  if (!result) throw new Error('no result');
  return result;
}

interface ChainEntry {
  subject: string;
  issuer: string;
  sans: string[];
  not_before: string;
  not_after: string;
  fingerprint_sha256: string;
  key_type: string;
  key_bits?: number;
  curve?: string;
  signature_algorithm?: string;
}

function obs(result: CheckResult): Record<string, unknown> {
  return result.observations ?? {};
}
function timingsOf(result: CheckResult): Record<string, number> {
  return (obs(result).timings ?? {}) as Record<string, number>;
}
function chainOf(result: CheckResult): ChainEntry[] {
  return (obs(result).chain ?? []) as ChainEntry[];
}
function leafOf(result: CheckResult): ChainEntry {
  const leaf = chainOf(result)[0];
  if (!leaf) throw new Error(`no chain in ${JSON.stringify(result)}`);
  return leaf;
}
function within(result: CheckResult, timeoutMs: number): void {
  expect(result.duration_ms).toBeLessThan(timeoutMs + SLACK_MS);
}

let certs: FixtureCerts;
let ca: { ca: string };
let rsa4096: CertPair;
let expiring: CertPair;
let ecSelfSigned: CertPair;

let good: TestServer;
let big: TestServer;
let ecdsa: TestServer;
let expired: TestServer;
let notYetValid: TestServer;
let wrongHost: TestServer;
let selfSigned: TestServer;
let soon: TestServer;
let ecSelf: TestServer;
let app: TestServer;
let http1Only: TestServer;
let noAlpn: TestServer;
let legacy: OpensslServer;
let opensslRsa4096: OpensslServer;
const sniSeen: string[] = [];

beforeAll(async () => {
  certs = await makeFixtureCerts();
  ca = { ca: certs.pki.ca.cert };
  const now = Date.now();
  [rsa4096, expiring, ecSelfSigned] = await Promise.all([
    certs.pki.issue('rsa4096', { keyType: 'rsa4096' }),
    certs.pki.issue('expiring', { notAfter: new Date(now + 5 * DAY_MS) }),
    certs.pki.issue('ec-self-signed', { keyType: 'ec-p256', selfSigned: true }),
  ]);
  good = await tlsServer(certs.localhost);
  big = await tlsServer(rsa4096);
  ecdsa = await tlsServer(certs.ecdsa);
  expired = await tlsServer(certs.expired);
  notYetValid = await tlsServer(certs.notYetValid);
  wrongHost = await tlsServer(certs.wrongHost);
  selfSigned = await tlsServer(certs.selfSigned);
  soon = await tlsServer(expiring);
  ecSelf = await tlsServer(ecSelfSigned);
  app = await tlsServer(certs.app, {}, (socket) => {
    sniSeen.push(String(socket.servername));
  });
  http1Only = await tlsServer(certs.localhost, { ALPNProtocols: ['http/1.1'] });
  noAlpn = await tlsServer(certs.localhost, { ALPNProtocols: undefined });
  // OpenSSL 3 only speaks TLS 1.1 below security level 1.
  legacy = await serve(startOpensslServer(certs.localhost, ['-tls1_1', '-cipher', 'DEFAULT:@SECLEVEL=0']));
  opensslRsa4096 = await serve(startOpensslServer(rsa4096, ['-tls1_2']));
}, 120_000);

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await certs?.pki.cleanup();
});

describe('tls probe: session and chain', () => {
  it('reports connect and handshake times, protocol, cipher, ALPN and the chain of a good endpoint', async () => {
    const result = await check(good.address, {}, { tls: ca });
    expect(result).toMatchObject({ target: good.address, ok: true });
    expect(result.error).toBeUndefined();
    const t = timingsOf(result);
    expect(t.dns).toBeUndefined(); // an IP literal needs no lookup
    expect(t.connect).toBeGreaterThanOrEqual(0);
    expect(t.handshake).toBeGreaterThan(0);
    const o = obs(result);
    expect(o).toMatchObject({
      protocol: 'TLSv1.3',
      alpn: 'h2',
      remote_address: LOOPBACK,
      days_left: 89, // issued for 90 days, a few seconds ago
    });
    expect(o.cipher).toMatch(/^TLS_(AES|CHACHA20)_/);
    expect(o.verify_error).toBeUndefined();

    const x509 = new X509Certificate(certs.localhost.cert);
    const notAfter = new Date(x509.validTo).toISOString();
    expect(o.cert_not_after).toBe(notAfter);
    expect(leafOf(result)).toEqual({
      subject: 'localhost',
      issuer: 'Tocsin Test CA',
      sans: ['DNS:localhost', 'IP:127.0.0.1'],
      not_before: new Date(x509.validFrom).toISOString(),
      not_after: notAfter,
      fingerprint_sha256: x509.fingerprint256.replace(/:/g, '').toLowerCase(),
      key_type: 'rsa',
      key_bits: 2048,
      signature_algorithm: 'sha256WithRSAEncryption',
    });
    // node:tls completes the chain with the trusted root it verified against.
    expect(chainOf(result).map((c) => c.subject)).toEqual(['localhost', 'Tocsin Test CA']);
  });

  it('measures DNS for a host name', async () => {
    const result = await check(`localhost:${good.port}`, {}, { tls: ca });
    expect(result.ok).toBe(true);
    expect(timingsOf(result).dns).toBeGreaterThanOrEqual(0);
  });

  it('reads an EC P-256 key and matches the key_types words', async () => {
    const result = await check(ecdsa.address, {}, { tls: ca });
    expect(result.ok).toBe(true);
    expect(leafOf(result)).toMatchObject({ key_type: 'ecdsa', key_bits: 256, curve: 'P-256' });
    for (const keyTypes of [['ecdsa'], ['ecdsa-p256'], ['ecdsa', 'rsa2048']]) {
      expect((await check(ecdsa.address, { expect: { key_types: keyTypes } }, { tls: ca })).ok).toBe(true);
    }
    expect(await check(ecdsa.address, { expect: { key_types: ['ecdsa-p384'] } }, { tls: ca })).toMatchObject({
      ok: false,
      error: 'tls_mismatch',
      detail: 'leaf key ecdsa-p256, expected ecdsa-p384',
    });
    const rsaOnly = await check(ecdsa.address, { expect: { key_types: ['rsa'] } }, { tls: ca });
    expect(rsaOnly).toMatchObject({ ok: false, error: 'tls_mismatch' });
  });

  it('S2: reports an RSA 4096 key and fails key_types [ecdsa, rsa2048] with tls_mismatch', async () => {
    const s2 = { expect: { key_types: ['ecdsa', 'rsa2048'], max_handshake: '2s' } };
    const result = await check(big.address, s2, { tls: ca });
    expect(result).toMatchObject({
      ok: false,
      error: 'tls_mismatch',
      detail: 'leaf key rsa4096, expected one of ecdsa, rsa2048',
    });
    expect(leafOf(result)).toMatchObject({ key_type: 'rsa', key_bits: 4096 });
    // The same expectation passes the certificates it was written for.
    expect((await check(good.address, s2, { tls: ca })).ok).toBe(true);
    expect((await check(big.address, { expect: { key_types: ['rsa4096'] } }, { tls: ca })).ok).toBe(true);
    expect((await check(big.address, { expect: { key_types: ['rsa'] } }, { tls: ca })).ok).toBe(true);
  });

  it('reads the signature algorithm of an ECDSA-signed certificate', async () => {
    const result = await check(ecSelf.address, {}, { tls: { insecure: true } });
    expect(result.ok).toBe(true);
    expect(leafOf(result)).toMatchObject({
      key_type: 'ecdsa',
      curve: 'P-256',
      signature_algorithm: 'ecdsa-with-SHA256',
    });
  });

  it('reads key size, protocol and cipher from an openssl s_server peer (TLS 1.2, RSA 4096)', async () => {
    const result = await check(opensslRsa4096.address, {}, { tls: ca });
    expect(result.ok, `${result.detail} / ${opensslRsa4096.stderr()}`).toBe(true);
    expect(obs(result)).toMatchObject({ protocol: 'TLSv1.2', alpn: null });
    expect(obs(result).cipher).toMatch(/^TLS_ECDHE_RSA_WITH_/);
    expect(leafOf(result)).toMatchObject({ key_type: 'rsa', key_bits: 4096, subject: 'localhost' });
  });
});

/** The fingerprint as observations.chain gives it. */
function fingerprintOf(pair: CertPair): string {
  return new X509Certificate(pair.cert).fingerprint256.replace(/:/g, '').toLowerCase();
}

describe('tls probe: certificates read once', () => {
  it('reads a chain once: the same chain at the next check is read from the cache, not parsed', async () => {
    const pair = await certs.pki.issue('cache-once');
    const server = await tlsServer(pair);
    const before = peerCertificates.parsed;
    const first = await check(server.address, {}, { tls: ca });
    expect(first.ok).toBe(true);
    // The new leaf, and the test CA unless an earlier check read it.
    const parsed = peerCertificates.parsed - before;
    expect(parsed).toBeGreaterThanOrEqual(1);
    expect(parsed).toBeLessThanOrEqual(2);

    const second = await check(server.address, {}, { tls: ca });
    expect(second.ok).toBe(true);
    expect(peerCertificates.parsed - before).toBe(parsed);
    expect(chainOf(second)).toEqual(chainOf(first));
    expect(leafOf(second).fingerprint_sha256).toBe(fingerprintOf(pair));
    // Per-check facts are still the check's own.
    expect(obs(second).days_left).toBe(89);
    expect(timingsOf(second).handshake).toBeGreaterThan(0);
  });

  it('sees a certificate changed on the same target at the next check', async () => {
    const renewed = await certs.pki.issue('cache-renewed', { notAfter: new Date(Date.now() + 30 * DAY_MS) });
    const rekeyed = await certs.pki.issue('cache-rekeyed', { keyType: 'ec-p256' });
    // The server answers with whatever certificate is current when a client says hello (SNI).
    let current: SecureContext = createSecureContext(certs.localhost);
    const server = await tlsServer(certs.localhost, {
      SNICallback: (_name: string, done: (err: Error | null, ctx: SecureContext) => void) => done(null, current),
    });
    const options = { tls: { ...ca, server_name: 'localhost' } };
    const s2 = { expect: { key_types: ['rsa2048'] } };

    const first = await check(server.address, s2, options);
    expect(first.ok).toBe(true);
    expect(leafOf(first).fingerprint_sha256).toBe(fingerprintOf(certs.localhost));

    current = createSecureContext(renewed);
    const second = await check(server.address, s2, options);
    expect(second.ok).toBe(true);
    expect(leafOf(second).fingerprint_sha256).toBe(fingerprintOf(renewed));
    expect(obs(second).cert_not_after).toBe(new Date(new X509Certificate(renewed.cert).validTo).toISOString());
    expect(obs(second).days_left).toBe(29);

    // The verdicts follow the new certificate too: its key is no longer the expected one.
    current = createSecureContext(rekeyed);
    const third = await check(server.address, s2, options);
    expect(third).toMatchObject({ ok: false, error: 'tls_mismatch', detail: 'leaf key ecdsa-p256, expected rsa2048' });
    expect(leafOf(third)).toMatchObject({ fingerprint_sha256: fingerprintOf(rekeyed), key_type: 'ecdsa' });
  });

  it('keeps the chain of a certificate that fails verification too, and still judges every check', async () => {
    const insecure = { tls: { insecure: true } };
    const first = await check(selfSigned.address, {}, insecure);
    const before = peerCertificates.parsed;
    const second = await check(selfSigned.address, {}, insecure);
    const strict = await check(selfSigned.address);
    expect(peerCertificates.parsed).toBe(before);
    expect(second.ok).toBe(true);
    expect(obs(second).verify_error).toBe('self-signed certificate (DEPTH_ZERO_SELF_SIGNED_CERT)');
    expect(strict).toMatchObject({ ok: false, error: 'tls_cert_invalid' });
    expect(chainOf(second)).toEqual(chainOf(first));
    expect(chainOf(strict)).toEqual(chainOf(first));
  });
});

describe('tls probe: verification', () => {
  it('trusts a private CA given in tls.ca, and rejects its certificates without it', async () => {
    expect((await check(good.address, {}, { tls: ca })).ok).toBe(true);
    const untrusted = await check(good.address);
    expect(untrusted).toMatchObject({ ok: false, error: 'tls_cert_invalid' });
    expect(untrusted.detail).toMatch(/UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY/);
    // The chain is still reported, and the verdict repeated in observations.
    expect(leafOf(untrusted)).toMatchObject({ subject: 'localhost', key_bits: 2048 });
    expect(obs(untrusted).verify_error).toBe(untrusted.detail);
  });

  it('fails an expired certificate with tls_cert_expired, saying when it expired', async () => {
    const result = await check(expired.address, {}, { tls: ca });
    expect(result).toMatchObject({ ok: false, error: 'tls_cert_expired' });
    const notAfter = new Date(new X509Certificate(certs.expired.cert).validTo).toISOString();
    expect(result.detail).toBe(`certificate expired on ${notAfter} (CERT_HAS_EXPIRED)`);
    expect(obs(result)).toMatchObject({ days_left: -2, cert_not_after: notAfter });
  });

  it('fails a not-yet-valid certificate with tls_cert_expired, saying from when it is valid', async () => {
    const result = await check(notYetValid.address, {}, { tls: ca });
    expect(result).toMatchObject({ ok: false, error: 'tls_cert_expired' });
    expect(result.detail).toMatch(/^certificate is not valid before \S+ \(CERT_NOT_YET_VALID\)$/);
  });

  it('fails a certificate for another host with tls_cert_invalid; server_name sets the expected name', async () => {
    const result = await check(wrongHost.address, {}, { tls: ca });
    expect(result).toMatchObject({ ok: false, error: 'tls_cert_invalid' });
    expect(result.detail).toMatch(/ERR_TLS_CERT_ALTNAME_INVALID/);
    expect(leafOf(result).sans).toEqual(['DNS:wrong.example.test']);
    const named = await check(wrongHost.address, {}, { tls: { ...ca, server_name: 'wrong.example.test' } });
    expect(named.ok).toBe(true);
  });

  it('sends server_name as SNI and verifies against it, not the address dialled', async () => {
    sniSeen.length = 0;
    const result = await check(app.address, {}, { tls: { ...ca, server_name: 'app.example.test' } });
    expect(result.ok).toBe(true);
    // The server side sees the session a moment after the client (it waits for the client's Finished).
    await expect.poll(() => sniSeen, { timeout: 10_000 }).toContain('app.example.test');
    expect((await check(app.address, {}, { tls: ca })).error).toBe('tls_cert_invalid');
  });

  it('fails a self-signed certificate with tls_cert_invalid', async () => {
    const result = await check(selfSigned.address, {}, { tls: ca });
    expect(result).toMatchObject({
      ok: false,
      error: 'tls_cert_invalid',
      detail: 'self-signed certificate (DEPTH_ZERO_SELF_SIGNED_CERT)',
    });
  });

  it('with tls.insecure, passes bad certificates but still reports why they are bad', async () => {
    for (const server of [selfSigned, wrongHost]) {
      const result = await check(server.address, {}, { tls: { insecure: true } });
      expect(result.ok).toBe(true);
      expect(obs(result).verify_error).toMatch(/DEPTH_ZERO_SELF_SIGNED_CERT|UNABLE_TO_VERIFY_LEAF_SIGNATURE/);
    }
    const name = await check(wrongHost.address, {}, { tls: { ...ca, insecure: true } });
    expect(name.ok).toBe(true);
    expect(obs(name).verify_error).toMatch(/ERR_TLS_CERT_ALTNAME_INVALID/);
    // The expiry expectation still applies: an expired certificate is at least "expiring".
    const old = await check(expired.address, {}, { tls: { insecure: true } });
    expect(old).toMatchObject({ ok: false, error: 'tls_cert_expiring' });
    expect(old.detail).toMatch(/^certificate expired 1 day ago \(\d{4}-\d{2}-\d{2}\)$/);
  });
});

describe('tls probe: expectations', () => {
  it('fails a certificate with 5 days left under min_days_left 14 as tls_cert_expiring (warning)', async () => {
    const result = await check(soon.address, {}, { tls: ca });
    const notAfter = new Date(new X509Certificate(expiring.cert).validTo);
    // Issued for 5 days a few seconds ago: 4 whole days left.
    expect(result).toMatchObject({
      ok: false,
      error: 'tls_cert_expiring',
      detail: `certificate expires in 4 days (${notAfter.toISOString().slice(0, 10)})`,
      observations: { days_left: 4, cert_not_after: notAfter.toISOString() },
    });
    expect((await check(soon.address, { expect: { min_days_left: 3 } }, { tls: ca })).ok).toBe(true);
  });

  it('checks the negotiated ALPN protocol', async () => {
    expect(await check(good.address, { expect: { alpn: 'h2' } }, { tls: ca })).toMatchObject({
      ok: true,
      observations: { alpn: 'h2' },
    });
    const http1 = await check(http1Only.address, { expect: { alpn: 'h2' } }, { tls: ca });
    expect(http1).toMatchObject({
      ok: false,
      error: 'tls_mismatch',
      detail: 'ALPN negotiated "http/1.1", expected h2',
    });
    expect((await check(http1Only.address, { expect: { alpn: ['h2', 'http/1.1'] } }, { tls: ca })).ok).toBe(
      true,
    );
    const none = await check(noAlpn.address, { expect: { alpn: 'h2' } }, { tls: ca });
    expect(none).toMatchObject({ ok: false, error: 'tls_mismatch', observations: { alpn: null } });
    // What is offered is configurable; a server that supports none of it refuses the handshake.
    const offered = await check(good.address, { alpn_protocols: ['http/1.1'] }, { tls: ca });
    expect(obs(offered).alpn).toBe('http/1.1');
    const refused = await check(http1Only.address, { alpn_protocols: ['h2'] }, { tls: ca });
    expect(refused).toMatchObject({ ok: false, error: 'tls_handshake' });
  });

  it('fails a slow handshake as latency, timing TCP connect and handshake apart', async () => {
    // A relay that holds the ClientHello 300 ms before passing it on: a slow TLS terminator.
    const slow = await serve(
      startTcpServer((client) => {
        const timer = setTimeout(() => {
          const upstream = net.connect(good.port, LOOPBACK);
          upstream.on('error', () => client.destroy());
          client.on('close', () => upstream.destroy());
          upstream.on('close', () => client.destroy());
          client.pipe(upstream).pipe(client);
        }, 300);
        client.on('close', () => clearTimeout(timer));
      }),
    );
    const result = await check(slow.address, { expect: { max_handshake: '100ms' } }, { tls: ca });
    expect(result).toMatchObject({ ok: false, error: 'latency' });
    expect(result.detail).toMatch(/^tls handshake took \d+ ms, max_handshake 100 ms$/);
    expect(timingsOf(result).handshake).toBeGreaterThanOrEqual(300);
    // The server waits before its handshake, not before accepting: the wait is in the handshake time only.
    expect(timingsOf(result).connect).toBeLessThan(timingsOf(result).handshake ?? 0);
    expect((await check(slow.address, { expect: { max_handshake: '5s' } }, { tls: ca })).ok).toBe(true);
  });

  it('gives one result per target, in order, each with its own verdict', async () => {
    const silent = await serve(hostile.silentTcp());
    const refused = `${LOOPBACK}:${await closedPort()}`;
    const targets = [good.address, expired.address, refused, silent.address, big.address];
    const started = Date.now();
    const results = await checkAll({ targets }, { tls: ca, timeoutMs: 1000 });
    expect(results.map((r) => [r.target, r.ok, r.error])).toEqual([
      [good.address, true, undefined],
      [expired.address, false, 'tls_cert_expired'],
      [refused, false, 'connect_refused'],
      [silent.address, false, 'timeout'],
      [big.address, true, undefined],
    ]);
    // The targets are checked concurrently: the silent one does not hold the others up.
    expect(Date.now() - started).toBeLessThan(1000 + SLACK_MS);
  });
});

describe('tls probe: protocols', () => {
  it('fails a server that only speaks TLS 1.1 with tls_protocol (min_version default TLSv1.2)', async () => {
    const result = await check(legacy.address, {}, { tls: ca });
    expect(result).toMatchObject({ ok: false, error: 'tls_protocol' });
    expect(result.detail).toMatch(/^no common TLS protocol version/);
  });

  it('accepts that server when min_version allows TLS 1.1', async () => {
    const result = await check(legacy.address, {}, { tls: { ...ca, min_version: 'TLSv1.1' } });
    expect(result.ok, `${result.detail} / ${legacy.stderr()}`).toBe(true);
    expect(obs(result).protocol).toBe('TLSv1.1');
  });

  it('fails a plain-text server as tls_handshake', async () => {
    const web = await serve(startHttpServer((_req, res) => res.end('plain')));
    const result = await check(web.address, {}, { timeoutMs: 1000 });
    expect(result).toMatchObject({ ok: false, error: 'tls_handshake' });
    within(result, 1000);
  });
});

describe('tls probe: hostile targets', () => {
  it('times out on a TCP server that never answers the handshake, naming the phase', async () => {
    const silent = await serve(hostile.silentTcp());
    const result = await check(silent.address, {}, { timeoutMs: 1000 });
    expect(result).toMatchObject({
      ok: false,
      error: 'timeout',
      detail: 'timeout during tls handshake (deadline 1000 ms)',
    });
    expect(timingsOf(result).handshake).toBeGreaterThan(0);
    within(result, 1000);
    // The probe closed its side: no connection lingers on the server.
    await expect.poll(() => silent.openConnections(), { timeout: 10_000 }).toBe(0);
  });

  it('reports a reset during the handshake as tls_handshake', async () => {
    const reset = await serve(hostile.reset());
    const result = await check(reset.address, {}, { timeoutMs: 1000 });
    expect(result).toMatchObject({ ok: false, error: 'tls_handshake' });
    within(result, 1000);
  });

  it('reports a closed port as connect_refused and an unknown name as dns', async () => {
    const port = await closedPort();
    const refused = await check(`${LOOPBACK}:${port}`, {}, { timeoutMs: 1000 });
    expect(refused).toMatchObject({ ok: false, error: 'connect_refused' });
    within(refused, 1000);
    const dns = await check('nxdomain.invalid:443', {}, { timeoutMs: 2000 });
    expect(dns).toMatchObject({ ok: false, error: 'dns', target: 'nxdomain.invalid:443' });
    expect(timingsOf(dns).dns).toBeGreaterThanOrEqual(0);
    within(dns, 2000);
  });

  it('honours the runner aborting early, and leaves no listener on its signal', async () => {
    const silent = await serve(hostile.silentTcp());
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    const result = await check(silent.address, {}, { timeoutMs: 5000, signal: controller.signal });
    expect(result).toMatchObject({ ok: false, error: 'timeout' });
    expect(result.duration_ms).toBeLessThan(200 + SLACK_MS);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);

    const live = new AbortController();
    expect((await check(good.address, {}, { tls: ca, signal: live.signal })).ok).toBe(true);
    expect(getEventListeners(live.signal, 'abort')).toHaveLength(0);
  });
});

describe('tls probe: metrics', () => {
  it('records handshake seconds and the leaf expiry, and the exposition passes promtool', async () => {
    const metrics = createMetrics({ version: 'test', processMetrics: false });
    const spec = { ...TlsProbeSpec.parse({ targets: [good.address, big.address] }), tls: TlsSpec.parse(ca) };
    const plan = makePlan([
      { id: 'edge-tls', kind: 'tls', component: 'app', targets: spec.targets, spec, timeoutMs: 3000 },
    ]);
    const record = probeMetricsRecorder(plan, metrics);
    const [probe] = plan.probes;
    if (!probe) throw new Error('no probe');
    for (const target of probe.targets) {
      const events = await runCheck(
        tlsProbe,
        { key: `edge-tls/${target}`, probe, targets: [target], vantage: 'local' },
        { clock: systemClock },
      );
      for (const event of events) record(event);
    }
    // A failed handshake counts as a failed check but adds no handshake time.
    const port = await closedPort();
    record({ at: new Date().toISOString(), probe: 'edge-tls', vantage: 'local', target: `${LOOPBACK}:${port}`, ok: false, error: 'connect_refused', observations: { timings: { connect: 1 } } });

    const text = await metrics.registry.metrics();
    const count = new RegExp(
      `^tocsin_tls_handshake_seconds_count\\{probe="edge-tls",target="${good.address}",vantage="local"\\} 1$`,
      'm',
    );
    expect(text).toMatch(count);
    const notAfter = new Date(new X509Certificate(rsa4096.cert).validTo).getTime() / 1000;
    expect(text).toContain(
      `tocsin_tls_cert_not_after_timestamp_seconds{probe="edge-tls",target="${big.address}"} ${notAfter}`,
    );
    expect(text).not.toMatch(new RegExp(`^tocsin_tls_\\w+\\{[^}]*target="${LOOPBACK}:${port}"`, 'm'));
    expect(text).toMatch(new RegExp(`^tocsin_probe_success\\{[^}]*target="${LOOPBACK}:${port}"[^}]*\\} 0$`, 'm'));

    const dir = mkdtempSync(join(tmpdir(), 'tocsin-tls-metrics-'));
    try {
      const file = join(dir, 'metrics.txt');
      writeFileSync(file, text);
      const { stdout, stderr } = await execFileP('sh', ['-c', `promtool check metrics < ${file}`]).catch(
        (err: { stdout: string; stderr: string; code: number }) => {
          throw new Error(`promtool failed (${err.code}): ${err.stdout}${err.stderr}`);
        },
      );
      expect(`${stdout}${stderr}`).not.toMatch(/error/i);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('tls probe: CLI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tocsin-tls-cli-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('tocsin probe ID prints one tls result per target', async () => {
    const caFile = join(dir, 'ca.pem');
    writeFileSync(caFile, certs.pki.ca.cert);
    const file = join(dir, 'tocsin.yml');
    writeFileSync(
      file,
      `components: [{ id: edge, name: Edge }]
probes:
  - id: edge-tls
    kind: tls
    component: edge
    targets: ["${good.address}", "${big.address}"]
    tls: { ca_file: ca.pem }
    expect: { key_types: [ecdsa, rsa2048], max_handshake: 2s }
`,
    );
    const res = await runCli(['probe', '--config', file, 'edge-tls']);
    expect(res.code, res.stderr).toBe(1); // the RSA 4096 target fails its expectation
    const lines = res.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ probe: 'edge-tls', vantage: 'local', target: good.address, ok: true });
    expect(lines[0]?.observations).toMatchObject({ protocol: 'TLSv1.3', chain: [{ key_bits: 2048 }, {}] });
    expect(lines[1]).toMatchObject({
      target: big.address,
      ok: false,
      error: 'tls_mismatch',
      detail: 'leaf key rsa4096, expected one of ecdsa, rsa2048',
    });
    expect(res.stderr).toMatch(/1 of 2 targets failed/);
  });

  it('tocsin check-config rejects a bad tls spec with FILE:LINE: key: reason', async () => {
    const file = join(dir, 'bad.yml');
    writeFileSync(
      file,
      `components: [{ id: edge, name: Edge }]
probes:
  - { id: a, kind: tls, component: edge, targets: [nohostport] }
  - { id: b, kind: tls, component: edge, targets: ["x:443"], expect: { key_types: [rsa-2048], max_latency: 1s } }
`,
    );
    const res = await runCli(['check-config', '--config', file]);
    expect(res.code).toBe(1);
    const escaped = file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    expect(res.stdout).toMatch(new RegExp(`^${escaped}:3: probes\\[0\\]\\.targets\\[0\\]: must be host:port`, 'm'));
    expect(res.stdout).toMatch(new RegExp(`^${escaped}:4: probes\\[1\\]\\.expect\\.key_types\\[0\\]: must be rsa`, 'm'));
    expect(res.stdout).toMatch(new RegExp(`^${escaped}:4: probes\\[1\\]\\.expect\\.max_latency: unknown key$`, 'm'));
  });
});
