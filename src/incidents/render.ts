import type { Incident } from './incident.js';

const IMPACT_WORDS: Record<string, string> = {
  degraded_performance: 'degraded performance',
  partial_outage: 'partial outage',
  major_outage: 'major outage',
};

/**
 * An incident as a status-page post, in the style operators write by hand in the seeds: a title
 * line, what is affected ("Load Balancing: KO"), then "EDIT hh:mm UTC: ..." entries oldest first.
 */
export function renderMarkdown(
  incident: Incident,
  components: readonly { readonly id: string; readonly name: string }[] = [],
): string {
  const name = (id: string) => components.find((c) => c.id === id)?.name ?? id;
  const day = incident.opened_at.slice(0, 10);
  const lines = [
    `## ${incident.title}`,
    '',
    `${day} · ${incident.status === 'open' ? 'Ongoing' : 'Resolved'} · severity ${incident.severity} · ${incident.review === 'pending' ? 'draft' : incident.review}`,
    '',
    ...incident.components.map(
      (c) => `- ${name(c.id)}: ${incident.status === 'resolved' ? 'OK' : `KO (${IMPACT_WORDS[c.impact] ?? c.impact})`}`,
    ),
    '',
    ...incident.timeline.map((e) => `EDIT ${e.at.slice(11, 16)} UTC: ${e.text}${e.author === 'tocsin' ? '' : ` (${e.author})`}`),
    '',
  ];
  return lines.join('\n');
}
