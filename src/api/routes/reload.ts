import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ReloadAnswer } from '../../config/reload.js';
import { plural } from '../../engine/text.js';
import type { ApiContext } from '../context.js';
import { errorBody } from '../errors.js';
import { requireRole } from '../guard.js';

/**
 * `POST /-/reload` (and `PUT`, as Prometheus and Alertmanager take both), operator: re-reads the
 * configuration and applies the difference (src/config/reload.ts). 200 with what changed; 400
 * with every problem of a refused config (`error.problems`, `FILE:LINE: …` each), the running
 * configuration kept.
 */
export function reloadRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const { reload } = ctx;
  if (!reload) return;
  const handler = async (req: FastifyRequest, reply: FastifyReply) => {
    requireRole(ctx, req, 'operator');
    const outcome = await reload();
    if (outcome.ok) {
      const { ok: _ok, ...answer } = outcome;
      return answer satisfies ReloadAnswer;
    }
    const body = errorBody('INVALID', `invalid config: ${plural(outcome.problems.length, 'problem')}; the running configuration is kept`);
    return reply.status(400).send({ error: { ...body.error, problems: outcome.problems } });
  };
  app.post('/-/reload', handler);
  app.put('/-/reload', handler);
}
