import type { FastifyInstance } from 'fastify';
import { publicComponents } from '../../status/model.js';
import { publicWording } from '../../status/public-text.js';
import { RECENT_INCIDENTS } from '../../status/recent.js';
import {
  v2Components,
  v2Incidents,
  type V2Input,
  v2Status,
  v2Summary,
  v2Unresolved,
  v2Upcoming,
} from '../../status/statuspage-v2.js';
import type { ApiContext } from '../context.js';
import { type PublishedSnapshot, type PublishedSource, servePublished } from './status-source.js';

/**
 * `GET /api/v2/*.json` (CONTRACT §6): the public page in the shape of Statuspage's public API;
 * public and cached like `/status.json` (docs/status-page.md, "/api/v2").
 */
export function statusV2Routes(app: FastifyInstance, ctx: ApiContext, source: PublishedSource): void {
  const input = (snapshot: PublishedSnapshot, origin: string): V2Input => {
    // Component statuses and windows as the page computes them; only open incidents weigh on those.
    const open = snapshot.incidents.filter((i) => i.status === 'open');
    const model = publicComponents({ plan: ctx.plan, incidents: open, live: snapshot.live, now: snapshot.now });
    return { model, incidents: snapshot.incidents, wording: publicWording(ctx.plan), pageUrl: `${origin}/status` };
  };
  const documents: Record<string, (input: V2Input) => unknown> = {
    'summary.json': v2Summary,
    'status.json': v2Status,
    'components.json': v2Components,
    'incidents.json': (i) => v2Incidents(i, RECENT_INCIDENTS),
    'incidents/unresolved.json': v2Unresolved,
    'scheduled-maintenances/upcoming.json': v2Upcoming,
  };
  for (const [path, build] of Object.entries(documents)) {
    servePublished(app, source, `/api/v2/${path}`, 'application/json; charset=utf-8', (snapshot, origin) =>
      JSON.stringify(build(input(snapshot, origin))),
    );
  }
}
