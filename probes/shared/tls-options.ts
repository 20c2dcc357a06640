import { isIP } from 'node:net';
import {
  type ConnectionOptions,
  checkServerIdentity,
  createSecureContext,
  type PeerCertificate,
  type SecureContext,
  type TLSSocket,
} from 'node:tls';
import type { TlsSpec } from './tls-spec.js';

/** Protocol versions older than TLS 1.2 are only usable below OpenSSL 3's default security level. */
const LEGACY = new Set<string>(['TLSv1', 'TLSv1.1']);

/**
 * One client SecureContext per `tls` block (the plan's objects live as long as the plan): building
 * one parses the CA bundle (the system's, or `ca_file`) and cost about a fifth of a TLS check's CPU
 * when node:tls built it for every connection. Sharing it does not resume sessions: node:tls keeps
 * no client session cache, so every check is still a full handshake. A spec parsed anew (a job from
 * the queue, a reloaded config) gets a context of its own.
 */
const contexts = new WeakMap<object, SecureContext>();
const NO_TLS_BLOCK = {};

export function secureContextFor(tls: TlsSpec | undefined): SecureContext {
  const key = tls ?? NO_TLS_BLOCK;
  let context = contexts.get(key);
  if (!context) {
    const minVersion = tls?.min_version ?? 'TLSv1.2';
    context = createSecureContext({
      minVersion,
      ...(tls?.ca !== undefined ? { ca: tls.ca } : {}),
      // An operator who accepts TLS 1.0/1.1 also accepts the SHA-1 handshakes those protocols need.
      ...(LEGACY.has(minVersion) ? { ciphers: 'DEFAULT:@SECLEVEL=0' } : {}),
    });
    contexts.set(key, context);
  }
  return context;
}

/** The name a probe's certificate is checked against, and sent as SNI (unless an address). */
export function tlsServerName(tls: TlsSpec | undefined, defaultName: string): string {
  return tls?.server_name ?? defaultName;
}

/** SNI must not carry an IP address (RFC 6066); '' tells node:tls not to derive one from the host. */
export function sniFor(name: string): string {
  return isIP(name) ? '' : name;
}

/**
 * node:tls client options for a probe's `tls` block. `defaultName` is the name the probe reaches
 * (the URL's host, the target's host); `tls.server_name` overrides it for both SNI and verification.
 * The certificate is always checked against that name, not against the address actually dialled,
 * so that probing one load-balancer instance by IP still validates the public certificate.
 */
export function tlsClientOptions(
  tls: TlsSpec | undefined,
  defaultName: string,
): Pick<ConnectionOptions, 'servername' | 'rejectUnauthorized' | 'secureContext' | 'checkServerIdentity'> {
  const name = tlsServerName(tls, defaultName);
  return {
    servername: sniFor(name),
    rejectUnauthorized: !(tls?.insecure ?? false),
    secureContext: secureContextFor(tls),
    checkServerIdentity: (_host: string, cert: PeerCertificate) => checkServerIdentity(name, cert),
  };
}

/** What a probe reports about an established TLS session. */
export interface TlsSessionInfo {
  readonly tls_version?: string;
  readonly tls_cipher?: string;
  /** The leaf certificate's notAfter, ISO 8601. */
  readonly cert_not_after?: string;
}

/** Reads protocol, cipher and leaf expiry from a connected TLS socket (fields it cannot read are left out). */
export function tlsSessionInfo(socket: TLSSocket): TlsSessionInfo {
  const info: { tls_version?: string; tls_cipher?: string; cert_not_after?: string } = {};
  const version = socket.getProtocol();
  if (version) info.tls_version = version;
  const cipher = socket.getCipher();
  if (cipher?.name) info.tls_cipher = cipher.standardName ?? cipher.name;
  const cert = socket.getPeerCertificate();
  if (cert?.valid_to) {
    const at = new Date(cert.valid_to);
    if (!Number.isNaN(at.getTime())) info.cert_not_after = at.toISOString();
  }
  return info;
}
