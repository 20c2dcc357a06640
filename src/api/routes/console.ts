import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CONSOLE_CSS, CONSOLE_ICON_SVG, loadClientScript } from '../../console/assets.js';
import { CSRF_FIELD, CSRF_HEADER, checkCsrf } from '../../console/csrf.js';
import { buildConsoleView } from '../../console/model.js';
import {
  CONSOLE_PATHS,
  type ConsoleVerb,
  renderConsolePage,
  renderErrorPage,
  renderIncidentPage,
  renderSections,
  renderSignInPage,
} from '../../console/render.js';
import {
  clearedSessionCookie,
  randomToken,
  readCookie,
  SESSION_COOKIE,
  type Session,
  SessionStore,
  sessionCookie,
} from '../../console/sessions.js';
import { TocsinError } from '../../errors.js';
import { type ComponentImpact, componentCatalog, editedList, parseComponentImpact } from '../../incidents/edit.js';
import { type Incident, UPDATE_PHASES, type UpdatePhase } from '../../incidents/incident.js';
import { addNote, confirmIncident, createIncident, dismissIncident, editIncident, resolveIncident } from '../../incidents/manager.js';
import type { ApiContext } from '../context.js';
import { errorBody } from '../errors.js';
import { checkThrottle, RateLimited, recordAuthFailure } from '../guard.js';
import { MAX_LISTED_COMPONENTS, MAX_TEXT_CHARS, MAX_TITLE_CHARS, textProblem } from '../schemas.js';

/** The sign-in form's own CSRF cookie (double submit: there is no session yet to hold a token). */
const SIGN_IN_COOKIE = 'tocsin_signin';
/** Form bodies: a note of MAX_TEXT_CHARS characters, URL-encoded (up to 9 bytes each), fits. */
const FORM_BODY_LIMIT_BYTES = 64 * 1024;
/** Shape of our random tokens (32 bytes, base64url): anything else in a cookie is ignored. */
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;

/**
 * The console's pages have no inline script or style, load nothing from elsewhere, post forms only
 * to the console and cannot be framed (clickjacking on the confirm button).
 */
const CSP = [
  'default-src \'none\'',
  'script-src \'self\'',
  'style-src \'self\'',
  'img-src \'self\'',
  'connect-src \'self\'',
  'form-action \'self\'',
  'base-uri \'none\'',
  'frame-ancestors \'none\'',
].join('; ');

export interface ConsoleOptions {
  /** Defaults to a store with 12 h idle expiry, 1000 sessions at most. */
  readonly sessions?: SessionStore;
  /** The compiled client script; defaults to reading it from dist (fails when missing). */
  readonly clientScript?: string;
}

type Form = Record<string, string>;

/**
 * The operator console (docs/console.md): server-rendered pages at `/`, signed in with an API
 * token once (the browser keeps only an httpOnly session cookie), every POST checked against the
 * session's CSRF token and the request's Origin, mutations for operators only. The verbs are the
 * same functions the JSON API calls, so the timeline author is the token's name either way.
 */
export function consoleRoutes(app: FastifyInstance, ctx: ApiContext, opts: ConsoleOptions = {}): void {
  const sessions = opts.sessions ?? new SessionStore();
  const clientScript = opts.clientScript ?? loadClientScript();

  app.register(async (scope) => {
    // Browsers post forms URL-encoded; nothing else reaches these routes' bodies.
    scope.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string', bodyLimit: FORM_BODY_LIMIT_BYTES },
      (_req, body, done) => {
        const form: Form = {};
        for (const [k, v] of new URLSearchParams(typeof body === 'string' ? body : body.toString('utf8'))) {
          if (!(k in form)) form[k] = v;
        }
        done(null, form);
      },
    );

    const sessionOf = (req: FastifyRequest): Session | undefined =>
      sessions.get(readCookie(req.headers.cookie, SESSION_COOKIE));
    const secure = (req: FastifyRequest): boolean => req.protocol === 'https';
    const field = (req: FastifyRequest, name: string): string | undefined => {
      const body = req.body as Record<string, unknown> | undefined;
      const v = body?.[name];
      return typeof v === 'string' ? v : undefined;
    };
    const csrfOf = (req: FastifyRequest, expected: string) => {
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
    };
    const html = (reply: FastifyReply, status: number, body: string): FastifyReply =>
      reply
        .status(status)
        .type('text/html; charset=utf-8')
        // Operator data: never kept by a shared cache or the browser's back-forward cache.
        .header('cache-control', 'no-store')
        .header('content-security-policy', CSP)
        .header('x-frame-options', 'DENY')
        .header('x-content-type-options', 'nosniff')
        .header('referrer-policy', 'same-origin')
        .send(body);
    const redirect = (reply: FastifyReply, to: string): FastifyReply =>
      reply.status(303).header('cache-control', 'no-store').header('location', to).send();
    const refuse = (reply: FastifyReply, reason: string): FastifyReply =>
      html(reply, 403, renderErrorPage('Refused', `${reason}. Reload the console and try again.`));
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
      const session = sessionOf(req);
      if (!session) return redirect(reply, CONSOLE_PATHS.signIn);
      return html(reply, 200, renderConsolePage(await view(session)));
    });

    scope.get(CONSOLE_PATHS.css, async (_req, reply) =>
      reply.type('text/css; charset=utf-8').header('cache-control', 'no-cache').header('x-content-type-options', 'nosniff').send(CONSOLE_CSS),
    );
    scope.get(CONSOLE_PATHS.script, async (_req, reply) =>
      reply.type('text/javascript; charset=utf-8').header('cache-control', 'no-cache').header('x-content-type-options', 'nosniff').send(clientScript),
    );

    scope.get(CONSOLE_PATHS.icon, async (_req, reply) =>
      reply.type('image/svg+xml').header('cache-control', 'max-age=86400').header('x-content-type-options', 'nosniff').send(CONSOLE_ICON_SVG),
    );

    scope.get(CONSOLE_PATHS.signIn, async (req, reply) => {
      if (sessionOf(req)) return redirect(reply, CONSOLE_PATHS.home);
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
      const session = sessionOf(req);
      if (!session) return redirect(reply.header('set-cookie', clearedSessionCookie(secure(req))), CONSOLE_PATHS.signIn);
      const csrf = csrfOf(req, session.csrf);
      if (!csrf.ok) return refuse(reply, csrf.reason);
      sessions.destroy(session.id);
      req.log.info({ name: session.principal.name }, 'console sign-out');
      reply.header('set-cookie', clearedSessionCookie(secure(req)));
      return redirect(reply, CONSOLE_PATHS.signIn);
    });

    scope.get(CONSOLE_PATHS.live, async (req, reply) => {
      const session = sessionOf(req);
      if (!session) return reply.status(401).header('cache-control', 'no-store').send(errorBody('UNAUTHORIZED', 'not signed in'));
      // The flash belongs to the next full page, not to a background poll.
      const flash = session.flash;
      const live = renderSections(await view(session));
      session.flash = flash;
      return reply.header('cache-control', 'no-store').send(live);
    });

    scope.get<{ Params: { id: string }; Querystring: Record<string, unknown> }>('/console/incidents/:id', async (req, reply) => {
      const session = sessionOf(req);
      if (!session) return redirect(reply, CONSOLE_PATHS.signIn);
      const found = await ctx.incidents.store.getIncident(req.params.id);
      if (!found) return html(reply, 404, renderErrorPage('Not found', `No incident ${req.params.id}.`));
      // The first components and signals by default; `?components=all` / `?signals=all` list them all.
      const all = { components: req.query.components === 'all', signals: req.query.signals === 'all' };
      return html(reply, 200, renderIncidentPage(await view(session), found.incident, all));
    });

    type Verb = { done: string; run: (id: string, by: string, req: FastifyRequest) => Promise<Incident> };
    const verbs: Record<ConsoleVerb, Verb> = {
      confirm: {
        done: 'Confirmed',
        run: (id, by, req) => confirmIncident(ctx.incidents, id, { by, note: optionalText(field(req, 'note'), 'note') }),
      },
      dismiss: {
        done: 'Dismissed',
        run: (id, by, req) => dismissIncident(ctx.incidents, id, { by, reason: requiredText(field(req, 'reason'), 'reason') }),
      },
      resolve: {
        done: 'Resolved',
        run: (id, by, req) => resolveIncident(ctx.incidents, id, { by, note: optionalText(field(req, 'note'), 'note') }),
      },
      notes: {
        done: 'Note added to',
        run: (id, by, req) =>
          addNote(ctx.incidents, id, { by, text: requiredText(field(req, 'text'), 'text'), phase: phaseField(field(req, 'phase')) }),
      },
      edit: {
        done: 'Edited',
        run: async (id, by, req) => {
          const title = optionalTitle(field(req, 'title'));
          const set = impactLines(field(req, 'set'), 'set');
          const remove = (field(req, 'remove') ?? '').split(/[\s,]+/).filter((r) => r !== '');
          let components: ComponentImpact[] | undefined;
          if (set.length > 0 || remove.length > 0) {
            // The verb takes the whole list: the stored one with these changes.
            const found = await ctx.incidents.store.getIncident(id);
            if (!found) throw new TocsinError('NOT_FOUND', `no incident ${id}`);
            const list = editedList(found.incident.components, set, remove);
            if (!list.ok) throw new TocsinError('INVALID', `remove: ${list.message}`);
            components = list.value;
          }
          const catalog = componentCatalog(ctx.plan.components);
          return editIncident(ctx.incidents, id, { by, edit: { title, components }, catalog });
        },
      },
    };

    /** The signed-in operator behind a form post, or undefined once the refusal is sent. */
    const operatorSession = (req: FastifyRequest, reply: FastifyReply): Session | undefined => {
      const session = sessionOf(req);
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
    };

    scope.post(CONSOLE_PATHS.create, { bodyLimit: FORM_BODY_LIMIT_BYTES }, async (req, reply) => {
      const session = operatorSession(req, reply);
      if (!session) return reply;
      try {
        const phase = phaseField(field(req, 'phase'));
        const update = optionalText(field(req, 'update'), 'update');
        if (phase && !update) throw new TocsinError('INVALID', 'phase: give the update it is the phase of');
        const inc = await createIncident(ctx.incidents, {
          by: session.principal.name,
          catalog: componentCatalog(ctx.plan.components),
          title: requiredTitle(field(req, 'title')),
          components: impactLines(field(req, 'components'), 'components'),
          openedAt: formTime(field(req, 'opened_at'), 'opened_at'),
          resolvedAt: formTime(field(req, 'resolved_at'), 'resolved_at'),
          update: update ? { text: update, phase } : undefined,
        });
        session.flash = { kind: 'ok', text: `Published ${inc.id}: ${inc.title}` };
        return redirect(reply, `${CONSOLE_PATHS.home}#${encodeURIComponent(inc.id)}`);
      } catch (err) {
        if (!(err instanceof TocsinError) || err.code === 'INTERNAL') throw err;
        session.flash = { kind: 'error', text: `Could not publish the incident: ${err.message}` };
        return redirect(reply, CONSOLE_PATHS.home);
      }
    });

    scope.post<{ Params: { id: string; verb: string } }>(
      '/console/incidents/:id/:verb',
      { bodyLimit: FORM_BODY_LIMIT_BYTES },
      async (req, reply) => {
        const { id, verb } = req.params;
        const action = Object.hasOwn(verbs, verb) ? verbs[verb as ConsoleVerb] : undefined;
        if (!action) return html(reply, 404, renderErrorPage('Not found', `No action ${verb}.`));
        const session = operatorSession(req, reply);
        if (!session) return reply;
        const back = field(req, 'back') === 'incident' ? CONSOLE_PATHS.incident(id) : `${CONSOLE_PATHS.home}#${encodeURIComponent(id)}`;
        try {
          const inc = await action.run(id, session.principal.name, req);
          session.flash = { kind: 'ok', text: `${action.done} ${inc.id}: ${inc.title}` };
        } catch (err) {
          // Expected refusals (409 already dismissed, 400 missing reason, 404) become a message on
          // the page the operator came from; anything else is a real failure.
          if (!(err instanceof TocsinError) || err.code === 'INTERNAL') throw err;
          session.flash = { kind: 'error', text: `Could not ${verb === 'notes' ? 'add the note to' : verb} ${id}: ${err.message}` };
        }
        return redirect(reply, back);
      },
    );
  });
}

function requiredText(value: string | undefined, name: string): string {
  const text = value?.trim() ?? '';
  if (text === '') throw new TocsinError('INVALID', `${name}: required`);
  if (text.length > MAX_TEXT_CHARS) throw new TocsinError('INVALID', `${name}: at most ${MAX_TEXT_CHARS} characters`);
  const problem = textProblem(text);
  if (problem) throw new TocsinError('INVALID', `${name}: ${problem}`);
  return text;
}

function optionalText(value: string | undefined, name: string): string | undefined {
  const text = value?.trim() ?? '';
  return text === '' ? undefined : requiredText(text, name);
}

function requiredTitle(value: string | undefined): string {
  const title = requiredText(value, 'title');
  if (title.length > MAX_TITLE_CHARS) throw new TocsinError('INVALID', `title: at most ${MAX_TITLE_CHARS} characters`);
  return title;
}

function optionalTitle(value: string | undefined): string | undefined {
  return value?.trim() ? requiredTitle(value) : undefined;
}

/** The phase select: empty for none. */
function phaseField(value: string | undefined): UpdatePhase | undefined {
  if (!value) return undefined;
  const phase = UPDATE_PHASES.find((p) => p === value);
  if (!phase) throw new TocsinError('INVALID', `phase: expected one of ${UPDATE_PHASES.join(', ')}`);
  return phase;
}

/** `id=impact` lines (commas too); blank lines are skipped. */
function impactLines(value: string | undefined, name: string): ComponentImpact[] {
  const out: ComponentImpact[] = [];
  for (const [i, line] of (value ?? '').split(/[\r\n,]+/).entries()) {
    if (line.trim() === '') continue;
    const parsed = parseComponentImpact(line.trim());
    if (!parsed.ok) throw new TocsinError('INVALID', `${name}: line ${i + 1}: ${parsed.message}`);
    out.push(parsed.value);
  }
  if (out.length > MAX_LISTED_COMPONENTS) throw new TocsinError('INVALID', `${name}: at most ${MAX_LISTED_COMPONENTS} components`);
  return out;
}

/** A `datetime-local` value (`2024-11-18T21:00`, read as UTC as the form says) or an RFC 3339 time; empty: none. */
function formTime(value: string | undefined, name: string): number | undefined {
  const text = value?.trim() ?? '';
  if (text === '') return undefined;
  const local = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(text);
  const ms = Date.parse(local ? `${text}Z` : text);
  if (!Number.isFinite(ms) || !(local || /(Z|[+-]\d{2}:\d{2})$/i.test(text))) {
    throw new TocsinError('INVALID', `${name}: expected a UTC date and time like 2024-11-18T21:00`);
  }
  return ms;
}

function signInCookie(value: string, secure: boolean): string {
  return `${SIGN_IN_COOKIE}=${value}; Path=${CONSOLE_PATHS.signIn}; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}

function clearedSignInCookie(secure: boolean): string {
  return `${SIGN_IN_COOKIE}=; Path=${CONSOLE_PATHS.signIn}; HttpOnly; SameSite=Strict; Max-Age=0${secure ? '; Secure' : ''}`;
}
