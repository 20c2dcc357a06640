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

  it('keeps one series per target and vantage, a checks counter per error code, and redacts the target label', async () => {
    const plan = makePlan([{ id: 'lb', kind: 'http', targets: ['https://user:pw@a.example/x?token=s', 'https://b.example/'] }]);
    const metrics = createMetrics({ version: 't', processMetrics: false });
    const record = probeMetricsRecorder(plan, metrics);
    const at = '2026-12-02T10:00:00.000Z';
    for (const vantage of ['v1', 'v2']) {
      record({ at, probe: 'lb', target: 'https://user:pw@a.example/x?token=s', vantage, ok: true, duration_ms: 10 });
      record({ at, probe: 'lb', target: 'https://b.example/', vantage, ok: false, error: 'timeout', duration_ms: 2000 });
      record({ at, probe: 'lb', target: 'https://b.example/', vantage, ok: false, error: 'status', duration_ms: 30 });
    }
    record({ at, probe: 'lb', target: 'https://b.example/', vantage: 'v1', ok: false, error: 'timeout', duration_ms: 2000 });
    record({ at, probe: 'gone', target: 'https://c.example/', vantage: 'v1', ok: true, duration_ms: 5 });
    const text = await metrics.registry.metrics();
    const lines = (name: string) => text.split('\n').filter((l) => l.startsWith(`${name}{`));
    expect(lines('tocsin_probe_success')).toHaveLength(4);
    expect(text).not.toContain('pw@');
    expect(text).not.toContain('token=');
    expect(text).toMatch(/^tocsin_probe_success\{probe="lb",kind="http",component="[^"]*",target="https:\/\/b.example\/",vantage="v2"\} 0$/m);
    expect(text).toMatch(/^tocsin_probe_checks_total\{probe="lb",kind="http",vantage="v1",result="failure",error="timeout"\} 2$/m);
    expect(text).toMatch(/^tocsin_probe_checks_total\{probe="lb",kind="http",vantage="v2",result="failure",error="status"\} 1$/m);
    expect(text).toMatch(/^tocsin_probe_checks_total\{probe="lb",kind="http",vantage="v1",result="success",error=""\} 1$/m);
    // A probe no longer in the plan records nothing.
    expect(text).not.toContain('probe="gone"');
  });

  it('makes each series once: targets of a probe share its checks counters per vantage, and targets that read the same once redacted share their gauges', async () => {
    const targets = ['https://a.example/x?token=one', 'https://a.example/x?token=two', 'https://b.example/'];
    const plan = makePlan([{ id: 'multi', kind: 'http', targets }]);
    const metrics = createMetrics({ version: 't', processMetrics: false });
    const record = probeMetricsRecorder(plan, metrics);
    const at = '2026-12-02T10:00:00.000Z';
    for (const vantage of ['v1', 'v2']) {
      for (const target of targets) {
        record({ at, probe: 'multi', target, vantage, ok: true, duration_ms: 10 });
        record({ at, probe: 'multi', target, vantage, ok: false, error: 'timeout', duration_ms: 2000 });
      }
    }
    const text = await metrics.registry.metrics();
    const lines = (name: string) => text.split('\n').filter((l) => l.startsWith(`${name}{`));
    // No label set twice in any family (a duplicate would be two lines of one series).
    for (const name of ['tocsin_probe_success', 'tocsin_probe_duration_seconds', 'tocsin_probe_checks_total']) {
      const labelSets = lines(name).map((l) => l.slice(0, l.lastIndexOf(' ')));
      expect(new Set(labelSets).size, name).toBe(labelSets.length);
    }
    // Two targets reading https://a.example/x, one https://b.example/, at two vantages.
    expect(lines('tocsin_probe_success')).toHaveLength(4);
    expect(lines('tocsin_probe_duration_seconds')).toHaveLength(4);
    // Per vantage: the three targets' checks add up in one success and one failure counter.
    expect(lines('tocsin_probe_checks_total')).toHaveLength(4);
    expect(text).toMatch(/^tocsin_probe_checks_total\{probe="multi",kind="http",vantage="v2",result="success",error=""\} 3$/m);
    expect(text).toMatch(/^tocsin_probe_checks_total\{probe="multi",kind="http",vantage="v1",result="failure",error="timeout"\} 3$/m);

    await record.setPlan(makePlan([]));
    expect(await metrics.registry.metrics()).not.toContain('probe="multi"');
    expect(metrics.probeChecks.size).toBe(0);
    expect(metrics.probeSuccess.size).toBe(0);
  });

  it('at a reload: a removed probe leaves every family, a changed one starts afresh, an unchanged one keeps its values', async () => {
    const at = '2026-12-02T10:00:00.000Z';
    const plan = makePlan([
      { id: 'kept', kind: 'http', targets: ['https://kept.example/'] },
      { id: 'gone', kind: 'tls', targets: ['gone.example:443'] },
      { id: 'moved', kind: 'http', component: 'a', targets: ['https://moved.example/'] },
    ]);
    const metrics = createMetrics({ version: 't', processMetrics: false, perProbeHistograms: true });
    const record = probeMetricsRecorder({ ...plan, metrics: { per_probe_histograms: true } }, metrics);
    record({ at, probe: 'kept', target: 'https://kept.example/', vantage: 'v1', ok: false, error: 'timeout', duration_ms: 30 });
    record({ at, probe: 'kept', target: 'https://kept.example/', vantage: 'v1', ok: true, duration_ms: 20 });
    const tls = { handshake: 12 };
    record({ at, probe: 'gone', target: 'gone.example:443', vantage: 'v1', ok: true, duration_ms: 15, observations: { timings: tls, cert_not_after: '2027-01-01T00:00:00Z' } });
    record({ at, probe: 'moved', target: 'https://moved.example/', vantage: 'v1', ok: true, duration_ms: 10 });
    metrics.schedulerSkipped.inc({ probe: 'gone' }, 2);
    let text = await metrics.registry.metrics();
    expect(text).toContain('probe="gone"');
    expect(text).toMatch(/^tocsin_tls_handshake_seconds_count\{probe="gone",/m);

    await record.setPlan(
      makePlan([
        { id: 'kept', kind: 'http', targets: ['https://kept.example/'] },
        { id: 'moved', kind: 'http', component: 'b', targets: ['https://moved.example/'] },
      ]),
    );
    text = await metrics.registry.metrics();
    // Gone from every family: gauges, counters, the TLS histogram, certificate expiry, skipped checks.
    expect(text).not.toContain('probe="gone"');
    expect(text).not.toContain('probe="moved"');
    expect(text).toMatch(/^tocsin_probe_checks_total\{probe="kept",kind="http",vantage="v1",result="failure",error="timeout"\} 1$/m);
    expect(text).toMatch(/^tocsin_probe_checks_total\{probe="kept",kind="http",vantage="v1",result="success",error=""\} 1$/m);
    record({ at, probe: 'moved', target: 'https://moved.example/', vantage: 'v1', ok: true, duration_ms: 10 });
    record({ at, probe: 'gone', target: 'gone.example:443', vantage: 'v1', ok: true, duration_ms: 15 });
    text = await metrics.registry.metrics();
    expect(text).toMatch(/^tocsin_probe_success\{probe="moved",kind="http",component="b",target="https:\/\/moved.example\/",vantage="v1"\} 1$/m);
    expect(text).not.toContain('component="a"');
    expect(text).not.toContain('probe="gone"');
  });
});
