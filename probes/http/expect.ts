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

/** Accepted statuses, compiled: exact ones (200, "200"), and classes as bits ("2xx" → 1 << 2). */
interface StatusSet {
  readonly exact: readonly number[];
  readonly classes: number;
}

function statusSet(accepted: readonly (number | string)[]): StatusSet {
  const exact: number[] = [];
  let classes = 0;
  for (const entry of accepted) {
    if (typeof entry === 'number') exact.push(entry);
    else if (entry.toLowerCase().endsWith('xx')) classes |= 1 << Number(entry[0]);
    else exact.push(Number(entry));
  }
  return { exact, classes };
}

function accepts(set: StatusSet, status: number): boolean {
  return (set.classes & (1 << Math.floor(status / 100))) !== 0 || set.exact.includes(status);
}

export function statusMatches(status: number, accepted: readonly (number | string)[]): boolean {
  return accepts(statusSet(accepted), status);
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
  const value = headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/** One `expect.header` entry, ready to test: the name lower-cased, a `/regex/` compiled. */
interface HeaderExpectation {
  readonly name: string;
  readonly want: string;
  readonly pattern: RegExp | undefined;
  /** How the expectation is written in a detail: the literal as written, an exact value quoted. */
  readonly shown: string;
}

/**
 * `expect` worked out once per probe rather than at every check: the accepted statuses with their
 * default, header names lower-cased, every regular expression compiled.
 */
export interface CompiledExpectations {
  /** As written (for the detail), and compiled (for the test). */
  readonly accepted: readonly (number | string)[];
  readonly statuses: StatusSet;
  readonly headers: readonly HeaderExpectation[];
  readonly bodyContains: string | undefined;
  /** The compiled `body_regex`, with its source as written (for the detail). */
  readonly bodyRegex: { readonly pattern: RegExp; readonly source: string } | undefined;
  readonly maxLatency: number | undefined;
}

export function compileExpectations(expect: ExpectInput, followRedirects: boolean): CompiledExpectations {
  const accepted = expect.status ?? defaultStatuses(followRedirects);
  return {
    accepted,
    statuses: statusSet(accepted),
    headers: Object.entries(expect.header ?? {}).map(([name, want]) => {
      const pattern = parseRegexLiteral(want);
      return { name: name.toLowerCase(), want, pattern, shown: pattern ? want : JSON.stringify(want) };
    }),
    bodyContains: expect.body_contains,
    bodyRegex:
      expect.body_regex === undefined
        ? undefined
        : { pattern: new RegExp(expect.body_regex), source: expect.body_regex },
    maxLatency: expect.max_latency,
  };
}

/** `pattern.test`, from the start of `text` whatever the flags: a compiled /g or /y pattern keeps `lastIndex`. */
function matches(pattern: RegExp, text: string): boolean {
  pattern.lastIndex = 0;
  return pattern.test(text);
}

/** Checks the status, headers, body and latency in that order; the first failure is the verdict. */
export function checkExpectations(
  expect: ExpectInput,
  followRedirects: boolean,
  observed: ObservedResponse,
): Failure | undefined {
  return checkCompiled(compileExpectations(expect, followRedirects), observed);
}

/** `checkExpectations` with `expect` compiled already (what the probe does at every check). */
export function checkCompiled(expect: CompiledExpectations, observed: ObservedResponse): Failure | undefined {
  if (!accepts(expect.statuses, observed.status)) {
    return { error: 'status', detail: `status ${observed.status}, expected ${expect.accepted.join(', ')}` };
  }

  for (const { name, want, pattern, shown } of expect.headers) {
    const got = headerValue(observed.headers, name);
    if (got === undefined) {
      return { error: 'header_mismatch', detail: `header ${name} missing, expected ${shown}` };
    }
    if (pattern ? !matches(pattern, got) : got.trim() !== want.trim()) {
      return {
        error: 'header_mismatch',
        detail: `header ${name} is ${JSON.stringify(clip(got))}, expected ${shown}`,
      };
    }
  }

  const body = observed.body ?? '';
  if (expect.bodyContains !== undefined && !body.includes(expect.bodyContains)) {
    return {
      error: 'body_mismatch',
      detail: `body does not contain ${JSON.stringify(clip(expect.bodyContains))}`,
    };
  }
  if (expect.bodyRegex !== undefined && !matches(expect.bodyRegex.pattern, body)) {
    return { error: 'body_mismatch', detail: `body does not match /${clip(expect.bodyRegex.source)}/` };
  }

  if (expect.maxLatency !== undefined && observed.durationMs > expect.maxLatency) {
    return {
      error: 'latency',
      detail: `took ${Math.round(observed.durationMs)} ms, max_latency ${expect.maxLatency} ms`,
    };
  }
  return undefined;
}
