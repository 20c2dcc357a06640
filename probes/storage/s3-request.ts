import { createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { isIP, type Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import aws4 from 'aws4';
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

/** Sent so that operators can tell probes apart in their S3 access logs. */
export const S3_USER_AGENT = 'Tocsin-Probe/1 (storage)';
/** SHA-256 of nothing: the payload hash of GET and DELETE. */
const EMPTY_SHA256 =
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
/** Most bytes of an error or acknowledgement body kept (S3 error documents are a few hundred bytes). */
const MAX_TEXT = 16 * 1024;

/** Where one object lives and how to reach it (path-style or virtual-hosted). */
export interface S3Address {
  readonly https: boolean;
  /** Dialled host and port: always the endpoint's, so virtual-hosted needs no wildcard DNS lookup. */
  readonly connectHost: string;
  readonly connectPort: number;
  /** The Host header (signed): `endpoint-host[:port]`, or `bucket.endpoint-host[:port]` when virtual-hosted. */
  readonly hostHeader: string;
  /** The request path, URI-encoded as signed. */
  readonly path: string;
  /** The name the TLS certificate must match (and the SNI), unless `tls.server_name` says otherwise. */
  readonly tlsName: string;
}

/** Encodes a key like SigV4's canonical URI (RFC 3986, `/` kept), so that what is sent is what is signed. */
export function encodeKey(key: string): string {
  return key
    .split('/')
    .map((seg) =>
      encodeURIComponent(seg).replace(
        /[!'()*]/g,
        (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
      ),
    )
    .join('/');
}

/**
 * The address of `key` in `bucket` at `endpoint`. A path in the endpoint (a gateway mounted under
 * `/s3/`) is kept as a prefix. Virtual-hosted style sends `Host: bucket.endpoint-host` while dialling
 * the endpoint's host, as a wildcard DNS record would resolve both to the same service.
 */
export function s3Address(
  endpoint: URL,
  bucket: string,
  key: string,
  pathStyle: boolean,
): S3Address {
  const secure = endpoint.protocol === 'https:';
  const bare = endpoint.hostname.replace(/^\[|\]$/g, '');
  const base = endpoint.pathname.replace(/\/+$/, '');
  const port = endpoint.port ? Number(endpoint.port) : secure ? 443 : 80;
  return pathStyle
    ? {
        https: secure,
        connectHost: bare,
        connectPort: port,
        hostHeader: endpoint.host,
        path: `${base}/${encodeKey(bucket)}/${encodeKey(key)}`,
        tlsName: bare,
      }
    : {
        https: secure,
        connectHost: bare,
        connectPort: port,
        hostHeader: `${bucket}.${endpoint.host}`,
        path: `${base}/${encodeKey(key)}`,
        tlsName: `${bucket}.${bare}`,
      };
}

export interface S3Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

export interface S3Call {
  readonly method: 'PUT' | 'GET' | 'DELETE';
  readonly address: S3Address;
  readonly region: string;
  readonly credentials: S3Credentials;
  readonly tls: TlsSpec | undefined;
  readonly localAddress?: string | undefined;
  /** PUT: the object and its SHA-256 (hex). */
  readonly body?: { readonly bytes: Buffer; readonly sha256: string };
  /** GET: stop reading (and report a mismatch) past this many bytes: the object cannot be longer. */
  readonly maxContent?: number;
}

/** What one request produced. `failure` is set when no complete HTTP answer arrived. */
export interface S3Answer {
  status?: number;
  /** Non-2xx answers: the start of the body (the S3 error document). */
  text?: string;
  /** 2xx GET: bytes received and their SHA-256 (hex); `overflow` when more than `maxContent` came. */
  content?: { bytes: number; sha256: string; overflow: boolean };
  remoteAddress?: string;
  /** The request went out on an established connection (TLS included): the server may have acted on it. */
  sent?: boolean;
  tls?: TlsSessionInfo;
  failure?: Failure;
}

/** SigV4 headers for a request (aws4 signs Host, X-Amz-Date, X-Amz-Content-Sha256 and ours). */
export function signedHeaders(call: S3Call): Record<string, string> {
  const headers: Record<string, string> = {
    host: call.address.hostHeader,
    'x-amz-content-sha256': call.body?.sha256 ?? EMPTY_SHA256,
  };
  if (call.body) {
    headers['content-type'] = 'application/octet-stream';
    headers['content-length'] = String(call.body.bytes.length);
  }
  const signed = aws4.sign(
    {
      method: call.method,
      host: call.address.hostHeader,
      path: call.address.path,
      service: 's3',
      region: call.region,
      headers,
    },
    call.credentials,
  );
  const out: Record<string, string> = { 'user-agent': S3_USER_AGENT };
  for (const [name, value] of Object.entries(signed.headers ?? {})) {
    if (value !== undefined) out[name.toLowerCase()] = String(value);
  }
  return out;
}

/**
 * One signed S3 request over a fresh connection (no agent, no keep-alive: each op measures what a
 * new client sees), under the check's deadline. Never rejects; the socket is destroyed before it
 * resolves. Phases: dns, connect, tls, send (uploading the body), ttfb, transfer.
 */
export function s3Request(
  call: S3Call,
  op: string,
  deadline: Deadline,
  clock: PhaseClock,
): Promise<S3Answer> {
  return new Promise<S3Answer>((resolve) => {
    const answer: S3Answer = {};
    const { address } = call;
    let settled = false;
    let socket: Socket | undefined;
    let request: http.ClientRequest | undefined;
    let response: http.IncomingMessage | undefined;

    const finish = (failure?: Failure): void => {
      if (settled) return;
      settled = true;
      offExpire();
      if (failure) answer.failure = failure;
      response?.destroy();
      request?.destroy();
      socket?.destroy();
      resolve(answer);
    };
    const offExpire = deadline.onExpire(() =>
      finish(opTimeout(op, clock.current, deadline.budgetMs)),
    );
    if (deadline.expired) return;

    clock.enter(isIP(address.connectHost) ? 'connect' : 'dns');
    try {
      const options: https.RequestOptions = {
        host: address.connectHost,
        port: address.connectPort,
        method: call.method,
        path: address.path,
        headers: signedHeaders(call),
        agent: false,
        ...(call.localAddress !== undefined
          ? { localAddress: call.localAddress }
          : {}),
        ...(address.https ? tlsClientOptions(call.tls, address.tlsName) : {}),
      };
      request = address.https ? https.request(options) : http.request(options);
    } catch (err) {
      finish(classifyNetError(err, undefined));
      return;
    }
    const req = request;
    const fail = (err: unknown): void => {
      const failure = classifyNetError(err, clock.current);
      finish({ error: failure.error, detail: `${op}: ${failure.detail}` });
    };
    req.on('error', fail);
    req.once('socket', (s: Socket) => {
      socket = s;
      s.once('lookup', (err: Error | null) => {
        if (!err) clock.enter('connect');
      });
      const connected = (): void => {
        if (s.remoteAddress) answer.remoteAddress = s.remoteAddress;
        answer.sent = true;
        clock.enter(req.writableFinished || !call.body ? 'ttfb' : 'send');
      };
      if (address.https) {
        s.once('connect', () => clock.enter('tls'));
        s.once('secureConnect', () => {
          answer.tls = tlsSessionInfo(s as TLSSocket);
          connected();
        });
      } else {
        s.once('connect', connected);
      }
    });
    req.once('finish', () => {
      if (clock.current === 'send') clock.enter('ttfb');
    });

    req.once('response', (res: http.IncomingMessage) => {
      response = res;
      clock.enter('transfer');
      const status = res.statusCode ?? 0;
      answer.status = status;
      res.on('error', fail);
      const ok = status >= 200 && status < 300;
      const hash =
        ok && call.method === 'GET' ? createHash('sha256') : undefined;
      const text: Buffer[] = [];
      let bytes = 0;
      res.on('data', (chunk: Buffer) => {
        if (settled) return;
        bytes += chunk.length;
        if (hash) {
          if (call.maxContent !== undefined && bytes > call.maxContent) {
            // Longer than what was put: it is not our object; no need to download the rest.
            clock.stop();
            answer.content = { bytes, sha256: '', overflow: true };
            finish();
            return;
          }
          hash.update(chunk);
        } else if (!ok && bytes - chunk.length < MAX_TEXT) {
          text.push(chunk);
        }
      });
      res.once('end', () => {
        clock.stop();
        if (hash)
          answer.content = {
            bytes,
            sha256: hash.digest('hex'),
            overflow: false,
          };
        else if (!ok)
          answer.text = Buffer.concat(text).toString('utf8').slice(0, MAX_TEXT);
        finish();
      });
      res.once('close', () => {
        if (!res.complete)
          finish({
            error: 'connect_error',
            detail: `${op}: connection closed during transfer`,
          });
      });
    });

    req.end(call.body?.bytes);
  });
}

/** The `<Code>` and `<Message>` of an S3 error document (read with a regex: it is all we need). */
export function parseS3Error(text: string | undefined): {
  code?: string;
  message?: string;
} {
  if (!text) return {};
  const code = /<Code>\s*([^<]{1,100}?)\s*<\/Code>/.exec(text)?.[1];
  const message = /<Message>\s*([^<]{1,300}?)\s*<\/Message>/.exec(text)?.[1];
  return { ...(code ? { code } : {}), ...(message ? { message } : {}) };
}
