import type { FastifyInstance } from 'fastify';
import { formatDuration } from '../../duration.js';
import type { ApiContext } from '../context.js';
import { requireRole } from '../guard.js';

/** `GET /api/v1/probes`: each probe with its latest result per target and vantage. */
export function probeRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get('/api/v1/probes', async (req) => {
    requireRole(ctx, req, 'viewer');
    return {
      probes: ctx.plan.probes.map((p) => ({
        id: p.id,
        kind: p.kind,
        component: p.component,
        interval: formatDuration(p.intervalMs),
        timeout: formatDuration(p.timeoutMs),
        targets: p.targets,
        vantages: p.vantages,
        labels: p.labels,
        latest: ctx.latest
          .forProbe(p.id)
          .sort(
            (a, b) => (a.target ?? '').localeCompare(b.target ?? '') || a.vantage.localeCompare(b.vantage),
          ),
      })),
    };
  });
}
