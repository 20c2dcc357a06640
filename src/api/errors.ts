import type { FastifyError, FastifyInstance } from 'fastify';
import { ERROR_STATUS, type ErrorCode, TocsinError } from '../errors.js';

/** The error body of CONTRACT §6. */
export function errorBody(code: ErrorCode, message: string) {
  return { error: { code, message } };
}

/** Maps every error to the contract's shape once; clients never see a stack trace. */
export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | TocsinError, req, reply) => {
    if (err instanceof TocsinError) {
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

function statusCode(status: number): ErrorCode {
  const found = Object.entries(ERROR_STATUS).find(([, s]) => s === status);
  return (found?.[0] as ErrorCode | undefined) ?? 'INVALID';
}
