import { formatDuration } from '../../src/duration.js';
import type { CheckResult } from '../../src/events/probe-result.js';
import { roundMs } from '../shared/deadline.js';
import { isReadable, itemName, shortValue } from './fingerprint.js';
import type { Lag } from './lag.js';
import type { Difference, DifferingPart, InstanceVerdict } from './majority.js';

// From an instance's verdict and lag to its result event. Pure: the text is for a status page.

/** Differences listed in `observations.differences`; the detail names the first one. */
const MAX_LISTED_DIFFERENCES = 20;

/** Everything known about one instance after a check. */
export interface InstanceFacts {
  readonly instance: string;
  readonly verdict: InstanceVerdict;
  /** From the lag tracker: set while the instance differs (or held while it is unreachable). */
  readonly lag: Lag | undefined;
  readonly maxLagMs: number;
  readonly durationMs: number;
  readonly version?: string | undefined;
  readonly versionError?: string | undefined;
  readonly majorityVersion?: string | undefined;
  readonly expectedVersion?: string | undefined;
  readonly expectedVersionError?: string | undefined;
}

/** `45s`, `2m5s`, `1h3m`: a lag for a sentence. */
export function formatLag(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${s % 60 ? `${s % 60}s` : ''}`;
  const m = Math.floor((s % 3600) / 60);
  return `${Math.floor(s / 3600)}h${m ? `${m}m` : ''}`;
}

/** The parts a sentence names: the readable ones (status, headers) when any differ, else the hashes. */
function headlineParts(parts: readonly DifferingPart[]): readonly DifferingPart[] {
  const readable = parts.filter((p) => isReadable(p.item) || p.item === 'version');
  return readable.length > 0 ? readable : parts;
}

/** One difference as a sentence: `x-config-version 41 on app1.example.com/, majority 42`. */
export function describeDifference(d: Difference): string {
  const parts = headlineParts(d.parts);
  const name = (p: DifferingPart): string => (p.item === 'version' ? 'config version' : itemName(p.item));
  const own = parts.map((p) => `${name(p)} ${shortValue(p.item, p.value)}`).join(' and ');
  const where = d.route !== undefined ? ` on ${d.route}` : '';
  if (d.against === 'no_majority') {
    return `${own}${where}, no majority among ${d.among ?? 'the'} instances`;
  }
  const refs = parts.map((p) => shortValue(p.item, p.reference ?? '')).join(' and ');
  return `${own}${where}, ${d.against === 'expected' ? 'expected' : 'majority'} ${refs}`;
}

function versionObservations(f: InstanceFacts): Record<string, unknown> {
  const obs: Record<string, unknown> = {};
  if (f.version !== undefined) obs.version = f.version;
  if (f.majorityVersion !== undefined) obs.majority_version = f.majorityVersion;
  if (f.expectedVersion !== undefined) obs.expected_version = f.expectedVersion;
  if (f.versionError !== undefined) obs.version_error = f.versionError;
  if (f.expectedVersionError !== undefined) obs.expected_version_error = f.expectedVersionError;
  return obs;
}

function listDifferences(differences: readonly Difference[]): Record<string, unknown>[] {
  return differences.slice(0, MAX_LISTED_DIFFERENCES).flatMap((d) =>
    d.parts.map((p) => ({
      ...(d.route !== undefined ? { route: d.route } : {}),
      compare: p.item,
      value: p.value,
      reference: p.reference,
      against: d.against,
    })),
  );
}

/**
 * The result event of one instance: its own error when a route could not be fetched; else in sync,
 * or differing — `ok` with its lag until the lag reaches `max_lag`, then `config_out_of_sync`.
 */
export function instanceResult(f: InstanceFacts): CheckResult {
  const base = { target: f.instance, duration_ms: roundMs(f.durationMs) };
  const versions = versionObservations(f);
  const { verdict } = f;

  if (verdict.kind === 'failed') {
    return {
      ...base,
      ok: false,
      error: verdict.failure.error,
      detail: `${verdict.route}: ${verdict.failure.detail}`,
      observations: { route: verdict.route, ...versions },
    };
  }
  const first = verdict.differences[0];
  if (first === undefined || f.lag === undefined) {
    return { ...base, ok: true, observations: { in_sync: true, lag_s: 0, ...versions } };
  }

  const lagS = Math.round(f.lag.lagMs) / 1000;
  const more = verdict.differences.length > 1 ? ` (+${verdict.differences.length - 1} more)` : '';
  const since = f.lag.lagMs >= 1000 ? `, for ${formatLag(f.lag.lagMs)}` : '';
  const outOfSync = f.lag.lagMs >= f.maxLagMs;
  const detail = `${describeDifference(first)}${more}${since}${
    outOfSync ? '' : `, within max_lag ${formatDuration(f.maxLagMs)}`
  }`;
  const route = verdict.differences.find((d) => d.route !== undefined)?.route;
  const observations = {
    in_sync: false,
    lag_s: lagS,
    differs_since: new Date(f.lag.since).toISOString(),
    // When the lag reaches max_lag: a probe with re-checks is checked again then, not an
    // interval later (docs/rules.md, "Re-checks").
    ...(outOfSync ? {} : { out_of_sync_at: new Date(f.lag.since + f.maxLagMs).toISOString() }),
    ...(route !== undefined ? { route } : {}),
    ...versions,
    differences: listDifferences(verdict.differences),
  };
  return outOfSync
    ? { ...base, ok: false, error: 'config_out_of_sync', detail, observations }
    : { ...base, ok: true, detail, observations };
}
