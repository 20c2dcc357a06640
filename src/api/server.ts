import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { ApiContext } from './context.js';
import { installErrorHandlers } from './errors.js';
import { healthRoutes } from './routes/health.js';
import { probeRoutes } from './routes/probes.js';

/** Request bodies are small JSON documents (notes, reasons, Alertmanager batches). */
const BODY_LIMIT_BYTES = 256 * 1024;

/** Builds the HTTP API (CONTRACT §6) on the given context; the caller listens and closes. */
export function buildApi(ctx: ApiContext): FastifyInstance {
  const app = Fastify({
    // pino's Logger is a FastifyBaseLogger; the cast keeps the instance's default type parameters.
    loggerInstance: ctx.logger.child({ component: 'api' }) as FastifyBaseLogger,
    disableRequestLogging: true,
    bodyLimit: BODY_LIMIT_BYTES,
    return503OnClosing: true,
  });
  installErrorHandlers(app);
  healthRoutes(app, ctx);
  probeRoutes(app, ctx);
  return app;
}
