import { sameSecret } from './sessions.js';

/** Name of the hidden form field carrying the CSRF token. */
export const CSRF_FIELD = '_csrf';
/** Header carrying the CSRF token on script requests. */
export const CSRF_HEADER = 'x-csrf-token';

export type CsrfVerdict = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/** What a POST brings that the CSRF check looks at. */
export interface CsrfRequest {
  readonly host: string | undefined;
  readonly origin: string | undefined;
  readonly referer: string | undefined;
  /** The token from the form field, else from the header. */
  readonly token: string | undefined;
}

/**
 * Two independent checks on every console POST:
 * 1. the synchronizer token of the session (or of the sign-in form) matches, in constant time;
 * 2. when the browser says where the request comes from (Origin, else Referer), it is this very
 *    host. A browser always sends Origin on a cross-site POST, so a forged form from another site
 *    fails here even before the token is looked at. `Origin: null` (sandboxed frames, some
 *    redirects) is refused: nothing legitimate posts to the console from an opaque origin.
 */
export function checkCsrf(req: CsrfRequest, expected: string): CsrfVerdict {
  const source = req.origin ?? req.referer;
  if (source !== undefined) {
    const host = hostOf(source);
    if (host === undefined || req.host === undefined || host.toLowerCase() !== req.host.toLowerCase()) {
      return { ok: false, reason: 'the request comes from another site' };
    }
  }
  if (!req.token) return { ok: false, reason: 'the form has no CSRF token' };
  if (!sameSecret(req.token, expected)) return { ok: false, reason: 'the form\'s CSRF token does not match this session' };
  return { ok: true };
}

/** `host[:port]` of an absolute URL, undefined for `null` or anything unparsable. */
function hostOf(url: string): string | undefined {
  try {
    const u = new URL(url);
    return u.host === '' ? undefined : u.host;
  } catch {
    return undefined;
  }
}
