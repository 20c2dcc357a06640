import { describe, expect, it } from 'vitest';
import {
  checkExpectations,
  DAY_MS,
  daysLeft,
  type ExpectInput,
  expiryDetail,
  type SessionFacts,
  verifyFailure,
} from '../../probes/tls/expect.js';
import { TlsProbeSpec } from '../../probes/tls/spec.js';

const NOW = Date.parse('2026-11-23T12:00:00Z');

describe('daysLeft', () => {
  it('counts whole days left, rounded down, negative once expired', () => {
    expect(daysLeft(NOW + 5 * DAY_MS, NOW)).toBe(5);
    expect(daysLeft(NOW + 5 * DAY_MS - 1, NOW)).toBe(4);
    expect(daysLeft(NOW + 1000, NOW)).toBe(0);
    expect(daysLeft(NOW - 1000, NOW)).toBe(-1);
    expect(daysLeft(NOW - 3 * DAY_MS, NOW)).toBe(-3);
  });

  it('words the expiry with the date, in whole days either way', () => {
    expect(expiryDetail(new Date(NOW + 5 * DAY_MS + 3600_000), NOW)).toBe(
      'certificate expires in 5 days (2026-11-28)',
    );
    expect(expiryDetail(new Date(NOW + DAY_MS + 60_000), NOW)).toBe('certificate expires in 1 day (2026-11-24)');
    expect(expiryDetail(new Date(NOW + 60_000), NOW)).toBe('certificate expires in 0 days (2026-11-23)');
    expect(expiryDetail(new Date(NOW - 3600_000), NOW)).toBe('certificate expired today (2026-11-23)');
    expect(expiryDetail(new Date(NOW - DAY_MS - 60_000), NOW)).toBe(
      'certificate expired 1 day ago (2026-11-22)',
    );
    expect(expiryDetail(new Date(NOW - 2 * DAY_MS - 60_000), NOW)).toBe(
      'certificate expired 2 days ago (2026-11-21)',
    );
  });
});

describe('verifyFailure', () => {
  const leaf = { notBefore: new Date(NOW - 30 * DAY_MS), notAfter: new Date(NOW + 60 * DAY_MS) };

  it('passes a verified certificate with a matching name', () => {
    expect(verifyFailure({ nowMs: NOW, leaf })).toBeUndefined();
  });

  it('says which validity bound failed', () => {
    const expired = { notBefore: new Date(NOW - 30 * DAY_MS), notAfter: new Date(NOW - DAY_MS) };
    expect(verifyFailure({ chainError: 'CERT_HAS_EXPIRED', leaf: expired, nowMs: NOW })).toEqual({
      error: 'tls_cert_expired',
      detail: `certificate expired on ${expired.notAfter.toISOString()} (CERT_HAS_EXPIRED)`,
    });
    const future = { notBefore: new Date(NOW + DAY_MS), notAfter: new Date(NOW + 60 * DAY_MS) };
    expect(verifyFailure({ chainError: 'CERT_NOT_YET_VALID', leaf: future, nowMs: NOW })).toEqual({
      error: 'tls_cert_expired',
      detail: `certificate is not valid before ${future.notBefore.toISOString()} (CERT_NOT_YET_VALID)`,
    });
    // The leaf is fine: an intermediate is the one out of its window.
    expect(verifyFailure({ chainError: 'CERT_HAS_EXPIRED', leaf, nowMs: NOW })?.detail).toBe(
      'a certificate in the chain has expired (CERT_HAS_EXPIRED)',
    );
  });

  it.each([
    ['DEPTH_ZERO_SELF_SIGNED_CERT', 'self-signed certificate (DEPTH_ZERO_SELF_SIGNED_CERT)'],
    ['SELF_SIGNED_CERT_IN_CHAIN', 'self-signed certificate in certificate chain (SELF_SIGNED_CERT_IN_CHAIN)'],
    [
      'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
      'unable to verify the first certificate (unknown issuer) (UNABLE_TO_VERIFY_LEAF_SIGNATURE)',
    ],
    [
      'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
      'unable to get local issuer certificate (unknown CA) (UNABLE_TO_GET_ISSUER_CERT_LOCALLY)',
    ],
    // A result without a known text, and one the shared classifier does not list, are still invalid.
    ['UNABLE_TO_GET_CRL', 'unable to get crl (UNABLE_TO_GET_CRL)'],
  ])('maps %s to tls_cert_invalid', (code, detail) => {
    expect(verifyFailure({ chainError: code, leaf, nowMs: NOW })).toEqual({
      error: 'tls_cert_invalid',
      detail,
    });
  });

  it('reports a name mismatch after a good chain, and the chain first when both fail', () => {
    const mismatch = Object.assign(new Error('Host: api.example.com. is not in the cert\'s altnames'), {
      code: 'ERR_TLS_CERT_ALTNAME_INVALID',
    });
    expect(verifyFailure({ identityError: mismatch, leaf, nowMs: NOW })).toEqual({
      error: 'tls_cert_invalid',
      detail: 'Host: api.example.com. is not in the cert\'s altnames (ERR_TLS_CERT_ALTNAME_INVALID)',
    });
    expect(
      verifyFailure({ chainError: 'DEPTH_ZERO_SELF_SIGNED_CERT', identityError: mismatch, leaf, nowMs: NOW })
        ?.detail,
    ).toMatch(/^self-signed/);
  });
});

describe('checkExpectations', () => {
  const good: SessionFacts = {
    handshakeMs: 20,
    alpn: 'h2',
    leafKey: { type: 'ecdsa', bits: 256, curve: 'P-256' },
    leafNotAfter: new Date(NOW + 60 * DAY_MS),
    nowMs: NOW,
  };
  const all: ExpectInput = { min_days_left: 14, key_types: ['ecdsa'], alpn: ['h2'], max_handshake: 200 };

  it('passes a session that meets every expectation', () => {
    expect(checkExpectations(all, good)).toBeUndefined();
    expect(checkExpectations({ min_days_left: 14 }, good)).toBeUndefined();
  });

  it('fails days left under min_days_left as tls_cert_expiring (warning), with the date', () => {
    const soon = { ...good, leafNotAfter: new Date(NOW + 5 * DAY_MS + 3600_000) };
    expect(checkExpectations({ min_days_left: 14 }, soon)).toEqual({
      error: 'tls_cert_expiring',
      detail: 'certificate expires in 5 days (2026-11-28)',
    });
    expect(checkExpectations({ min_days_left: 5 }, soon)).toBeUndefined();
    expect(checkExpectations({ min_days_left: 0 }, { ...good, leafNotAfter: new Date(NOW + 1000) })).toBe(
      undefined,
    );
  });

  it('fails an unexpected key type or ALPN protocol as tls_mismatch, naming both sides', () => {
    const rsa4096 = { ...good, leafKey: { type: 'rsa', bits: 4096 } };
    expect(checkExpectations({ min_days_left: 14, key_types: ['ecdsa', 'rsa2048'] }, rsa4096)).toEqual({
      error: 'tls_mismatch',
      detail: 'leaf key rsa4096, expected one of ecdsa, rsa2048',
    });
    const http1 = { ...good, alpn: 'http/1.1' };
    expect(checkExpectations({ min_days_left: 14, alpn: ['h2'] }, http1)).toEqual({
      error: 'tls_mismatch',
      detail: 'ALPN negotiated "http/1.1", expected h2',
    });
    expect(checkExpectations({ min_days_left: 14, alpn: ['h2'] }, { ...good, alpn: null })?.detail).toBe(
      'no ALPN protocol negotiated, expected h2',
    );
    expect(checkExpectations({ min_days_left: 14, alpn: ['h2', 'http/1.1'] }, http1)).toBeUndefined();
  });

  it('fails a slow handshake as latency, with the figures', () => {
    expect(
      checkExpectations({ min_days_left: 14, max_handshake: 200 }, { ...good, handshakeMs: 412.4 }),
    ).toEqual({ error: 'latency', detail: 'tls handshake took 412 ms, max_handshake 200 ms' });
    expect(checkExpectations({ min_days_left: 14, max_handshake: 200 }, { ...good, handshakeMs: 200 })).toBe(
      undefined,
    );
  });

  it('reports the first failure in the order expiry, key type, ALPN, handshake time', () => {
    const everythingWrong: SessionFacts = {
      handshakeMs: 900,
      alpn: 'http/1.1',
      leafKey: { type: 'rsa', bits: 4096 },
      leafNotAfter: new Date(NOW + 2 * DAY_MS),
      nowMs: NOW,
    };
    expect(checkExpectations(all, everythingWrong)?.error).toBe('tls_cert_expiring');
    const fresh = { ...everythingWrong, leafNotAfter: good.leafNotAfter };
    expect(checkExpectations(all, fresh)?.detail).toMatch(/^leaf key rsa4096/);
    expect(checkExpectations(all, { ...fresh, leafKey: good.leafKey })?.detail).toMatch(/^ALPN negotiated/);
    expect(checkExpectations(all, { ...fresh, leafKey: good.leafKey, alpn: 'h2' })?.error).toBe('latency');
  });
});

describe('TlsProbeSpec', () => {
  it('applies the defaults', () => {
    expect(TlsProbeSpec.parse({ targets: ['api.example.com:443'] })).toEqual({
      targets: ['api.example.com:443'],
      alpn_protocols: ['h2', 'http/1.1'],
      expect: { min_days_left: 14 },
    });
  });

  it('parses the S2 expectation (durations in ms, one ALPN id as a list)', () => {
    const spec = TlsProbeSpec.parse({
      targets: ['10.0.0.3:443', '[::1]:8443'],
      expect: { key_types: ['ecdsa', 'rsa2048'], max_handshake: '200ms', alpn: 'h2' },
    });
    expect(spec.expect).toEqual({
      key_types: ['ecdsa', 'rsa2048'],
      max_handshake: 200,
      alpn: ['h2'],
      min_days_left: 14,
    });
  });

  it.each([
    [{ targets: [] }, 'targets'],
    [{ targets: ['nohostport'] }, 'targets.0'],
    [{ targets: ['a:1', 'a:1'] }, 'targets.1'],
    [{ targets: ['a:1'], expect: { key_types: ['rsa-2048'] } }, 'expect.key_types.0'],
    [{ targets: ['a:1'], expect: { max_handshake: 'fast' } }, 'expect.max_handshake'],
    [{ targets: ['a:1'], expect: { min_days_left: -1 } }, 'expect.min_days_left'],
    [{ targets: ['a:1'], expect: { alpn: '' } }, 'expect.alpn'],
    [{ targets: ['a:1'], expect: { max_latency: '1s' } }, 'expect'],
    [{ targets: ['a:1'], url: 'https://a/' }, ''],
  ])('rejects %o at %s', (raw, path) => {
    const parsed = TlsProbeSpec.safeParse(raw);
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((i) => i.path.join('.'))).toContain(path);
  });
});
