import { describe, expect, it } from 'vitest';
import { alertToSignal, fingerprintOf, impactOf } from '../../src/alerts/map.js';
import { alertCount, AlertmanagerWebhook, ALERTS_PER_SLICE, MAX_ALERTS_PER_WEBHOOK, parseWebhook } from '../../src/alerts/payload.js';

const NOW = Date.parse('2026-01-01T10:00:00Z');
const mapping = { componentLabel: 'component', rule: 'alertmanager', components: new Set(['db', 'lb']) };

function alert(over: Record<string, unknown> = {}) {
  return AlertmanagerWebhook.parse({
    version: '4',
    alerts: [
      {
        status: 'firing',
        labels: { alertname: 'DbDown', component: 'db', severity: 'critical' },
        annotations: { summary: 'primary unreachable' },
        startsAt: '2026-01-01T09:59:30.123456789Z',
        endsAt: '0001-01-01T00:00:00Z',
        fingerprint: 'f00d',
        ...over,
      },
    ],
  }).alerts[0] as NonNullable<AlertmanagerWebhook['alerts'][number]>;
}

describe('Alertmanager alert → external signal', () => {
  it('maps a firing alert', () => {
    expect(alertToSignal(alert(), mapping, NOW)).toEqual({
      ok: true,
      signal: {
        key: 'f00d',
        component: 'db',
        rule: 'alertmanager',
        probe: 'alertmanager:DbDown@db',
        target: 'f00d',
        error: 'alert',
        detail: 'DbDown: primary unreachable',
        impact: 'major_outage',
        active: true,
        since: Date.parse('2026-01-01T09:59:30.123Z'),
        at: NOW,
      },
    });
  });

  it('uses the instance label as target, a resolved status as inactive, now for a future start', () => {
    const r = alertToSignal(alert({ status: 'resolved', labels: { alertname: 'A', component: 'lb', instance: 'lb-1:443' }, startsAt: '2030-01-01T00:00:00Z' }), mapping, NOW);
    expect(r).toMatchObject({ ok: true, signal: { target: 'lb-1:443', active: false, since: NOW, probe: 'alertmanager:A@lb', impact: 'partial_outage' } });
  });

  it('ignores alerts without a component label or with an unknown one', () => {
    expect(alertToSignal(alert({ labels: { alertname: 'A' } }), mapping, NOW)).toEqual({ ok: false, ignored: { fingerprint: 'f00d', reason: 'no "component" label' } });
    expect(alertToSignal(alert({ labels: { component: 'x' } }), mapping, NOW)).toEqual({ ok: false, ignored: { fingerprint: 'f00d', reason: 'unknown component "x"' } });
    const custom = { ...mapping, componentLabel: 'service' };
    expect(alertToSignal(alert({ labels: { service: 'db' } }), custom, NOW)).toMatchObject({ ok: true, signal: { component: 'db' } });
  });

  it('maps severity to impact, and an impact label wins when valid', () => {
    expect(impactOf({ severity: 'critical' })).toBe('major_outage');
    expect(impactOf({ severity: 'warning' })).toBe('partial_outage');
    expect(impactOf({ severity: 'info' })).toBe('degraded_performance');
    expect(impactOf({ severity: 'WARNING' })).toBe('partial_outage');
    expect(impactOf({})).toBe('partial_outage');
    expect(impactOf({ severity: 'critical', impact: 'degraded_performance' })).toBe('degraded_performance');
    expect(impactOf({ severity: 'info', impact: 'total_meltdown' })).toBe('degraded_performance');
  });

  it('computes a stable fingerprint from the labels when none is given', () => {
    const a = alert({ fingerprint: undefined, labels: { b: '2', a: '1' } });
    const b = alert({ fingerprint: undefined, labels: { a: '1', b: '2' } });
    expect(fingerprintOf(a)).toBe(fingerprintOf(b));
    expect(fingerprintOf(a)).toMatch(/^[0-9a-f]{16}$/);
  });
});

describe('Alertmanager webhook validation', () => {
  const problem = async (body: unknown): Promise<string> => {
    const r = await parseWebhook(body);
    return r.ok ? 'ok' : r.message;
  };

  it('names the field of the first problem', async () => {
    expect(await problem({ version: '4', alerts: [] })).toBe('ok');
    expect(await problem({ alerts: [] })).toBe('version: required');
    expect(await problem({ version: '4' })).toBe('alerts: required');
    expect(await problem({ version: '3', alerts: [] })).toBe('version: expected "4"');
    expect(await problem({ version: '4', alerts: [{ status: 'burning', labels: {}, startsAt: 'x' }] })).toBe('alerts[0].status: expected "firing" or "resolved"');
    expect(await problem({ version: '4', alerts: [{ status: 'firing', labels: { a: 1 }, startsAt: 'x' }] })).toBe('alerts[0].labels.a: expected string');
    expect(await problem({ version: '4', alerts: [{ status: 'firing', labels: {}, startsAt: 'yesterday' }] })).toBe('alerts[0].startsAt: expected an RFC 3339 time');
  });

  it('accepts what Alertmanager adds beyond the documented keys', async () => {
    expect(await problem({ version: '4', truncatedAlerts: 0, groupKey: '{}:{}', extra: true, alerts: [{ status: 'resolved', labels: {}, startsAt: '2026-01-01T00:00:00Z', extra: 1 }] })).toBe('ok');
  });

  it('validates the alerts in slices, pausing between them, and names the alert at fault in any slice', async () => {
    const alerts = Array.from({ length: 2 * ALERTS_PER_SLICE + 1 }, (_, i) => ({ status: 'firing', labels: { i: String(i) }, startsAt: '2026-01-01T00:00:00Z' }));
    let pauses = 0;
    const pause = async () => {
      pauses++;
    };
    const ok = await parseWebhook({ version: '4', alerts }, pause);
    expect(pauses).toBe(2);
    const read = ok.ok ? ok.value.alerts.map((a) => [a.labels.i, a.annotations]) : [];
    expect(read).toEqual(alerts.map((a) => [a.labels.i, {}]));
    const last = 2 * ALERTS_PER_SLICE;
    const burning = alerts.map((a, i) => (i === last ? { ...a, status: 'burning' } : a));
    const bad = await parseWebhook({ version: '4', alerts: burning }, pause);
    expect(bad).toEqual({ ok: false, message: `alerts[${last}].status: expected "firing" or "resolved"` });
  });

  it('counts alerts before validating them (the 413 over MAX_ALERTS_PER_WEBHOOK), leaving other shapes to validation', () => {
    expect(MAX_ALERTS_PER_WEBHOOK).toBe(10_000);
    expect(alertCount({ version: '4', alerts: Array.from({ length: 3 }, () => ({ bogus: true })) })).toBe(3);
    expect(alertCount({ version: '4', alerts: [] })).toBe(0);
    for (const body of [null, 'x', 4, [], {}, { alerts: 'many' }, { alerts: { length: 1e9 } }]) expect(alertCount(body)).toBeUndefined();
  });
});
