import { classifyNetError, type Failure } from '../shared/net-errors.js';
import { type KeyFacts, keyLabel, keyMatches } from './cert.js';

// The tls probe's verdicts on a completed handshake: certificate verification, then the `expect`
// block. Pure functions of what the handshake produced and of `now`, so every rule is unit-tested.

export const DAY_MS = 86_400_000;

/** Whole days from `nowMs` to `notAfterMs`, rounded down (negative once expired). */
export function daysLeft(notAfterMs: number, nowMs: number): number {
  return Math.floor((notAfterMs - nowMs) / DAY_MS);
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/**
 * "certificate expires in 5 days (2026-12-01)" / "certificate expired 2 days ago (2026-11-21)": whole
 * days either way (a certificate that expired an hour ago has days_left -1 but "expired today").
 */
export function expiryDetail(notAfter: Date, nowMs: number): string {
  const date = notAfter.toISOString().slice(0, 10);
  const days = daysLeft(notAfter.getTime(), nowMs);
  if (days >= 0) return `certificate expires in ${plural(days, 'day')} (${date})`;
  const ago = Math.floor((nowMs - notAfter.getTime()) / DAY_MS);
  return ago === 0
    ? `certificate expired today (${date})`
    : `certificate expired ${plural(ago, 'day')} ago (${date})`;
}

/** OpenSSL's words for the verification results worth reading in a detail (X509_verify_cert_error_string). */
const VERIFY_TEXT: Readonly<Record<string, string>> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: 'self-signed certificate',
  SELF_SIGNED_CERT_IN_CHAIN: 'self-signed certificate in certificate chain',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'unable to verify the first certificate (unknown issuer)',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'unable to get local issuer certificate (unknown CA)',
  UNABLE_TO_GET_ISSUER_CERT: 'unable to get issuer certificate',
  CERT_SIGNATURE_FAILURE: 'certificate signature failure',
  CERT_UNTRUSTED: 'certificate not trusted',
  CERT_REJECTED: 'certificate rejected',
  CERT_REVOKED: 'certificate revoked',
  INVALID_CA: 'invalid CA certificate',
  CA_MD_TOO_WEAK: 'CA signature digest algorithm too weak',
  EE_KEY_TOO_SMALL: 'EE certificate key too weak',
  CA_KEY_TOO_SMALL: 'CA certificate key too weak',
};

/** What verification needs to know about the session. */
export interface VerifyInput {
  /** node:tls's `authorizationError` (an X509_V_ERR name) when the chain did not verify. */
  readonly chainError?: string | undefined;
  /** What `tls.checkServerIdentity` returned for the expected name. */
  readonly identityError?: (Error & { code?: string }) | undefined;
  /** The leaf's validity window (to say which bound failed). */
  readonly leaf?: { readonly notBefore: Date; readonly notAfter: Date } | undefined;
  readonly nowMs: number;
}

function chainErrorText(code: string, input: VerifyInput): string {
  const leaf = input.leaf;
  if (code === 'CERT_HAS_EXPIRED') {
    return leaf && leaf.notAfter.getTime() < input.nowMs
      ? `certificate expired on ${leaf.notAfter.toISOString()}`
      : 'a certificate in the chain has expired';
  }
  if (code === 'CERT_NOT_YET_VALID') {
    return leaf && leaf.notBefore.getTime() > input.nowMs
      ? `certificate is not valid before ${leaf.notBefore.toISOString()}`
      : 'a certificate in the chain is not yet valid';
  }
  return VERIFY_TEXT[code] ?? code.toLowerCase().replace(/_/g, ' ');
}

/**
 * The verification verdict: the chain first (expired/not yet valid → `tls_cert_expired`, anything
 * else → `tls_cert_invalid`), then the name. Undefined when the certificate is good.
 */
export function verifyFailure(input: VerifyInput): Failure | undefined {
  if (input.chainError !== undefined) {
    const code = input.chainError;
    const detail = `${chainErrorText(code, input)} (${code})`;
    // One list of "expiry" codes for every kind: the shared classifier's.
    const shared = classifyNetError(Object.assign(new Error(detail), { code }), 'tls');
    return { error: shared.error === 'tls_cert_expired' ? 'tls_cert_expired' : 'tls_cert_invalid', detail };
  }
  if (input.identityError !== undefined) {
    const { message, code } = input.identityError;
    return { error: 'tls_cert_invalid', detail: code ? `${message} (${code})` : message };
  }
  return undefined;
}

/** `expect` as this module needs it (durations already in milliseconds). */
export interface ExpectInput {
  readonly max_handshake?: number | undefined;
  readonly min_days_left: number;
  readonly key_types?: readonly string[] | undefined;
  readonly alpn?: readonly string[] | undefined;
}

/** What the expectations look at, from a completed handshake. */
export interface SessionFacts {
  readonly handshakeMs: number;
  /** The negotiated ALPN protocol; null when none was. */
  readonly alpn: string | null;
  readonly leafKey?: KeyFacts | undefined;
  readonly leafNotAfter?: Date | undefined;
  readonly nowMs: number;
}

function oneOf(words: readonly string[]): string {
  return words.length === 1 ? String(words[0]) : `one of ${words.join(', ')}`;
}

/**
 * Checks, in this order, and returns the first failure: days left (`tls_cert_expiring`, the most
 * urgent), leaf key type and ALPN (`tls_mismatch`: the endpoint works but is not configured as
 * expected), then handshake time (`latency`, last as in the http probe: a slow but otherwise good
 * endpoint).
 */
export function checkExpectations(expect: ExpectInput, facts: SessionFacts): Failure | undefined {
  if (facts.leafNotAfter !== undefined) {
    const days = daysLeft(facts.leafNotAfter.getTime(), facts.nowMs);
    if (days < expect.min_days_left) {
      return { error: 'tls_cert_expiring', detail: expiryDetail(facts.leafNotAfter, facts.nowMs) };
    }
  }
  if (expect.key_types !== undefined) {
    if (facts.leafKey === undefined) {
      return { error: 'tls_mismatch', detail: `no leaf key to check, expected ${oneOf(expect.key_types)}` };
    }
    if (!keyMatches(facts.leafKey, expect.key_types)) {
      return {
        error: 'tls_mismatch',
        detail: `leaf key ${keyLabel(facts.leafKey)}, expected ${oneOf(expect.key_types)}`,
      };
    }
  }
  if (expect.alpn !== undefined && (facts.alpn === null || !expect.alpn.includes(facts.alpn))) {
    const got = facts.alpn === null ? 'no ALPN protocol negotiated' : `ALPN negotiated "${facts.alpn}"`;
    return { error: 'tls_mismatch', detail: `${got}, expected ${oneOf(expect.alpn)}` };
  }
  if (expect.max_handshake !== undefined && facts.handshakeMs > expect.max_handshake) {
    return {
      error: 'latency',
      detail: `tls handshake took ${Math.round(facts.handshakeMs)} ms, max_handshake ${expect.max_handshake} ms`,
    };
  }
  return undefined;
}
