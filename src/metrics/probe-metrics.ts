import type { Plan, ProbePlan } from '../config/plan.js';
import type { ProbeResult } from '../events/probe-result.js';
import type { Metrics } from './registry.js';

const HTTP_PHASES = ['dns', 'connect', 'tls', 'ttfb', 'transfer'] as const;

/**
 * Updates the probe metrics of CONTRACT §7 from each result event. Kind and component come from
 * the plan (events do not carry them); results of probes no longer in the plan are ignored.
 */
export function probeMetricsRecorder(plan: Plan, metrics: Metrics): (r: ProbeResult) => void {
  const probes = new Map<string, ProbePlan>(plan.probes.map((p) => [p.id, p]));
  return (r) => {
    const probe = probes.get(r.probe);
    if (!probe) return;
    const target = r.target ?? probe.targets[0] ?? '';
    metrics.probeSuccess.set(
      { probe: r.probe, kind: probe.kind, component: probe.component, target, vantage: r.vantage },
      r.ok ? 1 : 0,
    );
    if (r.duration_ms !== undefined) {
      metrics.probeDuration.observe(
        { probe: r.probe, kind: probe.kind, vantage: r.vantage },
        r.duration_ms / 1000,
      );
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
        if (typeof ms === 'number') metrics.httpPhase.observe({ probe: r.probe, phase }, ms / 1000);
      }
    }
  };
}
