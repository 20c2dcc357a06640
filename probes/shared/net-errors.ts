import type { ErrorCode } from '../../src/events/error-codes.js';

/** A failed check's error code and the human text that goes with it. */
export interface Failure {
  readonly error: ErrorCode;
  readonly detail: string;
}

/**
 * The phases of a network check, in order. `ttfb` is "request sent, waiting for the first answer";
 * kinds that are not HTTP use the ones that apply (the tls kind stops after `tls`).
 */
export type NetPhase = 'dns' | 'connect' | 'tls' | 'ttfb' | 'transfer';

/** The deadline passed: the code is always `timeout`, the detail names the phase in progress. */
export function timeoutFailure(phase: string | undefined, budgetMs: number): Failure {
  return {
    error: 'timeout',
    detail: `timeout during ${phase ?? 'check'} (deadline ${Math.round(budgetMs)} ms)`,
  };
}

// Certificate verification results, as node:tls reports OpenSSL's X509_V_ERR_* names.
const CERT_EXPIRED = new Set([
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERROR_IN_CERT_NOT_AFTER_FIELD',
  'ERROR_IN_CERT_NOT_BEFORE_FIELD',
]);
const CERT_INVALID = new Set([
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_TLS_CERT_ALTNAME_FORMAT',
  'HOSTNAME_MISMATCH',
  'IP_ADDRESS_MISMATCH',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_REVOKED',
  'CERT_CHAIN_TOO_LONG',
  'PATH_LENGTH_EXCEEDED',
  'INVALID_CA',
  'INVALID_PURPOSE',
  'EE_KEY_TOO_SMALL',
  'CA_KEY_TOO_SMALL',
  'CA_MD_TOO_WEAK',
]);
// The server and the probe share no protocol version (the server is older than `tls.min_version`).
const TLS_PROTOCOL = new Set([
  'ERR_SSL_UNSUPPORTED_PROTOCOL',
  'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION',
  'ERR_SSL_NO_PROTOCOLS_AVAILABLE',
  'ERR_SSL_VERSION_TOO_LOW',
]);
// OpenSSL errors often arrive as a bare EPROTO whose only clue is the message.
const TLS_PROTOCOL_TEXT =
  /alert protocol version|unsupported protocol|version too low|no protocols available/i;
const DNS = new Set([
  'ENOTFOUND',
  'EAI_AGAIN',
  'EAI_FAIL',
  'EAI_NODATA',
  'EAI_NONAME',
  'ESERVFAIL',
  'ENODATA',
  'ETIMEOUT',
]);
const CONNECT_TEXT: Readonly<Record<string, string>> = {
  ECONNRESET: 'connection reset by peer',
  EPIPE: 'connection closed by peer',
  ECONNABORTED: 'connection aborted',
  EHOSTUNREACH: 'host unreachable',
  EHOSTDOWN: 'host down',
  ENETUNREACH: 'network unreachable',
  ENETDOWN: 'network down',
  ETIMEDOUT: 'connection timed out',
  EADDRNOTAVAIL: 'local address not available',
};

/** The `code` of a Node error, looking inside the AggregateError of a multi-address connect. */
export function errorCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  const inner = (err as { errors?: unknown }).errors;
  if (Array.isArray(inner)) {
    for (const e of inner) {
      const c = errorCode(e);
      if (c !== undefined) return c;
    }
  }
  return undefined;
}

function errorMessage(err: unknown): string {
  if (err instanceof Error) {
    // OpenSSL messages carry a long "error:0A00042E:SSL routines:..:file.c:1601:" prefix; keep the words.
    const ssl = /SSL routines:[^:]*:([^:]+):/.exec(err.message);
    return ssl?.[1] ?? err.message;
  }
  return String(err);
}

/** Node's words for "the peer closed the connection", which say less than our own. */
const PEER_CLOSED = /^(socket hang up|aborted$|Client network socket disconnected)/;

/**
 * Maps an error from node:net / node:tls / node:http to Tocsin's closed error codes, given the phase
 * that was in progress. Errors without a system/OpenSSL/parser code, or Node's own argument errors,
 * are Tocsin bugs (`internal`), never blamed on the target.
 */
export function classifyNetError(err: unknown, phase: string | undefined): Failure {
  const code = errorCode(err);
  const message = errorMessage(err);
  const during = phase ? ` during ${phase}` : '';
  const tagged = (text: string): string => (code ? `${text}${during} (${code})` : `${text}${during}`);

  if (code === undefined) return { error: 'internal', detail: tagged(message) };
  if (CERT_EXPIRED.has(code)) return { error: 'tls_cert_expired', detail: `${message} (${code})` };
  if (CERT_INVALID.has(code)) return { error: 'tls_cert_invalid', detail: `${message} (${code})` };
  const ssl = code === 'EPROTO' || code.startsWith('ERR_SSL_');
  if (TLS_PROTOCOL.has(code) || (ssl && TLS_PROTOCOL_TEXT.test(message))) {
    return { error: 'tls_protocol', detail: `no common TLS protocol version: ${message} (${code})` };
  }
  if (code.startsWith('HPE_'))
    return { error: 'protocol_error', detail: `malformed HTTP${during}: ${message} (${code})` };
  if (DNS.has(code) || phase === 'dns') return { error: 'dns', detail: `${message} (${code})` };
  if (code === 'ECONNREFUSED') return { error: 'connect_refused', detail: `${message} (${code})` };
  if (ssl || code.startsWith('ERR_TLS_')) {
    // The usual cause of "wrong version number" is a plain-text service on a TLS port.
    const hint = /wrong version number/i.test(message) ? ', the peer does not speak TLS' : '';
    return { error: 'tls_handshake', detail: tagged(`${message}${hint}`) };
  }
  if (code.startsWith('ERR_')) return { error: 'internal', detail: tagged(message) };
  const text = PEER_CLOSED.test(message) ? 'connection closed by peer' : (CONNECT_TEXT[code] ?? message);
  // A connection that breaks while the handshake runs is a failed handshake, not a network fault.
  if (phase === 'tls') return { error: 'tls_handshake', detail: tagged(text) };
  return { error: 'connect_error', detail: tagged(text) };
}
