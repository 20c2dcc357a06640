import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CSRF_FIELD, CSRF_HEADER, checkCsrf } from '../../../console/csrf.js';
import { CONSOLE_PATHS, renderErrorPage, renderSignInPage } from '../../../console/render.js';
import {
  clearedSessionCookie,
  randomToken,
  readCookie,
  SESSION_COOKIE,
  type Session,
  type SessionStore,
  sessionCookie,
} from '../../../console/sessions.js';
import type { ApiContext } from '../../context.js';
import { checkThrottle, RateLimited, recordAuthFailure } from '../../guard.js';
import { field, FORM_BODY_LIMIT_BYTES } from './form.js';
import { html, redirect, refuse } from './reply.js';

/** The sign-in form's own CSRF cookie (double submit: there is no session yet to hold a token). */
const SIGN_IN_COOKIE = 'tocsin_signin';
/** Shape of our random tokens (32 bytes, base64url): anything else in a cookie is ignored. */
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;

/** What the console's routes share: the API's context and the sign-in sessions. */
export interface ConsoleDeps {
  readonly ctx: ApiContext;
  readonly sessions: SessionStore;
}

/** The session behind the request's cookie, if it is signed in. */
export function sessionOf(deps: ConsoleDeps, req: FastifyRequest): Session | undefined {
  return deps.sessions.get(readCookie(req.headers.cookie, SESSION_COOKIE));
}

const secure = (req: FastifyRequest): boolean => req.protocol === 'https';

/** The CSRF check of a post: its token (form field or header) and where it came from. */
function csrfOf(req: FastifyRequest, expected: string) {
  const header = req.headers[CSRF_HEADER];
  return checkCsrf(
    {
      host: req.headers.host,
      origin: req.headers.origin,
      referer: req.headers.referer,
      token: field(req, CSRF_FIELD) ?? (typeof header === 'string' ? header : undefined),
    },
    expected,
  );
}

/** The signed-in operator behind a form post, or undefined once the refusal is sent. */
export function operatorSession(deps: ConsoleDeps, req: FastifyRequest, reply: FastifyReply): Session | undefined {
  const session = sessionOf(deps, req);
  if (!session) {
    void html(reply, 401, renderErrorPage('Signed out', 'Your console session ended. Sign in again, then repeat the action.'));
    return undefined;
  }
  const csrf = csrfOf(req, session.csrf);
  if (!csrf.ok) {
    void refuse(reply, csrf.reason);
    return undefined;
  }
  if (session.principal.role !== 'operator') {
    void html(reply, 403, renderErrorPage('Refused', `Token "${session.principal.name}" is a viewer: it may look, not act.`));
    return undefined;
  }
  return session;
}

/**
 * Signing in and out: an API token is typed once into the sign-in form; the browser keeps only an
 * httpOnly session cookie. The form is protected by a double-submit cookie of its own.
 */
export function sessionRoutes(scope: FastifyInstance, deps: ConsoleDeps): void {
  const { ctx, sessions } = deps;

  scope.get(CONSOLE_PATHS.signIn, async (req, reply) => {
    if (sessionOf(deps, req)) return redirect(reply, CONSOLE_PATHS.home);
    const existing = readCookie(req.headers.cookie, SIGN_IN_COOKIE);
    const pre = existing && TOKEN_SHAPE.test(existing) ? existing : randomToken();
    if (pre !== existing) reply.header('set-cookie', signInCookie(pre, secure(req)));
    return html(reply, 200, renderSignInPage({ csrf: pre }));
  });

  scope.post(CONSOLE_PATHS.signIn, { bodyLimit: FORM_BODY_LIMIT_BYTES }, async (req, reply) => {
    const pre = readCookie(req.headers.cookie, SIGN_IN_COOKIE);
    if (!pre || !TOKEN_SHAPE.test(pre)) return refuse(reply, 'The sign-in form expired or cookies are disabled');
    const csrf = csrfOf(req, pre);
    if (!csrf.ok) return refuse(reply, csrf.reason);
    try {
      // An address in backoff is refused before the token is looked at (docs/api.md).
      checkThrottle(ctx, req);
    } catch (err) {
      if (!(err instanceof RateLimited)) throw err;
      return html(reply.header('retry-after', String(err.retryAfterS)), 429, renderSignInPage({
        csrf: pre,
        error: `Too many failed sign-ins from this address: try again in ${err.retryAfterS} s.`,
      }));
    }
    const principal = ctx.tokens.authenticate(field(req, 'token')?.trim() ?? '');
    if (!principal) {
      // Nothing about the token is echoed or logged; no cookie is set. Counted in
      // tocsin_auth_failures_total; logged (warn) once per backoff episode, not per attempt.
      recordAuthFailure(ctx, req, 'console');
      req.log.debug({ ip: req.ip }, 'console sign-in refused: unknown token');
      return html(reply, 401, renderSignInPage({ csrf: pre, error: 'Sign-in failed: that token is not valid.' }));
    }
    ctx.throttle?.succeed(req.ip);
    const session = sessions.create(principal);
    req.log.info({ name: principal.name, role: principal.role }, 'console sign-in');
    reply.header('set-cookie', [sessionCookie(session.id, secure(req)), clearedSignInCookie(secure(req))]);
    return redirect(reply, CONSOLE_PATHS.home);
  });

  scope.post(CONSOLE_PATHS.signOut, { bodyLimit: FORM_BODY_LIMIT_BYTES }, async (req, reply) => {
    const session = sessionOf(deps, req);
    if (!session) return redirect(reply.header('set-cookie', clearedSessionCookie(secure(req))), CONSOLE_PATHS.signIn);
    const csrf = csrfOf(req, session.csrf);
    if (!csrf.ok) return refuse(reply, csrf.reason);
    sessions.destroy(session.id);
    req.log.info({ name: session.principal.name }, 'console sign-out');
    reply.header('set-cookie', clearedSessionCookie(secure(req)));
    return redirect(reply, CONSOLE_PATHS.signIn);
  });
}

function signInCookie(value: string, secure: boolean): string {
  return `${SIGN_IN_COOKIE}=${value}; Path=${CONSOLE_PATHS.signIn}; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}

function clearedSignInCookie(secure: boolean): string {
  return `${SIGN_IN_COOKIE}=; Path=${CONSOLE_PATHS.signIn}; HttpOnly; SameSite=Strict; Max-Age=0${secure ? '; Secure' : ''}`;
}
