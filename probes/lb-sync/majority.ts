import type { Failure } from '../shared/net-errors.js';
import type { Fingerprint } from './fingerprint.js';
import { compareVersions } from './version.js';

// Which instances differ from the reference, for one check. Pure: no I/O, no clock.
//
// Each route is compared on its own, and so is the config version when instances report one.
// The reference of a route is the fingerprint served by the most instances that answered it.
// A tie between the largest groups is broken, in order, by: (1) the group holding an instance at
// the expected version, (2) the group holding the highest version, (3) the only groups without a
// server error (5xx never wins a tie). A tie that survives all three leaves the route without a
// reference: every instance that answered it differs ("no majority"), since there is no telling
// which side is stale. The version is compared the same way (its tie-break is the highest version),
// and, when the control plane gave an expected version, against that too: a whole fleet on an old
// config is out of sync even though it agrees with itself.

/** What one instance gave for one route: a fingerprint, or a failure that kept it from answering. */
export type RouteOutcome =
  | { readonly kind: 'answer'; readonly fingerprint: Fingerprint }
  | { readonly kind: 'failed'; readonly failure: Failure };

export interface InstanceInput {
  readonly instance: string;
  /** One outcome per route, in the order of `AnalysisInput.routes`. */
  readonly routes: readonly RouteOutcome[];
  /** The instance's config version, when it reported one. */
  readonly version?: string | undefined;
}

export interface AnalysisInput {
  /** Route labels (`host/path`), in the order of each instance's `routes`. */
  readonly routes: readonly string[];
  readonly instances: readonly InstanceInput[];
  /** The version every instance should serve (control plane), when known. */
  readonly expectedVersion?: string | undefined;
}

/** One compare item that differs: this instance's value and the reference's (null: no majority). */
export interface DifferingPart {
  readonly item: string;
  readonly value: string;
  readonly reference: string | null;
}

export interface Difference {
  /** The route, or undefined for a difference of config version. */
  readonly route?: string | undefined;
  readonly against: 'majority' | 'expected' | 'no_majority';
  readonly parts: readonly DifferingPart[];
  /** With `no_majority`: how many instances were compared. */
  readonly among?: number | undefined;
}

export type InstanceVerdict =
  /** A route could not be fetched: the instance's own error (not a desync), excluded from that route's majority. */
  | { readonly kind: 'failed'; readonly route: string; readonly failure: Failure }
  /** Every route answered: in sync when `differences` is empty. */
  | { readonly kind: 'compared'; readonly differences: readonly Difference[] };

export interface Analysis {
  /** One verdict per instance, in input order. */
  readonly verdicts: readonly InstanceVerdict[];
  /** The reference config version, when instances report versions and one wins. */
  readonly majorityVersion?: string | undefined;
}

interface Group {
  readonly key: string;
  readonly members: number[];
  /** Every member answered below 500 (for routes; always true for versions). */
  healthy: boolean;
}

function groupBy(entries: readonly { index: number; key: string; healthy: boolean }[]): Group[] {
  const groups = new Map<string, Group>();
  for (const { index, key, healthy } of entries) {
    const group = groups.get(key);
    if (group) {
      group.members.push(index);
      group.healthy &&= healthy;
    } else groups.set(key, { key, members: [index], healthy });
  }
  return [...groups.values()];
}

function highestVersion(members: readonly number[], versions: readonly (string | undefined)[]) {
  let best: string | undefined;
  for (const i of members) {
    const v = versions[i];
    if (v !== undefined && (best === undefined || compareVersions(v, best) > 0)) best = v;
  }
  return best;
}

/** Narrows `tied` with `keep` when that leaves some but not all groups. */
function narrow(tied: Group[], keep: (g: Group) => boolean): Group[] {
  const kept = tied.filter(keep);
  return kept.length > 0 ? kept : tied;
}

/** The reference group (see the rules at the top of this file), or undefined when none wins. */
function pickReference(
  groups: readonly Group[],
  versions: readonly (string | undefined)[],
  expectedVersion: string | undefined,
): Group | undefined {
  const size = Math.max(0, ...groups.map((g) => g.members.length));
  let tied = groups.filter((g) => g.members.length === size);
  if (tied.length <= 1) return tied[0];
  if (expectedVersion !== undefined) {
    tied = narrow(tied, (g) => g.members.some((i) => versions[i] === expectedVersion));
  }
  if (tied.length > 1) {
    const highest = tied.map((g) => highestVersion(g.members, versions));
    let best: string | undefined;
    for (const v of highest)
      if (v !== undefined && (best === undefined || compareVersions(v, best) > 0)) best = v;
    if (best !== undefined) {
      const top = best;
      tied = tied.filter((_g, k) => {
        const v = highest[k];
        return v !== undefined && compareVersions(v, top) === 0;
      });
    }
  }
  if (tied.length > 1) tied = narrow(tied, (g) => g.healthy);
  return tied.length === 1 ? tied[0] : undefined;
}

/** Items whose values differ between two fingerprints (or vary at all, without a reference). */
function differingParts(
  own: Fingerprint,
  reference: Fingerprint | undefined,
  all: readonly Fingerprint[],
): DifferingPart[] {
  return own.parts.flatMap((part, k): DifferingPart[] => {
    if (reference) {
      const ref = reference.parts[k]?.value;
      return ref === undefined || ref === part.value ? [] : [{ ...part, reference: ref }];
    }
    const varies = all.some((f) => f.parts[k]?.value !== part.value);
    return varies ? [{ ...part, reference: null }] : [];
  });
}

/** Compares every instance with the reference of each route and of the version. */
export function analyse(input: AnalysisInput): Analysis {
  const { instances, expectedVersion } = input;
  const versions = instances.map((i) => i.version);
  const differences: Difference[][] = instances.map(() => []);

  input.routes.forEach((route, r) => {
    const answers: { index: number; fp: Fingerprint }[] = [];
    instances.forEach((inst, index) => {
      const outcome = inst.routes[r];
      if (outcome?.kind === 'answer') answers.push({ index, fp: outcome.fingerprint });
    });
    if (answers.length === 0) return;
    const groups = groupBy(
      answers.map((a) => ({ index: a.index, key: a.fp.key, healthy: a.fp.status < 500 })),
    );
    const reference = pickReference(groups, versions, expectedVersion);
    const refFp = reference ? answers.find((a) => a.index === reference.members[0])?.fp : undefined;
    const all = answers.map((a) => a.fp);
    for (const { index, fp } of answers) {
      if (reference && fp.key === reference.key) continue;
      const parts = differingParts(fp, refFp, all);
      differences[index]?.push(
        reference
          ? { route, against: 'majority', parts }
          : { route, against: 'no_majority', parts, among: answers.length },
      );
    }
  });

  const withVersion = instances.flatMap((inst, index) =>
    inst.version === undefined ? [] : [{ index, key: inst.version, healthy: true }],
  );
  const versionRef = pickReference(groupBy(withVersion), versions, expectedVersion);
  const majorityVersion = versionRef?.key;
  for (const { index, key } of withVersion) {
    if (majorityVersion !== undefined && key !== majorityVersion) {
      differences[index]?.push({
        against: 'majority',
        parts: [{ item: 'version', value: key, reference: majorityVersion }],
      });
    } else if (majorityVersion === undefined && withVersion.some((w) => w.key !== key)) {
      differences[index]?.push({
        against: 'no_majority',
        parts: [{ item: 'version', value: key, reference: null }],
        among: withVersion.length,
      });
    }
    if (expectedVersion !== undefined && key !== expectedVersion) {
      differences[index]?.push({
        against: 'expected',
        parts: [{ item: 'version', value: key, reference: expectedVersion }],
      });
    }
  }

  const verdicts = instances.map((inst, index): InstanceVerdict => {
    const r = inst.routes.findIndex((o) => o.kind === 'failed');
    const failed = inst.routes[r];
    if (failed?.kind === 'failed')
      return { kind: 'failed', route: input.routes[r] ?? '', failure: failed.failure };
    return { kind: 'compared', differences: differences[index] ?? [] };
  });
  return majorityVersion === undefined ? { verdicts } : { verdicts, majorityVersion };
}
