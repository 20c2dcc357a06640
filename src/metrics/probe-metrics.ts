import { redactUrl } from '../../probes/shared/url.js';
import type { Plan, ProbePlan } from '../config/plan.js';
import type { ProbeResult } from '../events/probe-result.js';
import { type Metrics, RECHECK_RESULTS } from './registry.js';
import { type EscapedLabels, escapeLabelValue } from './series-family.js';

const HTTP_PHASES = ['dns', 'connect', 'tls', 'ttfb', 'transfer'] as const;

/** tls kind: handshake time (completed handshakes only) and the leaf's expiry, from observations. */
function recordTls(metrics: Metrics, r: ProbeResult, slots: SeriesSlots): void {
  const { target } = slots;
  const obs = r.observations;
  const timings = obs?.timings;
  const handshake =
    timings && typeof timings === 'object' ? (timings as Record<string, unknown>).handshake : undefined;
  // A handshake cut short (timeout, reset) has a partial time and no certificate: recording it would
  // pull the histogram towards the deadline, which tocsin_probe_checks_total already counts.
  if (typeof handshake === 'number' && typeof obs?.cert_not_after === 'string') {
    metrics.tlsHandshake.observe({ probe: r.probe, target, vantage: r.vantage }, handshake / 1000);
  }
  const notAfter = typeof obs?.cert_not_after === 'string' ? Date.parse(obs.cert_not_after) : Number.NaN;
  if (Number.isFinite(notAfter)) {
    slots.notAfter ??= metrics.tlsCertNotAfter.slot({ probe: r.probe, target });
    metrics.tlsCertNotAfter.setAt(slots.notAfter, notAfter / 1000);
  }
}

/**
 * lb_sync kind: sync state and lag per instance. An unreachable instance carries no `in_sync`
 * (it could not be compared): its gauges keep their last values, its failure is in probe_success.
 */
function recordLbSync(metrics: Metrics, r: ProbeResult, instance: string): void {
  const inSync = r.observations?.in_sync;
  if (typeof inSync !== 'boolean') return;
  metrics.lbConfigInSync.set({ probe: r.probe, instance }, inSync ? 1 : 0);
  const lag = r.observations?.lag_s;
  metrics.lbConfigLag.set({ probe: r.probe, instance }, typeof lag === 'number' ? lag : 0);
}

/** storage kind: the latency of each op that completed (`observations.ops`, milliseconds). */
function recordStorage(metrics: Metrics, r: ProbeResult): void {
  const ops = r.observations?.ops;
  if (!ops || typeof ops !== 'object') return;
  for (const [op, ms] of Object.entries(ops)) {
    if (typeof ms === 'number') metrics.storageOperation.observe({ probe: r.probe, op, vantage: r.vantage }, ms / 1000);
  }
}

/** The daemon's probe-metrics listener, and how a reload hands it the new plan. */
export interface ProbeMetricsRecorder {
  (r: ProbeResult): void;
  /**
   * A reloaded plan: unchanged probes keep their series and values; a probe removed, or whose
   * kind, component, targets or vantages changed, has its series removed from every family (a
   * changed one gets new series at its next result).
   */
  setPlan(plan: Plan): Promise<void>;
}

/** The slots of one series (probe x target x vantage) in the per-probe families, found once. */
interface SeriesSlots {
  /** The result's own target and vantage, as they arrive (the key). */
  readonly rawTarget: string | undefined;
  readonly vantage: string;
  /** The target label: redacted. */
  readonly target: string;
  readonly success: number;
  readonly duration: number;
  /** tocsin_probe_checks_total has no target label: one per probe and vantage, shared by its targets. */
  readonly checks: ChecksSlots;
  // Both set later, but declared at creation: every SeriesSlots keeps one shape, no property array.
  /** tls kind: tocsin_tls_cert_not_after_timestamp_seconds, from the first certificate seen. */
  notAfter: number | undefined;
  /** tocsin_check_duration_seconds: its series for this one (per kind and vantage, or per probe). */
  checkDuration: number | undefined;
}

/** The label values of a series' gauges (success has them all, duration all but component). */
type GaugeLabels = EscapedLabels<'probe' | 'kind' | 'component' | 'target' | 'vantage'>;
/** The label values of a tocsin_probe_checks_total series. */
type ChecksLabels = EscapedLabels<'probe' | 'kind' | 'vantage' | 'result' | 'error'>;

/** tocsin_probe_checks_total's series of one probe at one vantage. */
interface ChecksSlots {
  /** Its success series' label values; a failure series' are these with result and error replaced. */
  readonly labels: ChecksLabels;
  readonly passed: number;
  /** result="failure", per error code, created as codes appear. */
  failed: Map<string, number> | undefined;
}

/**
 * Updates the probe metrics of CONTRACT §7 from each result event. Kind and component come from
 * the plan (events do not carry them); results of probes no longer in the plan are ignored.
 *
 * Each series' target label (redacted) and its slots in the per-probe families are worked out at
 * its first result and kept: a check's update is then a lookup and a few array writes, with no
 * URL parsing, no label hashing and no allocation (50,000 probes every 30 s is 1,700 results a
 * second).
 */
export function probeMetricsRecorder(plan: Plan, metrics: Metrics): ProbeMetricsRecorder {
  let probes = new Map<string, ProbePlan>(plan.probes.map((p) => [p.id, p]));
  const perProbe = plan.metrics?.per_probe_histograms === true;
  // Per probe, its series: a probe has one target and one vantage embedded, a few in a fleet, so
  // a probe holds its series itself, or a short array a scan searches; no key string is built.
  // (An array per probe, even of one, was 9 MB at 50,000 probes: bench/README.md, heap snapshots.)
  const series = new Map<string, SeriesSlots | SeriesSlots[]>();
  const matches = (s: SeriesSlots, r: ProbeResult): boolean => s.rawTarget === r.target && s.vantage === r.vantage;
  const slotsOf = (r: ProbeResult, probe: ProbePlan): SeriesSlots => {
    const known = series.get(r.probe);
    if (known !== undefined) {
      if (!Array.isArray(known)) {
        if (matches(known, r)) return known;
      } else {
        for (const s of known) if (matches(s, r)) return s;
      }
    }
    // /metrics may be public: a label never carries credentials or a query string (docs/metrics.md).
    const target = redactUrl(r.target ?? probe.targets[0] ?? '');
    // The families' series are made here, each label set once: another target of this probe at
    // this vantage shares its checks counters, and one whose label reads the same once redacted
    // shares its gauges too. So the families never index their series by label text, and keep
    // one object of label values for both gauges rather than a text per series (`addShared`).
    const siblings = known === undefined ? [] : Array.isArray(known) ? known : [known];
    const sameVantage = siblings.find((s) => s.vantage === r.vantage);
    const sameLabels = siblings.find((s) => s.vantage === r.vantage && s.target === target);
    // Kept by the families only when they make a series from it (not when it is shared).
    const gauge: GaugeLabels = {
      probe: escapeLabelValue(r.probe),
      kind: escapeLabelValue(probe.kind),
      component: escapeLabelValue(probe.component),
      target: escapeLabelValue(target),
      vantage: escapeLabelValue(r.vantage),
    };
    const slots: SeriesSlots = {
      rawTarget: r.target,
      vantage: r.vantage,
      target,
      success: sameLabels?.success ?? metrics.probeSuccess.addShared(gauge),
      duration: sameLabels?.duration ?? metrics.probeDuration.addShared(gauge),
      checks: sameVantage?.checks ?? newChecks(gauge),
      notAfter: undefined,
      checkDuration: undefined,
    };
    if (known === undefined) series.set(r.probe, slots);
    else if (Array.isArray(known)) known.push(slots);
    else series.set(r.probe, [known, slots]);
    return slots;
  };
  const newChecks = ({ probe, kind, vantage }: GaugeLabels): ChecksSlots => {
    const labels: ChecksLabels = { probe, kind, vantage, result: 'success', error: '' };
    return { labels, passed: metrics.probeChecks.addShared(labels), failed: undefined };
  };
  const failedSlot = (checks: ChecksSlots, r: ProbeResult): number => {
    const error = r.error ?? '';
    checks.failed ??= new Map();
    let slot = checks.failed.get(error);
    if (slot === undefined) {
      slot = metrics.probeChecks.addShared({ ...checks.labels, result: 'failure', error: escapeLabelValue(error) });
      checks.failed.set(error, slot);
    }
    return slot;
  };
  /** tocsin_http_phase_seconds' series by phase (HTTP_PHASES' order), each made when first seen. */
  const phaseSlots: (number | undefined)[] = [];
  const record = (r: ProbeResult): void => {
    const probe = probes.get(r.probe);
    if (!probe) return;
    const slots = slotsOf(r, probe);
    metrics.probeSuccess.setAt(slots.success, r.ok ? 1 : 0);
    if (r.duration_ms !== undefined) {
      const seconds = r.duration_ms / 1000;
      metrics.probeDuration.setAt(slots.duration, seconds);
      // Without per-probe histograms the family ignores `probe`: series per kind and vantage.
      slots.checkDuration ??= metrics.checkDuration.slot({ probe: r.probe, kind: probe.kind, vantage: r.vantage });
      metrics.checkDuration.observeAt(slots.checkDuration, seconds);
    }
    metrics.probeChecks.incAt(r.ok ? slots.checks.passed : failedSlot(slots.checks, r));
    const timings = r.observations?.timings;
    if (probe.kind === 'http' && timings && typeof timings === 'object') {
      for (let i = 0; i < HTTP_PHASES.length; i++) {
        const phase = HTTP_PHASES[i] ?? 'dns';
        const ms = (timings as Record<string, unknown>)[phase];
        if (typeof ms !== 'number') continue;
        const slot = (phaseSlots[i] ??= metrics.httpPhase.slot({ phase }));
        metrics.httpPhase.observeAt(slot, ms / 1000);
      }
    }
    if (probe.kind === 'tls') recordTls(metrics, r, slots);
    if (probe.kind === 'lb_sync') recordLbSync(metrics, r, slots.target);
    if (probe.kind === 'storage') recordStorage(metrics, r);
  };

  /** Every series of a probe gone, or changed in what its labels say, leaves the exposition. */
  const forget = async (id: string, removed: boolean): Promise<void> => {
    const known = series.get(id);
    series.delete(id);
    for (const slots of known === undefined ? [] : Array.isArray(known) ? known : [known]) {
      metrics.probeSuccess.removeAt(slots.success);
      metrics.probeDuration.removeAt(slots.duration);
      // Shared slots come up once per target: removeAt is idempotent.
      metrics.probeChecks.removeAt(slots.checks.passed);
      for (const slot of slots.checks.failed?.values() ?? []) metrics.probeChecks.removeAt(slot);
      if (slots.notAfter !== undefined) metrics.tlsCertNotAfter.removeAt(slots.notAfter);
    }
    const families: PerProbeMetric[] = [
      metrics.tlsHandshake,
      metrics.storageOperation,
      metrics.lbConfigInSync,
      metrics.lbConfigLag,
    ];
    if (perProbe) families.push(metrics.checkDuration);
    await Promise.all(families.map((m) => removeSeriesOf(m, id)));
    if (removed) {
      metrics.schedulerSkipped.remove({ probe: id });
      for (const result of RECHECK_RESULTS) metrics.rechecks.remove({ probe: id, result });
    }
  };

  return Object.assign(record, {
    async setPlan(next: Plan): Promise<void> {
      const nextProbes = new Map<string, ProbePlan>(next.probes.map((p) => [p.id, p]));
      const gone: Promise<void>[] = [];
      for (const [id, old] of probes) {
        const now = nextProbes.get(id);
        if (now && sameLabels(old, now)) continue;
        gone.push(forget(id, now === undefined));
      }
      probes = nextProbes;
      await Promise.all(gone);
    },
  });
}

/** What a reload may change about a probe without its series changing their labels. */
function sameLabels(a: ProbePlan, b: ProbePlan): boolean {
  return (
    a.kind === b.kind &&
    a.component === b.component &&
    sameList(a.targets, b.targets) &&
    sameList(a.vantages, b.vantages)
  );
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** A prom-client family labelled by probe (histograms carry `le` on their bucket samples). */
type PerProbeMetric = {
  get(): Promise<{ values: { labels: Record<string, string | number | undefined> }[] }>;
  remove(labels: Record<string, string | number>): void;
};

/** Removes every series of `probe` from a prom-client family: at a reload, not per check. */
async function removeSeriesOf(metric: PerProbeMetric, probe: string): Promise<void> {
  const seen = new Set<string>();
  for (const { labels } of (await metric.get()).values) {
    if (labels.probe !== probe) continue;
    const { le: _bucket, ...own } = labels;
    const key = JSON.stringify(own);
    if (seen.has(key)) continue;
    seen.add(key);
    metric.remove(own as Record<string, string | number>);
  }
}
