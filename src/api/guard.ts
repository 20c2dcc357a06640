import type { FastifyRequest } from 'fastify';
import { TocsinError } from '../errors.js';
import type { Principal, Role } from '../auth/tokens.js';
import type { ApiContext } from './context.js';
import type { AuthThrottle } from './throttle.js';

const RANK: Record<Role, number> = { viewer: 1, operator: 2 };

/** What an authentication check needs: the tokens, the backoff (buildApi always sets one), the failure counter. */
export type GuardContext = Pick<ApiContext, 'tokens' | 'metrics' | 'throttle'>;

function throttleOf(ctx: GuardContext): AuthThrottle {
  // buildApi fills it in; a context without one reaching a route is a wiring bug.
  if (!ctx.throttle) throw new Error('API context has no auth throttle (build the API with buildApi)');
  return ctx.throttle;
}

/** An address in backoff: 429 with Retry-After, the token not even looked at. */
export class RateLimited extends TocsinError {
  constructor(readonly retryAfterS: number) {
    super('RATE_LIMITED', `too many failed authentications from this address; retry in ${retryAfterS} s`);
  }
}

/**
 * Refuses an address in backoff (throws RateLimited). Called before any token is compared, so a
 * guesser in backoff learns nothing, even when it sends the right token.
 */
export function checkThrottle(ctx: GuardContext, req: FastifyRequest): void {
  const allowed = throttleOf(ctx).check(req.ip);
  if (!allowed.ok) throw new RateLimited(allowed.retryAfterS);
}

/**
 * Records a failed authentication: counted every time, logged once per backoff episode (the
 * failure that starts it, at warn, with the address: never the token).
 */
export function recordAuthFailure(ctx: GuardContext, req: FastifyRequest, kind: 'bearer' | 'console'): void {
  ctx.metrics.authFailures.inc({ kind });
  if (throttleOf(ctx).fail(req.ip).backoffStarted) {
    req.log.warn({ ip: req.ip, kind }, 'repeated failed authentications: backing off this address');
  }
}

/**
 * Returns the caller if its bearer token grants at least `role`; throws 429 (address in backoff),
 * 401 or 403 otherwise. Only a token that was sent and is unknown counts as a failed guess: a
 * request without one is a misconfigured client, not a guess.
 */
export function requireRole(ctx: GuardContext, req: FastifyRequest, role: Role): Principal {
  checkThrottle(ctx, req);
  const header = req.headers.authorization ?? '';
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  const principal = m?.[1] ? ctx.tokens.authenticate(m[1]) : undefined;
  if (!principal) {
    if (header !== '') recordAuthFailure(ctx, req, 'bearer');
    throw new TocsinError('UNAUTHORIZED', 'missing or unknown bearer token');
  }
  throttleOf(ctx).succeed(req.ip);
  if (RANK[principal.role] < RANK[role]) {
    throw new TocsinError(
      'FORBIDDEN',
      `this action needs the ${role} role; token "${principal.name}" is a ${principal.role}`,
    );
  }
  return principal;
}
