import { IMPACT_WORDS } from '../engine/text.js';
import { CHAT_LIST_LIMIT, formatCount, impactBreakdown, plural } from '../events/incident-summary.js';
import type { Notification, NotifyEvent } from './events.js';
import type { OutgoingRequest } from './webhook.js';

const VERB: Record<NotifyEvent, string> = {
  'incident.opened': 'opened',
  'incident.updated': 'updated',
  'incident.confirmed': 'confirmed',
  'incident.dismissed': 'dismissed',
  'incident.resolved': 'resolved',
  'incident.rerooted': 'rerooted',
};

const SEVERITY_MARK: Record<string, string> = { critical: ':red_circle:', major: ':large_orange_circle:', minor: ':large_yellow_circle:' };

/** Slack's limits: header text 150 characters, section text 3000. */
const clip = (text: string, max: number): string => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

/**
 * A Slack-compatible incoming-webhook message (`{ text, blocks }`; Mattermost and Rocket.Chat take
 * it too): the title, severity, status and review, components with their impact, and the latest
 * timeline entry. `text` is the notification fallback. Never signed: the URL is the secret.
 */
export function slackRequest(n: Notification): OutgoingRequest {
  const inc = n.incident;
  const latest = n.entries[n.entries.length - 1] ?? inc.timeline[inc.timeline.length - 1];
  const mark = inc.status === 'resolved' ? ':white_check_mark:' : (SEVERITY_MARK[inc.severity] ?? '');
  const review = inc.review === 'pending' ? 'draft, pending review' : inc.review;
  // A zone failure is thousands of components (CONTRACT §5.11): counts per impact, the first few.
  const counts = inc.component_counts;
  const listed = inc.components.slice(0, CHAT_LIST_LIMIT);
  const hidden = counts.total - listed.length;
  const components = [
    ...(hidden > 0
      ? [`${plural(counts.total, 'component')}: ${impactBreakdown(counts).map((p) => `${formatCount(p.count)} ${IMPACT_WORDS[p.impact]}`).join(', ')}`]
      : []),
    ...listed.map((c) => `• ${c.id}${c.id === inc.root_component ? ' (root)' : ''}: ${IMPACT_WORDS[c.impact]}`),
    ...(hidden > 0 ? [`• and ${formatCount(hidden)} more`] : []),
  ].join('\n');
  // A re-root says what moved: the incident's title and root already name the new root.
  const verb = n.reroot ? `${VERB[n.event]} from ${n.reroot.from ?? 'an earlier root'} to ${n.reroot.to}` : VERB[n.event];
  const text = `${mark} [${inc.severity.toUpperCase()}] ${inc.title} — ${verb} (${inc.status}, ${review})`.trim();
  const blocks: unknown[] = [
    { type: 'header', text: { type: 'plain_text', text: clip(inc.title || inc.id, 150), emoji: true } },
    {
      type: 'section',
      fields: [
        { type: 'mrkdwn', text: `*Severity*\n${mark} ${inc.severity}`.trim() },
        { type: 'mrkdwn', text: `*Status*\n${inc.status} (${review})` },
        { type: 'mrkdwn', text: `*Event*\n${n.event}` },
        { type: 'mrkdwn', text: `*Regions*\n${inc.regions.join(', ') || '—'}` },
      ],
    },
    { type: 'section', text: { type: 'mrkdwn', text: clip(`*Components*\n${components || '—'}`, 3000) } },
  ];
  if (latest) {
    blocks.push({
      type: 'section',
      text: { type: 'mrkdwn', text: clip(`*${latest.at.slice(11, 16)} UTC* (${latest.kind}, ${latest.author}): ${latest.text}`, 3000) },
    });
  }
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `Tocsin incident \`${inc.id}\` opened ${inc.opened_at}` }] });
  return { body: JSON.stringify({ text, blocks }), headers: { 'Content-Type': 'application/json' } };
}
