import { describe, expect, it } from 'vitest';
import { alertToSignal, fingerprintOf, impactOf } from '../../src/alerts/map.js';
import { AlertmanagerWebhook, parseWebhook } from '../../src/alerts/payload.js';

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
  const problem = (body: unknown): string => {
    const r = parseWebhook(body);
    return r.ok ? 'ok' : r.message;
  };

  it('names the field of the first problem', () => {
    expect(problem({ version: '4', alerts: [] })).toBe('ok');
    expect(problem({ alerts: [] })).toBe('version: required');
    expect(problem({ version: '4' })).toBe('alerts: required');
    expect(problem({ version: '3', alerts: [] })).toBe('version: expected "4"');
    expect(problem({ version: '4', alerts: [{ status: 'burning', labels: {}, startsAt: 'x' }] })).toBe('alerts[0].status: expected "firing" or "resolved"');
    expect(problem({ version: '4', alerts: [{ status: 'firing', labels: { a: 1 }, startsAt: 'x' }] })).toBe('alerts[0].labels.a: expected string');
    expect(problem({ version: '4', alerts: [{ status: 'firing', labels: {}, startsAt: 'yesterday' }] })).toBe('alerts[0].startsAt: expected an RFC 3339 time');
  });

  it('accepts what Alertmanager adds beyond the documented keys', () => {
    expect(problem({ version: '4', truncatedAlerts: 0, groupKey: '{}:{}', extra: true, alerts: [{ status: 'resolved', labels: {}, startsAt: '2026-01-01T00:00:00Z', extra: 1 }] })).toBe('ok');
  });
});
