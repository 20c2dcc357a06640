import type { Failure } from '../shared/net-errors.js';

// Pure checks of an HTTP answer against `expect`: no I/O here, so every rule is unit-tested.

/** A status entry: `200`, or a class `2xx` (also accepted as a string `"200"`). */
export const STATUS_PATTERN = /^([1-5]xx|[1-5]\d\d)$/i;

/** `expect` as this module needs it (structural, so the zod schema can depend on this file). */
export interface ExpectInput {
  readonly status?: readonly (number | string)[] | undefined;
  readonly body_contains?: string | undefined;
  readonly body_regex?: string | undefined;
  readonly header?: Readonly<Record<string, string>> | undefined;
  /** Milliseconds (the config's Duration is parsed already). */
  readonly max_latency?: number | undefined;
}

/** The final answer of a check, as far as the expectations go. */
export interface ObservedResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The body text; present only when `needsBody` said so. */
  readonly body?: string | undefined;
  /** The whole check's duration, every redirect included. */
  readonly durationMs: number;
}

/**
 * Without redirects followed, a 3xx is the answer the operator asked to see, so it passes by
 * default; when following, a final 3xx (no Location) is unexpected.
 */
export function defaultStatuses(followRedirects: boolean): readonly string[] {
  return followRedirects ? ['2xx'] : ['2xx', '3xx'];
}

export function statusMatches(status: number, accepted: readonly (number | string)[]): boolean {
  return accepted.some((entry) => {
    if (typeof entry === 'number') return entry === status;
    const text = entry.toLowerCase();
    if (text.endsWith('xx')) return Math.floor(status / 100) === Number(text[0]);
    return Number(text) === status;
  });
}

/**
 * `/pattern/flags` → a RegExp; any other text → undefined (an exact value).
 * Throws on an invalid pattern or flag, which the config schema turns into a config error.
 */
export function parseRegexLiteral(text: string): RegExp | undefined {
  const m = /^\/(.+)\/([a-z]*)$/s.exec(text);
  if (!m?.[1]) return undefined;
  return new RegExp(m[1], m[2]);
}

/** Whether the body text must be kept (otherwise it is only counted, never buffered). */
export function needsBody(expect: ExpectInput): boolean {
  return expect.body_contains !== undefined || expect.body_regex !== undefined;
}

/** Keeps details readable when a header or body fragment is huge. */
function clip(text: string, max = 120): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

function headerValue(headers: ObservedResponse['headers'], name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value.join(', ') : value;
}

/** Checks the status, headers, body and latency in that order; the first failure is the verdict. */
export function checkExpectations(
  expect: ExpectInput,
  followRedirects: boolean,
  observed: ObservedResponse,
): Failure | undefined {
  const accepted = expect.status ?? defaultStatuses(followRedirects);
  if (!statusMatches(observed.status, accepted)) {
    return { error: 'status', detail: `status ${observed.status}, expected ${accepted.join(', ')}` };
  }

  for (const [name, want] of Object.entries(expect.header ?? {})) {
    const got = headerValue(observed.headers, name);
    const pattern = parseRegexLiteral(want);
    const shown = pattern ? want : JSON.stringify(want);
    if (got === undefined) {
      return { error: 'header_mismatch', detail: `header ${name.toLowerCase()} missing, expected ${shown}` };
    }
    if (pattern ? !pattern.test(got) : got.trim() !== want.trim()) {
      return {
        error: 'header_mismatch',
        detail: `header ${name.toLowerCase()} is ${JSON.stringify(clip(got))}, expected ${shown}`,
      };
    }
  }

  const body = observed.body ?? '';
  if (expect.body_contains !== undefined && !body.includes(expect.body_contains)) {
    return {
      error: 'body_mismatch',
      detail: `body does not contain ${JSON.stringify(clip(expect.body_contains))}`,
    };
  }
  if (expect.body_regex !== undefined && !new RegExp(expect.body_regex).test(body)) {
    return { error: 'body_mismatch', detail: `body does not match /${clip(expect.body_regex)}/` };
  }

  if (expect.max_latency !== undefined && observed.durationMs > expect.max_latency) {
    return {
      error: 'latency',
      detail: `took ${Math.round(observed.durationMs)} ms, max_latency ${expect.max_latency} ms`,
    };
  }
  return undefined;
}
