import { X509Certificate } from 'node:crypto';
import type { DetailedPeerCertificate } from 'node:tls';
import { type CertFacts, describeCert, type KeyFacts, keyFacts, MAX_CHAIN } from './cert.js';
import { Lru } from './lru.js';

// The peer's chain as the probe reports it, worked out once per distinct certificate. Parsing the
// chain on every check (X509Certificate, public key, fields, the DER signature algorithm) was a
// sixth of a check's CPU in a profile, and a target serves the same chain for months: what is
// derived from a certificate's bytes is kept, keyed by their SHA-256, and only a certificate never
// seen is parsed. The chain itself is walked on every check, so a renewed leaf or a changed
// intermediate shows at once; trust, validity against the clock and the name are judged on every
// check, never cached.

/** What the probe knows about one certificate: a pure function of its DER, so safe to share. */
export interface CertEntry {
  /** The certificate as in `observations.chain`, frozen: every result that reports it shares it. */
  readonly facts: CertFacts;
  /** Its public key, for `expect.key_types` (only the leaf's is judged). */
  readonly key: KeyFacts;
  /** Validity bounds, ms since the epoch; undefined when node:crypto's text does not parse. */
  readonly notBeforeMs: number | undefined;
  readonly notAfterMs: number | undefined;
}

/**
 * Certificates kept. A few thousand endpoints' leaves plus their shared intermediates and roots
 * fit; each entry is about a kilobyte, so the bound is a few megabytes whatever the network does.
 * Past it the least recently seen certificate is parsed again on its next handshake, no more.
 */
export const CERT_CACHE_SIZE = 4096;

/** node:crypto's validity text as ms since the epoch; undefined when it does not parse. */
function timeOf(text: string): number | undefined {
  const ms = new Date(text).getTime();
  return Number.isNaN(ms) ? undefined : ms;
}

/** Parses one certificate's DER; undefined when node:crypto cannot (that ends the reported chain). */
export function readCertificate(raw: Buffer): CertEntry | undefined {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(raw);
  } catch {
    return undefined;
  }
  const key = keyFacts(cert);
  const facts = describeCert(cert, key);
  Object.freeze(facts.sans);
  return {
    facts: Object.freeze(facts),
    key: Object.freeze(key),
    notBeforeMs: timeOf(cert.validFrom),
    notAfterMs: timeOf(cert.validTo),
  };
}

export interface CertCacheOptions {
  /** Most certificates kept (default CERT_CACHE_SIZE). */
  readonly capacity?: number;
  /** How a certificate never seen is read (tests count the calls). */
  readonly read?: (raw: Buffer) => CertEntry | undefined;
}

/** Certificates by the SHA-256 of their DER, least recently seen forgotten first. */
export class CertCache {
  readonly #entries: Lru<string, CertEntry>;
  readonly #read: (raw: Buffer) => CertEntry | undefined;
  #parsed = 0;

  constructor(options: CertCacheOptions = {}) {
    this.#entries = new Lru(options.capacity ?? CERT_CACHE_SIZE);
    this.#read = options.read ?? readCertificate;
  }

  /** Certificates read since the start: a check whose chain was seen before reads none. */
  get parsed(): number {
    return this.#parsed;
  }

  get size(): number {
    return this.#entries.size;
  }

  /**
   * The peer's chain, leaf first, from `getPeerCertificate(true)`: what the server sent, completed
   * by node:tls with the trusted root when it found one. The walk stops at a self-signed certificate
   * (node links it to itself), at a repeat, at one node:crypto cannot parse, or after MAX_CHAIN.
   */
  chain(leaf: DetailedPeerCertificate | undefined): CertEntry[] {
    const out: CertEntry[] = [];
    const seen = new Set<DetailedPeerCertificate>();
    let cert: DetailedPeerCertificate | undefined = leaf;
    while (cert?.raw && !seen.has(cert) && out.length < MAX_CHAIN) {
      seen.add(cert);
      const entry = this.#entry(cert);
      if (!entry) break;
      out.push(entry);
      cert = cert.issuerCertificate;
    }
    return out;
  }

  #entry(cert: DetailedPeerCertificate): CertEntry | undefined {
    // node:tls has already hashed every certificate of the chain (SHA-256 of the DER): the key is free.
    const id = cert.fingerprint256;
    const known = id ? this.#entries.get(id) : undefined;
    if (known) return known;
    this.#parsed++;
    const entry = this.#read(cert.raw);
    // An unreadable certificate is not kept: it ends the chain, and a server sending one is rare.
    if (entry && id) this.#entries.set(id, entry);
    return entry;
  }
}

/**
 * The process's certificates, shared by every tls check (as the SecureContexts are): an entry
 * depends only on a certificate's bytes, so probes, plans and reloads can all use it.
 */
export const peerCertificates = new CertCache();
