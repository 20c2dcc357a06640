import { createHash } from 'node:crypto';
import { escapeHtml } from './html.js';
import { DAY_MS, isRetroactive, type PublicMaintenance } from './model.js';
import { PHASE_WORDS as UPDATE_PHASE_WORDS, type PublicWording } from './public-text.js';
import { PAGE_NAME } from './statuspage-v2.js';
import { maintenanceUpdates, publicUpdates } from './updates.js';
import { IMPACT_WORDS, listWords } from '../engine/text.js';
import type { Incident, UpdatePhase } from '../events/incident.js';
import { PAGE_LIST_LIMIT, summariseIncident } from '../events/incident-summary.js';

/**
 * `/status/feed.atom` (RFC 4287) and `/status/feed.rss` (RSS 2.0): the public updates of
 * published incidents and the maintenance notices of the page, one entry per update, newest
 * first, so that a feed reader shows each update as it is posted. The words are the page's
 * (public words, `publicEntry`): nothing a feed says is absent from `/status`. Every piece of text
 * comes from the config or from operators and is escaped (docs/status-page.md, "Feeds").
 */

/** Entries a feed carries at most, and how far back it looks. */
export const FEED_ITEMS = 50;
export const FEED_DAYS = 90;

export interface FeedItem {
  /** A `urn:uuid:` name, stable per update whatever address the feed is read at. */
  readonly id: string;
  readonly title: string;
  /** ISO times; an update never changes once posted, so `updated` is when it was posted. */
  readonly updated: string;
  readonly link: string;
  readonly text: string;
  /** The phase of the incident after the update, or the state of a maintenance window. */
  readonly category: UpdatePhase | 'scheduled' | 'in_progress';
}

export interface FeedInput {
  /** Anything: only confirmed incidents are used. */
  readonly incidents: readonly Incident[];
  /** The page's maintenance notices (active and upcoming windows). */
  readonly maintenance: readonly PublicMaintenance[];
  /** Component names by id (names of the config). */
  readonly nameOf: (id: string) => string;
  readonly wording: PublicWording;
  /** The public address of `/status`: entry links point into it. */
  readonly pageUrl: string;
  readonly now: number;
}

const PHASE_WORDS: Record<FeedItem['category'], string> = {
  ...UPDATE_PHASE_WORDS,
  scheduled: 'Scheduled maintenance',
  in_progress: 'Maintenance in progress',
};

/** The newest {@link FEED_ITEMS} updates of the last {@link FEED_DAYS} days, newest first. */
export function feedItems(input: FeedInput): FeedItem[] {
  const since = input.now - FEED_DAYS * DAY_MS;
  const items: FeedItem[] = [];
  for (const inc of input.incidents) {
    if (inc.review !== 'confirmed') continue;
    const updates = publicUpdates(inc, input.wording, { max: FEED_ITEMS, since });
    if (updates.length === 0) continue;
    const title = `${isRetroactive(inc) ? '[RETROACTIVE] ' : ''}${inc.title}`;
    const affected = affectedLine(inc, input.nameOf);
    const link = `${input.pageUrl}#${encodeURIComponent(inc.id)}`;
    for (const u of updates) {
      if (!Number.isFinite(Date.parse(u.at))) continue;
      items.push({
        id: uuidUrn(`incident/${inc.id}/update/${u.index}`),
        title: `${title} — ${PHASE_WORDS[u.status]}`,
        updated: u.at,
        link,
        text: `${u.text}\n\n${affected}`,
        category: u.status,
      });
    }
  }
  for (const m of input.maintenance) {
    for (const u of maintenanceUpdates(m)) {
      if (Date.parse(u.at) < since) continue;
      items.push({
        id: uuidUrn(`maintenance/${m.id}@${m.start}/${u.status}`),
        title: `${PHASE_WORDS[u.status]}: ${m.title}`,
        updated: u.at,
        link: `${input.pageUrl}#maintenance`,
        text: u.text,
        category: u.status,
      });
    }
  }
  return items
    .sort((a, b) => b.updated.localeCompare(a.updated) || a.id.localeCompare(b.id))
    .slice(0, FEED_ITEMS);
}

/** `Affected: Public API (partial outage), Mails (major outage) and 3 more.` */
function affectedLine(inc: Incident, nameOf: (id: string) => string): string {
  const { components, moreComponents } = summariseIncident(inc, { components: PAGE_LIST_LIMIT, signals: 0 });
  const names = components.map((c) => `${nameOf(c.id)} (${IMPACT_WORDS[c.impact]})`);
  return `Affected: ${listWords(moreComponents > 0 ? [...names, `${moreComponents} more`] : names, PAGE_LIST_LIMIT + 1)}.`;
}

export interface FeedMeta {
  /** The public address of `/status`. */
  readonly pageUrl: string;
  /** The feed's own address (`rel="self"`). */
  readonly selfUrl: string;
  readonly now: number;
}

const SUBTITLE = 'Incidents and scheduled maintenance';

/** An Atom 1.0 document (RFC 4287): the feed's id is the page's address, each entry's a URN. */
export function renderAtom(items: readonly FeedItem[], meta: FeedMeta): string {
  const updated = items[0]?.updated ?? new Date(meta.now).toISOString();
  const lines = [
    '<?xml version="1.0" encoding="utf-8"?>',
    '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en">',
    `<id>${xml(meta.pageUrl)}</id>`,
    `<title type="text">${xml(PAGE_NAME)}</title>`,
    `<subtitle type="text">${SUBTITLE}</subtitle>`,
    `<updated>${updated}</updated>`,
    `<link rel="self" type="application/atom+xml" href="${xml(meta.selfUrl)}"/>`,
    `<link rel="alternate" type="text/html" href="${xml(meta.pageUrl)}"/>`,
    `<author><name>${xml(PAGE_NAME)}</name></author>`,
    '<generator>Tocsin</generator>',
  ];
  for (const item of items) {
    lines.push(
      '<entry>',
      `<id>${item.id}</id>`,
      `<title type="text">${xml(item.title)}</title>`,
      `<updated>${item.updated}</updated>`,
      `<published>${item.updated}</published>`,
      `<link rel="alternate" type="text/html" href="${xml(item.link)}"/>`,
      `<category term="${item.category}" label="${PHASE_WORDS[item.category]}"/>`,
      `<content type="text">${xml(item.text)}</content>`,
      '</entry>',
    );
  }
  lines.push('</feed>', '');
  return lines.join('\n');
}

/**
 * An RSS 2.0 document. An item's description is HTML by the specification's convention, so the
 * text is HTML-escaped (line breaks as `<br>`) and then XML-escaped: a note reading `<b>` shows
 * as `<b>` in a reader, never as markup.
 */
export function renderRss(items: readonly FeedItem[], meta: FeedMeta): string {
  const updated = items[0]?.updated ?? new Date(meta.now).toISOString();
  const lines = [
    '<?xml version="1.0" encoding="utf-8"?>',
    '<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">',
    '<channel>',
    `<title>${xml(PAGE_NAME)}</title>`,
    `<link>${xml(meta.pageUrl)}</link>`,
    `<description>${SUBTITLE}</description>`,
    '<language>en</language>',
    `<lastBuildDate>${rfc822(updated)}</lastBuildDate>`,
    '<generator>Tocsin</generator>',
    `<atom:link href="${xml(meta.selfUrl)}" rel="self" type="application/rss+xml"/>`,
  ];
  for (const item of items) {
    lines.push(
      '<item>',
      `<title>${xml(item.title)}</title>`,
      `<link>${xml(item.link)}</link>`,
      `<description>${xml(escapeHtml(item.text).replace(/\n/g, '<br>'))}</description>`,
      `<category>${item.category}</category>`,
      `<guid isPermaLink="false">${item.id}</guid>`,
      `<pubDate>${rfc822(item.updated)}</pubDate>`,
      '</item>',
    );
  }
  lines.push('</channel>', '</rss>', '');
  return lines.join('\n');
}

/** RFC 822 dates as RSS 2.0 wants them (four-digit years, `GMT`): `Mon, 18 Nov 2024 14:02:00 GMT`. */
export function rfc822(iso: string): string {
  return new Date(iso).toUTCString();
}

/**
 * Text as XML character data or an attribute value: the five markup characters escaped, and the
 * characters XML 1.0 forbids anywhere (control characters, lone surrogates, U+FFFE/U+FFFF) —
 * which an operator's note may carry and which no escape makes legal — replaced by U+FFFD.
 */
export function xml(text: string): string {
  return text
    .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '\uFFFD')
    .replace(/[&<>"']/g, (c) => XML_ESCAPES[c] ?? c);
}

const XML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', '\'': '&apos;' };

/** RFC 4122's URL namespace: names below are Tocsin's own paths, under no one else's. */
const NAMESPACE = Buffer.from('6ba7b8119dad11d180b400c04fd430c8', 'hex');

/** A name-based (version 5) UUID as a URN: the same name always gives the same id. */
export function uuidUrn(name: string): string {
  const h = createHash('sha1').update(NAMESPACE).update(`tocsin:${name}`).digest();
  h[6] = ((h[6] ?? 0) & 0x0f) | 0x50;
  h[8] = ((h[8] ?? 0) & 0x3f) | 0x80;
  const hex = h.subarray(0, 16).toString('hex');
  return `urn:uuid:${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
