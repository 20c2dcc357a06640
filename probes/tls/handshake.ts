import tls from 'node:tls';
import type { Deadline } from '../shared/deadline.js';
import { dial } from '../shared/dial.js';
import { type Failure, type NetPhase, timeoutFailure } from '../shared/net-errors.js';
import type { PhaseClock } from '../shared/phase-clock.js';
import { secureContextFor, sniFor, tlsServerName } from '../shared/tls-options.js';
import type { TlsSpec } from '../shared/tls-spec.js';
import type { CertCache, CertEntry } from './chain.js';

export interface HandshakeOptions {
  readonly host: string;
  readonly port: number;
  readonly tls: TlsSpec | undefined;
  /** Offered by ALPN, in order of preference. */
  readonly alpnProtocols: readonly string[];
  /** Local address to bind to (fleet workers' source address). */
  readonly localAddress?: string | undefined;
  /** Where the chain's certificates are read once and kept. */
  readonly certs: CertCache;
}

/** What a completed handshake established (verification results included, not yet judged). */
export interface Session {
  readonly protocol: string | null;
  readonly cipher: string | null;
  readonly alpn: string | null;
  /** Leaf first. */
  readonly chain: readonly CertEntry[];
  /** OpenSSL's verification result name when the chain did not verify. */
  readonly chainError?: string;
  /** `tls.checkServerIdentity` against `server_name` (or the target's host), when it failed. */
  readonly identityError?: Error & { code?: string };
  readonly remoteAddress?: string;
}

/** A handshake's outcome: `session` when it completed, `failure` when it did not. */
export interface HandshakeResult {
  readonly session?: Session;
  readonly failure?: Failure;
}

/** Timeouts name the phase; "tls" alone reads oddly in a detail. */
const PHASE_LABEL: Readonly<Record<string, string>> = { tls: 'tls handshake' };

/** node:tls types `authorizationError` as an Error, but hands out the X509_V_ERR name as a string. */
function verifyCode(value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'string') return value;
  const code = (value as { code?: unknown }).code;
  return typeof code === 'string' ? code : String(value);
}

/**
 * The chain as node:tls read it for its own name check, when it made one; else read here. Building
 * that object (every certificate converted, the trusted root looked up in the store) costs as much
 * as the ClientHello, a sixth of a check's CPU: node:tls builds it once a chain verifies, whatever
 * the options, and does not keep it, so reading it a second time doubled that.
 */
function peerOf(socket: tls.TLSSocket, seen: tls.PeerCertificate | undefined): tls.DetailedPeerCertificate {
  // Only the detailed form (`getPeerCertificate(true)`) links issuers; anything else is read again.
  if (seen && 'issuerCertificate' in seen) return seen as tls.DetailedPeerCertificate;
  return socket.getPeerCertificate(true);
}

function readSession(
  socket: tls.TLSSocket,
  remoteAddress: string | undefined,
  name: string,
  certs: CertCache,
  seen: tls.PeerCertificate | undefined,
): Session {
  const cipher = socket.getCipher();
  const peer = peerOf(socket, seen);
  const chain = certs.chain(peer);
  const chainError = socket.authorized ? undefined : verifyCode(socket.authorizationError);
  // Checked here rather than by node:tls, which skips the name once the chain has failed: with
  // `insecure` the name mismatch is still worth reporting.
  const identityError =
    peer?.raw !== undefined
      ? tls.checkServerIdentity(name, peer)
      : Object.assign(new Error('the server sent no certificate'), { code: 'NO_PEER_CERTIFICATE' });
  return {
    protocol: socket.getProtocol(),
    cipher: cipher ? (cipher.standardName ?? cipher.name) : null,
    alpn: socket.alpnProtocol || null,
    chain,
    ...(chainError !== undefined ? { chainError } : {}),
    ...(identityError !== undefined ? { identityError } : {}),
    ...(remoteAddress !== undefined ? { remoteAddress } : {}),
  };
}

/**
 * TCP connect, then a TLS handshake (probes/shared/dial.ts), each timed on `clock` (phases dns,
 * connect, tls). Verification is done with `rejectUnauthorized: false` and reported, not enforced,
 * so that a bad certificate still shows its chain. Never rejects; when it resolves, the socket is
 * closed (or, after a completed handshake, closing cleanly).
 */
export async function handshake(
  opts: HandshakeOptions,
  deadline: Deadline,
  clock: PhaseClock<NetPhase>,
): Promise<HandshakeResult> {
  const name = tlsServerName(opts.tls, opts.host);
  // What node:tls hands its name check once the chain verified (see peerOf).
  let seen: tls.PeerCertificate | undefined;
  const dialled = await dial(
    {
      host: opts.host,
      port: opts.port,
      localAddress: opts.localAddress,
      tls: {
        servername: sniFor(name),
        secureContext: secureContextFor(opts.tls),
        // Verified by readSession and judged by the probe: a bad certificate must not hide the chain.
        rejectUnauthorized: false,
        checkServerIdentity: (_host, cert) => {
          seen = cert;
          return undefined;
        },
        ALPNProtocols: [...opts.alpnProtocols],
      },
    },
    deadline,
    clock,
    (phase) => timeoutFailure(phase && (PHASE_LABEL[phase] ?? phase), deadline.budgetMs),
  );
  if (!dialled.ok) return { failure: dialled.failure };
  clock.stop();
  const secure = dialled.socket;
  try {
    const session = readSession(secure, dialled.remoteAddress, name, opts.certs, seen);
    // A clean close (close_notify, FIN) after a handshake, so that servers do not log a reset for
    // every check.
    secure.destroySoon();
    return { session };
  } catch (err) {
    // A bug reading the session must not become an uncaught exception in the daemon.
    secure.destroy();
    const text = err instanceof Error ? err.message : String(err);
    return { failure: { error: 'internal', detail: `tls probe: reading the session: ${text}` } };
  }
}
