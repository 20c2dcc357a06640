import { createHash, type Hash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Deadline } from '../shared/deadline.js';
import { dial } from '../shared/dial.js';
import { classifyNetError, type Failure, type NetPhase, timeoutFailure } from '../shared/net-errors.js';
import type { PhaseClock } from '../shared/phase-clock.js';
import { type TlsSessionInfo, tlsClientOptions, tlsSessionInfo } from '../shared/tls-options.js';
import type { TlsSpec } from '../shared/tls-spec.js';
import { type HopRequest, REDIRECT_STATUSES } from './redirect.js';
import { guardedLookup, isRefusedAddress, RefusedAddressError, redirectRefused } from './redirect-guard.js';
import { type ResponseHead, ResponseParser, type ResponseSink } from './response-parser.js';

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

/** Methods whose requests carry a body by definition: without one they declare a zero length. */
const BODY_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH']);
/** The characters a field value may hold (RFC 9110 §5.5, as node:http checks them): tab, visible Latin-1. */
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/**
 * The request line and headers, as node:http sends them for a client without an agent: the
 * User-Agent and Host first (the probe's own headers override them in place), the body's length,
 * and `Connection: close`. A failure, not a request, when a header value holds a character HTTP
 * does not allow: the request is never sent, so that no value can split it (its text is not shown:
 * it may be a secret read from the environment).
 */
export function requestHead(hop: HopRequest): string | Failure {
  const headers: Record<string, string> = { 'user-agent': USER_AGENT, host: hop.url.host, ...hop.headers };
  if (headers['content-length'] === undefined) {
    if (hop.body !== undefined) headers['content-length'] = String(Buffer.byteLength(hop.body));
    else if (BODY_METHODS.has(hop.method)) headers['content-length'] = '0';
  }
  headers.connection ??= 'close';
  let head = `${hop.method} ${hop.url.pathname}${hop.url.search} HTTP/1.1\r\n`;
  for (const name in headers) {
    const value = headers[name] as string;
    if (!FIELD_VALUE.test(value)) {
      return { error: 'internal', detail: `header ${name} holds a character HTTP does not allow (a control character such as CR or LF, or one outside Latin-1)` };
    }
    head += `${name}: ${value}\r\n`;
  }
  return `${head}\r\n`;
}

/** The wire form of a request: the head in latin1 (as node:http writes headers), the body in UTF-8. */
function requestBytes(head: string, body: string | undefined): Buffer {
  const bytes = Buffer.from(head, 'latin1');
  return body === undefined || body === '' ? bytes : Buffer.concat([bytes, Buffer.from(body, 'utf8')]);
}

const NOTHING = (): void => undefined;

/**
 * One HTTP/1.1 request and its response over a fresh connection (no agent, no keep-alive: every
 * check measures DNS, connect and TLS like a new client would). Never rejects: every outcome,
 * the deadline included, is a value. Whatever happens, the socket is destroyed before it resolves
 * and at most `maxBodySize` bytes of body are held in memory.
 *
 * It speaks HTTP on the socket itself (ResponseParser) rather than through node:http, whose
 * ClientRequest, IncomingMessage streams and header bookkeeping were most of a check's cost and
 * garbage: a probe sends one request and reads one response, and needs none of that machinery.
 */
export async function exchange(
  hop: HopRequest,
  opts: ExchangeOptions,
  deadline: Deadline,
  clock: PhaseClock<NetPhase>,
): Promise<ExchangeResult> {
  const isHttps = hop.url.protocol === 'https:';
  const host = hop.connectTo?.host ?? bareHostname(hop.url);
  const port = hop.connectTo?.port ?? defaultPort(hop.url);
  if (opts.refuseLinkLocal && isRefusedAddress(host)) {
    return { bodyBytes: 0, failure: redirectRefused(hop.url, `${host} is a link-local or metadata address`) };
  }
  const head = requestHead(hop);
  if (typeof head !== 'string') return { bodyBytes: 0, failure: head };

  const dialled = await dial(
    {
      host,
      port,
      localAddress: opts.localAddress,
      lookup: opts.refuseLinkLocal ? guardedLookup() : undefined,
      tls: isHttps ? tlsClientOptions(opts.tls, bareHostname(hop.url)) : undefined,
    },
    deadline,
    clock,
    (phase) => timeoutFailure(phase, deadline.budgetMs),
    opts.refuseLinkLocal
      ? (err, phase) =>
          err instanceof RefusedAddressError ? redirectRefused(hop.url, err.message) : classifyNetError(err, phase)
      : undefined,
  );
  if (!dialled.ok) return { bodyBytes: 0, failure: dialled.failure };

  const socket = dialled.socket;
  const result: ExchangeResult = { bodyBytes: 0 };
  if (dialled.remoteAddress) result.remoteAddress = dialled.remoteAddress;
  if (isHttps) {
    const secure = socket as TLSSocket;
    result.tls = tlsSessionInfo(secure);
    if (opts.certFingerprint) {
      const fingerprint = secure.getPeerCertificate()?.fingerprint256;
      if (fingerprint) result.certFingerprint256 = fingerprint;
    }
  }
  clock.enter('ttfb');
  return new ResponseReading(socket, hop, opts, deadline, clock, result).read(requestBytes(head, hop.body));
}

/** Sends the request on a connected socket and reads the response into `result`. */
class ResponseReading implements ResponseSink {
  private readonly parser: ResponseParser;
  private readonly chunks: Buffer[] | undefined;
  private readonly hash: Hash | undefined;
  private settled = false;
  private resolve: (result: ExchangeResult) => void = NOTHING;
  private offExpire: () => void = NOTHING;

  constructor(
    private readonly socket: Socket,
    hop: HopRequest,
    private readonly opts: ExchangeOptions,
    private readonly deadline: Deadline,
    private readonly clock: PhaseClock<NetPhase>,
    private readonly result: ExchangeResult,
  ) {
    this.parser = new ResponseParser(hop.method === 'HEAD', this);
    this.chunks = opts.keepText ? [] : undefined;
    this.hash = opts.hashBody ? createHash('sha256') : undefined;
  }

  read(request: Buffer): Promise<ExchangeResult> {
    return new Promise<ExchangeResult>((resolve) => {
      this.resolve = resolve;
      this.offExpire = this.deadline.onExpire(() =>
        this.finish(timeoutFailure(this.clock.current, this.deadline.budgetMs)),
      );
      // `on` rather than `once`: each comes once per connection (no wrapper each).
      this.socket.on('data', this.onData);
      this.socket.on('end', this.onClose);
      this.socket.on('close', this.onClose);
      this.socket.on('error', this.onError);
      this.socket.write(request);
    });
  }

  head(head: ResponseHead): boolean {
    const { clock, opts } = this;
    clock.enter('transfer');
    this.result.response = head;
    if (opts.stopAtRedirect && REDIRECT_STATUSES.has(head.status) && head.headers.location) {
      clock.stop();
      this.finish();
      return false;
    }
    // A declared length over the cap fails at once: no need to download what will be refused.
    // (HEAD, 204 and 304 answers declare the length of a body they never send: not counted.)
    const declared = this.parser.declaredLength;
    if (declared !== undefined && declared > opts.maxBodySize) {
      clock.stop();
      this.finish({
        error: 'body_too_large',
        detail: `content-length ${declared} exceeds max_body_size ${opts.maxBodySize}`,
      });
      return false;
    }
    return true;
  }

  body(chunk: Buffer): boolean {
    const { result, opts } = this;
    if (chunk.length > opts.maxBodySize - result.bodyBytes) {
      result.bodyBytes = opts.maxBodySize;
      this.clock.stop();
      this.finish({ error: 'body_too_large', detail: `body exceeds max_body_size ${opts.maxBodySize} bytes` });
      return false;
    }
    result.bodyBytes += chunk.length;
    this.chunks?.push(chunk);
    this.hash?.update(chunk);
    return true;
  }

  complete(): void {
    this.clock.stop();
    this.finish();
  }

  private readonly onData = (chunk: Buffer): void => {
    if (this.settled) return;
    try {
      this.parser.push(chunk);
    } catch (err) {
      this.finish(classifyNetError(err, this.clock.current));
    }
  };

  /** The peer closed: the end of a body that runs to the close, or a response cut short. */
  private readonly onClose = (): void => {
    if (this.settled || this.parser.end()) return;
    this.finish(
      this.parser.headRead
        ? { error: 'connect_error', detail: 'connection closed during transfer, body incomplete' }
        : { error: 'connect_error', detail: `connection closed by peer during ${this.clock.current ?? 'ttfb'}` },
    );
  };

  private readonly onError = (err: Error): void => this.finish(classifyNetError(err, this.clock.current));

  private finish(failure?: Failure): void {
    if (this.settled) return;
    this.settled = true;
    this.offExpire();
    const { result, chunks, hash } = this;
    if (failure) result.failure = failure;
    else if (chunks && result.response) result.body = Buffer.concat(chunks).toString('utf8');
    if (!failure && hash && result.response) result.bodySha256 = hash.digest('hex');
    if (chunks) chunks.length = 0;
    // No socket outlives the check; its error listener (dial's) stays for anything late.
    this.socket.destroy();
    this.resolve(result);
  }
}
