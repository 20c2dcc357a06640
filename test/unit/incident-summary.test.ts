import { describe, expect, it } from 'vitest';
import type { Incident } from '../../src/events/incident.js';
import { renderMarkdown } from '../../src/status/post.js';
import {
  componentCounts,
  countsOf,
  firstPreferred,
  formatCount,
  impactBreakdown,
  pageAfter,
  signalCounts,
  signalCursor,
  summariseDocument,
  summariseIncident,
} from '../../src/events/incident-summary.js';
import { appId, BIG_COUNTS, largeComponents, largeIncident } from '../helpers/large-incident.js';

// The one summary every edge uses (CONTRACT §5.11): counts per impact and per rule, the first
// components and signals in document order, cursor pages; checked on a 10,000-component incident.

const small: Incident = {
  id: 'inc_1',
  title: 'Apps: web down',
  status: 'open',
  review: 'pending',
  severity: 'major',
  opened_at: '2024-11-18T14:02:00.000Z',
  resolved_at: null,
  root_component: 'web',
  components: [{ id: 'web', impact: 'partial_outage' }, { id: 'api', impact: 'degraded_performance' }],
  regions: [],
  signals: [{ rule: 'outage', probe: 'web-http', targets: ['t'], vantages: ['v'], error: 'timeout', since: '2024-11-18T14:01:00.000Z', until: null }],
  timeline: [{ at: '2024-11-18T14:02:00.000Z', kind: 'opened', text: 'web down', author: 'tocsin' }],
  fingerprint: 'web',
};

describe('incident summary', () => {
  const big = largeIncident(10_000);

  it('counts a 10,000-component incident per impact and its signals per rule', () => {
    expect(componentCounts(big.components)).toEqual(BIG_COUNTS);
    expect(signalCounts(big.signals)).toEqual({ total: 10_000, by_rule: { outage: 9000, slow: 1000 } });
    expect(impactBreakdown(componentCounts(big.components))).toEqual([
      { impact: 'major_outage', count: 7001 },
      { impact: 'partial_outage', count: 2000 },
      { impact: 'degraded_performance', count: 1000 },
    ]);
  });

  it('keeps the first components and signals in document order, the root first', () => {
    const s = summariseIncident(big, { components: 20, signals: 5 });
    expect(s.components.map((c) => c.id)).toEqual(['zone-par1', ...Array.from({ length: 19 }, (_, i) => appId(i))]);
    expect(s.moreComponents).toBe(9981);
    expect(s.signals.map((x) => x.probe)).toEqual(Array.from({ length: 5 }, (_, i) => `${appId(i)}-http`));
    expect(s.moreSignals).toBe(9995);
    const all = summariseIncident(big, { components: 'all', signals: 0 });
    expect(all.components).toHaveLength(10_001);
    expect(all.moreComponents).toBe(0);
    expect(all.signals).toEqual([]);
    expect(all.moreSignals).toBe(10_000);
  });

  it('gives the API form: small documents unchanged but for four added fields, large ones cut', () => {
    expect(summariseDocument(small)).toEqual({
      ...small,
      component_counts: { total: 2, degraded_performance: 1, partial_outage: 1, major_outage: 0 },
      components_truncated: false,
      signal_counts: { total: 1, by_rule: { outage: 1 } },
      signals_truncated: false,
    });
    // Field order too: the added fields come last, the others where they were.
    expect(Object.keys(summariseDocument(small))).toEqual([
      ...Object.keys(small),
      'component_counts',
      'components_truncated',
      'signal_counts',
      'signals_truncated',
    ]);

    const doc = summariseDocument(big);
    expect(doc.components).toHaveLength(100);
    expect(doc.signals).toHaveLength(100);
    expect(doc).toMatchObject({ components_truncated: true, signals_truncated: true, timeline: big.timeline });
    expect(JSON.stringify(doc).length).toBeLessThan(48 * 1024);
    expect(JSON.stringify(big).length).toBeGreaterThan(2_000_000);
    // The stored document is left alone.
    expect(big.components).toHaveLength(10_001);

    const whole = summariseDocument(big, { components: 'all', signals: 'all' });
    expect(whole.components).toEqual(big.components);
    expect(whole.signals).toEqual(big.signals);
    expect(whole).toMatchObject({ components_truncated: false, signals_truncated: false });

    // Summarising a summary keeps the counts of what the first cut left out.
    const again = summariseDocument(doc, { components: 10, signals: 'all' });
    expect(again.components).toHaveLength(10);
    expect(again.component_counts.total).toBe(10_001);
    expect(again).toMatchObject({ components_truncated: true, signals_truncated: true });
    expect(countsOf(again).components.total).toBe(10_001);
    expect(countsOf(small).components.total).toBe(2);
  });

  it('pages components and signals with cursors, in the list endpoint style', () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    for (;;) {
      const page = pageAfter(big.components, (c) => c.id, cursor, 1000);
      if (!page.ok) throw new Error('unknown cursor');
      seen.push(...page.items.map((c) => c.id));
      pages++;
      if (page.next_cursor === null) break;
      expect(page.next_cursor).toBe(page.items.at(-1)?.id);
      cursor = page.next_cursor;
    }
    expect(pages).toBe(11);
    expect(seen).toEqual(big.components.map((c) => c.id));

    // Exactly a page's worth: no next page announced.
    const byId = (c: { id: string }) => c.id;
    const done = { ok: true, next_cursor: null };
    expect(pageAfter(small.components, byId, undefined, 2)).toEqual({ ...done, items: small.components });
    expect(pageAfter(small.components, byId, 'web', 5)).toEqual({ ...done, items: [small.components[1]] });
    expect(pageAfter(small.components, byId, 'api', 5)).toEqual({ ...done, items: [] });
    expect(pageAfter(small.components, byId, 'nope', 5)).toEqual({ ok: false, unknownCursor: 'nope' });

    const first = pageAfter(big.signals, signalCursor, undefined, 2);
    expect(first.ok && first.next_cursor).toBe(`outage/${appId(1)}-http`);
    const second = pageAfter(big.signals, signalCursor, `outage/${appId(1)}-http`, 1);
    expect(second.ok && second.items[0]?.probe).toBe(`${appId(2)}-http`);
  });

  it('chooses the entries in trouble first for a bounded board, shown in their order', () => {
    const members = ['a', 'B', 'c', 'D', 'e', 'F'].map((id) => ({ id, bad: id === id.toUpperCase() }));
    expect(firstPreferred(members, (m) => m.bad, 2)).toEqual({ shown: [members[1], members[3]], more: 4 });
    expect(firstPreferred(members, (m) => m.bad, 4).shown.map((m) => m.id)).toEqual(['a', 'B', 'D', 'F']);
    expect(firstPreferred(members, (m) => m.bad, 10)).toEqual({ shown: members, more: 0 });
  });

  it('formats counts for people', () => {
    expect([0, 7, 999, 1000, 10_001, 1_234_567].map(formatCount)).toEqual(['0', '7', '999', '1,000', '10,001', '1,234,567']);
  });

  it('writes a short status-page post for a 10,000-component incident', () => {
    const md = renderMarkdown(big, largeComponents(10_000));
    expect(md.length).toBeLessThan(4 * 1024);
    expect(md).toContain('10,001 components affected: 7,001 major outage, 2,000 partial outage, 1,000 degraded performance');
    expect(md).toContain('- Zone PAR1: KO (major outage)');
    expect(md).toContain(`- App ${appId(18)}: KO (major outage)`);
    expect(md).not.toContain(appId(19));
    expect(md).toContain('- and 9,981 more');
    // Small incidents as before: no count line, every component.
    const plain = renderMarkdown(small);
    expect(plain).not.toContain('components affected');
    expect(plain).toContain('- web: KO (partial outage)\n- api: KO (degraded performance)\n');
  });
});
