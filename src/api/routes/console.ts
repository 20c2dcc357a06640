import type { FastifyInstance } from 'fastify';
import { loadClientScript } from '../../console/assets.js';
import { SessionStore } from '../../console/sessions.js';
import type { ApiContext } from '../context.js';
import { assetRoutes } from './console/assets.js';
import { acceptForms } from './console/form.js';
import { pageRoutes } from './console/pages.js';
import { sessionRoutes } from './console/session.js';
import { verbRoutes } from './console/verbs.js';

export interface ConsoleOptions {
  /** Defaults to a store with 12 h idle expiry, 1000 sessions at most. */
  readonly sessions?: SessionStore;
  /** The compiled client script; defaults to reading it from dist (fails when missing). */
  readonly clientScript?: string;
}

/**
 * The operator console (docs/console.md): server-rendered pages at `/`, signed in with an API
 * token once (the browser keeps only an httpOnly session cookie), every POST checked against the
 * session's CSRF token and the request's Origin, mutations for operators only. One small plugin
 * per concern, in src/api/routes/console/: assets, session (sign-in, CSRF), pages and verbs. The
 * verbs run from the table the JSON API uses (src/api/incident-verbs.ts), so the timeline author
 * is the token's name either way and a form is held to the API's schemas.
 */
export function consoleRoutes(app: FastifyInstance, ctx: ApiContext, opts: ConsoleOptions = {}): void {
  const deps = { ctx, sessions: opts.sessions ?? new SessionStore() };
  const clientScript = opts.clientScript ?? loadClientScript();
  app.register(async (scope) => {
    acceptForms(scope);
    assetRoutes(scope, clientScript);
    sessionRoutes(scope, deps);
    pageRoutes(scope, deps);
    verbRoutes(scope, deps);
  });
}
