import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ComponentStatus } from '../../engine/types.js';
import type { Incident } from '../../events/incident.js';
import { loadRecentPublished } from '../../status/recent.js';
import type { ApiContext } from '../context.js';
import { lastGoodReader } from './last-good.js';
import { STATUS_CACHE_CONTROL, STATUS_STALE_HEADER } from './status.js';

/**
 * What the feeds and `/api/v2` are built from, read once per request, with the same fallback as
 * `/status` (src/api/routes/status.ts): while the store is unreachable, the last good read is
 * served, marked stale, and each document is rendered from it once per outage.
 */
export interface PublishedSnapshot {
  /** Confirmed incidents: open ones and the newest ones (src/status/recent.ts). */
  readonly incidents: readonly Incident[];
  /** The engine's component statuses at the time of the read, when a live engine runs. */
  readonly live: Readonly<Record<string, ComponentStatus>> | undefined;
  readonly now: number;
}

/** Renders of a stale snapshot kept at most (per path and address asked for): bounded whatever `Host` says. */
const STALE_RENDERS = 64;

export interface PublishedSource {
  read(): Promise<{ snapshot: PublishedSnapshot; stale: boolean }>;
  /** What a path renders from a stale snapshot, rendered once per outage (and address). */
  staleRender(snapshot: PublishedSnapshot, key: string, render: () => string): string;
}

export function publishedSource(ctx: ApiContext): PublishedSource {
  type Held = { readonly snapshot: PublishedSnapshot; readonly renders: Map<string, string> };
  const read = lastGoodReader({
    logger: ctx.logger,
    words: { what: 'status feeds and /api/v2', kept: 'data', none: 'nothing read yet', fresh: 'data' },
    fetch: async () => {
      const now = ctx.incidents.clock.now();
      return { now, incidents: await loadRecentPublished(ctx.incidents.store) };
    },
    build: ({ now, incidents }): Held => ({
      snapshot: { incidents, live: ctx.incidents.engine?.componentStatuses(), now },
      renders: new Map(),
    }),
    madeAt: (held) => new Date(held.snapshot.now).toISOString(),
  });
  let last: Held | undefined;
  return {
    async read() {
      const { value, stale } = await read();
      last = value;
      return { snapshot: value.snapshot, stale };
    },
    staleRender(snapshot, key, render) {
      if (last?.snapshot !== snapshot) return render();
      let text = last.renders.get(key);
      if (text === undefined) {
        text = render();
        if (last.renders.size >= STALE_RENDERS) last.renders.clear();
        last.renders.set(key, text);
      }
      return text;
    },
  };
}

/** The address the reader used (behind a trusted proxy, its X-Forwarded-Proto and -Host). */
export function publicOrigin(req: FastifyRequest): string {
  return `${req.protocol}://${req.host}`;
}

/**
 * A public document at `path`: no token, the page's `Cache-Control`, readable by other sites'
 * scripts, and `X-Tocsin-Status-Stale: true` when built from the last good read.
 */
export function servePublished(
  app: FastifyInstance,
  source: PublishedSource,
  path: string,
  contentType: string,
  render: (snapshot: PublishedSnapshot, origin: string) => string,
): void {
  app.get(path, async (req, reply) => {
    const origin = publicOrigin(req);
    const { snapshot, stale } = await source.read();
    const body = stale ? source.staleRender(snapshot, `${path} ${origin}`, () => render(snapshot, origin)) : render(snapshot, origin);
    reply
      .header('cache-control', STATUS_CACHE_CONTROL)
      .header('x-content-type-options', 'nosniff')
      .header('access-control-allow-origin', '*')
      .type(contentType);
    if (stale) reply.header(STATUS_STALE_HEADER, 'true');
    return reply.send(body);
  });
}
