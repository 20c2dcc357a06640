/**
 * The closed set of error codes a probe-result event may carry (CONTRACT §3, extended).
 * Adding a code: add it here with a line in docs/probes.md; never rename one.
 */
export const ERROR_CODES = [
  'timeout', // the check's deadline passed; `detail` names the phase (dns, connect, tls, ttfb, transfer, ...)
  'dns', // the name did not resolve (NXDOMAIN, SERVFAIL, no address)
  'connect_refused', // TCP connection refused (nothing listens)
  'connect_error', // TCP connect failed otherwise, or the connection broke (reset, unreachable)
  'tls_handshake', // the TLS handshake failed (alert, reset during handshake, no shared cipher)
  'tls_protocol', // the server's protocol is older than `tls.min_version`
  'tls_cert_expired', // the certificate is past its not_after (or not yet valid)
  'tls_cert_invalid', // untrusted chain, self-signed, hostname mismatch
  'tls_cert_expiring', // valid, but fewer days left than `expect.min_days_left` (warning level)
  'tls_mismatch', // tls: handshake and certificate fine, but leaf key type or ALPN not the expected one
  'status', // unexpected HTTP status
  'body_mismatch', // body_contains / body_regex did not match
  'header_mismatch', // an expected response header is missing or differs
  'body_too_large', // the response body exceeded the probe's read cap
  'too_many_redirects', // more redirects than the probe follows
  'redirect_refused', // http: a redirect led to a link-local or cloud metadata address; refused before connecting
  'protocol_error', // the peer spoke something that is not valid for the protocol (malformed HTTP)
  'latency', // the check succeeded but took longer than `expect.max_latency` (degraded, not down)
  'config_out_of_sync', // lb_sync: an instance serves a config that differs from the reference
  'storage_error', // storage backend answered with an error
  'internal', // a bug in Tocsin itself while running the check (logged; never the target's fault)
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** Codes that mean "working but slow" rather than "broken". */
export const DEGRADED_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'latency',
  'tls_cert_expiring',
  // The endpoint serves, only not as configured (an RSA 4096 key where ECDSA was expected, no h2).
  'tls_mismatch',
]);
