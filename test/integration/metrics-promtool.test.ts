import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import type { ProbeResult } from '../../src/events/probe-result.js';
import { Exposition } from '../../src/metrics/exposition.js';
import { probeMetricsRecorder } from '../../src/metrics/probe-metrics.js';
import { createMetrics } from '../../src/metrics/registry.js';
import { makePlan } from '../helpers/plan.js';

const dir = mkdtempSync(join(tmpdir(), 'tocsin-promtool-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `promtool check metrics` on the text; its complaints (lint included) fail the test. */
async function promtool(text: string): Promise<string> {
  const file = join(dir, `metrics-${Date.now()}.txt`);
  writeFileSync(file, text);
  const { stdout, stderr } = await promisify(execFile)('sh', ['-c', `promtool check metrics < ${file}`]).catch(
    (err: { stdout: string; stderr: string; code: number }) => {
      throw new Error(`promtool failed (${err.code}): ${err.stdout}${err.stderr}`);
    },
  );
  return `${stdout}${stderr}`;
}

describe('the /metrics text passes promtool, whatever the families hold', () => {
  // Every kind's metrics, per-probe histograms on, and label values that need escaping.
  const plan = makePlan(
    [
      { id: 'web "quoted"', kind: 'http', targets: ['https://a.example/x\\y'] },
      { id: 'edge-tls', kind: 'tls', targets: ['edge.example:443'] },
      { id: 'lb', kind: 'lb_sync', targets: ['http://lb1:8404/', 'http://lb2:8404/'] },
      { id: 'cellar', kind: 'storage', targets: ['redis://cache:6379/0'] },
    ],
    { metrics: { per_probe_histograms: true } },
  );
  const at = '2026-12-02T10:00:00.000Z';
  const results: ProbeResult[] = [
    { at, probe: 'web "quoted"', target: 'https://a.example/x\\y', vantage: 'par-a', ok: true, duration_ms: 42, observations: { timings: { dns: 1, connect: 2, tls: 5, ttfb: 20, transfer: 3 } } },
    { at, probe: 'web "quoted"', target: 'https://a.example/x\\y', vantage: 'par-b', ok: false, error: 'timeout', duration_ms: 2000 },
    { at, probe: 'edge-tls', target: 'edge.example:443', vantage: 'par-a', ok: true, duration_ms: 12, observations: { timings: { handshake: 9 }, cert_not_after: '2027-03-01T00:00:00.000Z' } },
    { at, probe: 'lb', target: 'http://lb1:8404/', vantage: 'par-a', ok: true, duration_ms: 8, observations: { in_sync: true, lag_s: 0 } },
    { at, probe: 'lb', target: 'http://lb2:8404/', vantage: 'par-a', ok: false, error: 'config_out_of_sync', duration_ms: 8, observations: { in_sync: false, lag_s: 95 } },
    { at, probe: 'cellar', target: 'redis://cache:6379/0', vantage: 'par-a', ok: true, duration_ms: 3, observations: { ops: { connect: 1, ping: 0.5, set: 0.6, get: 0.4, del: 0.4 } } },
  ];

  it('with metrics.per_probe_histograms: true, through the exposition GET /metrics serves', async () => {
    const metrics = createMetrics({ version: 'test', perProbeHistograms: true });
    const record = probeMetricsRecorder(plan, metrics);
    for (const r of results) record(r);
    metrics.schedulerSkipped.inc({ probe: 'web "quoted"' });
    const text = await new Exposition(metrics.registry).text();
    // The escaped labels are in the per-probe families and the per-probe histogram alike.
    expect(text).toContain('tocsin_probe_success{probe="web \\"quoted\\"",kind="http",component="app",target="https://a.example/x\\\\y",vantage="par-b"} 0');
    expect(text).toMatch(/^tocsin_check_duration_seconds_count\{probe="edge-tls",kind="tls",vantage="par-a"\} 1$/m);
    expect(text).toMatch(/^tocsin_tls_cert_not_after_timestamp_seconds\{probe="edge-tls",target="edge.example:443"\} 1803859200$/m);
    expect(text).toMatch(/^tocsin_scheduler_skipped_total\{probe="web \\"quoted\\""\} 1$/m);
    expect(await promtool(text)).not.toMatch(/error/i);
  });
});
