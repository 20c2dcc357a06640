import { describe, expect, it } from 'vitest';
import { applyEdit, componentCatalog, newOperatorIncident } from '../../src/engine/edit.js';
import type { Incident } from '../../src/events/incident.js';
import { renderIncident } from '../../src/cli/commands/incidents.js';
import { renderMarkdown } from '../../src/status/post.js';
import { renderStatusHtml } from '../../src/status/html.js';
import { statusModel } from '../../src/status/model.js';
import { phasedLabel } from '../../src/status/public-text.js';
import { makePlan } from '../helpers/plan.js';

// Update phases and operator-written posts on the public page (docs/status-page.md): an operator's
// update is headed by its phase ("EDIT 14:05 UTC — Identified: …") and carries it in
// /status.json; the detector's entries have none; an edit reads as an update.

const src = { file: '/dev/null', line: 1 };
const plan = makePlan([], {
  components: [
    { id: 'api', name: 'Public API', group: 'Apps', region: 'PAR', depends_on: [], source: src },
    { id: 'db', name: 'PostgreSQL', group: 'Databases', depends_on: [], source: src },
  ],
});
const catalog = componentCatalog(plan.components);
const at = (hhmm: string) => `2024-11-18T${hhmm}:00.000Z`;
const NOW = Date.parse(at('15:00'));

function post(): Incident {
  const doc = newOperatorIncident(
    {
      title: 'API errors',
      components: [{ id: 'api', impact: 'partial_outage' }],
      openedAt: Date.parse(at('14:00')),
      update: { text: 'We are looking into errors on the API.', phase: 'investigating' },
    },
    'ops',
    Date.parse(at('14:01')),
    catalog,
  );
  const edited = applyEdit(doc, { components: [{ id: 'api', impact: 'major_outage' }, { id: 'db', impact: 'degraded_performance' }] }, 'ops', at('14:03'), catalog);
  const note = { at: at('14:05'), kind: 'note' as const, text: 'A failed database migration.', author: 'ops', phase: 'identified' as const };
  const plain = { at: at('14:07'), kind: 'note' as const, text: 'Rolling back.', author: 'ops' };
  return { ...edited.incident, timeline: [...edited.incident.timeline, note, plain] };
}

describe('update phases on the status page', () => {
  it('heads an operator\'s update with its phase and carries it in the JSON; other entries have none', () => {
    const [inc] = statusModel({ plan, incidents: [post()], now: NOW }).incidents;
    expect(inc?.timeline).toEqual([
      { at: at('14:00'), kind: 'opened', text: 'We are looking into errors on the API.', label: '14:00 UTC — Investigating', phase: 'investigating' },
      { at: at('14:03'), kind: 'edited', text: 'Impact: Public API: major outage and PostgreSQL: degraded performance.', label: 'EDIT 14:03 UTC' },
      { at: at('14:05'), kind: 'note', text: 'A failed database migration.', label: 'EDIT 14:05 UTC — Identified', phase: 'identified' },
      { at: at('14:07'), kind: 'note', text: 'Rolling back.', label: 'EDIT 14:07 UTC' },
    ]);
    expect(inc?.components.map((c) => [c.id, c.impact])).toEqual([['api', 'major_outage'], ['db', 'degraded_performance']]);
  });

  it('reads "EDIT 14:05 UTC — Identified: text" on the page', () => {
    const html = renderStatusHtml(statusModel({ plan, incidents: [post()], now: NOW }));
    expect(html).toContain('EDIT 14:05 UTC — Identified:</span> A failed database migration.');
    expect(html).toContain('14:00 UTC — Investigating:</span> We are looking into errors on the API.');
    expect(html).toContain('EDIT 14:07 UTC:</span> Rolling back.');
  });

  it('shows the phase in the CLI\'s timeline and markdown post too', () => {
    const doc = post();
    expect(renderIncident(doc)).toContain('14:05 UTC  note [identified]  A failed database migration.  (ops)');
    expect(renderIncident(doc)).toContain('14:07 UTC  note  Rolling back.  (ops)');
    const md = renderMarkdown(doc, plan.components);
    expect(md).toContain('EDIT 14:05 UTC — Identified: A failed database migration. (ops)');
    expect(md).toContain('EDIT 14:07 UTC: Rolling back. (ops)');
  });

  it('leaves a label without a phase as it is', () => {
    expect(phasedLabel('EDIT 14:05 UTC', undefined)).toBe('EDIT 14:05 UTC');
    expect(phasedLabel('EDIT 14:05 UTC', 'monitoring')).toBe('EDIT 14:05 UTC — Monitoring');
  });

  it('publishes a retroactive operator post as retroactive and resolved', () => {
    const doc = newOperatorIncident(
      { title: 'Night outage', components: [{ id: 'db', impact: 'major_outage' }], openedAt: Date.parse(at('02:00')), resolvedAt: Date.parse(at('02:20')) },
      'ops',
      NOW,
      catalog,
    );
    const [inc] = statusModel({ plan, incidents: [doc], now: NOW }).incidents;
    expect(inc).toMatchObject({ status: 'resolved', retroactive: true, title: 'Night outage' });
    expect(inc?.timeline.map((e) => [e.label, e.text])).toEqual([
      ['02:00 UTC', 'Night outage'],
      ['EDIT 02:20 UTC', 'Resolved.'],
    ]);
  });
});
