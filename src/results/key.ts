import type { ProbeResult } from '../events/probe-result.js';

/** The identity of a result series: one probe, one target, one vantage. */
export function seriesKey(r: Pick<ProbeResult, 'probe' | 'target' | 'vantage'>): string {
  return `${r.probe}\u0000${r.target ?? ''}\u0000${r.vantage}`;
}
