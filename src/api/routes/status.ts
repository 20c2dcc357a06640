import type { FastifyInstance, FastifyReply } from 'fastify';
import { renderStatusHtml } from '../../status/html.js';
import { readHistory, type UptimeHistory } from '../../status/history.js';
import { loadPublishedIncidents, type StatusModel, statusModel } from '../../status/model.js';
import type { ApiContext } from '../context.js';
import { storeWithin } from '../deadline.js';
import { lastGoodReader } from './last-good.js';

/**
 * Proxies and browsers may reuse a page for this long: a reader hammering reload during an outage
 * costs one render per 15 s per cache, and an update is never more than 15 s late.
 */
export const STATUS_CACHE_CONTROL = 'public, max-age=15';

/**
 * A history read is reused by the pages built within this long: at 10,000 components it is tens
 * of thousands of rows, and readers during an outage ask many times a second; bars are per day.
 */
export const HISTORY_REUSE_MS = 5000;

/** Set (`true`) on a page served from the last good rendering because the store is unreachable. */
export const STATUS_STALE_HEADER = 'x-tocsin-status-stale';

/**
 * `GET /status` and `GET /status.json` (CONTRACT §6): the public status page, no token needed.
 * Only confirmed incidents, see src/status/model.ts and docs/status-page.md.
 *
 * The page is read most while something is down, and the store may be what is down (Redis): the
 * last model built is kept (one, replaced by each fresh one, so memory stays bounded) and served,
 * marked stale, while reading the store fails. Only before any good build does a store failure
 * answer 503 as it did.
 */
export function statusRoutes(app: FastifyInstance, ctx: ApiContext): void {
  let historyRead: { at: number; read: Promise<UptimeHistory> } | undefined;
  const readUptime = (uptime: NonNullable<ApiContext['uptime']>, now: number): Promise<UptimeHistory> => {
    if (!historyRead || now - historyRead.at >= HISTORY_REUSE_MS || now < historyRead.at) {
      const read = storeWithin(readHistory(uptime, ctx.plan, now));
      // A failed read is not reused: the next request asks the store again.
      read.catch(() => {
        if (historyRead?.read === read) historyRead = undefined;
      });
      historyRead = { at: now, read };
    }
    return historyRead.read;
  };

  /** The page's model, and where its stale HTML is kept: rendered once per outage, not per request. */
  const model = lastGoodReader({
    logger: ctx.logger,
    words: { what: 'status page', kept: 'page', none: 'no page built yet', fresh: 'pages' },
    fetch: async () => {
      const now = ctx.incidents.clock.now();
      const uptime = ctx.uptime;
      const [incidents, history] = await Promise.all([
        loadPublishedIncidents(ctx.incidents.store, now),
        uptime ? readUptime(uptime, now) : undefined,
      ]);
      return { now, incidents, history };
    },
    build: ({ now, incidents, history }): { model: StatusModel; staleHtml?: string } => ({
      model: statusModel({
        plan: ctx.plan,
        incidents,
        live: ctx.incidents.engine?.componentStatuses(),
        now,
        ...(history ? { history } : {}),
      }),
    }),
    madeAt: (page) => page.model.generated_at,
  });
  const common = (reply: FastifyReply, stale: boolean): FastifyReply => {
    reply.header('cache-control', STATUS_CACHE_CONTROL).header('x-content-type-options', 'nosniff');
    return stale ? reply.header(STATUS_STALE_HEADER, 'true') : reply;
  };

  app.get('/status', async (_req, reply) => {
    const { value: page, stale } = await model();
    // Stale: rendered once per outage, not once per anonymous request.
    const html = stale
      ? (page.staleHtml ??= renderStatusHtml(page.model, { stale: true }))
      : renderStatusHtml(page.model);
    return common(reply, stale)
      .type('text/html; charset=utf-8')
      // No script at all and nothing from elsewhere: injected markup could do nothing even if
      // escaping ever failed.
      .header('content-security-policy', 'default-src \'none\'; style-src \'unsafe-inline\'; base-uri \'none\'; form-action \'none\'; frame-ancestors \'none\'')
      .send(html);
  });

  app.get('/status.json', async (_req, reply) => {
    const { value: page, stale } = await model();
    // `stale` is added after the model's own fields, which are served unchanged (`generated_at`
    // included: it says how old a stale page is).
    const body = { ...page.model, stale };
    // Public data, read by other sites' widgets and by scripts.
    return common(reply, stale).header('access-control-allow-origin', '*').type('application/json; charset=utf-8').send(body);
  });
}
