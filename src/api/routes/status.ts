import type { FastifyInstance, FastifyReply } from 'fastify';
import { renderStatusHtml } from '../../status/html.js';
import { buildStatusModel, type StatusModel } from '../../status/model.js';
import type { ApiContext } from '../context.js';

/**
 * Proxies and browsers may reuse a page for this long: a reader hammering reload during an outage
 * costs one render per 15 s per cache, and an update is never more than 15 s late.
 */
export const STATUS_CACHE_CONTROL = 'public, max-age=15';

/**
 * `GET /status` and `GET /status.json` (CONTRACT §6): the public status page, no token needed.
 * Only confirmed incidents, see src/status/model.ts and docs/status-page.md.
 */
export function statusRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const model = (): Promise<StatusModel> =>
    buildStatusModel({
      plan: ctx.plan,
      store: ctx.incidents.store,
      engine: ctx.incidents.engine,
      now: ctx.incidents.clock.now(),
    });
  const common = (reply: FastifyReply): FastifyReply =>
    reply.header('cache-control', STATUS_CACHE_CONTROL).header('x-content-type-options', 'nosniff');

  app.get('/status', async (_req, reply) => {
    const html = renderStatusHtml(await model());
    return common(reply)
      .type('text/html; charset=utf-8')
      // No script at all and nothing from elsewhere: injected markup could do nothing even if
      // escaping ever failed.
      .header('content-security-policy', 'default-src \'none\'; style-src \'unsafe-inline\'; base-uri \'none\'; form-action \'none\'; frame-ancestors \'none\'')
      .send(html);
  });

  app.get('/status.json', async (_req, reply) => {
    const body = await model();
    // Public data, read by other sites' widgets and by scripts.
    return common(reply).header('access-control-allow-origin', '*').type('application/json; charset=utf-8').send(body);
  });
}
