import { describe, expect, it } from 'vitest';
import { probeMetricsRecorder } from '../../src/metrics/probe-metrics.js';
import { createMetrics } from '../../src/metrics/registry.js';
import { makePlan } from '../helpers/plan.js';

const result = (probe: string, ms: number) => ({ at: '2026-12-02T10:00:00.000Z', probe, target: `https://${probe}.example/`, vantage: 'v1', ok: true, duration_ms: ms });

describe('probe metrics: per-probe gauges, histograms per kind and vantage', () => {
  const probes = Array.from({ length: 50 }, (_, i) => ({ id: `p${i}`, kind: 'http', targets: [`https://p${i}.example/`] }));

  it('by default: the last duration per probe and target, one histogram per kind and vantage', async () => {
    const plan = makePlan(probes);
    const metrics = createMetrics({ version: 't', processMetrics: false });
    const record = probeMetricsRecorder(plan, metrics);
    for (let i = 0; i < 50; i++) record(result(`p${i}`, 120));
    record(result('p0', 40));
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/^tocsin_probe_duration_seconds\{probe="p0",kind="http",target="https:\/\/p0.example\/",vantage="v1"\} 0.04$/m);
    expect(text).toMatch(/^tocsin_check_duration_seconds_count\{kind="http",vantage="v1"\} 51$/m);
    // 50 probes, one histogram: its bucket lines do not grow with the probes.
    expect(text.split('\n').filter((l) => l.startsWith('tocsin_check_duration_seconds_bucket')).length).toBe(10);
  });

  it('with metrics.per_probe_histograms: one histogram per probe as well', async () => {
    const plan = makePlan(probes, { metrics: { per_probe_histograms: true } });
    const metrics = createMetrics({ version: 't', processMetrics: false, perProbeHistograms: true });
    const record = probeMetricsRecorder(plan, metrics);
    for (let i = 0; i < 50; i++) record(result(`p${i}`, 120));
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/^tocsin_check_duration_seconds_count\{probe="p7",kind="http",vantage="v1"\} 1$/m);
    expect(text.split('\n').filter((l) => l.startsWith('tocsin_check_duration_seconds_bucket')).length).toBe(500);
  });
});
