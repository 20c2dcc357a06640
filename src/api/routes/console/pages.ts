import type { FastifyInstance } from 'fastify';
import { buildConsoleView } from '../../../console/model.js';
import {
  CONSOLE_PATHS,
  renderConsolePage,
  renderErrorPage,
  renderIncidentPage,
  renderSections,
} from '../../../console/render.js';
import type { Session } from '../../../console/sessions.js';
import { errorBody } from '../../errors.js';
import { type ConsoleDeps, sessionOf } from './session.js';
import { html, redirect } from './reply.js';

/**
 * The pages a signed-in operator or viewer reads: the console, the live sections its script
 * polls, and one incident's page. Without a session a page sends to the sign-in form.
 */
export function pageRoutes(scope: FastifyInstance, deps: ConsoleDeps): void {
  const { ctx } = deps;
  /** The page's model; the session's flash message is shown once, on this page. */
  const view = (session: Session) => {
    const flash = session.flash;
    session.flash = undefined;
    return buildConsoleView(
      {
        plan: ctx.plan,
        store: ctx.incidents.store,
        engine: ctx.incidents.engine,
        latest: ctx.latest,
        history: ctx.history,
      },
      { principal: session.principal, csrf: session.csrf, flash },
    );
  };

  scope.get(CONSOLE_PATHS.home, async (req, reply) => {
    const session = sessionOf(deps, req);
    if (!session) return redirect(reply, CONSOLE_PATHS.signIn);
    return html(reply, 200, renderConsolePage(await view(session)));
  });

  scope.get(CONSOLE_PATHS.live, async (req, reply) => {
    const session = sessionOf(deps, req);
    if (!session) return reply.status(401).header('cache-control', 'no-store').send(errorBody('UNAUTHORIZED', 'not signed in'));
    // The flash belongs to the next full page, not to a background poll.
    const flash = session.flash;
    const live = renderSections(await view(session));
    session.flash = flash;
    return reply.header('cache-control', 'no-store').send(live);
  });

  scope.get<{ Params: { id: string }; Querystring: Record<string, unknown> }>('/console/incidents/:id', async (req, reply) => {
    const session = sessionOf(deps, req);
    if (!session) return redirect(reply, CONSOLE_PATHS.signIn);
    const found = await ctx.incidents.store.getIncident(req.params.id);
    if (!found) return html(reply, 404, renderErrorPage('Not found', `No incident ${req.params.id}.`));
    // The first components and signals by default; `?components=all` / `?signals=all` list them all.
    const all = { components: req.query.components === 'all', signals: req.query.signals === 'all' };
    return html(reply, 200, renderIncidentPage(await view(session), found.incident, all));
  });
}
