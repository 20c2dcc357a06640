import type { Plan } from '../../src/config/plan.js';
import type { Incident } from '../../src/events/incident.js';

// A zone failure (CONTRACT §5.11): one incident whose root, the zone, has no probe of its own,
// and `apps` affected components under it, each with one signal. Impacts cycle so the counts are
// easy to check: per ten apps, one degraded (rule `slow`), two partial and seven major outages
// (rule `outage`); the root is a major outage. For 10,000 apps: 7,001 major, 2,000 partial,
// 1,000 degraded components; 9,000 `outage` and 1,000 `slow` signals.

const AT = '2024-11-18T14:02:00.000Z';

/** The component counts of `largeIncident(10_000)`. */
export const BIG_COUNTS = {
  total: 10_001,
  degraded_performance: 1000,
  partial_outage: 2000,
  major_outage: 7001,
} as const;

export function appId(i: number): string {
  return `app-${String(i).padStart(5, '0')}`;
}

function impactOf(i: number): Incident['components'][number]['impact'] {
  const k = i % 10;
  return k === 0 ? 'degraded_performance' : k <= 2 ? 'partial_outage' : 'major_outage';
}

export function largeIncident(apps: number, over: Partial<Incident> = {}): Incident {
  const components: Incident['components'] = [{ id: 'zone-par1', impact: 'major_outage' }];
  const signals: Incident['signals'] = [];
  for (let i = 0; i < apps; i++) {
    const impact = impactOf(i);
    components.push({ id: appId(i), impact });
    signals.push({
      rule: impact === 'degraded_performance' ? 'slow' : 'outage',
      probe: `${appId(i)}-http`,
      targets: [`https://${appId(i)}.par1.example/`],
      vantages: ['par-a', 'par-b', 'ams-a'],
      error: impact === 'degraded_performance' ? null : 'connect_timeout',
      since: AT,
      until: null,
    });
  }
  return {
    id: 'inc_zone_par1',
    title: 'Zone PAR1: 10,000 apps unreachable',
    status: 'open',
    review: 'confirmed',
    severity: 'critical',
    opened_at: AT,
    resolved_at: null,
    root_component: 'zone-par1',
    components,
    regions: ['PAR'],
    signals,
    timeline: [
      { at: AT, kind: 'opened', text: 'Tocsin detected a problem: apps of zone PAR1 unreachable.', author: 'tocsin' },
      { at: '2024-11-18T14:03:00.000Z', kind: 'component_added', text: `${apps - 3} more apps affected: app-00003, app-00004, app-00005, and ${apps - 6} more`, author: 'tocsin' },
      { at: '2024-11-18T14:05:00.000Z', kind: 'confirmed', text: 'Confirmed by ops: Zone PAR1 lost power', author: 'ops' },
    ],
    fingerprint: 'zone-par1',
    ...over,
  };
}

/** The components of the config behind {@link largeIncident}: the zone and its apps, one group. */
export function largeComponents(apps: number): Plan['components'][number][] {
  const source = { file: '/dev/null', line: 1 };
  return [
    { id: 'zone-par1', name: 'Zone PAR1', group: 'Zones', region: 'PAR', depends_on: [], source },
    ...Array.from({ length: apps }, (_, i) => ({
      id: appId(i),
      name: `App ${appId(i)}`,
      group: 'Apps',
      region: 'PAR',
      depends_on: ['zone-par1'],
      source,
    })),
  ];
}
