import type net from 'node:net';
import tls from 'node:tls';
import type { Deadline } from '../shared/deadline.js';
import { dial } from '../shared/dial.js';
import type { Failure } from '../shared/net-errors.js';
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
 * Opens a fresh TCP (or TLS) connection for a storage check (probes/shared/dial.ts), a timeout
 * naming the op in progress. Never rejects; on success the caller owns the socket (and must
 * destroy it).
 */
export async function connectSocket(
  target: ConnectTarget,
  deadline: Deadline,
  clock: PhaseClock,
  op: string,
): Promise<Connected> {
  const dialled = await dial(
    {
      host: target.host,
      port: target.port,
      localAddress: target.localAddress,
      tls: target.tls ? tlsClientOptions(target.tls.spec, target.tls.name) : undefined,
    },
    deadline,
    clock,
    (phase) => opTimeout(op, phase, deadline.budgetMs),
  );
  if (!dialled.ok) return dialled;
  const s = dialled.socket;
  return {
    ok: true,
    socket: s,
    ...(dialled.remoteAddress ? { remoteAddress: dialled.remoteAddress } : {}),
    ...(s instanceof tls.TLSSocket ? { tls: tlsSessionInfo(s) } : {}),
  };
}
