import { afterEach, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engine/engine.js';
import type { IncidentChange } from '../../src/engine/types.js';
import {
  applyEdit,
  type ComponentImpact,
  componentCatalog,
  editedList,
  newOperatorIncident,
  parseComponentImpact,
  severityOfImpacts,
} from '../../src/engine/edit.js';
import { Incident } from '../../src/events/incident.js';
import {
  addNote,
  confirmIncident,
  createIncident,
  editIncident,
  IncidentWriter,
  type IncidentsContext,
} from '../../src/incidents/manager.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { comp, defaultRules, EngineDriver, iso, merge, MIN, planOf, probe, rounds, SEC, T0 } from '../helpers/engine-events.js';

// Operator-written incidents and edits (docs/incidents.md, "Incidents operators write"): the
// documents they make, and the detector keeping what operators set while it goes on correlating.

const components = [
  comp('svc'),
  comp('app1', ['svc']),
  comp('app2', ['svc']),
  comp('app3', ['svc'], 'AMS'),
  comp('island', [], 'NYC'),
];
const catalog = componentCatalog(components);
const V = ['v1', 'v2', 'v3'];
const plan = planOf(components, ['app1', 'app2', 'app3', 'island'].map((c) => probe(`${c}-p`, c, V)));
const NOW = T0 + 60 * MIN;

describe('an operator-written incident', () => {
  it('is a whole incident document: root first, severity and regions derived, published, its timeline by its author', () => {
    const doc = newOperatorIncident(
      {
        title: 'Payments delayed',
        components: [
          { id: 'app1', impact: 'partial_outage' },
          { id: 'app3', impact: 'degraded_performance' },
        ],
        update: { text: 'A card processor answers slowly.', phase: 'identified' },
      },
      'ops',
      NOW,
      catalog,
    );
    expect(Incident.parse(doc)).toEqual(doc);
    expect(doc).toMatchObject({
      status: 'open',
      review: 'confirmed',
      severity: 'major',
      root_component: 'app1',
      regions: ['AMS', 'PAR'],
      opened_at: iso(NOW),
      resolved_at: null,
      signals: [],
      origin: 'operator',
    });
    expect(doc.id).toMatch(/^inc_[0-9a-f]{20}$/);
    expect(doc.timeline).toEqual([
      { at: iso(NOW), kind: 'opened', text: 'A card processor answers slowly.', author: 'ops', phase: 'identified' },
      { at: iso(NOW), kind: 'confirmed', text: 'Confirmed by ops', author: 'ops' },
    ]);
  });

  it('with past times is a retroactive post: opened, resolved, then confirmed now', () => {
    const doc = newOperatorIncident(
      { title: 'Last night', components: [{ id: 'island', impact: 'major_outage' }], openedAt: T0, resolvedAt: T0 + 20 * MIN },
      'ops',
      NOW,
      catalog,
    );
    expect(doc).toMatchObject({ status: 'resolved', severity: 'critical', opened_at: iso(T0), resolved_at: iso(T0 + 20 * MIN) });
    expect(doc.timeline.map((e) => [e.kind, e.at, e.text])).toEqual([
      ['opened', iso(T0), 'Last night'],
      ['resolved', iso(T0 + 20 * MIN), 'Resolved by ops'],
      ['confirmed', iso(NOW), 'Confirmed by ops (retroactive: resolved at 00:20 UTC)'],
    ]);
  });

  it.each([
    [{ components: [{ id: 'nope', impact: 'major_outage' as const }] }, 'components.0.id: no component nope in the config'],
    [{ components: [{ id: 'app1', impact: 'major_outage' as const }, { id: 'app1', impact: 'partial_outage' as const }] }, 'components.1.id: app1 is listed twice'],
    [{ openedAt: NOW + 5 * MIN }, 'opened_at: must not be in the future'],
    [{ openedAt: T0, resolvedAt: NOW + 5 * MIN }, 'resolved_at: must not be in the future'],
    [{ openedAt: T0 + MIN, resolvedAt: T0 }, 'resolved_at: must not be before opened_at'],
  ])('refuses %j: %s', (over, message) => {
    const input = { title: 'x', components: [{ id: 'app1', impact: 'major_outage' as const }], ...over };
    expect(() => newOperatorIncident(input, 'ops', NOW, catalog)).toThrow(expect.objectContaining({ code: 'INVALID', message }));
  });

  it('accepts a time a little ahead of the daemon\'s clock (laptops drift)', () => {
    const doc = newOperatorIncident({ title: 'x', components: [{ id: 'app1', impact: 'major_outage' }], openedAt: NOW + 30 * SEC }, 'ops', NOW, catalog);
    expect(doc.timeline.map((e) => e.at)).toEqual([iso(NOW + 30 * SEC), iso(NOW + 30 * SEC)]);
  });
});

describe('severity from impacts (CONTRACT §5.5)', () => {
  const c = (id: string, impact: ComponentImpact['impact']): ComponentImpact => ({ id, impact });
  it.each([
    ['a', [c('a', 'major_outage')], 'critical'],
    ['r', [c('r', 'partial_outage'), c('a', 'major_outage'), c('b', 'major_outage'), c('d', 'major_outage')], 'critical'],
    ['r', [c('r', 'partial_outage'), c('a', 'major_outage')], 'major'],
    ['r', [c('r', 'degraded_performance'), c('a', 'partial_outage')], 'major'],
    ['r', [c('r', 'degraded_performance'), c('a', 'degraded_performance')], 'minor'],
  ] as const)('root %s, %j: %s', (root, list, severity) => {
    expect(severityOfImpacts(root, list)).toBe(severity);
  });
});

describe('an edit', () => {
  const base = newOperatorIncident(
    { title: 'Slow API', components: [{ id: 'app1', impact: 'major_outage' }, { id: 'app2', impact: 'major_outage' }] },
    'ops',
    NOW,
    catalog,
  );
  const at = iso(NOW + MIN);

  it('records what the operator set, says it in a reader\'s words, and derives severity and regions again', () => {
    const { incident, entry } = applyEdit(
      base,
      { title: 'Checkout errors', components: [{ id: 'app1', impact: 'degraded_performance' }, { id: 'app3', impact: 'partial_outage' }] },
      'eve',
      at,
      catalog,
    );
    expect(entry).toEqual({
      at,
      kind: 'edited',
      text: 'Title changed to “Checkout errors”. Impact: APP1: degraded performance and APP3: partial outage. No longer affected: APP2.',
      author: 'eve',
    });
    expect(incident).toMatchObject({
      title: 'Checkout errors',
      root_component: 'app1',
      components: [{ id: 'app1', impact: 'degraded_performance' }, { id: 'app3', impact: 'partial_outage' }],
      severity: 'major',
      regions: ['AMS', 'PAR'],
      overrides: { at, title: true, impacts: { app1: 'degraded_performance', app3: 'partial_outage' }, removed: ['app2'] },
    });
    expect(incident.timeline.at(-1)).toEqual(entry);
    expect(Incident.parse(incident)).toEqual(incident);
  });

  it('moves the root to the first listed component when the root is removed, and forgets a removal undone', () => {
    const once = applyEdit(base, { components: [{ id: 'app2', impact: 'major_outage' }] }, 'eve', at, catalog).incident;
    expect(once).toMatchObject({ root_component: 'app2', severity: 'critical', overrides: { removed: ['app1'] } });
    expect(once.overrides?.title).toBeUndefined();
    const twice = applyEdit(once, { components: [{ id: 'app2', impact: 'major_outage' }, { id: 'app1', impact: 'degraded_performance' }] }, 'eve', at, catalog).incident;
    expect(twice.overrides).toMatchObject({ removed: [], impacts: { app1: 'degraded_performance' } });
  });

  it('refuses an edit that changes nothing, unknown components, and dismissed incidents', () => {
    expect(() => applyEdit(base, { title: 'Slow API', components: base.components }, 'eve', at, catalog)).toThrow(
      expect.objectContaining({ code: 'INVALID', message: 'body: nothing to change (the title and components are as given)' }),
    );
    expect(() => applyEdit(base, { components: [{ id: 'ghost', impact: 'major_outage' }] }, 'eve', at, catalog)).toThrow(
      expect.objectContaining({ code: 'INVALID', message: 'components.0.id: no component ghost in the config' }),
    );
    expect(() => applyEdit({ ...base, review: 'dismissed' }, { title: 'x' }, 'eve', at, catalog)).toThrow(
      expect.objectContaining({ code: 'CONFLICT' }),
    );
  });

  it('applies changes (set, remove) to the document\'s own list: new components last, the root moved when removed', () => {
    const { incident, entry } = applyEdit(base, { set: [{ id: 'app3', impact: 'partial_outage' }], remove: ['app1'] }, 'eve', at, catalog);
    expect(incident).toMatchObject({
      root_component: 'app2',
      components: [{ id: 'app2', impact: 'major_outage' }, { id: 'app3', impact: 'partial_outage' }],
      overrides: { impacts: { app3: 'partial_outage' }, removed: ['app1'] },
    });
    expect(entry.text).toBe('Impact: APP3: partial outage. No longer affected: APP1.');
  });

  it.each([
    [{ remove: ['app1', 'app2'] }, 'remove: an incident keeps at least one component'],
    [{ components: [] }, 'components: must list at least one component'],
    [{ remove: ['app3'] }, 'remove: app3 is not a component of this incident'],
    [{ set: [{ id: 'app1', impact: 'degraded_performance' as const }], remove: ['app1'] }, 'remove: app1 is also in set'],
    [{ set: [{ id: 'ghost', impact: 'major_outage' as const }] }, 'set.0.id: no component ghost in the config'],
    [{ components: base.components, remove: ['app1'] }, 'components: the whole list, or changes (set, remove), not both'],
    [{ set: [{ id: 'app1', impact: 'major_outage' as const }] }, 'body: nothing to change (the title and components are as given)'],
  ])('refuses the edit %j: %s', (edit, message) => {
    expect(() => applyEdit(base, edit, 'eve', at, catalog)).toThrow(expect.objectContaining({ code: 'INVALID', message }));
  });

  it('builds the whole list from the current one, impacts to set and components to remove', () => {
    const current = [{ id: 'a', impact: 'major_outage' as const }, { id: 'b', impact: 'partial_outage' as const }];
    expect(editedList(current, [{ id: 'b', impact: 'degraded_performance' }, { id: 'c', impact: 'major_outage' }], ['a'])).toEqual({
      ok: true,
      value: [{ id: 'b', impact: 'degraded_performance' }, { id: 'c', impact: 'major_outage' }],
    });
    expect(editedList(current, [], ['zz'])).toEqual({ ok: false, message: 'zz is not a component of this incident' });
    expect(parseComponentImpact('db-par=major')).toEqual({ ok: true, value: { id: 'db-par', impact: 'major_outage' } });
    expect(parseComponentImpact('db-par=partial_outage')).toEqual({ ok: true, value: { id: 'db-par', impact: 'partial_outage' } });
    expect(parseComponentImpact('db-par=bad').ok).toBe(false);
    expect(parseComponentImpact('=major').ok).toBe(false);
  });
});

/** app1 and app2 time out from T0 at every vantage until `until`; app3 from `app3From`. */
function outage(d: EngineDriver, until: number, app3From?: number): void {
  const streams = ['app1', 'app2'].map((a) => rounds({ id: `${a}-p`, vantages: V }, T0, until, () => 'timeout'));
  if (app3From !== undefined) streams.push(rounds({ id: 'app3-p', vantages: V }, app3From, until, () => 'timeout'));
  d.feedAll(merge(...streams));
}

describe('the detector after an edit', () => {
  /** One incident rooted at svc (no probe of its own) for app1 and app2, edited at T0 + 40 s. */
  function edited(edit: Parameters<typeof applyEdit>[1]) {
    const d = new EngineDriver(plan);
    outage(d, T0 + 40 * SEC);
    const [inc] = d.incidents();
    if (!inc) throw new Error('no incident');
    d.keep(d.engine.operatorAction({ incidentId: inc.id, action: 'edit', by: 'eve', at: T0 + 40 * SEC, edit, catalog }));
    return { d, id: inc.id, before: inc };
  }

  it('keeps the operator\'s title, impacts and removals while a new component joins', () => {
    const { d, id, before } = edited({
      title: 'Checkout failing',
      components: [{ id: 'svc', impact: 'major_outage' }, { id: 'app1', impact: 'degraded_performance' }],
    });
    expect(before.root_component).toBe('svc');
    expect(before.components.map((c) => c.id).sort()).toEqual(['app1', 'app2', 'svc']);
    // The outage goes on and app3 (same dependency) fails too, within the correlation window:
    // it joins the same incident after the edit.
    d.feedAll(
      merge(
        ...['app1', 'app2'].map((a) => rounds({ id: `${a}-p`, vantages: V }, T0 + 40 * SEC, T0 + 5 * MIN, () => 'timeout')),
        rounds({ id: 'app3-p', vantages: V }, T0 + MIN, T0 + 5 * MIN, () => 'timeout'),
      ),
    );
    const all = d.incidents();
    expect(all).toHaveLength(1);
    const inc = all[0];
    expect(inc?.id).toBe(id);
    expect(inc?.title).toBe('Checkout failing');
    expect(inc?.components).toEqual([
      { id: 'svc', impact: 'major_outage' },
      { id: 'app1', impact: 'degraded_performance' },
      { id: 'app3', impact: 'major_outage' },
    ]);
    expect(inc?.regions).toEqual(['AMS', 'PAR']);
    expect(inc?.overrides?.removed).toEqual(['app2']);
    const afterEdit = inc?.timeline.slice(inc.timeline.findIndex((e) => e.kind === 'edited') + 1) ?? [];
    expect(afterEdit.map((e) => e.kind)).toContain('component_added');
    // Nothing more is said about the component the operator removed.
    expect(afterEdit.filter((e) => e.text.includes('APP2'))).toEqual([]);
  });

  it('without an edit, the same failures retitle the incident and list every component (the test above can fail)', () => {
    const d = new EngineDriver(plan);
    outage(d, T0 + 5 * MIN, T0 + MIN);
    const [inc] = d.incidents();
    expect(inc?.title).not.toBe('Checkout failing');
    expect(inc?.components.map((c) => c.id).sort()).toEqual(['app1', 'app2', 'app3', 'svc']);
    expect(inc?.title).toContain('3 components affected');
  });

  it('records the edit in the timeline with its author, and detector entries carry no phase', () => {
    const { d, id } = edited({ title: 'Checkout failing' });
    d.keep(d.engine.operatorAction({ incidentId: id, action: 'note', by: 'eve', at: T0 + 3 * MIN, text: 'Card processor', phase: 'identified' }));
    const inc = d.incidents().find((i) => i.id === id);
    const edit = inc?.timeline.find((e) => e.kind === 'edited');
    expect(edit).toMatchObject({ author: 'eve', text: 'Title changed to “Checkout failing”.' });
    expect(inc?.timeline.at(-1)).toMatchObject({ kind: 'note', phase: 'identified', author: 'eve' });
    expect(inc?.timeline.filter((e) => e.author === 'tocsin' && e.phase !== undefined)).toEqual([]);
  });
});

describe('merging drafts under a common cause found later', () => {
  it('leaves an edited draft as the operator left it, and merges the others', () => {
    const zplan = planOf([comp('zone'), comp('a1', ['zone']), comp('a2', ['zone'])], ['zone', 'a1', 'a2'].map((c) => probe(`${c}-p`, c, V)));
    const zcatalog = componentCatalog(zplan.components);
    const down = (id: string, from: number) => rounds({ id: `${id}-p`, vantages: V }, from, T0 + 12 * MIN, () => 'timeout');
    const d = new EngineDriver(zplan);
    d.feedAll(merge(down('a1', T0), down('a2', T0 + 5 * MIN)).filter((e) => Date.parse(e.at) < T0 + 6 * MIN));
    const drafts = d.incidents();
    expect(drafts.map((i) => i.root_component)).toEqual(['a1', 'a2']);
    const a1 = drafts[0]?.id ?? '';
    d.keep(d.engine.operatorAction({ incidentId: a1, action: 'edit', by: 'eve', at: T0 + 6 * MIN, edit: { title: 'Shop slow' }, catalog: zcatalog }));
    // The zone itself fails: its incident takes a2's draft, not the edited one.
    d.feedAll(merge(down('a1', T0 + 6 * MIN), down('a2', T0 + 6 * MIN), down('zone', T0 + 6 * MIN)));
    const all = d.incidents();
    const edited = all.find((i) => i.id === a1);
    expect(edited).toMatchObject({ status: 'open', title: 'Shop slow', root_component: 'a1' });
    const zone = all.find((i) => i.root_component === 'zone');
    expect(zone?.components.map((c) => c.id).sort()).toEqual(['a2', 'zone']);
  });
});

describe('the detector and an operator\'s own post', () => {
  it('never adopts it after a restart: only an operator resolves it', () => {
    const d = new EngineDriver(plan);
    const doc = newOperatorIncident({ title: 'Vendor outage', components: [{ id: 'app1', impact: 'major_outage' }] }, 'ops', T0, catalog);
    d.engine.adopt([doc]);
    // Far past the adoption grace, with app1 healthy: an adopted incident would resolve here.
    d.feedAll(rounds({ id: 'app1-p', vantages: V }, T0, T0 + 10 * MIN, () => undefined));
    d.tick(T0 + 20 * MIN);
    expect(d.changes.filter((c) => c.incident.id === doc.id)).toEqual([]);
    // The same failure on its component is the detector's own draft, not a reopening of the post.
    d.feedAll(rounds({ id: 'app1-p', vantages: V }, T0 + 20 * MIN, T0 + 21 * MIN, () => 'timeout'));
    const drafts = d.incidents();
    expect(drafts.map((i) => i.id)).not.toContain(doc.id);
    expect(drafts).toHaveLength(1);
  });

  it('adopts a detector incident with its removals: root and list as the operator left them', () => {
    const d = new EngineDriver(plan);
    outage(d, T0 + 40 * SEC);
    const [inc] = d.incidents();
    if (!inc) throw new Error('no incident');
    const edit = { components: [{ id: 'svc', impact: 'major_outage' as const }, { id: 'app1', impact: 'major_outage' as const }] };
    const edited = applyEdit(inc, edit, 'eve', iso(T0 + 40 * SEC), catalog).incident;
    // A new engine (a restart without a snapshot) adopts the stored document; app1 keeps failing.
    const fresh = new EngineDriver(plan);
    fresh.engine.adopt([edited]);
    fresh.feedAll(rounds({ id: 'app1-p', vantages: V }, T0 + 40 * SEC, T0 + 3 * MIN, () => 'timeout'));
    const all = fresh.incidents();
    expect(all.map((i) => i.id)).toEqual([inc.id]);
    expect(all[0]?.root_component).toBe('svc');
    expect(all[0]?.components.map((c) => c.id)).toEqual(['svc', 'app1']);
  });

  it('a later failure of a component an operator removed is a draft of its own, not hidden in the incident', () => {
    const d = new EngineDriver(plan);
    outage(d, T0 + 40 * SEC);
    const [inc] = d.incidents();
    if (!inc) throw new Error('no incident');
    const edit = { components: [{ id: 'svc', impact: 'major_outage' as const }, { id: 'app1', impact: 'major_outage' as const }] };
    d.keep(d.engine.operatorAction({ incidentId: inc.id, action: 'edit', by: 'eve', at: T0 + 40 * SEC, edit, catalog }));
    // app1 goes on failing; app2 recovers, then fails again ten minutes later.
    d.feedAll(
      merge(
        rounds({ id: 'app1-p', vantages: V }, T0 + 40 * SEC, T0 + 15 * MIN, () => 'timeout'),
        rounds({ id: 'app2-p', vantages: V }, T0 + 40 * SEC, T0 + 15 * MIN, (t) => (t >= T0 + 12 * MIN ? 'timeout' : undefined)),
      ),
    );
    const all = d.incidents();
    expect(all).toHaveLength(2);
    expect(all[0]?.components.map((c) => c.id)).toEqual(['svc', 'app1']);
    expect(all[1]?.components.map((c) => c.id)).toEqual(['app2']);
  });
});

describe('edits and operator-written incidents through the writer and the store', () => {
  const stores: SqliteStore[] = [];
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
  });

  async function setup() {
    const store = SqliteStore.open(':memory:');
    stores.push(store);
    const engine = createEngine({ plan, rules: defaultRules() });
    let now = T0;
    const writer = new IncidentWriter(store);
    const ctx: IncidentsContext = { store, writer, clock: { now: () => now }, engine };
    const changes: IncidentChange[] = [];
    for (const e of merge(...['app1', 'app2'].map((a) => rounds({ id: `${a}-p`, vantages: V }, T0, T0 + MIN, () => 'timeout')))) {
      now = Date.parse(e.at);
      changes.push(...engine.tick(now), ...engine.ingest(e));
    }
    await writer.apply(changes);
    const [inc] = await store.listIncidents();
    if (!inc) throw new Error('no incident');
    return { store, engine, writer, ctx, id: inc.id, setNow: (t: number) => (now = t) };
  }

  it('a detector change computed before an edit does not undo it in the store', async () => {
    const { store, writer, ctx, id } = await setup();
    const stale = (await store.getIncident(id))?.incident;
    if (!stale) throw new Error('not stored');
    await editIncident(ctx, id, { by: 'eve', edit: { title: 'Checkout failing', components: [{ id: 'app1', impact: 'partial_outage' }] }, catalog });
    // As if the engine had collected this change just before it heard of the edit.
    await writer.apply([{ incident: { ...stale, title: 'Detector title' }, appended: [], opened: false, rule: 'x', firstFailureMs: T0 }]);
    const stored = (await store.getIncident(id))?.incident;
    expect(stored?.title).toBe('Checkout failing');
    expect(stored?.components).toEqual([{ id: 'app1', impact: 'partial_outage' }]);
    expect(stored?.overrides?.removed?.sort()).toEqual(['app2', 'svc']);
  });

  it('the engine hears of a stored edit and keeps it in its later changes', async () => {
    const { store, engine, writer, ctx, id, setNow } = await setup();
    setNow(T0 + MIN);
    const edit = { title: 'Checkout failing', components: [{ id: 'svc', impact: 'major_outage' as const }, { id: 'app1', impact: 'degraded_performance' as const }] };
    await editIncident(ctx, id, { by: 'eve', edit, catalog });
    const changes: IncidentChange[] = [];
    const events = merge(
      ...['app1', 'app2'].map((a) => rounds({ id: `${a}-p`, vantages: V }, T0 + MIN, T0 + 4 * MIN, () => 'timeout')),
      rounds({ id: 'app3-p', vantages: V }, T0 + MIN, T0 + 4 * MIN, () => 'timeout'),
    );
    for (const e of events) changes.push(...engine.tick(Date.parse(e.at)), ...engine.ingest(e));
    changes.push(...engine.flush());
    expect(changes.some((c) => c.incident.id === id)).toBe(true);
    await writer.apply(changes);
    const stored = (await store.getIncident(id))?.incident;
    expect(stored?.title).toBe('Checkout failing');
    expect(stored?.components).toEqual([
      { id: 'svc', impact: 'major_outage' },
      { id: 'app1', impact: 'degraded_performance' },
      { id: 'app3', impact: 'major_outage' },
    ]);
    expect(stored?.timeline.filter((e) => e.kind === 'edited')).toHaveLength(1);
  });

  it('a component the detector adds between the operator\'s read and their edit survives a removal of another', async () => {
    const { store, engine, writer, ctx, id, setNow } = await setup();
    // What the console's card or `tocsin incidents edit` saw: svc, app1 and app2.
    const seen = (await store.getIncident(id))?.incident.components ?? [];
    expect(seen.map((c) => c.id).sort()).toEqual(['app1', 'app2', 'svc']);
    // Meanwhile app3 (same dependency) fails and the detector writes it into the incident.
    const changes: IncidentChange[] = [];
    const events = merge(
      ...['app1', 'app2', 'app3'].map((a) => rounds({ id: `${a}-p`, vantages: V }, T0 + MIN, T0 + 3 * MIN, () => 'timeout')),
    );
    for (const e of events) changes.push(...engine.tick(Date.parse(e.at)), ...engine.ingest(e));
    await writer.apply(changes);
    expect((await store.getIncident(id))?.incident.components.map((c) => c.id)).toContain('app3');
    // The operator removes app2: the change is applied to the stored list, inside the writer.
    setNow(T0 + 3 * MIN);
    await editIncident(ctx, id, { by: 'eve', edit: { remove: ['app2'] }, catalog });
    const stored = (await store.getIncident(id))?.incident;
    expect(stored?.components.map((c) => c.id).sort()).toEqual(['app1', 'app3', 'svc']);
    expect(stored?.overrides?.removed).toEqual(['app2']);
    expect(stored?.timeline.at(-1)).toMatchObject({ kind: 'edited', text: 'No longer affected: APP2.' });
    // The whole list built from what was seen, as the console and the CLI sent it before, lacks app3.
    const stale = editedList(seen, [], ['app2']);
    expect(stale.ok && stale.value.map((c) => c.id)).not.toContain('app3');
  });

  it('stores a note\'s phase, and an operator-written incident whole', async () => {
    const { store, ctx, id, setNow } = await setup();
    setNow(T0 + 2 * MIN);
    await confirmIncident(ctx, id, { by: 'eve' });
    await addNote(ctx, id, { by: 'eve', text: 'Fix deployed, watching', phase: 'monitoring' });
    const noted = (await store.getIncident(id))?.incident;
    expect(noted?.timeline.at(-1)).toEqual({ at: iso(T0 + 2 * MIN), kind: 'note', text: 'Fix deployed, watching', author: 'eve', phase: 'monitoring' });
    // Entries without a phase come back without the key.
    expect(noted?.timeline.filter((e) => 'phase' in e)).toHaveLength(1);
    const created = await createIncident(ctx, {
      by: 'eve',
      catalog,
      title: 'Vendor outage',
      components: [{ id: 'island', impact: 'partial_outage' }],
      update: { text: 'Our DNS provider reports problems.', phase: 'investigating' },
    });
    expect((await store.getIncident(created.id))?.incident).toEqual(created);
  });
});
