import { phasedLabel } from './public-text.js';
import type { Incident } from '../events/incident.js';
import { formatCount, type ListLimit, PAGE_LIST_LIMIT, plural, type SummarisedIncident, countsOf, impactBreakdown } from '../events/incident-summary.js';

const IMPACT_WORDS: Record<string, string> = {
  degraded_performance: 'degraded performance',
  partial_outage: 'partial outage',
  major_outage: 'major outage',
};

/**
 * An incident as a status-page post, in the style operators write by hand in the seeds: a title
 * line, what is affected ("Load Balancing: KO"), then "EDIT hh:mm UTC: ..." entries oldest first.
 * A large incident lists its first components after a count per impact, then "and N more"
 * (CONTRACT §5.11): a post is read by people.
 */
export function renderMarkdown(
  incident: Incident | SummarisedIncident,
  components: readonly { readonly id: string; readonly name: string }[] = [],
  opts: { readonly limit?: ListLimit } = {},
): string {
  const names = new Map(components.map((c) => [c.id, c.name]));
  const name = (id: string) => names.get(id) ?? id;
  const limit = opts.limit ?? PAGE_LIST_LIMIT;
  const day = incident.opened_at.slice(0, 10);
  const counts = countsOf(incident).components;
  const shown = limit === 'all' ? incident.components : incident.components.slice(0, limit);
  const hidden = counts.total - shown.length;
  const resolved = incident.status === 'resolved';
  const breakdown = impactBreakdown(counts)
    .map((p) => `${formatCount(p.count)} ${IMPACT_WORDS[p.impact] ?? p.impact}`)
    .join(', ');
  const lines = [
    `## ${incident.title}`,
    '',
    `${day} · ${incident.status === 'open' ? 'Ongoing' : 'Resolved'} · severity ${incident.severity} · ${incident.review === 'pending' ? 'draft' : incident.review}`,
    '',
    ...(hidden > 0 ? [`${plural(counts.total, 'component')} affected${resolved ? '' : `: ${breakdown}`}`, ''] : []),
    ...shown.map((c) => `- ${name(c.id)}: ${resolved ? 'OK' : `KO (${IMPACT_WORDS[c.impact] ?? c.impact})`}`),
    ...(hidden > 0 ? [`- and ${formatCount(hidden)} more`] : []),
    '',
    ...incident.timeline.map(
      (e) => `${phasedLabel(`EDIT ${e.at.slice(11, 16)} UTC`, e.phase)}: ${e.text}${e.author === 'tocsin' ? '' : ` (${e.author})`}`,
    ),
    '',
  ];
  return lines.join('\n');
}
