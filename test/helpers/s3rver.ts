import { mkdtempSync, rmSync } from 'node:fs';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import aws4 from 'aws4';
import { LOOPBACK, startHttpServer, type TestServer } from './servers.js';

// s3rver (npm, an S3-compatible server on the local filesystem) run in-process on a loopback port.
// s3rver 3 checks that a SigV4 access key exists but never verifies the signature itself, so this
// helper puts a real SigV4 check in front of its routes (with aws4, the library the probe signs
// with): a wrong secret key is then refused with 403 SignatureDoesNotMatch, as S3 does.

const require = createRequire(import.meta.url);

/** The one key pair s3rver knows (its built-in dummy account). */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

interface KoaContext {
  readonly req: IncomingMessage;
}
type KoaMiddleware = (ctx: KoaContext, next: () => Promise<void>) => Promise<void>;
interface S3rverApp {
  readonly middleware: KoaMiddleware[];
  run(): Promise<{ port: number }>;
  close(): Promise<void>;
}
type S3rverCtor = new (options: Record<string, unknown>) => S3rverApp;
type S3ErrorCtor = new (code: string, message: string, detail?: Record<string, string>) => Error;

export interface S3Server {
  readonly host: string;
  readonly port: number;
  /** `http://127.0.0.1:PORT` (`https://` with `tls`): the endpoint (path-style). */
  readonly url: string;
  /** Where s3rver keeps buckets and objects. */
  readonly directory: string;
  /** Keys in `bucket` (an unsigned ListObjects call: s3rver serves those without credentials). */
  listKeys(bucket: string): Promise<string[]>;
  /** Stops the server and removes its directory. Idempotent. */
  stop(): Promise<void>;
}

/** The error code to answer for a SigV4-signed request with a wrong signature; undefined when valid or unsigned. */
export function verifySigV4(req: IncomingMessage, secrets: ReadonlyMap<string, string>): string | undefined {
  const auth = req.headers.authorization;
  if (typeof auth !== 'string' || !auth.startsWith('AWS4-HMAC-SHA256 ')) return undefined;
  const m =
    /Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request,\s*SignedHeaders=([^,]+),\s*Signature=([0-9a-f]{64})/.exec(
      auth,
    );
  if (!m) return 'AuthorizationHeaderMalformed';
  const [, accessKeyId = '', , region, service, signed = '', signature] = m;
  const secretAccessKey = secrets.get(accessKeyId);
  // An unknown key is s3rver's to refuse (InvalidAccessKeyId).
  if (secretAccessKey === undefined) return undefined;
  const headers: Record<string, string> = {};
  for (const name of signed.split(';')) {
    const value = req.headers[name];
    headers[name] = Array.isArray(value) ? value.join(',') : (value ?? '');
  }
  const signer = new aws4.RequestSigner(
    { method: req.method, path: req.url, host: headers.host, service, region, headers, doNotModifyHeaders: true },
    { accessKeyId, secretAccessKey },
  );
  signer.datetime = headers['x-amz-date'];
  return signer.signature() === signature ? undefined : 'SignatureDoesNotMatch';
}

/**
 * Starts s3rver on a free loopback port with `buckets` created, in a fresh temporary directory;
 * over HTTPS when given a certificate and key (PEM).
 */
export async function startS3rver(opts: {
  buckets: readonly string[];
  tls?: { readonly cert: string; readonly key: string };
}): Promise<S3Server> {
  const S3rver = require('s3rver') as S3rverCtor;
  const S3Error = require('s3rver/lib/models/error.js') as S3ErrorCtor;
  const directory = mkdtempSync(join(tmpdir(), 'tocsin-s3rver-'));
  const app = new S3rver({
    address: LOOPBACK,
    port: 0,
    silent: true,
    directory,
    configureBuckets: opts.buckets.map((name) => ({ name })),
    ...(opts.tls ? { cert: opts.tls.cert, key: opts.tls.key } : {}),
  });
  const secrets = new Map([[S3RVER_CREDENTIALS.accessKeyId, S3RVER_CREDENTIALS.secretAccessKey]]);
  // First in the chain, so that it runs before s3rver's own (signature-blind) authentication.
  app.middleware.unshift(async (ctx, next) => {
    const code = verifySigV4(ctx.req, secrets);
    if (code !== undefined) throw new S3Error(code, `signature check failed: ${code}`);
    await next();
  });
  const { port } = await app.run();
  const url = `${opts.tls ? 'https' : 'http'}://${LOOPBACK}:${port}`;
  let stopping: Promise<void> | undefined;
  return {
    host: LOOPBACK,
    port,
    url,
    directory,
    async listKeys(bucket) {
      const text = await listObjects(port, bucket, opts.tls !== undefined);
      return [...text.matchAll(/<Key>([^<]*)<\/Key>/g)].map((k) => k[1] ?? '');
    },
    stop() {
      stopping ??= app.close().finally(() => rmSync(directory, { recursive: true, force: true }));
      return stopping;
    },
  };
}

/** An unsigned ListObjects call (the test CA is not the system's, hence node:https rather than fetch). */
function listObjects(port: number, bucket: string, secure: boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    const options = { host: LOOPBACK, port, path: `/${bucket}?list-type=2`, agent: false, rejectUnauthorized: false };
    const req = (secure ? https : http).get(options, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => {
        text += d.toString();
      });
      res.on('end', () =>
        res.statusCode === 200 ? resolve(text) : reject(new Error(`ListObjects ${bucket}: ${res.statusCode} ${text}`)),
      );
    });
    req.on('error', reject);
  });
}

/** What the fault proxy does with one request. */
export type S3Fault =
  | 'forward'
  /** Never answers (the client runs into its deadline). */
  | 'hang'
  /** Forwards, then flips the first byte of a 200 answer's body (the object comes back corrupted). */
  | 'corrupt'
  /** Answers this status with an S3 error document. */
  | { readonly status: number; readonly code: string; readonly message?: string };

/**
 * An HTTP proxy in front of an S3 server that can break chosen requests (`fault` is consulted for
 * each, so a test can change it between checks). Forwarded requests keep their Host header, so
 * their signatures still verify upstream.
 */
export function startS3FaultProxy(
  upstream: { readonly host: string; readonly port: number },
  fault: (req: IncomingMessage) => S3Fault,
): Promise<TestServer> {
  return startHttpServer((req, res) => {
    const what = fault(req);
    if (what === 'hang') return;
    if (typeof what === 'object') {
      const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${what.code}</Code><Message>${what.message ?? what.code}</Message></Error>`;
      res.writeHead(what.status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
      res.end(body);
      return;
    }
    const out = http.request(
      // A fresh connection per request (no agent): nothing outlives the test's servers.
      {
        host: upstream.host,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
        agent: false,
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        let first = what === 'corrupt' && up.statusCode === 200;
        up.on('data', (chunk: Buffer) => {
          if (first && chunk.length > 0) {
            first = false;
            const copy = Buffer.from(chunk);
            copy[0] = (copy[0] ?? 0) ^ 0xff;
            res.write(copy);
            return;
          }
          res.write(chunk);
        });
        up.on('end', () => res.end());
      },
    );
    out.on('error', () => res.destroy());
    req.pipe(out);
  });
}
