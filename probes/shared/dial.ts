import net from 'node:net';
import tls from 'node:tls';
import type { Deadline } from './deadline.js';
import { classifyNetError, type Failure } from './net-errors.js';
import type { PhaseClock } from './phase-clock.js';

export interface DialTarget {
  readonly host: string;
  readonly port: number;
  /** Local address to bind to (fleet workers' source address). */
  readonly localAddress?: string | undefined;
  /** Resolve the host with this instead of dns.lookup (the HTTP probe's redirect guard). */
  readonly lookup?: net.LookupFunction | undefined;
  /** Speak TLS with these options (host, port and local address are added); plain TCP when undefined. */
  readonly tls?: tls.ConnectionOptions | undefined;
}

/** Words a connection error, given the phase in progress. */
export type Classify = (err: unknown, phase: string | undefined) => Failure;

/** A TLS socket when the target surely speaks TLS, else the plain socket type. */
export type SocketOf<T extends DialTarget> = T extends { readonly tls: tls.ConnectionOptions }
  ? tls.TLSSocket
  : net.Socket;

export type Dialled<S extends net.Socket> =
  | {
    readonly ok: true;
    readonly socket: S;
    /** The peer's address, when known: an IPv4 literal host is taken as is (no getpeername(2)). */
    readonly remoteAddress: string | undefined;
  }
  | { readonly ok: false; readonly failure: Failure };

/**
 * Opens a fresh TCP or TLS connection under a check's deadline, entering the clock's `dns` (unless
 * the host is an address), `connect` and `tls` phases. One socket does both (tls.connect with host
 * and port): a net.Socket connected first and then wrapped costs a second stream and a handle
 * hand-over (a bare client measured about a tenth dearer that way). When the deadline passes first,
 * the failure is `timeout(phase in progress)`, which each probe words its own way.
 *
 * Never rejects. On failure the socket is destroyed; on success the caller owns it and must close
 * it. The error listener stays attached, so a late error can never crash the process. Errors are
 * worded by `classify` (classifyNetError unless the caller has errors of its own, such as a
 * lookup that refuses an address). Nagle is off on TCP: a check writes a request and waits.
 */
export function dial<T extends DialTarget>(
  target: T,
  deadline: Deadline,
  clock: PhaseClock,
  timeout: (phase: string | undefined) => Failure,
  classify: Classify = classifyNetError,
): Promise<Dialled<SocketOf<T>>> {
  return new Promise<Dialled<SocketOf<T>>>((resolve) => {
    let settled = false;
    let socket: net.Socket | undefined;
    const finish = (result: Dialled<net.Socket>): void => {
      if (settled) return;
      settled = true;
      offExpire();
      if (!result.ok) socket?.destroy();
      // tls.connect made the socket exactly when the target has TLS options: SocketOf<T> holds.
      resolve(result as Dialled<SocketOf<T>>);
    };
    const fail = (err: unknown): void => finish({ ok: false, failure: classify(err, clock.current) });
    const offExpire = deadline.onExpire(() => finish({ ok: false, failure: timeout(clock.current) }));
    if (deadline.expired) return;

    const where = {
      host: target.host,
      port: target.port,
      ...(target.localAddress !== undefined ? { localAddress: target.localAddress } : {}),
      ...(target.lookup !== undefined ? { lookup: target.lookup } : {}),
    };
    const family = net.isIP(target.host);
    clock.enter(family !== 0 ? 'connect' : 'dns');
    try {
      socket = target.tls ? tls.connect({ ...target.tls, ...where }) : net.connect({ ...where, noDelay: true });
    } catch (err) {
      // Synchronous throws are bad options (an invalid local address): Tocsin's side, not the target's.
      fail(err);
      return;
    }
    const s = socket;
    s.on('error', fail);
    // An address is dialled without a lookup (and no 'lookup' event).
    if (family === 0) {
      s.once('lookup', (err: Error | null) => {
        if (!err) clock.enter('connect');
      });
    }
    // An IPv4 literal is the very address connected to, in the form getpeername(2) would give
    // (isIP accepts dotted decimal only): no system call to read it back.
    const ready = (): void =>
      finish({ ok: true, socket: s, remoteAddress: interned(family === 4 ? target.host : s.remoteAddress) });
    if (target.tls) {
      // Ahead of node:tls's own 'connect' listener, which starts the handshake (the ClientHello).
      s.prependOnceListener('connect', () => clock.enter('tls'));
      s.once('secureConnect', ready);
    } else {
      s.once('connect', ready);
    }
  });
}

/**
 * The peer addresses seen so far, each kept as one string: a check's address is kept with its
 * latest result (the API's `remote_address`), and a new string per check is 50,000 copies of a
 * handful of addresses at 50,000 probes (1.6 MB). Bounded: past the limit, addresses go as they came.
 */
const addresses = new Map<string, string>();
const MAX_ADDRESSES = 4096;

function interned(address: string | undefined): string | undefined {
  if (address === undefined) return undefined;
  const known = addresses.get(address);
  if (known !== undefined) return known;
  if (addresses.size < MAX_ADDRESSES) addresses.set(address, address);
  return address;
}
