import { describe, expect, it } from 'vitest';
import { kinds, loadScenario, newReplay, replayScenario } from './replay.js';

// The scenarios of SCENARIOS.md replayed through the default rule pack: each fixture is a config
// (components, dependencies, probes, maintenance) and the probe-result events of the fault.

const impacts = (i: { components: { id: string; impact: string }[] } | undefined) =>
  Object.fromEntries(i?.components.map((c) => [c.id, c.impact]) ?? []);

describe('S1 load balancers out of sync', () => {
  it('opens one draft for the LB component naming the instance, version and lag; resolves back in sync', async () => {
    const [inc, ...rest] = await replayScenario('s01-lb-desync');
    expect(rest).toHaveLength(0);
    expect(inc?.root_component).toBe('lb-public-par');
    expect(impacts(inc)).toEqual({ 'lb-public-par': 'partial_outage' });
    expect(inc?.severity).toBe('major');
    expect(inc?.title).toBe('Reverse Proxies [PAR]: 1 of 4 load balancers out of sync');
    expect(inc?.signals).toMatchObject([{ rule: 'lb-sync', targets: ['127.0.0.3:8443'], error: 'config_out_of_sync' }]);
    expect(inc?.timeline[0]?.text).toContain(
      '1 of 4 load balancers (127.0.0.3:8443) serves config version 41 while the majority serves 42, for 30s',
    );
    expect(kinds(inc)).toEqual(['opened', 'recovered', 'resolved']);
    expect(inc?.timeline[1]?.text).toContain('all load balancers back in sync');
    expect(inc?.status).toBe('resolved');
  });
});

describe('S2 RSA 4096: slow handshakes then 504s', () => {
  it('joins TLS slowness and HTTP 504s on one component into one incident showing both', async () => {
    const all = await replayScenario('s02-rsa-handshake');
    expect(all).toHaveLength(1);
    const inc = all[0];
    expect(inc?.signals.map((s) => [s.rule, s.probe, s.error])).toEqual([
      ['degraded', 'tls-lb', 'latency'],
      ['outage', 'app-https', 'status'],
    ]);
    expect(kinds(inc).slice(0, 3)).toEqual(['opened', 'signal_added', 'impact_changed']);
    expect(inc?.timeline[0]?.text).toContain('is slow');
    expect(inc?.timeline[1]?.text).toContain('status 504');
    // The proxies still answer TLS: the 504s are a partial outage, and the incident's peak stays major.
    expect(inc?.timeline[2]?.text).toContain('partial outage (was degraded performance)');
    expect(inc?.severity).toBe('major');
    expect(inc?.title).toBe('Reverse Proxies [PAR]: Public load balancers partially unavailable');
    expect(inc?.status).toBe('resolved');
  });
});

describe('S3 object storage slow from far away', () => {
  it('gives degraded_performance (minor) once a majority of vantages sees it, not before', async () => {
    const all = await replayScenario('s03-storage-slow');
    expect(all).toHaveLength(1);
    const inc = all[0];
    expect(impacts(inc)).toEqual({ 'cellar-par': 'degraded_performance' });
    expect(inc?.severity).toBe('minor');
    expect(inc?.signals[0]?.vantages).toEqual(['par-b', 'syd']);
    // Opened when par-b joined syd (its 3rd slow check), not during the 8 minutes only syd saw it.
    expect(inc?.opened_at).toBe('2023-11-24T09:06:00.200Z');
    expect(inc?.signals[0]?.since).toBe('2023-11-24T09:01:00.400Z');
    expect(kinds(inc)).toEqual(['opened', 'recovered', 'resolved']);
  });
});

describe('S4 power failure in one datacenter', () => {
  it('forms one incident rooted at the datacenter, lists every component, recovers in stages', async () => {
    const all = await replayScenario('s04-dc-power');
    const inc = all.find((i) => i.root_component === 'dc-par6');
    expect(inc?.components.map((c) => c.id)).toEqual(['dc-par6', 'lb-public-par', 'db-par', 'metrics-api', 'orchestration']);
    expect(new Set(Object.values(impacts(inc)))).toEqual(new Set(['major_outage']));
    expect(inc?.severity).toBe('critical');
    expect(inc?.regions).toEqual(['PAR']);
    expect(kinds(inc)).toEqual([
      'opened',
      'component_added',
      'rerooted',
      'component_added',
      'component_added',
      'recovered',
      'recovered',
      'recovered',
      'recovered',
      'resolved',
    ]);
    const recovered = inc?.timeline.filter((t) => t.kind === 'recovered').map((t) => t.text);
    expect(recovered).toEqual([
      'Load balancers available again',
      'Databases available again',
      'Metrics API available again',
      'Orchestration available again',
    ]);
    expect(inc?.timeline[2]?.text).toContain('Datacenter PAR6 (no probe of its own)');
    // Opened at the 3rd failed check of the first component: correlation never delays a draft.
    expect(inc?.opened_at).toBe('2023-11-24T09:01:30.000Z');
  });

  it('never merges a component with no common dependency, whatever its timing', async () => {
    const all = await replayScenario('s04-dc-power');
    expect(all).toHaveLength(2);
    const rbx = all.find((i) => i.root_component === 'api-rbx');
    expect(rbx?.components.map((c) => c.id)).toEqual(['api-rbx']);
    expect(rbx?.regions).toEqual(['RBX']);
  });
});

describe('S5 failure seen from one vantage of three', () => {
  it('opens no incident', async () => {
    expect(await replayScenario('s05-minority-vantage')).toEqual([]);
  });
});

describe('S6 hypervisor lost', () => {
  it('joins the proxy and the add-on under the hypervisor, which has no probe', async () => {
    const all = await replayScenario('s06-hypervisor-lost');
    expect(all).toHaveLength(1);
    const inc = all[0];
    expect(inc?.root_component).toBe('hv-par6-020');
    expect(impacts(inc)).toEqual({ 'hv-par6-020': 'major_outage', 'proxy-public': 'major_outage', 'addon-pg': 'major_outage' });
    expect(inc?.severity).toBe('critical');
    expect(kinds(inc)).toEqual(['opened', 'component_added', 'rerooted', 'recovered', 'recovered', 'resolved']);
    expect(inc?.title).toBe('Infrastructure [PAR]: Hypervisor hv-par6-020 — 2 components affected');
  });
});

describe('S7 503s for one application of three', () => {
  it('is a partial outage, not a major one', async () => {
    const all = await replayScenario('s07-some-routes');
    expect(all).toHaveLength(1);
    expect(impacts(all[0])).toEqual({ 'proxies-public': 'partial_outage' });
    expect(all[0]?.severity).toBe('major');
    expect(all[0]?.signals.map((s) => s.probe)).toEqual(['app1-http']);
  });
});

describe('S8 three-minute outage', () => {
  it('opens a draft within the outage, resolves by itself, and can be confirmed after the fact', async () => {
    const { plan, events } = await loadScenario('s08-short-outage');
    const replay = newReplay(plan);
    for (const e of events) replay.feed(e);
    const [inc] = replay.finish();
    expect(inc?.opened_at).toBe('2023-11-24T09:02:00.000Z');
    expect(inc?.status).toBe('resolved');
    expect(inc?.review).toBe('pending');
    expect(kinds(inc)).toEqual(['opened', 'recovered', 'resolved']);
    const id = inc?.id ?? '';
    const changes = replay.engine.operatorAction({
      incidentId: id,
      action: 'confirm',
      by: 'ops',
      at: Date.parse('2023-11-24T10:00:00Z'),
    });
    const after = changes[0]?.incident;
    expect(after?.review).toBe('confirmed');
    expect(after?.status).toBe('resolved');
    expect(after?.timeline.at(-1)).toMatchObject({ kind: 'confirmed', author: 'ops' });
    expect(after?.timeline.at(-1)?.text).toContain('retroactive');
  });
});

describe('S9 load balancers and the services behind them', () => {
  it('forms one incident rooted at the load balancer with the dependents as affected components', async () => {
    const all = await replayScenario('s09-lb-dependents');
    expect(all).toHaveLength(1);
    const inc = all[0];
    expect(inc?.root_component).toBe('lb-scw');
    expect(inc?.components.map((c) => c.id)).toEqual(['lb-scw', 'k8s-scw', 'db-scw', 'iot-scw']);
    expect(inc?.severity).toBe('critical');
    // k8s opened it; db made the LB the common cause (re-rooted, not a second incident).
    expect(kinds(inc).slice(0, 5)).toEqual(['opened', 'component_added', 'rerooted', 'component_added', 'component_added']);
    expect(inc?.fingerprint).toBe('lb-scw');
  });
});

describe('S10 intermittent failures', () => {
  it('opens exactly one incident, neither zero nor a storm', async () => {
    const all = await replayScenario('s10-intermittent');
    expect(all).toHaveLength(1);
    const inc = all[0];
    expect(inc?.signals.map((s) => s.rule)).toEqual(['intermittent']);
    expect(impacts(inc)).toEqual({ sites: 'partial_outage' });
    expect(kinds(inc)).toEqual(['opened', 'recovered', 'resolved']);
    expect(inc?.timeline[0]?.text).toContain('fails intermittently');
  });
});

describe('S11 maintenance window', () => {
  it('opens nothing for failures inside the window; a failure outlasting it opens a draft at its end', async () => {
    const all = await replayScenario('s11-maintenance');
    expect(all.map((i) => i.root_component)).toEqual(['db-c', 'db-b']);
    const [dbC, dbB] = all;
    // Opened before the window: its start is in the timeline.
    expect(kinds(dbC)).toEqual(['opened', 'maintenance', 'recovered', 'resolved']);
    expect(dbC?.timeline[1]?.text).toContain('Kernel update on hypervisors" started');
    expect(dbB?.opened_at).toBe('2024-11-18T23:00:00.000Z');
    expect(dbB?.signals[0]?.since).toBe('2024-11-18T22:50:10.000Z');
  });

  it('shows components of the window and their dependents under maintenance', async () => {
    const { plan, events } = await loadScenario('s11-maintenance');
    const replay = newReplay(plan);
    for (const e of events.filter((e) => e.at < '2024-11-18T21:15:00Z')) replay.feed(e);
    replay.engine.tick(Date.parse('2024-11-18T21:15:00Z'));
    expect(replay.engine.componentStatuses()).toMatchObject({
      'hv-par6-008': 'under_maintenance',
      'db-a': 'under_maintenance',
      'db-b': 'under_maintenance',
    });
  });
});

describe('S12 storage unreachable from everywhere', () => {
  it('is a major outage of critical severity', async () => {
    const all = await replayScenario('s12-storage-down');
    expect(all).toHaveLength(1);
    expect(impacts(all[0])).toEqual({ 'cellar-c2': 'major_outage' });
    expect(all[0]?.severity).toBe('critical');
    expect(all[0]?.signals[0]?.vantages).toEqual(['par-a', 'par-b', 'rbx']);
    expect(all[0]?.status).toBe('open');
    expect(all[0]?.title).toBe('Cellar [PAR]: Cellar C2 unreachable');
  });
});

describe('S13 dismissed while the failure goes on', () => {
  it('opens no new draft for the same failure; the dismissal and its reason are in the timeline', async () => {
    const { plan, events } = await loadScenario('s13-dismissed');
    const replay = newReplay(plan);
    const cut = '2023-11-24T09:05:00Z';
    for (const e of events.filter((e) => e.at < cut)) replay.feed(e);
    const [draft] = replay.incidents();
    replay.record(
      replay.engine.operatorAction({
        incidentId: draft?.id ?? '',
        action: 'dismiss',
        by: 'ops',
        at: Date.parse(cut),
        reason: 'synthetic check endpoint, not customer facing',
      }),
    );
    for (const e of events.filter((e) => e.at >= cut)) replay.feed(e);
    const all = replay.finish();
    expect(all).toHaveLength(1);
    const inc = all[0];
    expect(inc?.review).toBe('dismissed');
    expect(kinds(inc).slice(0, 2)).toEqual(['opened', 'dismissed']);
    expect(inc?.timeline[1]).toMatchObject({ author: 'ops', text: 'Dismissed by ops: synthetic check endpoint, not customer facing' });
    // The second probe of the same component joined the dismissed incident instead of a new draft.
    expect(inc?.signals.map((s) => s.probe)).toEqual(['api-http', 'api-tls']);
    expect(inc?.status).toBe('resolved');
    expect(() =>
      replay.engine.operatorAction({ incidentId: inc?.id ?? '', action: 'confirm', by: 'ops', at: Date.parse(cut) }),
    ).toThrow(/already dismissed/);
  });
});
