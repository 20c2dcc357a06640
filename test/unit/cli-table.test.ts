import { describe, expect, it } from 'vitest';
import { renderIncident, renderIncidentList } from '../../src/cli/commands/incidents.js';
import { renderFields, renderTable } from '../../src/cli/table.js';
import type { Incident } from '../../src/incidents/incident.js';

describe('renderTable', () => {
  it('pads columns to the widest cell, two spaces apart, without trailing spaces', () => {
    expect(renderTable(['ID', 'NAME', 'NOTE'], [['a', 'Web shop', ''], ['bbbb', 'DB', 'x']])).toBe(
      ['ID    NAME      NOTE', 'a     Web shop', 'bbbb  DB        x', ''].join('\n'),
    );
  });

  it('counts code points, flattens line breaks and clips long cells', () => {
    const out = renderTable(['K', 'V'], [['é', 'one\ntwo'], ['—', 'abcdefghij']], { maxWidth: { 1: 5 } });
    expect(out).toBe(['K  V', 'é  one …', '—  abcd…', ''].join('\n'));
  });

  it('prints only the header for no rows, and missing cells as empty', () => {
    expect(renderTable(['A', 'B'], [])).toBe('A  B\n');
    expect(renderTable(['A', 'B', 'C'], [['1']])).toBe('A  B  C\n1\n');
  });

  it('renders fields with keys padded to the longest', () => {
    expect(renderFields([['id', 'inc_1'], ['severity', 'major'], ['empty', '']])).toBe('id        inc_1\nseverity  major\nempty\n');
  });
});

const incident: Incident = {
  id: 'inc_1',
  title: 'Apps [PAR]: Web shop unreachable',
  status: 'open',
  review: 'confirmed',
  severity: 'critical',
  opened_at: '2024-11-18T23:58:07.000Z',
  resolved_at: null,
  root_component: 'web',
  components: [{ id: 'web', impact: 'major_outage' }],
  regions: ['PAR'],
  signals: [{ rule: 'outage', probe: 'web-http', targets: ['https://shop/'], vantages: ['local'], error: 'timeout', since: '2024-11-18T23:57:40.000Z', until: null }],
  timeline: [
    { at: '2024-11-18T23:58:07.000Z', kind: 'opened', text: 'Web shop unreachable', author: 'tocsin' },
    { at: '2024-11-19T00:03:00.000Z', kind: 'confirmed', text: 'Confirmed by ops', author: 'ops' },
  ],
  fingerprint: 'fp',
};

describe('incident views', () => {
  it('lists one row per incident with the opening minute in UTC', () => {
    expect(renderIncidentList([incident])).toBe(
      [
        'ID     STATUS  REVIEW     SEVERITY  OPENED (UTC)      ROOT  TITLE',
        'inc_1  open    confirmed  critical  2024-11-18 23:58  web   Apps [PAR]: Web shop unreachable',
        '',
      ].join('\n'),
    );
  });

  it('shows fields, components, signals and the timeline, with a day line when it spans days', () => {
    const out = renderIncident(incident);
    expect(out).toContain('severity  critical\n');
    expect(out).toContain('resolved  -\n');
    expect(out).toContain('COMPONENT  IMPACT\nweb        major_outage\n');
    expect(out).toMatch(/outage\s+web-http\s+timeout\s+2024-11-18 23:57\s+-\s+https:\/\/shop\/\s+local\n/);
    expect(out.endsWith(
      'TIMELINE\n2024-11-18\n23:58 UTC  opened  Web shop unreachable  (tocsin)\n2024-11-19\n00:03 UTC  confirmed  Confirmed by ops  (ops)\n',
    )).toBe(true);
  });
});
