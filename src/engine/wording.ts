/**
 * How a signal reads on a status page: the `{placeholders}` a rule's templates may use
 * (docs/rules.md) and the sentences Tocsin writes when a rule has no template of its own.
 * Kept apart from the lifecycle (which decides *when* an entry is written) because the wording
 * is what operators tune and reviewers read, and it has no say in what happens.
 */
import type { EngineContext } from './context.js';
import type { Rule } from './rules.js';
import { ringCounts } from './series.js';
import { cmp, type SignalState, type TargetEval } from './state.js';
import { capitalize, hhmm, humanDuration, iso, render, str } from './text.js';
import type { Impact } from './types.js';

type Vars = Record<string, string | number>;

/** Defines `key` on `vars` as computed on first read, then kept. */
function lazy(vars: Vars, key: string, compute: () => string | number): void {
  Object.defineProperty(vars, key, {
    enumerable: true,
    configurable: true,
    get() {
      const value = compute();
      Object.defineProperty(vars, key, { value, enumerable: true });
      return value;
    },
  });
}

/**
 * The values of every template placeholder for one signal, as of now (`overrides` replace
 * some). Those derived from the failing targets are computed on first read only: a signal of
 * 10,000 alerts (one webhook from a rack of node exporters) sorts and scans them only when a
 * template names them, not each time a title or an entry is written.
 */
export function templateVars(ctx: EngineContext, sig: SignalState, overrides: Readonly<Vars> = {}): Readonly<Vars> {
  const { cfg, state } = ctx;
  const comp = cfg.topology.get(sig.component);
  const rule = cfg.rulesById.get(sig.rule);
  let sorted: [string, TargetEval][] | undefined;
  const evals = () => (sorted ??= Object.entries(sig.failing).sort(([a], [b]) => cmp(a, b)));
  let latestDone = false;
  let latestEval: TargetEval | undefined;
  // The target failing most recently (the first in target order among equals).
  const latest = () => {
    if (!latestDone) {
      latestDone = true;
      for (const [, t] of evals()) if (!latestEval || t.since > latestEval.since) latestEval = t;
    }
    return latestEval;
  };
  const obs = () => evals().find(([, t]) => t.obs)?.[1].obs ?? {};
  let counts: { bad: number; checks: number } | undefined;
  const ring = () => {
    const ruleIndex = cfg.probes.get(sig.probe)?.rules.findIndex((r) => r.id === sig.rule) ?? -1;
    return (counts ??= ringCounts(ctx, sig.probe, evals().map(([t]) => t), ruleIndex));
  };
  const vars: Vars = {
    component: comp.id,
    component_name: comp.name,
    group: comp.group,
    region: comp.region ?? '',
    region_tag: comp.region ? ` [${comp.region}]` : '',
    probe: sig.probe,
    rule: sig.rule,
    since: Number.isNaN(sig.since) ? '' : hhmm(iso(sig.since)),
    duration: Number.isNaN(sig.since) ? '0s' : humanDuration(state.now - sig.since),
    window: rule ? humanDuration(rule.ratio.windowMs) : '',
  };
  lazy(vars, 'failing', () => evals().length);
  lazy(vars, 'total', () => Math.max(evals().length, ctx.index.targetsOf.get(sig.probe)?.size ?? 1));
  lazy(vars, 'targets', () => evals().map(([t]) => t).join(', '));
  lazy(vars, 'vantages', () => {
    const seen = new Set<string>();
    for (const [, t] of evals()) for (const v of t.vantages) seen.add(v);
    return [...seen].sort().join(', ');
  });
  lazy(vars, 'vantages_failing', () => evals().reduce((m, [, t]) => Math.max(m, t.vantages.length), 0));
  lazy(vars, 'vantages_total', () => evals().reduce((m, [, t]) => Math.max(m, t.nonStale), 0));
  lazy(vars, 'error', () => latest()?.error ?? evals()[0]?.[1].error ?? 'failure');
  lazy(vars, 'detail', () => latest()?.detail ?? evals()[0]?.[1].detail ?? '');
  lazy(vars, 'bad', () => ring().bad);
  lazy(vars, 'checks', () => ring().checks);
  lazy(vars, 'version', () => str(obs().version));
  lazy(vars, 'majority_version', () => {
    const o = obs();
    return str(o.majority_version ?? o.expected_version);
  });
  lazy(vars, 'lag', () => {
    const o = obs();
    return typeof o.lag_s === 'number' ? humanDuration(o.lag_s * 1000) : '';
  });
  lazy(vars, 'route', () => str(obs().route));
  for (const [k, v] of Object.entries(overrides)) Object.defineProperty(vars, k, { value: v, enumerable: true });
  return vars;
}

/** The signal in a status-page reader's words (a timeline entry's text, without the final dot). */
export function signalText(ctx: EngineContext, sig: SignalState): string {
  const rule = ctx.cfg.rulesById.get(sig.rule);
  const v = templateVars(ctx, sig);
  if (rule?.spec.text) return render(rule.spec.text, v);
  const from = Number(v.vantages_total) > 1 ? ` from ${v.vantages_failing} of ${v.vantages_total} vantages` : '';
  if (v.error === 'config_out_of_sync') {
    const lbs = `${v.failing} of ${v.total} load balancers (${v.targets})`;
    const lag = v.lag ? `, for ${v.lag}` : '';
    if (v.version && v.majority_version) {
      return `${lbs} ${Number(v.failing) === 1 ? 'serves' : 'serve'} config version ${v.version} while the majority serves ${v.majority_version}${lag}`;
    }
    return `${lbs} out of sync: ${v.detail}`;
  }
  const why = v.detail ? `${v.error}: ${v.detail}` : `${v.error}`;
  if (rule?.condition === 'degraded') return `${v.component_name} is slow${from}: ${v.detail || v.error} (${v.probe})`;
  if (rule?.condition === 'ratio') {
    return `${v.component_name} fails intermittently${from}: ${v.bad} of ${v.checks} checks failed within ${v.window} (${why})`;
  }
  const what = Number(v.total) > 1 ? `${v.failing} of ${v.total} targets of ${v.probe} failing (${v.targets})` : `${v.probe} failing`;
  return `${v.component_name}: ${what}${from} since ${v.since} — ${why}`;
}

/**
 * The `recovered` entry of a signal. While another signal of the component is still active the
 * component is not "available again", so only the probe is said to be healthy.
 */
export function recoveredText(ctx: EngineContext, sig: SignalState, componentStillFailing: boolean): string {
  const comp = ctx.cfg.topology.get(sig.component);
  if (componentStillFailing) return `${comp.name}: ${sig.probe} healthy again`;
  const rule = ctx.cfg.rulesById.get(sig.rule);
  const text = render(rule?.spec.recovered_text ?? '{component_name} available again', templateVars(ctx, sig));
  return capitalize(text.startsWith(comp.name) ? text : `${comp.name}: ${text}`);
}

/** The title's wording for a single-component incident whose rule has no title template. */
export function summaryOf(
  ctx: EngineContext,
  sig: SignalState,
  rule: Rule | undefined,
  impact: Impact | undefined,
): string {
  const name = ctx.cfg.topology.get(sig.component).name;
  const v = templateVars(ctx, sig);
  if (rule?.condition === 'degraded') {
    if (v.error === 'tls_cert_expiring') return `${name} certificate expiring soon`;
    return `${name} slow`;
  }
  if (rule?.condition === 'ratio') return `${name} failing intermittently`;
  if (impact === 'partial_outage' && Number(v.total) > 1) return `${name}: ${v.failing} of ${v.total} targets failing`;
  if (impact === 'partial_outage') return `${name} partially unavailable`;
  return `${name} unreachable`;
}
