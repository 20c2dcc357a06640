/**
 * What an incident amounts to, derived from its signals: the root component, each component's
 * impact, the severity, the regions and the title (CONTRACT §5, docs/rules.md). Derived again
 * after every change of the incident's signals (`recompute`), never stored apart from the
 * document, so the document cannot drift from its evidence. Kept apart from the lifecycle
 * (lifecycle.ts), which decides which signals belong to which incident; this module only says
 * what they mean.
 */
import type { Incident } from '../incidents/incident.js';
import { entry, touch } from './changes.js';
import type { EngineContext } from './context.js';
import { externalImpact } from './external.js';
import { activeSignalsOf, hasActiveSignal, type IncState, type SignalState, targetKey } from './state.js';
import { IMPACT_WORDS, listWords, plural, render } from './text.js';
import { type Impact, IMPACT_RANK, type Severity, SEVERITY_RANK } from './types.js';
import { summaryOf, templateVars } from './wording.js';

type ComponentImpacts = readonly { id: string; impact: Impact }[];

/** Root, components, impacts, severity, regions and title from the incident's signals. */
export function recompute(ctx: EngineContext, id: string): void {
  const { topology, probesOfComponent } = ctx.cfg;
  const inc = ctx.state.incidents[id];
  if (!inc) return;
  const doc = inc.doc;
  const common = topology.nearestCommon(inc.affected);
  const root = common?.id ?? doc.root_component;
  const previous = new Map(doc.components.map((c) => [c.id, c.impact]));
  const impacts = new Map<string, Impact>();
  const activeSignals = activeSignalsOf(ctx.state, inc);
  for (const c of inc.affected) {
    const active = activeSignals.filter((s) => s.component === c);
    const now = active.length > 0 ? componentImpact(ctx, c, active) : undefined;
    // A component whose signals recovered keeps its last impact: it was affected.
    const impact = now ?? previous.get(c);
    if (impact) impacts.set(c, impact);
  }
  const rootHasProbes = (probesOfComponent.get(root)?.length ?? 0) > 0;
  if (!inc.affected.includes(root) && !rootHasProbes) {
    // A root without probes of its own is inferred: as bad as its worst affected dependent.
    const worst = [...impacts.values()].sort((a, b) => IMPACT_RANK[b] - IMPACT_RANK[a])[0];
    if (worst) impacts.set(root, worst);
  }
  const order = [root, ...inc.affected.filter((c) => c !== root)].filter((c) => impacts.has(c));
  const components = order.map((c) => ({ id: c, impact: impacts.get(c) ?? 'partial_outage' }) as const);
  if (root !== doc.root_component && doc.timeline.length > 0) {
    touch(ctx, inc);
    const names = inc.affected.filter((c) => c !== root).map((c) => topology.get(c).name);
    entry(
      ctx,
      inc,
      'rerooted',
      `Common cause: ${topology.get(root).name}${rootHasProbes ? '' : ' (no probe of its own)'}, which ${listWords(names)} depend on`,
    );
  }
  for (const c of components) {
    const was = previous.get(c.id);
    if (was && was !== c.impact) {
      touch(ctx, inc);
      entry(ctx, inc, 'impact_changed', `${topology.get(c.id).name}: ${IMPACT_WORDS[c.impact]} (was ${IMPACT_WORDS[was]})`);
    }
  }
  const regions = [
    ...new Set(order.map((c) => topology.get(c).region).filter((r): r is string => r !== undefined)),
  ].sort();
  const next: Incident = {
    ...inc.doc,
    root_component: root,
    fingerprint: root,
    components,
    regions,
    severity: severityOf(ctx, inc, root, components),
    title: titleFor(ctx, inc, root, components, regions),
  };
  if (JSON.stringify(next) !== JSON.stringify(inc.doc)) {
    touch(ctx, inc);
    inc.doc = next;
  }
}

/** The impact on a component of its active signals: the worst of them. */
export function componentImpact(ctx: EngineContext, component: string, active: readonly SignalState[]): Impact {
  const { rulesById, probesOfComponent } = ctx.cfg;
  const { targetsOf, byTarget } = ctx.index;
  let best: Impact = 'degraded_performance';
  let auto = false;
  for (const sig of active) {
    const rule = rulesById.get(sig.rule);
    const fixed = rule?.spec.impact;
    let impact: Impact;
    const ext = sig.external ? externalImpact(sig.failing) : undefined;
    if (ext) impact = ext;
    else if (fixed && fixed !== 'auto') impact = fixed;
    else if (rule?.condition === 'degraded') impact = 'degraded_performance';
    else {
      const total = targetsOf.get(sig.probe)?.size ?? 1;
      impact = Object.keys(sig.failing).length >= total ? 'major_outage' : 'partial_outage';
      auto = true;
    }
    if (IMPACT_RANK[impact] > IMPACT_RANK[best]) best = impact;
  }
  if (best === 'major_outage' && auto) {
    // Other probes of the component still answering: only part of it is down (S7).
    const failingProbes = new Set(active.filter((s) => rulesById.get(s.rule)?.condition !== 'degraded').map((s) => s.probe));
    const answering = (probesOfComponent.get(component) ?? []).filter(
      (p) => !failingProbes.has(p) && [...(targetsOf.get(p) ?? [])].some((t) => byTarget.has(targetKey(p, t))),
    );
    if (answering.length > 0) best = 'partial_outage';
  }
  return best;
}

function severityOf(ctx: EngineContext, inc: IncState, root: string, components: ComponentImpacts): Severity {
  const majors = components.filter((c) => c.impact === 'major_outage').length;
  const rootMajor = components.some((c) => c.id === root && c.impact === 'major_outage');
  let auto: Severity = 'minor';
  if (rootMajor || majors >= 3) auto = 'critical';
  else if (components.some((c) => c.impact !== 'degraded_performance')) auto = 'major';
  const fixed = inc.signals
    .map((k) => ctx.cfg.rulesById.get(ctx.state.signals[k]?.rule ?? '')?.spec.severity)
    .filter((s): s is Severity => s !== undefined && s !== 'auto');
  const allFixed = fixed.length > 0 && fixed.length === inc.signals.length;
  const top = fixed.sort((a, b) => SEVERITY_RANK[b] - SEVERITY_RANK[a])[0];
  const now = allFixed && top ? top : top && SEVERITY_RANK[top] > SEVERITY_RANK[auto] ? top : auto;
  // Severity is the incident's peak: a recovering component does not make the past less severe.
  const was = inc.doc.timeline.length > 1 ? inc.doc.severity : undefined;
  return was && SEVERITY_RANK[was] > SEVERITY_RANK[now] ? was : now;
}

/** The title follows the incident's worst moment: milder states and recoveries keep it. */
function titleFor(
  ctx: EngineContext,
  inc: IncState,
  root: string,
  components: ComponentImpacts,
  regions: readonly string[],
): string {
  const rank = Math.max(0, ...components.map((c) => IMPACT_RANK[c.impact])) + (inc.affected.length > 1 ? 3 : 0);
  const active = hasActiveSignal(ctx.state, inc);
  if (inc.doc.title !== '' && (!active || rank < inc.titleRank)) return inc.doc.title;
  inc.titleRank = rank;
  return titleOf(ctx, inc, root, components, regions);
}

function titleOf(
  ctx: EngineContext,
  inc: IncState,
  root: string,
  components: ComponentImpacts,
  regions: readonly string[],
): string {
  const r = ctx.cfg.topology.get(root);
  const regionTag = regions.length > 0 ? ` [${regions.join(', ')}]` : '';
  if (inc.affected.length > 1 || !inc.affected.includes(root)) {
    const others = components.filter((c) => c.id !== root).length;
    return `${r.group}${regionTag}: ${r.name} — ${plural(others, 'component')} affected`;
  }
  // The worst active signal names the incident (slow handshakes, then 504s: the 504s).
  const active = activeSignalsOf(ctx.state, inc);
  const rankOf = (sg: SignalState) => IMPACT_RANK[componentImpact(ctx, sg.component, [sg])];
  const first = active.sort((a, b) => rankOf(b) - rankOf(a))[0];
  if (!first) return `${r.group}${regionTag}: ${r.name}`;
  const rule = ctx.cfg.rulesById.get(first.rule);
  const vars = { ...templateVars(ctx, first), region_tag: regionTag };
  if (rule?.spec.title) return render(rule.spec.title, vars);
  return `${r.group}${regionTag}: ${summaryOf(ctx, first, rule, components[0]?.impact)}`;
}
