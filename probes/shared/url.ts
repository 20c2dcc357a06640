import { z } from 'zod';

/** An `http://` or `https://` URL, as a config string (kept a string: probes build `URL`s per check). */
export const HttpUrl = z.string().superRefine((text, ctx) => {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    ctx.addIssue({ code: 'custom', message: `invalid URL "${text}"` });
    return;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    ctx.addIssue({ code: 'custom', message: `must be an http:// or https:// URL, got "${url.protocol}"` });
  }
});

/**
 * A URL as it may be shown where anyone can read it (metric labels, logs): the userinfo's password
 * as `***` (`user:***@`; a user alone, which may be a token, as `***@`), the query string and
 * fragment dropped (`?api_key=…` is a common place for a secret). Text that is not a URL
 * (`host:port` targets) is returned as is.
 */
export function redactUrl(text: string): string {
  // Fast path: most targets carry nothing to redact, and labels are set on every result.
  if (!text.includes('@') && !text.includes('?') && !text.includes('#')) return text;
  if (!text.includes('://') || !URL.canParse(text)) return text;
  const url = new URL(text);
  if (url.password) url.password = '***';
  else if (url.username) url.username = '***';
  url.search = '';
  url.hash = '';
  return url.href;
}

/**
 * A URL without its password, the rest as written (`redis://:secret@h` → `redis://h`): what an
 * event's target may carry. Not `redactUrl`: a target names a series for as long as the config
 * does, so it keeps a user, a query, a fragment (which name a different thing) and marks nothing;
 * a password, which the config refuses anyway, is simply never in it. Text that is not a URL is
 * returned as is.
 */
export function withoutPassword(text: string): string {
  if (!URL.canParse(text)) return text;
  const url = new URL(text);
  if (!url.password) return text;
  url.password = '';
  return url.href;
}

/** Why a URL written in the config must not be accepted: it carries credentials. */
export function credentialsInUrl(text: string, instead?: string): string | undefined {
  if (!URL.canParse(text)) return undefined;
  const url = new URL(text);
  if (!url.username && !url.password) return undefined;
  const why = 'must not carry credentials (a secret never lives in the config file)';
  return instead === undefined ? why : `${why}: ${instead}`;
}
