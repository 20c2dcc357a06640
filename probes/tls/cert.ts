import type { KeyObject, X509Certificate } from 'node:crypto';
import { signatureAlgorithm } from './der.js';

// What the tls probe reports about each certificate, and the key-type vocabulary of
// `expect.key_types`. Pure functions of certificates: no sockets here.

/** A certificate's public key as the probe names it. */
export interface KeyFacts {
  /** `rsa`, `rsa-pss`, `ecdsa`, `ed25519`, `ed448`, `dsa`, or what node:crypto calls it. */
  readonly type: string;
  /** RSA modulus length; EC curve size; Ed25519 256, Ed448 456 (public key length). */
  readonly bits?: number;
  /** EC only: the NIST name (`P-256`) when there is one, else OpenSSL's (`secp256k1`). */
  readonly curve?: string;
}

/** One certificate of the chain, as it appears in `observations.chain`. */
export interface CertFacts {
  /** Subject CN (the whole DN, comma-separated, when there is no CN). */
  readonly subject: string;
  /** Issuer CN (same rule). */
  readonly issuer: string;
  /** subjectAltNames as `DNS:name` / `IP:address`. */
  readonly sans: readonly string[];
  /** ISO 8601. */
  readonly not_before: string;
  readonly not_after: string;
  /** SHA-256 of the DER, lowercase hex without colons (as Blackbox exporter prints it). */
  readonly fingerprint_sha256: string;
  readonly key_type: string;
  readonly key_bits?: number;
  readonly curve?: string;
  /** OpenSSL's name (`sha256WithRSAEncryption`, `ecdsa-with-SHA256`), or the OID when unknown. */
  readonly signature_algorithm?: string;
}

/** Most certificates reported per chain: real chains have 2–4; a longer one is the server's problem. */
export const MAX_CHAIN = 10;

const NIST_CURVES: Readonly<Record<string, string>> = {
  prime256v1: 'P-256',
  secp256r1: 'P-256',
  secp384r1: 'P-384',
  secp521r1: 'P-521',
};
const CURVE_BITS: Readonly<Record<string, number>> = { 'P-256': 256, 'P-384': 384, 'P-521': 521 };

/**
 * The words `expect.key_types` accepts: `rsa` (any size) or `rsaN` (exactly N bits), `ecdsa` (any
 * curve) or `ecdsa-p256` / `ecdsa-p384` / `ecdsa-p521` (that curve), `ed25519`, `ed448`.
 */
export const KEY_TYPE_PATTERN = /^(rsa(\d{3,5})?|ecdsa(-p(256|384|521))?|ed25519|ed448)$/;

/** A certificate's key facts; `unknown` when node:crypto cannot load the key. */
export function keyFacts(cert: X509Certificate): KeyFacts {
  try {
    return keyObjectFacts(cert.publicKey);
  } catch {
    // Keys node:crypto cannot load (exotic algorithms) still leave the rest of the chain readable.
    return { type: 'unknown' };
  }
}

/** Reads a key's type, size and curve; fields node:crypto cannot give are left out. */
export function keyObjectFacts(key: KeyObject): KeyFacts {
  const type = key.asymmetricKeyType ?? 'unknown';
  const details = key.asymmetricKeyDetails ?? {};
  if (type === 'rsa' || type === 'rsa-pss' || type === 'dsa') {
    return details.modulusLength !== undefined ? { type, bits: details.modulusLength } : { type };
  }
  if (type === 'ec') {
    const named = details.namedCurve;
    if (named === undefined) return { type: 'ecdsa' };
    const curve = NIST_CURVES[named] ?? named;
    const bits = CURVE_BITS[curve];
    return bits !== undefined ? { type: 'ecdsa', bits, curve } : { type: 'ecdsa', curve };
  }
  if (type === 'ed25519') return { type, bits: 256 };
  if (type === 'ed448') return { type, bits: 456 };
  return { type };
}

/** The key in the words of the vocabulary: `rsa4096`, `ecdsa-p256`, `ed25519` (used in details). */
export function keyLabel(key: KeyFacts): string {
  if ((key.type === 'rsa' || key.type === 'rsa-pss') && key.bits !== undefined) return `rsa${key.bits}`;
  if (key.type === 'ecdsa' && key.curve !== undefined)
    return `ecdsa-${key.curve.toLowerCase().replace('-', '')}`;
  return key.type;
}

/** Whether a key is one of `expect.key_types` (see KEY_TYPE_PATTERN for the words). */
export function keyMatches(key: KeyFacts, wanted: readonly string[]): boolean {
  const isRsa = key.type === 'rsa' || key.type === 'rsa-pss';
  return wanted.some((word) => {
    if (word === 'rsa') return isRsa;
    const rsa = /^rsa(\d+)$/.exec(word);
    if (rsa) return isRsa && key.bits === Number(rsa[1]);
    if (word === 'ecdsa') return key.type === 'ecdsa';
    const ec = /^ecdsa-p(\d+)$/.exec(word);
    if (ec) return key.type === 'ecdsa' && key.curve === `P-${ec[1]}`;
    return key.type === word;
  });
}

/** The CN of a node:crypto DN ("C=FR\nO=Acme\nCN=api.example.com"), else the DN on one line. */
export function commonName(dn: string): string {
  const lines = dn.split('\n').filter((line) => line.length > 0);
  const cn = lines.find((line) => line.startsWith('CN='));
  return cn !== undefined ? cn.slice(3) : lines.join(', ');
}

/** node:crypto's "DNS:a, IP Address:1.2.3.4" as ["DNS:a", "IP:1.2.3.4"]. */
export function parseSans(text: string | undefined): string[] {
  if (!text) return [];
  return text
    .split(/,\s*/)
    .filter((entry) => entry.length > 0)
    .map((entry) => entry.replace(/^IP Address:/, 'IP:'));
}

/** node:crypto's "Nov 26 17:58:20 2026 GMT" as ISO 8601 (kept as is in the unlikely case it does not parse). */
export function isoDate(text: string): string {
  const at = new Date(text);
  return Number.isNaN(at.getTime()) ? text : at.toISOString();
}

/** A certificate as `observations.chain` reports it (`key`: its keyFacts, when already read). */
export function describeCert(cert: X509Certificate, key: KeyFacts = keyFacts(cert)): CertFacts {
  const sig = signatureAlgorithm(cert.raw);
  return {
    subject: commonName(cert.subject),
    issuer: commonName(cert.issuer),
    sans: parseSans(cert.subjectAltName),
    not_before: isoDate(cert.validFrom),
    not_after: isoDate(cert.validTo),
    fingerprint_sha256: cert.fingerprint256.replace(/:/g, '').toLowerCase(),
    key_type: key.type,
    ...(key.bits !== undefined ? { key_bits: key.bits } : {}),
    ...(key.curve !== undefined ? { curve: key.curve } : {}),
    ...(sig !== undefined ? { signature_algorithm: sig } : {}),
  };
}
