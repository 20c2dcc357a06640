import { redactUrl } from '../../probes/shared/url.js';
import type { Plan, ProbePlan } from '../config/plan.js';
import type { ProbeResult } from '../events/probe-result.js';
import type { Metrics } from './registry.js';

const HTTP_PHASES = ['dns', 'connect', 'tls', 'ttfb', 'transfer'] as const;

/** tls kind: handshake time (completed handshakes only) and the leaf's expiry, from observations. */
function recordTls(metrics: Metrics, r: ProbeResult, target: string): void {
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
  if (Number.isFinite(notAfter)) metrics.tlsCertNotAfter.set({ probe: r.probe, target }, notAfter / 1000);
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

/**
 * Updates the probe metrics of CONTRACT §7 from each result event. Kind and component come from
 * the plan (events do not carry them); results of probes no longer in the plan are ignored.
 */
export function probeMetricsRecorder(plan: Plan, metrics: Metrics): (r: ProbeResult) => void {
  const probes = new Map<string, ProbePlan>(plan.probes.map((p) => [p.id, p]));
  const perProbe = plan.metrics?.per_probe_histograms === true;
  return (r) => {
    const probe = probes.get(r.probe);
    if (!probe) return;
    // /metrics may be public: a label never carries credentials or a query string (docs/metrics.md).
    const target = redactUrl(r.target ?? probe.targets[0] ?? '');
    metrics.probeSuccess.set(
      { probe: r.probe, kind: probe.kind, component: probe.component, target, vantage: r.vantage },
      r.ok ? 1 : 0,
    );
    if (r.duration_ms !== undefined) {
      const seconds = r.duration_ms / 1000;
      metrics.probeDuration.set({ probe: r.probe, kind: probe.kind, target, vantage: r.vantage }, seconds);
      const labels = { kind: probe.kind, vantage: r.vantage };
      metrics.checkDuration.observe(perProbe ? { probe: r.probe, ...labels } : labels, seconds);
    }
    metrics.probeChecks.inc({
      probe: r.probe,
      kind: probe.kind,
      vantage: r.vantage,
      result: r.ok ? 'success' : 'failure',
      error: r.error ?? '',
    });
    const timings = r.observations?.timings;
    if (probe.kind === 'http' && timings && typeof timings === 'object') {
      for (const phase of HTTP_PHASES) {
        const ms = (timings as Record<string, unknown>)[phase];
        if (typeof ms === 'number') metrics.httpPhase.observe({ phase }, ms / 1000);
      }
    }
    if (probe.kind === 'tls') recordTls(metrics, r, target);
    if (probe.kind === 'lb_sync') recordLbSync(metrics, r, target);
    if (probe.kind === 'storage') recordStorage(metrics, r);
  };
}
