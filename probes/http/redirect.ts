import type { HostPort } from '../shared/host-port.js';
import type { Failure } from '../shared/net-errors.js';

// Pure redirect rules (no I/O), following the Fetch standard where browsers and curl agree.

/** Statuses that redirect when they carry a Location. 300 and 304 do not: they are answers. */
export const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

/** One request of a check: the first one, or a redirect hop. */
export interface HopRequest {
  readonly url: URL;
  readonly method: string;
  /** Lower-case names. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string | undefined;
  /** Where to connect instead of the URL's host (the probe's `address`), if anywhere. */
  readonly connectTo?: HostPort | undefined;
}

/** Headers that describe the body: dropped with it when a redirect turns the request into a GET. */
const BODY_HEADERS = ['content-type', 'content-length', 'content-encoding', 'transfer-encoding'];

/**
 * The request a redirect leads to, or undefined when the answer is not a redirect (it is final).
 * `address` sticks to the probe's own origin: it names an instance of that site, not of another.
 * Every header of the probe (`headers:`: credentials, API keys, a forced Host, a custom
 * User-Agent) is dropped on the first redirect to another origin and not restored if the chain
 * comes back: only the headers describing a body that is still sent (307/308) are kept.
 */
export function nextHop(
  current: HopRequest,
  status: number,
  location: string | undefined,
  home: { readonly origin: string; readonly connectTo?: HostPort | undefined },
): HopRequest | Failure | undefined {
  if (!REDIRECT_STATUSES.has(status) || location === undefined || location === '') return undefined;
  let url: URL;
  try {
    url = new URL(location, current.url);
  } catch {
    return {
      error: 'protocol_error',
      detail: `status ${status} with an invalid Location ${JSON.stringify(location)}`,
    };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return {
      error: 'protocol_error',
      detail: `redirect to unsupported scheme ${url.protocol} (${url.href})`,
    };
  }
  url.hash = '';

  const toGet =
    status === 303
      ? current.method !== 'HEAD'
      : (status === 301 || status === 302) && current.method === 'POST';
  const headers: Record<string, string> = { ...current.headers };
  if (toGet) for (const name of BODY_HEADERS) delete headers[name];
  if (url.origin !== current.url.origin) {
    for (const name of Object.keys(headers)) {
      if (toGet || !BODY_HEADERS.includes(name)) delete headers[name];
    }
  }

  return {
    url,
    method: toGet ? 'GET' : current.method,
    headers,
    body: toGet ? undefined : current.body,
    connectTo: url.origin === home.origin ? home.connectTo : undefined,
  };
}

/** Type guard: did `nextHop` return a failure rather than a request? */
export function isFailure(value: HopRequest | Failure): value is Failure {
  return 'error' in value;
}
