/**
 * What an incident amounts to, derived from its signals: the root component, each component's
 * impact, the severity, the regions and the title (CONTRACT §5, docs/rules.md). Derived again
 * after every change of the incident's signals (`recompute`), never stored apart from the
 * document, so the document cannot drift from its evidence. Kept apart from the lifecycle
 * (lifecycle.ts), which decides which signals belong to which incident; this module only says
 * what they mean.
 */
import { entry, touch } from './changes.js';
import type { EngineContext, IncIndex } from './context.js';
import { externalImpact } from './external.js';
import {
  countRegion,
  incIndex,
  nearestCommonWith,
  setAffectedImpact,
  worstImpact,
} from './incident-index.js';
import { activeSignalsOf, type IncState, type SignalState, targetKey } from './state.js';
import { IMPACT_WORDS, listWords, plural, render } from './text.js';
import { type Impact, IMPACT_RANK, type Severity, SEVERITY_RANK } from './types.js';
import { summaryOf, templateVars } from './wording.js';

/**
 * Root, components, impacts, severity, regions and title from the incident's signals. Only the
 * components whose signals changed since the last call are derived again (`IncIndex.dirty`);
 * the rest comes from counters, so the cost follows the change, not the incident's size.
 */
export function recompute(ctx: EngineContext, id: string): void {
  const { topology, probesOfComponent } = ctx.cfg;
  const inc = ctx.state.incidents[id];
  if (!inc) return;
  const x = incIndex(ctx, inc);
  const doc = inc.doc;
  const common = nearestCommonWith(ctx, x)?.id;
  // A root an operator removed stays out: the document keeps the root the edit gave it.
  const root = common !== undefined && !x.removed.has(common) ? common : doc.root_component;
  const rootHasProbes = (probesOfComponent.get(root)?.length ?? 0) > 0;
  // A root without probes of its own is inferred: as bad as its worst affected dependent.
  const inferred = !x.affected.has(root) && !rootHasProbes;
  const changedImpacts: { id: string; was: Impact; now: Impact }[] = [];
  const added: string[] = [];
  for (const c of x.dirty) {
    // Operators' word stands: a component they removed is not listed again, an impact they set is kept.
    if (!x.affected.has(c) || x.removed.has(c) || x.pinned.has(c)) continue;
    const active = activeSignalsOfComponent(ctx, inc, x.signalsOf.get(c) ?? []);
    // A component whose signals recovered keeps its last impact: it was affected.
    if (active.length === 0) continue;
    const now = componentImpact(ctx, c, active);
    const was = setAffectedImpact(x, c, now);
    if (was === undefined) added.push(c);
    else if (was !== now) changedImpacts.push({ id: c, was, now });
  }
  x.dirty.clear();
  const forced = x.rebuild;
  x.rebuild = false;
  const wasRoot = doc.root_component;
  const first = doc.components[0];
  const rootImpact = x.pinned.get(root) ?? (inferred ? worstImpact(x) : x.impact.get(root));
  // The root leads the list: a new root (or a new first impact of it) re-orders the list.
  const rebuild =
    forced ||
    root !== wasRoot ||
    (rootImpact !== undefined && first?.id !== root) ||
    (first?.id === root && rootImpact === undefined);
  let componentsChanged = rebuild || added.length > 0 || changedImpacts.length > 0;
  if (root !== wasRoot && doc.timeline.length > 0) {
    touch(ctx, inc);
    const names = inc.affected.filter((c) => c !== root).map((c) => topology.get(c).name);
    entry(
      ctx,
      inc,
      'rerooted',
      `Common cause: ${topology.get(root).name}${rootHasProbes ? '' : ' (no probe of its own)'}, which ${listWords(names)} depend on`,
    );
  }
  const previousRoot = first?.id === root ? first.impact : undefined;
  let regionsChanged = false;
  if (rebuild) {
    const components: { id: string; impact: Impact }[] = [];
    if (rootImpact) components.push({ id: root, impact: rootImpact });
    for (const c of inc.affected) {
      const impact = x.impact.get(c);
      if (c !== root && impact) components.push({ id: c, impact });
    }
    regionsChanged = true;
    x.regionCounts.clear();
    x.compPos.clear();
    components.forEach((c, i) => {
      x.compPos.set(c.id, i);
      countRegion(ctx, x, c.id, 1);
    });
    doc.components = components;
  } else {
    for (const c of added) {
      if (c === root) continue;
      x.compPos.set(c, doc.components.length);
      doc.components.push({ id: c, impact: x.impact.get(c) ?? 'partial_outage' });
      if (countRegion(ctx, x, c, 1)) regionsChanged = true;
    }
    for (const ch of changedImpacts) {
      const i = x.compPos.get(ch.id);
      if (i !== undefined) doc.components[i] = { id: ch.id, impact: ch.now };
    }
    if (inferred && rootImpact && first?.id === root && first.impact !== rootImpact) {
      doc.components[0] = { id: root, impact: rootImpact };
      componentsChanged = true;
    }
  }
  // Impact entries: each component whose impact moved, the inferred root included.
  for (const ch of changedImpacts) {
    touch(ctx, inc);
    entry(ctx, inc, 'impact_changed', `${topology.get(ch.id).name}: ${IMPACT_WORDS[ch.now]} (was ${IMPACT_WORDS[ch.was]})`, topology.get(ch.id).name);
  }
  if (inferred && rootImpact && previousRoot && previousRoot !== rootImpact && root === wasRoot) {
    touch(ctx, inc);
    entry(ctx, inc, 'impact_changed', `${topology.get(root).name}: ${IMPACT_WORDS[rootImpact]} (was ${IMPACT_WORDS[previousRoot]})`, topology.get(root).name);
  }
  const regions = regionsChanged ? [...x.regionCounts.keys()].sort() : doc.regions;
  const severity = severityOf(inc, x, root, rootImpact);
  const title = doc.overrides?.title ? doc.title : titleFor(ctx, inc, x, root, regions);
  if (
    componentsChanged ||
    regionsChanged ||
    root !== doc.root_component ||
    severity !== doc.severity ||
    title !== doc.title
  ) {
    touch(ctx, inc);
    doc.root_component = root;
    doc.fingerprint = root;
    doc.regions = regions;
    doc.severity = severity;
    doc.title = title;
  }
}

/** The incident's active signals among `keys` (one component's), in joining order. */
function activeSignalsOfComponent(ctx: EngineContext, inc: IncState, keys: readonly string[]): SignalState[] {
  const out: SignalState[] = [];
  for (const k of keys) {
    const s = ctx.state.signals[k];
    if (s?.active && s.incident === inc.doc.id) out.push(s);
  }
  return out;
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

function severityOf(inc: IncState, x: IncIndex, root: string, rootImpact: Impact | undefined): Severity {
  const inferredRoot = !x.affected.has(root) && rootImpact !== undefined ? 1 : 0;
  const majors = (x.impactCounts[3] ?? 0) + (inferredRoot && rootImpact === 'major_outage' ? 1 : 0);
  const rootMajor = rootImpact === 'major_outage';
  let auto: Severity = 'minor';
  if (rootMajor || majors >= 3) auto = 'critical';
  else if ((x.impactCounts[3] ?? 0) + (x.impactCounts[2] ?? 0) > 0) auto = 'major';
  let top: Severity | undefined;
  for (const [sev, n] of x.fixedSeverities) if (n > 0 && (!top || SEVERITY_RANK[sev] > SEVERITY_RANK[top])) top = sev;
  const allFixed = top !== undefined && x.autoSeverities === 0;
  const now = allFixed && top ? top : top && SEVERITY_RANK[top] > SEVERITY_RANK[auto] ? top : auto;
  // Severity is the incident's peak: a recovering component does not make the past less severe.
  const was = inc.doc.timeline.length > 1 ? inc.doc.severity : undefined;
  return was && SEVERITY_RANK[was] > SEVERITY_RANK[now] ? was : now;
}

/** The title follows the incident's worst moment: milder states and recoveries keep it. */
function titleFor(ctx: EngineContext, inc: IncState, x: IncIndex, root: string, regions: readonly string[]): string {
  const worst = worstImpact(x);
  const rank = (worst ? IMPACT_RANK[worst] : 0) + (inc.affected.length > 1 ? 3 : 0);
  const active = x.active.size > 0;
  if (inc.doc.title !== '' && (!active || rank < inc.titleRank)) return inc.doc.title;
  inc.titleRank = rank;
  return titleOf(ctx, inc, x, root, regions);
}

function titleOf(ctx: EngineContext, inc: IncState, x: IncIndex, root: string, regions: readonly string[]): string {
  const r = ctx.cfg.topology.get(root);
  const regionTag = regions.length > 0 ? ` [${regions.join(', ')}]` : '';
  if (inc.affected.length > 1 || !x.affected.has(root)) {
    const others = x.impact.size - (x.impact.has(root) ? 1 : 0);
    return `${r.group}${regionTag}: ${r.name} — ${plural(others, 'component')} affected`;
  }
  // The worst active signal names the incident (slow handshakes, then 504s: the 504s).
  const active = activeSignalsOf(ctx.state, inc);
  const rankOf = (sg: SignalState) => IMPACT_RANK[componentImpact(ctx, sg.component, [sg])];
  const first = active.sort((a, b) => rankOf(b) - rankOf(a))[0];
  if (!first) return `${r.group}${regionTag}: ${r.name}`;
  const rule = ctx.cfg.rulesById.get(first.rule);
  const vars = templateVars(ctx, first, { region_tag: regionTag });
  if (rule?.spec.title) return render(rule.spec.title, vars);
  return `${r.group}${regionTag}: ${summaryOf(ctx, first, rule, x.impact.get(root))}`;
}
