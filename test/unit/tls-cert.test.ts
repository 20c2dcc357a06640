import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  commonName,
  isoDate,
  KEY_TYPE_PATTERN,
  type KeyFacts,
  keyLabel,
  keyMatches,
  keyObjectFacts,
  parseSans,
} from '../../probes/tls/cert.js';
import { decodeOid, readElement, signatureAlgorithm, signatureAlgorithmOid } from '../../probes/tls/der.js';

const rsa2048: KeyFacts = { type: 'rsa', bits: 2048 };
const rsa4096: KeyFacts = { type: 'rsa', bits: 4096 };
const pss3072: KeyFacts = { type: 'rsa-pss', bits: 3072 };
const p256: KeyFacts = { type: 'ecdsa', bits: 256, curve: 'P-256' };
const p384: KeyFacts = { type: 'ecdsa', bits: 384, curve: 'P-384' };
const k1: KeyFacts = { type: 'ecdsa', curve: 'secp256k1' };
const ed: KeyFacts = { type: 'ed25519', bits: 256 };

describe('key type vocabulary', () => {
  it.each([
    [rsa2048, ['rsa'], true],
    [rsa4096, ['rsa'], true],
    [pss3072, ['rsa'], true],
    [rsa2048, ['rsa2048'], true],
    [rsa4096, ['rsa2048'], false],
    [rsa4096, ['rsa4096'], true],
    [pss3072, ['rsa3072'], true],
    [p256, ['ecdsa'], true],
    [k1, ['ecdsa'], true],
    [p256, ['ecdsa-p256'], true],
    [p384, ['ecdsa-p256'], false],
    [p384, ['ecdsa-p384'], true],
    [k1, ['ecdsa-p256'], false],
    [p256, ['rsa'], false],
    [rsa2048, ['ecdsa'], false],
    [ed, ['ed25519'], true],
    [ed, ['ecdsa', 'rsa'], false],
    // The S2 expectation: an RSA 4096 regeneration fails it, the old keys pass.
    [rsa4096, ['ecdsa', 'rsa2048'], false],
    [rsa2048, ['ecdsa', 'rsa2048'], true],
    [p256, ['ecdsa', 'rsa2048'], true],
  ] as const)('%o matches %o: %s', (key, wanted, expected) => {
    expect(keyMatches(key, wanted)).toBe(expected);
  });

  it('labels keys in the same words', () => {
    expect(keyLabel(rsa4096)).toBe('rsa4096');
    expect(keyLabel(pss3072)).toBe('rsa3072');
    expect(keyLabel(p256)).toBe('ecdsa-p256');
    expect(keyLabel(k1)).toBe('ecdsa-secp256k1');
    expect(keyLabel(ed)).toBe('ed25519');
    expect(keyLabel({ type: 'rsa' })).toBe('rsa');
  });

  it('accepts exactly the documented words in the config', () => {
    for (const word of ['rsa', 'rsa2048', 'rsa4096', 'ecdsa', 'ecdsa-p256', 'ecdsa-p384', 'ecdsa-p521']) {
      expect(KEY_TYPE_PATTERN.test(word)).toBe(true);
    }
    for (const word of ['ed25519', 'ed448']) expect(KEY_TYPE_PATTERN.test(word)).toBe(true);
    for (const word of ['RSA', 'rsa-2048', 'ec', 'ecdsa-p999', 'ecdsa256', 'dsa', 'rsa1', '']) {
      expect(KEY_TYPE_PATTERN.test(word)).toBe(false);
    }
  });

  it('reads type, size and curve from real keys', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey;
    expect(keyObjectFacts(rsa)).toEqual({ type: 'rsa', bits: 1024 });
    const ec384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey;
    expect(keyObjectFacts(ec384)).toEqual({ type: 'ecdsa', bits: 384, curve: 'P-384' });
    const ec256 = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey;
    expect(keyObjectFacts(ec256)).toEqual({ type: 'ecdsa', bits: 256, curve: 'P-256' });
    const secp256k1 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey;
    expect(keyObjectFacts(secp256k1)).toEqual({ type: 'ecdsa', curve: 'secp256k1' });
    expect(keyObjectFacts(generateKeyPairSync('ed25519').publicKey)).toEqual({ type: 'ed25519', bits: 256 });
  });
});

describe('certificate text fields', () => {
  it('takes the CN of a DN, or the whole DN without one', () => {
    expect(commonName('C=FR\nO=Acme\nCN=api.example.com')).toBe('api.example.com');
    expect(commonName('C=FR\nO=Acme')).toBe('C=FR, O=Acme');
  });

  it('normalises subjectAltNames', () => {
    expect(parseSans('DNS:localhost, IP Address:127.0.0.1, DNS:*.example.com')).toEqual([
      'DNS:localhost',
      'IP:127.0.0.1',
      'DNS:*.example.com',
    ]);
    expect(parseSans(undefined)).toEqual([]);
  });

  it('turns node:crypto dates into ISO 8601', () => {
    expect(isoDate('Dec  1 09:30:00 2026 GMT')).toBe('2026-12-01T09:30:00.000Z');
    expect(isoDate('garbage')).toBe('garbage');
  });
});

/** DER TLV with a definite length (short or long form). */
function tlv(tag: number, content: number[]): number[] {
  const n = content.length;
  if (n < 128) return [tag, n, ...content];
  if (n < 256) return [tag, 0x81, n, ...content];
  return [tag, 0x82, n >> 8, n & 0xff, ...content];
}

/** A certificate-shaped DER: SEQUENCE { tbs SEQUENCE, AlgorithmIdentifier, BIT STRING }. */
function fakeCert(oid: number[], tbsSize = 10, withNullParams = true): Uint8Array {
  const tbs = tlv(0x30, new Array<number>(tbsSize).fill(0x05));
  const algorithm = tlv(0x30, [...tlv(0x06, oid), ...(withNullParams ? [0x05, 0x00] : [])]);
  const signature = tlv(0x03, [0x00, 0xaa, 0xbb]);
  return Uint8Array.from(tlv(0x30, [...tbs, ...algorithm, ...signature]));
}

// OID contents as they appear in certificates.
const SHA256_RSA = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b];
const ECDSA_SHA384 = [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03];
const ED25519 = [0x2b, 0x65, 0x70];

describe('DER: signature algorithm', () => {
  it('decodes OIDs, multi-byte arcs included', () => {
    expect(decodeOid(Uint8Array.from(SHA256_RSA))).toBe('1.2.840.113549.1.1.11');
    expect(decodeOid(Uint8Array.from(ECDSA_SHA384))).toBe('1.2.840.10045.4.3.3');
    expect(decodeOid(Uint8Array.from(ED25519))).toBe('1.3.101.112');
    expect(decodeOid(Uint8Array.from([0x88, 0x37]))).toBe('2.999');
    expect(decodeOid(Uint8Array.from([0x2a, 0x86]))).toBeUndefined();
    expect(decodeOid(new Uint8Array())).toBeUndefined();
  });

  it('reads short and long form lengths', () => {
    expect(readElement(Uint8Array.from([0x30, 0x02, 1, 2]), 0)).toEqual({ tag: 0x30, start: 2, end: 4 });
    const long = Uint8Array.from(tlv(0x04, new Array<number>(300).fill(0)));
    expect(readElement(long, 0)).toEqual({ tag: 0x04, start: 4, end: 304 });
    // Contents running past the buffer, or an indefinite length, are not DER.
    expect(readElement(Uint8Array.from([0x30, 0x05, 1]), 0)).toBeUndefined();
    expect(readElement(Uint8Array.from([0x30, 0x80, 0, 0]), 0)).toBeUndefined();
  });

  it.each([
    [SHA256_RSA, 'sha256WithRSAEncryption', true],
    [ECDSA_SHA384, 'ecdsa-with-SHA384', false],
    [ED25519, 'ED25519', false],
  ])('maps %o to %s', (oid, name, nullParams) => {
    expect(signatureAlgorithm(fakeCert(oid, 10, nullParams))).toBe(name);
    // The tbsCertificate's size (short or long length) does not matter.
    expect(signatureAlgorithm(fakeCert(oid, 1500, nullParams))).toBe(name);
  });

  it('gives an unknown OID in dotted form, and nothing for garbage', () => {
    expect(signatureAlgorithm(fakeCert([0x2a, 0x03, 0x04]))).toBe('1.2.3.4');
    expect(signatureAlgorithmOid(Uint8Array.from([0x02, 0x01, 0x00]))).toBeUndefined();
    expect(signatureAlgorithm(Uint8Array.from([0x30, 0x03, 0x30, 0x01, 0x00]))).toBeUndefined();
    expect(signatureAlgorithm(new Uint8Array())).toBeUndefined();
  });
});
