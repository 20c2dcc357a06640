import net, { isIP } from 'node:net';
import tls from 'node:tls';
import type { Deadline } from '../shared/deadline.js';
import { classifyNetError, type Failure } from '../shared/net-errors.js';
import type { PhaseClock } from '../shared/phase-clock.js';
import {
  type TlsSessionInfo,
  tlsClientOptions,
  tlsSessionInfo,
} from '../shared/tls-options.js';
import type { TlsSpec } from '../shared/tls-spec.js';
import { opTimeout } from './ops.js';

export interface ConnectTarget {
  readonly host: string;
  readonly port: number;
  /** Speak TLS (rediss://) with these options; plain TCP when undefined. */
  readonly tls?:
    | { readonly spec: TlsSpec | undefined; readonly name: string }
    | undefined;
  readonly localAddress?: string | undefined;
}

export type Connected =
  | {
    readonly ok: true;
    readonly socket: net.Socket;
    readonly remoteAddress?: string;
    readonly tls?: TlsSessionInfo;
  }
  | { readonly ok: false; readonly failure: Failure };

/**
 * Opens a fresh TCP (or TLS) connection under the check's deadline, entering the clock's `dns`,
 * `connect` and `tls` phases. Never rejects. On failure the socket is destroyed; on success the
 * caller owns it (and must destroy it) — an error listener stays attached so that a late error can
 * never crash the process.
 */
export function connectSocket(
  target: ConnectTarget,
  deadline: Deadline,
  clock: PhaseClock,
  op: string,
): Promise<Connected> {
  return new Promise<Connected>((resolve) => {
    let settled = false;
    let socket: net.Socket | undefined;
    const finish = (result: Connected): void => {
      if (settled) return;
      settled = true;
      offExpire();
      if (!result.ok) socket?.destroy();
      resolve(result);
    };
    const offExpire = deadline.onExpire(() =>
      finish({
        ok: false,
        failure: opTimeout(op, clock.current, deadline.budgetMs),
      }),
    );
    if (deadline.expired) return;

    const local =
      target.localAddress !== undefined
        ? { localAddress: target.localAddress }
        : {};
    clock.enter(isIP(target.host) ? 'connect' : 'dns');
    try {
      socket = target.tls
        ? tls.connect({
            host: target.host,
            port: target.port,
            ...local,
            ...tlsClientOptions(target.tls.spec, target.tls.name),
          })
        : net.connect({ host: target.host, port: target.port, ...local });
    } catch (err) {
      // Synchronous throws are bad options (an invalid local address): Tocsin's side, not the target's.
      finish({ ok: false, failure: classifyNetError(err, clock.current) });
      return;
    }
    const s = socket;
    s.on('error', (err) =>
      finish({ ok: false, failure: classifyNetError(err, clock.current) }),
    );
    s.once('lookup', (err: Error | null) => {
      if (!err) clock.enter('connect');
    });
    const ready = (): void => {
      const info = s instanceof tls.TLSSocket ? { tls: tlsSessionInfo(s) } : {};
      finish({
        ok: true,
        socket: s,
        ...(s.remoteAddress ? { remoteAddress: s.remoteAddress } : {}),
        ...info,
      });
    };
    s.once('connect', () => {
      if (target.tls) clock.enter('tls');
      else ready();
    });
    if (target.tls) s.once('secureConnect', ready);
  });
}
