import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../context.js';
import { Exposition } from '../../metrics/exposition.js';
import { requireRole } from '../guard.js';

export function healthRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_req, reply) => {
    const reasons: string[] = [];
    try {
      await ctx.store.ping();
    } catch (err) {
      reasons.push(`store unreachable: ${(err as Error).message}`);
    }
    if (!ctx.queue.running) reasons.push('scheduler not running');
    const incidents = ctx.incidents.notReady;
    if (incidents) reasons.push(incidents);
    if (reasons.length > 0)
      return reply.status(503).send({ status: 'unavailable', reason: reasons.join('; ') });
    return { status: 'ready' };
  });

  const exposition = new Exposition(ctx.metrics.registry);
  app.get('/metrics', async (req, reply) => {
    if (ctx.plan.server.metrics_auth) requireRole(ctx, req, 'viewer');
    // Rendered as it is written (chunked, paced by the socket): the text is never held whole.
    const body = Readable.from(exposition.stream(), { objectMode: false });
    return reply.type(ctx.metrics.registry.contentType).send(body);
  });
}
