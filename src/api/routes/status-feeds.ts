import type { FastifyInstance } from 'fastify';
import { type FeedItem, feedItems, renderAtom, renderRss } from '../../status/feeds.js';
import { maintenanceWindows } from '../../status/model.js';
import { publicWording } from '../../status/public-text.js';
import type { ApiContext } from '../context.js';
import { type PublishedSnapshot, type PublishedSource, servePublished } from './status-source.js';

/**
 * `GET /status/feed.atom` and `GET /status/feed.rss` (CONTRACT §6): published incidents' updates
 * and maintenance notices as feeds; public like `/status` (docs/status-page.md, "Feeds").
 */
export function statusFeedRoutes(app: FastifyInstance, ctx: ApiContext, source: PublishedSource): void {
  const items = (snapshot: PublishedSnapshot, pageUrl: string): FeedItem[] => {
    const names = new Map(ctx.plan.components.map((c) => [c.id, c.name]));
    const nameOf = (id: string) => names.get(id) ?? id;
    return feedItems({
      incidents: snapshot.incidents,
      maintenance: maintenanceWindows(ctx.plan.maintenance, snapshot.now, nameOf),
      nameOf,
      wording: publicWording(ctx.plan),
      pageUrl,
      now: snapshot.now,
    });
  };
  servePublished(app, source, '/status/feed.atom', 'application/atom+xml; charset=utf-8', (snapshot, origin) => {
    const pageUrl = `${origin}/status`;
    return renderAtom(items(snapshot, pageUrl), { pageUrl, selfUrl: `${origin}/status/feed.atom`, now: snapshot.now });
  });
  servePublished(app, source, '/status/feed.rss', 'application/rss+xml; charset=utf-8', (snapshot, origin) => {
    const pageUrl = `${origin}/status`;
    return renderRss(items(snapshot, pageUrl), { pageUrl, selfUrl: `${origin}/status/feed.rss`, now: snapshot.now });
  });
}
