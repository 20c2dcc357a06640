import { createHash, type Hash } from 'node:crypto';
import type { ClientRequestArgs, IncomingHttpHeaders } from 'node:http';
import http from 'node:http';
import https from 'node:https';
import net, { isIP, type NetConnectOpts, type Socket } from 'node:net';
import tls, { type ConnectionOptions, type TLSSocket } from 'node:tls';
import type { Deadline } from '../shared/deadline.js';
import { classifyNetError, type Failure, type NetPhase, timeoutFailure } from '../shared/net-errors.js';
import type { PhaseClock } from '../shared/phase-clock.js';
import { type TlsSessionInfo, tlsClientOptions, tlsSessionInfo } from '../shared/tls-options.js';
import type { TlsSpec } from '../shared/tls-spec.js';
import { type HopRequest, REDIRECT_STATUSES } from './redirect.js';
import { guardedLookup, isRefusedAddress, RefusedAddressError, redirectRefused } from './redirect-guard.js';

/** Sent unless the probe sets its own, so that operators can tell probes apart in access logs. */
export const USER_AGENT = 'Tocsin-Probe/1';

export interface ExchangeOptions {
  /** Stop at the headers of a redirect (status 3xx with a Location): its body is never read. */
  readonly stopAtRedirect: boolean;
  /** Keep the body text (for body_contains / body_regex); otherwise bytes are only counted. */
  readonly keepText: boolean;
  readonly maxBodySize: number;
  readonly tls: TlsSpec | undefined;
  /** Local address to bind to (fleet workers' source address). */
  readonly localAddress?: string | undefined;
  /** Hash the body with SHA-256 as it streams (lb_sync compares bodies without keeping them). */
  readonly hashBody?: boolean | undefined;
  /** Record the leaf certificate's SHA-256 fingerprint (lb_sync compares certificates). */
  readonly certFingerprint?: boolean | undefined;
  /**
   * Refuse to connect to link-local and metadata addresses (`redirect_refused`), checking the
   * address the name resolves to: set for redirect hops unless the probe allows them.
   */
  readonly refuseLinkLocal?: boolean | undefined;
}

/** What one request/response produced; `failure` is set when it did not complete. */
export interface ExchangeResult {
  /** Set once the response headers arrived (even when reading the body then failed). */
  response?: { readonly status: number; readonly httpVersion: string; readonly headers: IncomingHttpHeaders };
  bodyBytes: number;
  body?: string;
  tls?: TlsSessionInfo;
  remoteAddress?: string;
  failure?: Failure;
  /** Hex SHA-256 of the whole body, when `hashBody` was asked and the body was read to its end. */
  bodySha256?: string;
  /** The leaf certificate's SHA-256 fingerprint (AB:CD:...), when `certFingerprint` was asked. */
  certFingerprint256?: string;
}

/** `new URL('http://[::1]/').hostname` keeps the brackets; sockets and certificates want them off. */
export function bareHostname(url: URL): string {
  const name = url.hostname;
  return name.startsWith('[') ? name.slice(1, -1) : name;
}

function defaultPort(url: URL): number {
  if (url.port) return Number(url.port);
  return url.protocol === 'https:' ? 443 : 80;
}

function contentLength(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d+$/.test(value.trim())) return undefined;
  return Number(value);
}

// A check's socket, made as the throwaway Agent of `agent: false` would make it, without that Agent
// (nor its pool, its listeners and its name for the socket): node hands the request's options
// (host, port, localAddress, lookup, the TLS keys) to `createConnection`. Like the Agent, Nagle is
// off for TCP (node's TLS socket ignores the option, with or without an Agent).
const connectTcp = (options: ClientRequestArgs): Socket =>
  net.createConnection({ ...(options as NetConnectOpts), noDelay: true });
const connectTls = (options: ClientRequestArgs): Socket => tls.connect(options as ConnectionOptions);

/**
 * One HTTP request and its response over a fresh connection (no agent, no keep-alive: every
 * check measures DNS, connect and TLS like a new client would). Never rejects: every outcome,
 * the deadline included, is a value. Whatever happens, the socket is destroyed before it resolves
 * and at most `maxBodySize` bytes of body are held in memory.
 */
export function exchange(
  hop: HopRequest,
  opts: ExchangeOptions,
  deadline: Deadline,
  clock: PhaseClock<NetPhase>,
): Promise<ExchangeResult> {
  return new Promise<ExchangeResult>((resolve) => {
    const isHttps = hop.url.protocol === 'https:';
    const host = hop.connectTo?.host ?? bareHostname(hop.url);
    const port = hop.connectTo?.port ?? defaultPort(hop.url);
    const result: ExchangeResult = { bodyBytes: 0 };
    const chunks: Buffer[] | undefined = opts.keepText ? [] : undefined;
    const hash: Hash | undefined = opts.hashBody ? createHash('sha256') : undefined;
    let settled = false;
    let socket: Socket | undefined;
    let request: http.ClientRequest | undefined;
    let response: http.IncomingMessage | undefined;

    const finish = (failure?: Failure): void => {
      if (settled) return;
      settled = true;
      offExpire();
      if (failure) result.failure = failure;
      else if (chunks && result.response) result.body = Buffer.concat(chunks).toString('utf8');
      if (!failure && hash && result.response) result.bodySha256 = hash.digest('hex');
      if (chunks) chunks.length = 0;
      // Destroying all three is idempotent and guarantees no socket outlives the check.
      response?.destroy();
      request?.destroy();
      socket?.destroy();
      resolve(result);
    };
    const fail = (err: unknown): void =>
      finish(
        err instanceof RefusedAddressError
          ? redirectRefused(hop.url, err.message)
          : classifyNetError(err, clock.current),
      );
    const offExpire = deadline.onExpire(() => finish(timeoutFailure(clock.current, deadline.budgetMs)));

    const headers: Record<string, string> = { 'user-agent': USER_AGENT, host: hop.url.host, ...hop.headers };
    if (hop.body !== undefined && headers['content-length'] === undefined) {
      headers['content-length'] = String(Buffer.byteLength(hop.body));
    }

    if (opts.refuseLinkLocal && isRefusedAddress(host)) {
      finish(redirectRefused(hop.url, `${host} is a link-local or metadata address`));
      return;
    }
    const family = isIP(host);
    clock.enter(family !== 0 ? 'connect' : 'dns');
    try {
      const options: https.RequestOptions = {
        host,
        port,
        method: hop.method,
        path: `${hop.url.pathname}${hop.url.search}`,
        headers,
        // No agent, no keep-alive: a fresh connection per check (see connectTcp).
        createConnection: isHttps ? connectTls : connectTcp,
        localAddress: opts.localAddress,
        lookup: opts.refuseLinkLocal ? guardedLookup() : undefined,
        ...(isHttps ? tlsClientOptions(opts.tls, bareHostname(hop.url)) : {}),
      };
      request = isHttps ? https.request(options) : http.request(options);
    } catch (err) {
      // Synchronous throws are bad options (a header value node refuses): Tocsin's fault, not the target's.
      finish(classifyNetError(err, undefined));
      return;
    }

    request.on('error', fail);
    // `on` rather than `once` for events that come once per request or socket (no wrapper each);
    // 'lookup' comes once per address of the answer.
    request.on('socket', (s: Socket) => {
      socket = s;
      // An IP literal is dialled without a lookup (and no 'lookup' event).
      if (family === 0) {
        s.once('lookup', (err: Error | null) => {
          if (!err) clock.enter('connect');
        });
      }
      s.on('connect', () => {
        // An IPv4 literal is the very address connected to, in the form getpeername(2) would give
        // (isIP accepts dotted decimal only): no system call to read it back.
        const remote = family === 4 ? host : s.remoteAddress;
        if (remote) result.remoteAddress = remote;
        clock.enter(isHttps ? 'tls' : 'ttfb');
      });
      if (isHttps) {
        s.on('secureConnect', () => {
          result.tls = tlsSessionInfo(s as TLSSocket);
          if (opts.certFingerprint) {
            const fingerprint = (s as TLSSocket).getPeerCertificate()?.fingerprint256;
            if (fingerprint) result.certFingerprint256 = fingerprint;
          }
          clock.enter('ttfb');
        });
      }
    });

    request.on('response', (res: http.IncomingMessage) => {
      response = res;
      clock.enter('transfer');
      result.response = { status: res.statusCode ?? 0, httpVersion: res.httpVersion, headers: res.headers };
      res.on('error', fail);

      if (opts.stopAtRedirect && REDIRECT_STATUSES.has(res.statusCode ?? 0) && res.headers.location) {
        clock.stop();
        finish();
        return;
      }
      // A declared length over the cap fails at once: no need to download what will be refused.
      // (HEAD, 204 and 304 answers declare the length of a body they never send.)
      const bodyless = hop.method === 'HEAD' || res.statusCode === 204 || res.statusCode === 304;
      const declared = bodyless ? undefined : contentLength(res.headers['content-length']);
      if (declared !== undefined && declared > opts.maxBodySize) {
        clock.stop();
        finish({
          error: 'body_too_large',
          detail: `content-length ${declared} exceeds max_body_size ${opts.maxBodySize}`,
        });
        return;
      }
      res.on('data', (chunk: Buffer) => {
        if (settled) return;
        const room = opts.maxBodySize - result.bodyBytes;
        if (chunk.length > room) {
          result.bodyBytes = opts.maxBodySize;
          clock.stop();
          finish({ error: 'body_too_large', detail: `body exceeds max_body_size ${opts.maxBodySize} bytes` });
          return;
        }
        result.bodyBytes += chunk.length;
        chunks?.push(chunk);
        hash?.update(chunk);
      });
      res.on('end', () => {
        clock.stop();
        finish();
      });
      res.on('close', () => {
        if (!res.complete) {
          finish({ error: 'connect_error', detail: 'connection closed during transfer, body incomplete' });
        }
      });
    });

    request.end(hop.body);
  });
}
