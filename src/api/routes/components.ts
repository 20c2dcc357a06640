import type { FastifyInstance } from 'fastify';
import { TocsinError } from '../../errors.js';
import { componentDays, componentSummary, readHistory } from '../../status/history.js';
import type { ApiContext } from '../context.js';
import { storeWithin } from '../deadline.js';
import { requireRole } from '../guard.js';
import { type ComponentHistory, ComponentHistoryQuery, type ComponentList, parseWith } from '../schemas.js';

/**
 * `GET /api/v1/components`: every component of the config, in config order, with its status from
 * the live rules engine (operational when there is none, e.g. an API built without the engine).
 * `GET /api/v1/components/{id}/history`: its uptime per day (src/status/history.ts), the same
 * figures the public page draws, with the seconds in each state.
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

  app.get<{ Params: { id: string } }>('/api/v1/components/:id/history', async (req): Promise<ComponentHistory> => {
    requireRole(ctx, req, 'viewer');
    const q = parseWith(ComponentHistoryQuery, req.query, 'query');
    if (!q.ok) throw new TocsinError('INVALID', q.message);
    const { id } = req.params;
    if (!ctx.plan.components.some((c) => c.id === id)) throw new TocsinError('NOT_FOUND', `no component ${id}`);
    if (!ctx.uptime) throw new TocsinError('UNAVAILABLE', 'uptime history is not kept by this server');
    const history = await storeWithin(readHistory(ctx.uptime, ctx.plan, ctx.incidents.clock.now(), id));
    return {
      id,
      ...componentSummary(history, id, q.value.days),
      since: history.since,
      days: componentDays(history, id, q.value.days),
    };
  });
}
