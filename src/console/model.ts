import type { Principal } from '../auth/tokens.js';
import { formatDuration } from '../duration.js';
import type { Plan } from '../config/plan.js';
import type { ComponentStatus } from '../engine/types.js';
import type { ProbeResult } from '../events/probe-result.js';
import type { Incident } from '../events/incident.js';
import type { IncidentStore } from '../store/port.js';
import type { HistoryPoint } from './history.js';
import type { Flash } from './sessions.js';

/** Drafts shown at most (the API and CLI list the rest). */
export const MAX_DRAFTS = 50;
/** Confirmed open incidents shown at most. */
export const MAX_OPEN = 50;
/** Resolved or dismissed incidents shown under "Recent". */
export const MAX_RECENT = 20;

export interface ConsoleComponent {
  readonly id: string;
  readonly name: string;
  readonly group: string;
  readonly region: string | undefined;
  readonly status: ComponentStatus;
  /** Open, not dismissed incidents naming this component, drafts included. */
  readonly incidents: readonly { readonly id: string; readonly review: Incident['review'] }[];
}

export interface ConsoleSeries {
  readonly target: string | undefined;
  readonly vantage: string;
  readonly latest: ProbeResult | undefined;
  readonly history: readonly HistoryPoint[];
}

export interface ConsoleProbe {
  readonly id: string;
  readonly kind: string;
  readonly component: string;
  readonly interval: string;
  readonly series: readonly ConsoleSeries[];
}

/** Everything the console page shows, for one signed-in principal. */
export interface ConsoleView {
  readonly principal: Principal;
  readonly csrf: string;
  readonly flash: Flash | undefined;
  /** Review pending, open ones first, newest first within each. */
  readonly drafts: readonly Incident[];
  /** Confirmed and still open. */
  readonly open: readonly Incident[];
  /** Resolved or dismissed, newest first. */
  readonly recent: readonly Incident[];
  readonly components: readonly ConsoleComponent[];
  readonly probes: readonly ConsoleProbe[];
  /** Component id → name, for incident cards. */
  readonly componentNames: Readonly<Record<string, string>>;
}

/** Where the view comes from: the API context's parts, narrowed to what is read. */
export interface ConsoleSources {
  readonly plan: Pick<Plan, 'components' | 'probes'>;
  readonly store: Pick<IncidentStore, 'listIncidents'>;
  readonly engine?: { componentStatuses(): Record<string, ComponentStatus> };
  readonly latest: { forProbe(probe: string): ProbeResult[] };
  readonly history?: { series(r: Pick<ProbeResult, 'probe' | 'target' | 'vantage'>): HistoryPoint[] };
}

export async function buildConsoleView(
  src: ConsoleSources,
  who: { principal: Principal; csrf: string; flash?: Flash },
): Promise<ConsoleView> {
  const [pending, open, latestAny] = await Promise.all([
    src.store.listIncidents({ review: 'pending', limit: MAX_DRAFTS }),
    src.store.listIncidents({ review: 'confirmed', status: 'open', limit: MAX_OPEN }),
    // Recent = the newest incidents that are neither drafts nor ongoing; a page of 4× covers
    // a burst of drafts and open incidents on top.
    src.store.listIncidents({ limit: MAX_RECENT * 4 }),
  ]);
  const drafts = [...pending].sort((a, b) => Number(b.status === 'open') - Number(a.status === 'open'));
  const recent = latestAny
    .filter((i) => i.review !== 'pending' && !(i.review === 'confirmed' && i.status === 'open'))
    .slice(0, MAX_RECENT);

  const statuses = src.engine?.componentStatuses() ?? {};
  const affecting = new Map<string, { id: string; review: Incident['review'] }[]>();
  for (const inc of [...drafts, ...open]) {
    if (inc.status !== 'open') continue;
    for (const c of inc.components) {
      affecting.set(c.id, [...(affecting.get(c.id) ?? []), { id: inc.id, review: inc.review }]);
    }
  }
  const components = src.plan.components.map((c) => ({
    id: c.id,
    name: c.name,
    group: c.group,
    region: c.region,
    status: statuses[c.id] ?? 'operational',
    incidents: affecting.get(c.id) ?? [],
  }));

  const probes = src.plan.probes.map((p) => {
    const latest = src.latest.forProbe(p.id);
    const series: ConsoleSeries[] = [];
    // Every configured target × vantage, even before its first result, then anything else seen
    // (an Alertmanager-fed or renamed series).
    const seen = new Set<string>();
    const add = (target: string | undefined, vantage: string): void => {
      const key = `${target ?? ''}\u0000${vantage}`;
      if (seen.has(key)) return;
      seen.add(key);
      const last = latest.find((r) => (r.target ?? undefined) === target && r.vantage === vantage);
      const history = src.history?.series({ probe: p.id, target, vantage }) ?? [];
      series.push({ target, vantage, latest: last, history });
    };
    for (const t of p.targets) for (const v of p.vantages) add(t, v);
    for (const r of latest) add(r.target, r.vantage);
    return { id: p.id, kind: p.kind, component: p.component, interval: formatDuration(p.intervalMs), series };
  });

  return {
    principal: who.principal,
    csrf: who.csrf,
    flash: who.flash,
    drafts,
    open,
    recent,
    components,
    probes,
    componentNames: Object.fromEntries(src.plan.components.map((c) => [c.id, c.name])),
  };
}
