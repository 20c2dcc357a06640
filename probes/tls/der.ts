// Just enough DER to read a certificate's outer signature algorithm: node:crypto's X509Certificate
// (Node 20) exposes the key but not the signature algorithm, and a full ASN.1 library for one OID
// would be most of this probe's dependencies.

/** One DER element: its tag byte and where its contents lie in the buffer. */
export interface DerElement {
  readonly tag: number;
  /** Offset of the first content byte. */
  readonly start: number;
  /** Offset just past the last content byte. */
  readonly end: number;
}

const SEQUENCE = 0x30;
const OBJECT_IDENTIFIER = 0x06;

/**
 * Reads the element at `offset` (single-byte tags only, which is all X.509 uses at this level).
 * Undefined when the bytes are not a well-formed DER header or the contents overrun `limit`.
 */
export function readElement(der: Uint8Array, offset: number, limit = der.length): DerElement | undefined {
  const tag = der[offset];
  const first = der[offset + 1];
  if (tag === undefined || first === undefined || (tag & 0x1f) === 0x1f) return undefined;
  let start = offset + 2;
  let length = first;
  if (first & 0x80) {
    // Long form: the low bits give how many length bytes follow (DER never needs more than 4 here).
    const count = first & 0x7f;
    if (count === 0 || count > 4) return undefined;
    length = 0;
    for (let i = 0; i < count; i++) {
      const byte = der[start + i];
      if (byte === undefined) return undefined;
      length = length * 256 + byte;
    }
    start += count;
  }
  const end = start + length;
  if (end > limit) return undefined;
  return { tag, start, end };
}

/** Decodes an OBJECT IDENTIFIER's contents to dotted form ("1.2.840.113549.1.1.11"). */
export function decodeOid(bytes: Uint8Array): string | undefined {
  if (bytes.length === 0) return undefined;
  const arcs: number[] = [];
  let value = 0;
  for (const byte of bytes) {
    value = value * 128 + (byte & 0x7f);
    if (byte & 0x80) continue;
    if (arcs.length === 0) {
      // The first subidentifier packs the first two arcs as 40 * a + b (a is 0, 1 or 2).
      const a = value < 80 ? Math.floor(value / 40) : 2;
      arcs.push(a, value - 40 * a);
    } else {
      arcs.push(value);
    }
    value = 0;
  }
  // A last byte with its continuation bit set is a truncated subidentifier.
  if ((bytes[bytes.length - 1] ?? 0) & 0x80) return undefined;
  return arcs.join('.');
}

/**
 * The OID of a certificate's `signatureAlgorithm` (the AlgorithmIdentifier that follows
 * tbsCertificate in `Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue }`).
 */
export function signatureAlgorithmOid(der: Uint8Array): string | undefined {
  const cert = readElement(der, 0);
  if (cert?.tag !== SEQUENCE) return undefined;
  const tbs = readElement(der, cert.start, cert.end);
  if (tbs?.tag !== SEQUENCE) return undefined;
  const algorithm = readElement(der, tbs.end, cert.end);
  if (algorithm?.tag !== SEQUENCE) return undefined;
  const oid = readElement(der, algorithm.start, algorithm.end);
  if (oid?.tag !== OBJECT_IDENTIFIER) return undefined;
  return decodeOid(der.subarray(oid.start, oid.end));
}

/** Names of the signature algorithms seen on the web, as OpenSSL prints them. */
export const SIGNATURE_ALGORITHMS: Readonly<Record<string, string>> = {
  '1.2.840.113549.1.1.4': 'md5WithRSAEncryption',
  '1.2.840.113549.1.1.5': 'sha1WithRSAEncryption',
  '1.2.840.113549.1.1.10': 'rsassaPss',
  '1.2.840.113549.1.1.11': 'sha256WithRSAEncryption',
  '1.2.840.113549.1.1.12': 'sha384WithRSAEncryption',
  '1.2.840.113549.1.1.13': 'sha512WithRSAEncryption',
  '1.2.840.113549.1.1.14': 'sha224WithRSAEncryption',
  '1.2.840.10045.4.1': 'ecdsa-with-SHA1',
  '1.2.840.10045.4.3.1': 'ecdsa-with-SHA224',
  '1.2.840.10045.4.3.2': 'ecdsa-with-SHA256',
  '1.2.840.10045.4.3.3': 'ecdsa-with-SHA384',
  '1.2.840.10045.4.3.4': 'ecdsa-with-SHA512',
  '1.3.101.112': 'ED25519',
  '1.3.101.113': 'ED448',
};

/** The certificate's signature algorithm by name; an unknown one as its dotted OID; undefined if unreadable. */
export function signatureAlgorithm(der: Uint8Array): string | undefined {
  const oid = signatureAlgorithmOid(der);
  if (oid === undefined) return undefined;
  return SIGNATURE_ALGORITHMS[oid] ?? oid;
}
