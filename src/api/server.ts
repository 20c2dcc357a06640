import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from 'fastify';
import { systemClock } from '../clock.js';
import { isRecord } from '../json.js';
import type { ApiContext } from './context.js';
import { boundedIncidents, boundedReads } from './deadline.js';
import { drainOnClose } from './drain.js';
import { clientErrorHandler, frameworkErrors, installErrorHandlers } from './errors.js';
import { alertmanagerRoutes } from './routes/alertmanager.js';
import { componentRoutes } from './routes/components.js';
import { type ConsoleOptions, consoleRoutes } from './routes/console.js';
import { reloadRoutes } from './routes/reload.js';
import { healthRoutes } from './routes/health.js';
import { incidentRoutes } from './routes/incidents.js';
import { openApiRoutes } from './routes/openapi.js';
import { probeRoutes } from './routes/probes.js';
import { statusRoutes } from './routes/status.js';
import { statusFeedRoutes } from './routes/status-feeds.js';
import { publishedSource } from './routes/status-source.js';
import { statusV2Routes } from './routes/status-v2.js';
import { AuthThrottle } from './throttle.js';

/**
 * Route schemas are not used: bodies and queries are checked with the API's zod schemas
 * (schemas.ts), answers are plain JSON. Giving Fastify these compilers keeps it from loading Ajv
 * and fast-json-stringify (113 modules, about 3 MB of an idle daemon's heap); a route declared
 * with a JSON schema fails at start-up, saying why.
 */
const noRouteSchemas = () => (route: unknown): never => {
  const url = isRecord(route) ? String(route.url) : '?';
  throw new Error(`route ${url} declares a JSON schema: check its input with the zod schemas of src/api/schemas.ts`);
};
export const SCHEMALESS = { compilersFactory: { buildValidator: noRouteSchemas, buildSerializer: noRouteSchemas } };

/** Request bodies are small JSON documents (notes, reasons, Alertmanager batches). */
const BODY_LIMIT_BYTES = 256 * 1024;

/**
 * Request lines at debug, not info: probes of Tocsin's own API and Prometheus scrapes would
 * otherwise fill the log. Fastify's request serializer carries no headers, so no token is logged.
 */
class QuietRequests extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    const line = {
      method: request.method,
      url: request.url,
      status: reply.statusCode,
      ms: Math.round(reply.elapsedTime),
    };
    if (error) reply.log.error({ ...line, err: error }, 'request failed');
    else reply.log.debug(line, 'request');
  }
}

/** Builds the HTTP API (CONTRACT §6) on the given context; the caller listens and closes. */
export function buildApi(given: ApiContext, opts: { console?: ConsoleOptions } = {}): FastifyInstance {
  // One backoff for every route that checks a token (bearer and console sign-in alike). Store
  // reads answer within a second or fail 503, even while the store hangs (./deadline.ts).
  const ctx: ApiContext = {
    ...given,
    // Read through: a reload replaces them (a spread would keep the values of the moment).
    get plan() {
      return given.plan;
    },
    get tokens() {
      return given.tokens;
    },
    store: boundedReads(given.store),
    incidents: boundedIncidents(given.incidents),
    throttle: given.throttle ?? new AuthThrottle({ clock: systemClock }),
  };
  const app = Fastify({
    // pino's Logger is a FastifyBaseLogger; the cast keeps the instance's default type parameters.
    loggerInstance: ctx.logger.child({ component: 'api' }) as FastifyBaseLogger,
    logController: new QuietRequests(),
    bodyLimit: BODY_LIMIT_BYTES,
    // Behind a trusted proxy, req.ip (auth backoff, logs) and req.protocol (Secure cookies) come
    // from its X-Forwarded-* headers; from anyone else those headers are ignored.
    trustProxy: ctx.plan.server.trust_proxy ?? false,
    return503OnClosing: true,
    schemaController: SCHEMALESS,
    // Refusals before a route runs answer the documented error shape too (CONTRACT §6).
    frameworkErrors,
    clientErrorHandler,
  });
  installErrorHandlers(app);
  drainOnClose(app);
  healthRoutes(app, ctx);
  probeRoutes(app, ctx);
  alertmanagerRoutes(app, ctx);
  statusRoutes(app, ctx);
  // The feeds and the Statuspage-compatible JSON: one source, so one last good read while the store is away.
  const published = publishedSource(ctx);
  statusFeedRoutes(app, ctx, published);
  statusV2Routes(app, ctx, published);
  incidentRoutes(app, ctx);
  componentRoutes(app, ctx);
  reloadRoutes(app, ctx);
  openApiRoutes(app);
  // The operator console: `/` and `/console/*` (no other route lives there).
  consoleRoutes(app, ctx, opts.console);
  return app;
}
