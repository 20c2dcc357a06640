import type { IncomingHttpHeaders } from 'node:http';

// What one instance answered for one route, reduced to the `compare` items. Pure: no I/O.

/** The value a compare item takes when the answer has nothing for it (no such header, plain HTTP). */
export const NONE = '(none)';

/** One compare item's value in an answer. */
export interface FingerprintPart {
  readonly item: string;
  readonly value: string;
}

/** An answer reduced to its compare items; equal keys mean the same answer. */
export interface Fingerprint {
  readonly key: string;
  readonly parts: readonly FingerprintPart[];
  /** The HTTP status, kept even when `status` is not compared (a server error never wins a tie). */
  readonly status: number;
}

/** What the fingerprint is computed from (a completed exchange). */
export interface AnswerFacts {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly certFingerprint256?: string | undefined;
  readonly bodySha256?: string | undefined;
}

function headerValue(headers: IncomingHttpHeaders, name: string): string {
  const value = headers[name];
  if (value === undefined) return NONE;
  return Array.isArray(value) ? value.join(', ') : String(value);
}

function partValue(item: string, facts: AnswerFacts): string {
  if (item === 'status') return String(facts.status);
  if (item === 'cert_fingerprint') return facts.certFingerprint256 ?? NONE;
  if (item === 'body_sha256') return facts.bodySha256 ?? NONE;
  if (item.startsWith('header:')) return headerValue(facts.headers, item.slice('header:'.length));
  return NONE;
}

/** Reduces an answer to the `compare` items, in their order. */
export function fingerprint(compare: readonly string[], facts: AnswerFacts): Fingerprint {
  const parts = compare.map((item) => ({ item, value: partValue(item, facts) }));
  // JSON keeps the key unambiguous whatever the header values contain.
  return { key: JSON.stringify(parts.map((p) => p.value)), parts, status: facts.status };
}

/** Whether a compare item reads well in a sentence (status, headers) or is an opaque hash. */
export function isReadable(item: string): boolean {
  return item === 'status' || item.startsWith('header:');
}

/** The item's name in a detail sentence: `x-config-version 41`, `status 404`, `body sha256 3a7b…`. */
export function itemName(item: string): string {
  if (item.startsWith('header:')) return item.slice('header:'.length);
  if (item === 'cert_fingerprint') return 'certificate';
  if (item === 'body_sha256') return 'body sha256';
  return item;
}

/** A value short enough for a status page: hashes are cut to their first characters. */
export function shortValue(item: string, value: string): string {
  if (value === NONE) return value;
  if (item === 'cert_fingerprint') return value.length > 11 ? `${value.slice(0, 11)}…` : value;
  if (item === 'body_sha256') return value.length > 12 ? `${value.slice(0, 12)}…` : value;
  return value.length > 80 ? `${value.slice(0, 80)}…` : value;
}
