import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ERROR_STATUS, type ErrorCode, TocsinError } from '../errors.js';
import { RateLimited } from './guard.js';

/** The error body of CONTRACT §6. */
export function errorBody(code: ErrorCode, message: string) {
  return { error: { code, message } };
}

/** Maps every error to the contract's shape once; clients never see a stack trace. */
export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | TocsinError, req, reply) => {
    if (err instanceof TocsinError) {
      if (err instanceof RateLimited) reply.header('retry-after', String(err.retryAfterS));
      return reply.status(err.status).send(errorBody(err.code, err.message));
    }
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return reply.status(413).send(errorBody('PAYLOAD_TOO_LARGE', 'request body too large'));
    }
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
      // Fastify's own client errors: malformed JSON, wrong content type, ...
      const code: ErrorCode =
        err.statusCode === 415 || err.statusCode === 400 ? 'INVALID' : statusCode(err.statusCode);
      return reply.status(err.statusCode === 415 ? 400 : err.statusCode).send(errorBody(code, err.message));
    }
    req.log.error({ err }, 'request failed');
    return reply.status(500).send(errorBody('INTERNAL', 'internal error'));
  });
  app.setNotFoundHandler((req, reply) => {
    reply.status(404).send(errorBody('NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`));
  });
}

/**
 * Fastify's router refusals (the `frameworkErrors` option): a URL that does not decode
 * (`/api/v1/incidents/%`) or a path segment over fastify's `maxParamLength`. The URL is not echoed.
 */
export function frameworkErrors(err: FastifyError, _req: FastifyRequest, reply: FastifyReply): void {
  if (err.code === 'FST_ERR_BAD_URL') {
    void reply.status(400).send(errorBody('INVALID', 'url: not a valid URL (bad percent-encoding)'));
  } else if (err.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    void reply.status(414).send(errorBody('INVALID', 'url: a path segment is too long'));
  } else {
    reply.log.error({ err }, 'request failed');
    void reply.status(500).send(errorBody('INTERNAL', 'internal error'));
  }
}

/**
 * Node's HTTP parser refusals, before fastify sees a request (the `clientErrorHandler` option):
 * request line and headers over the limit (431), a timeout (408), anything unparseable (400).
 * Written on the socket, which is then closed, as fastify's default handler does.
 */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, message] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'request: the URL and headers are too large']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'request: timed out']
        : [400, 'request: not a valid HTTP request'];
  const body = JSON.stringify(errorBody('INVALID', message));
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `Content-Type: application/json; charset=utf-8\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(err);
}

function statusCode(status: number): ErrorCode {
  const found = Object.entries(ERROR_STATUS).find(([, s]) => s === status);
  return (found?.[0] as ErrorCode | undefined) ?? 'INVALID';
}
