import { describe, expect, it } from 'vitest';
import { componentsCell, renderIncident, renderIncidentList } from '../../src/cli/commands/incidents.js';
import { escapeControls, renderFields, renderTable } from '../../src/cli/table.js';
import type { Incident } from '../../src/events/incident.js';
import { summariseDocument } from '../../src/events/incident-summary.js';
import { appId, largeIncident } from '../helpers/large-incident.js';

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
        'ID     STATUS  REVIEW     SEVERITY  OPENED (UTC)      ROOT  COMPONENTS  TITLE',
        'inc_1  open    confirmed  critical  2024-11-18 23:58  web   1 major     Apps [PAR]: Web shop unreachable',
        '',
      ].join('\n'),
    );
  });

  it('shows fields, components, signals and the timeline, with a day line when it spans days', () => {
    const out = renderIncident(incident);
    expect(out).toContain('severity  critical\n');
    expect(out).toContain('resolved  -\n');
    expect(out).toContain('COMPONENT  IMPACT\nweb        major_outage\n\nRULE');
    expect(out).toContain('affected  1: 1 major_outage\nsignals   1: 1 outage\n');
    expect(out).not.toContain('more');
    expect(out).toMatch(/outage\s+web-http\s+timeout\s+2024-11-18 23:57\s+-\s+https:\/\/shop\/\s+local\n/);
    expect(out.endsWith(
      'TIMELINE\n2024-11-18\n23:58 UTC  opened  Web shop unreachable  (tocsin)\n2024-11-19\n00:03 UTC  confirmed  Confirmed by ops  (ops)\n',
    )).toBe(true);
  });
});

describe('escaping what came from the daemon', () => {
  it('shows control and invisible formatting characters as escapes', () => {
    expect(escapeControls('\u001b[2J\u001b]0;pwned\u0007 ok')).toBe('\\x1b[2J\\x1b]0;pwned\\x07 ok');
    expect(escapeControls('abc\u202egnp.exe \u2066x\u2069 \u200b \ufeff \u009b \u007f')).toBe(
      'abc\\u202egnp.exe \\u2066x\\u2069 \\u200b \\ufeff \\x9b \\x7f',
    );
    expect(escapeControls('a\ud800b 👍 é 中 👨‍👩‍👧')).toBe('a\\ud800b 👍 é 中 👨‍👩‍👧');
    expect(escapeControls('one\ntwo\tthree')).toBe('one\\x0atwo\\x09three');
    expect(escapeControls('one\ntwo\tthree\r', { keepLines: true })).toBe('one\ntwo\tthree\\x0d');
  });

  it('keeps JSON valid and equal when escaping it', () => {
    const value = { title: 'a\u202eb\u009bc\u001bd\u2028', note: 'x\\\u202e' };
    const out = escapeControls(JSON.stringify(value), { json: true });
    expect(out).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2028]/);
    expect(JSON.parse(out)).toEqual(value);
  });

  it('is applied to table cells, fields and timeline lines', () => {
    expect(renderTable(['A'], [['x\u001b[31my\tz']])).toBe('A\nx\\x1b[31my z\n');
    expect(renderFields([['title', 'evil\u202etxt.exe']])).toBe('title  evil\\u202etxt.exe\n');
    const hostile: Incident = {
      ...incident,
      title: 'Web \u001b[2J shop',
      timeline: [{ at: '2024-11-18T23:58:07.000Z', kind: 'note', text: 'old \u001b]8;;http://evil\u0007 note\r\nsecond', author: 'op\u202es' }],
    };
    const shown = renderIncident(hostile);
    expect(shown).toContain('title     Web \\x1b[2J shop\n');
    expect(shown).toContain('23:58 UTC  note  old \\x1b]8;;http://evil\\x07 note second  (op\\u202es)\n');
    expect(renderIncidentList([hostile])).toContain('Web \\x1b[2J shop');
    expect(shown + renderIncidentList([hostile])).not.toMatch(/[\u001b\u0007\u202e\r]/);
  });
});

describe('a 10,000-component incident in the CLI (CONTRACT §5.11)', () => {
  const big = largeIncident(10_000);
  // What the API answers by default: the first 100 of each, with the counts.
  const answered = summariseDocument(big);

  it('lists it with its components counted per impact', () => {
    expect(componentsCell(answered.component_counts)).toBe('10001 (7001 major, 2000 partial, 1000 degraded)');
    expect(renderIncidentList([answered])).toContain('  zone-par1  10001 (7001 major, 2000 partial, 1000 degraded)  Zone PAR1');
  });

  it('shows the counts, the first 20 components and signals, and "and N more"', () => {
    const out = renderIncident(answered);
    expect(out.length).toBeLessThan(8 * 1024);
    expect(out).toContain('affected  10001: 7001 major_outage, 2000 partial_outage, 1000 degraded_performance\n');
    expect(out).toContain('signals   10000: 1000 slow, 9000 outage\n');
    expect(out).toMatch(/\nCOMPONENT {2}IMPACT\nzone-par1 {2}major_outage\n/);
    expect(out).toContain(`${appId(18)}  major_outage\n... and 9981 more (tocsin incidents show inc_zone_par1 --all)\n`);
    expect(out).not.toContain(`${appId(19)}  `);
    expect(out).toContain('... and 9980 more (tocsin incidents show inc_zone_par1 --all)\n');
    // Computed from the document when the API sent no counts (an older daemon).
    expect(renderIncident(big)).toContain('affected  10001: 7001 major_outage');
  });

  it('prints every one with --all', () => {
    const all = renderIncident(summariseDocument(big, { components: 'all', signals: 'all' }), { limit: 'all' });
    expect(all).not.toContain('more (tocsin');
    expect(all).toContain(`${appId(9999)}  major_outage\n`);
  });
});
