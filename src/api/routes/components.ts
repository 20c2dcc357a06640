import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../context.js';
import { requireRole } from '../guard.js';
import type { ComponentList } from '../schemas.js';

/**
 * `GET /api/v1/components`: every component of the config, in config order, with its status from
 * the live rules engine (operational when there is none, e.g. an API built without the engine).
 */
export function componentRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get('/api/v1/components', async (req): Promise<ComponentList> => {
    requireRole(ctx, req, 'viewer');
    const statuses = ctx.incidents.engine?.componentStatuses() ?? {};
    return {
      components: ctx.plan.components.map((c) => ({
        id: c.id,
        name: c.name,
        group: c.group,
        region: c.region ?? null,
        depends_on: [...c.depends_on],
        status: statuses[c.id] ?? 'operational',
      })),
    };
  });
}
