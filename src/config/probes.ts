import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import type { ProbeKind } from '../../probes/probe.js';
import type { TlsSpec } from '../../probes/shared/tls-spec.js';
import { formatDuration } from '../duration.js';
import { walkSection } from './includes.js';
import { show, typeName } from './issues.js';
import { pick } from './pick.js';
import type { ProbePlan, RecheckPlan } from './plan.js';
import { describeFsError, displayFile } from './problems.js';
import { ProbeCommonShape, type QueueSpec, type RecheckSpec } from './schema.js';
import { lineOf, noteDuplicate, report, reportIssues, type Reporting, type Site } from './site.js';
import { didYouMean } from './suggest.js';
import { isRecord } from '../json.js';

/**
 * The `probes:` list (with its includes) assembled into {@link ProbePlan}s: the kind looked up,
 * its keys checked strictly, timing and re-check defaults applied, vantages checked against the
 * plan's, CA files read. Component references are returned to be checked once every component
 * is known.
 */

/** A probe's timeout when none is given, unless half its interval is shorter (CONTRACT §2). */
const DEFAULT_TIMEOUT_MS = 10_000;
/** Re-checks when neither the probe nor `defaults.recheck` says otherwise (docs/rules.md). */
const RECHECK_DEFAULTS = { intervalMs: 2000, max: 5 } as const;

/** What probe assembly needs besides reporting: the probe kinds by `kind:` name. */
export interface KindsContext extends Reporting {
  readonly kinds: Readonly<Record<string, ProbeKind>>;
}

export interface ProbesResult {
  readonly plans: ProbePlan[];
  /** Every probe id written, valid or not (rule selectors name them). */
  readonly ids: Set<string>;
  /** Every label key written on a probe, valid or not (rule selectors name them). */
  readonly labelKeys: Set<string>;
  /** Checked once every component is known. */
  readonly componentRefs: { readonly site: Site; readonly component: string }[];
}

/** What every probe is checked against, from the rest of the config. */
export interface ProbeDefaults {
  /** Undefined when `queue` or `vantage` is invalid: vantage checks are then skipped. */
  readonly vantages: readonly string[] | undefined;
  readonly queueKind: QueueSpec['kind'];
  /** `defaults.recheck` (undefined when absent or invalid: its problem is reported at the top). */
  readonly recheck: RecheckSpec | undefined;
}

interface ProbeEnv extends ProbeDefaults {
  readonly firstAt: Map<string, string>;
  readonly result: ProbesResult;
}

export async function loadProbes(
  ctx: KindsContext,
  site: Site,
  list: unknown,
  given: ProbeDefaults,
): Promise<ProbesResult> {
  const result: ProbesResult = { plans: [], ids: new Set(), labelKeys: new Set(), componentRefs: [] };
  const env: ProbeEnv = { ...given, firstAt: new Map(), result };
  const visit = (item: unknown, s: Site) => visitProbe(ctx, env, item, s);
  await walkSection(ctx, { label: 'probes', visit }, list, site);
  return env.result;
}

/** The common keys parsed one by one, so each cross-check runs whenever its own keys are valid. */
function parseCommon(item: Record<string, unknown>) {
  return {
    id: pick(ProbeCommonShape.id, item.id),
    component: pick(ProbeCommonShape.component, item.component),
    interval: pick(ProbeCommonShape.interval, item.interval),
    timeout: pick(ProbeCommonShape.timeout, item.timeout),
    vantages: pick(ProbeCommonShape.vantages, item.vantages),
    labels: pick(ProbeCommonShape.labels, item.labels),
    tls: pick(ProbeCommonShape.tls, item.tls),
    recheck: pick(ProbeCommonShape.recheck, item.recheck),
  };
}
type CommonKeys = ReturnType<typeof parseCommon>;

async function visitProbe(ctx: KindsContext, env: ProbeEnv, item: unknown, site: Site): Promise<void> {
  if (!isRecord(item)) {
    return report(ctx, site, [], `expected a probe (a mapping) or { include: glob }, got ${typeName(item)}`);
  }
  noteDuplicate(ctx, env.firstAt, site, item, 'probe');
  if (typeof item.id === 'string') env.result.ids.add(item.id);
  if (isRecord(item.labels)) for (const key of Object.keys(item.labels)) env.result.labelKeys.add(key);
  const common = parseCommon(item);
  const kind = lookupKind(ctx, site, item.kind);
  const spec = kind ? parseProbe(ctx, site, kind, item) : undefined;
  if (!kind) reportCommonIssues(ctx, site, item);
  const timing = checkTiming(ctx, site, common);
  const vantages = checkVantages(ctx, env, site, common.vantages);
  if (common.component !== undefined) env.result.componentRefs.push({ site, component: common.component });
  if (isRecord(item.tls) && 'ca' in item.tls) {
    report(ctx, site, ['tls', 'ca'], 'unknown key (give ca_file: the loader reads the PEM file)');
  }
  const tls = await loadTls(ctx, site, common.tls);
  const recheck = timing ? checkRecheck(ctx, site, common.recheck, env.recheck, timing) : false;
  if (!kind || !spec || !timing || !vantages || tls === false || recheck === false) return;
  const { id, component, labels } = common;
  if (id === undefined || component === undefined || labels === undefined) return;
  const full = { ...spec, timeout: timing.timeoutMs, vantages, ...(tls ? { tls } : {}) };
  env.result.plans.push({
    id,
    kind: kind.kind,
    component,
    intervalMs: timing.intervalMs,
    timeoutMs: timing.timeoutMs,
    vantages,
    labels,
    targets: kind.targets(full),
    spec: full,
    ...(recheck ? { recheck } : {}),
    source: { file: site.src.file, line: lineOf(site) },
  });
}

function lookupKind(ctx: KindsContext, site: Site, name: unknown): ProbeKind | undefined {
  const kind = typeof name === 'string' && Object.hasOwn(ctx.kinds, name) ? ctx.kinds[name] : undefined;
  if (kind) return kind;
  if (name === undefined) report(ctx, site, ['kind'], `required: one of ${Object.keys(ctx.kinds).sort().join(', ')}`);
  else {
    const hint = typeof name === 'string' ? didYouMean(name, Object.keys(ctx.kinds)) : '';
    report(ctx, site, ['kind'], `${unknownKind(ctx, name)}${hint}`);
  }
  return undefined;
}

/** Shared by probes' `kind:` and rules' `match.kinds`. */
export function unknownKind(ctx: KindsContext, name: unknown): string {
  return `unknown probe kind ${show(name)} (known: ${Object.keys(ctx.kinds).sort().join(', ')})`;
}

const strictSchemas = new WeakMap<ProbeKind, z.ZodType<Record<string, unknown>>>();

/** Common keys plus the kind's own, strict: a misspelt key is a problem, not silently ignored. */
function probeSchema(kind: ProbeKind): z.ZodType<Record<string, unknown>> {
  let schema = strictSchemas.get(kind);
  if (!schema) {
    const strict = z.object({ ...ProbeCommonShape, ...kind.shape }).strict();
    schema = kind.refine ? strict.superRefine(kind.refine) : strict;
    strictSchemas.set(kind, schema);
  }
  return schema;
}

function parseProbe(ctx: Reporting, site: Site, kind: ProbeKind, item: Record<string, unknown>) {
  const parsed = probeSchema(kind).safeParse(item, { reportInput: true });
  if (parsed.success) return parsed.data;
  reportIssues(ctx, site, parsed.error.issues);
  return undefined;
}

/** With an unknown kind, the common keys are still checked (kind-specific ones cannot be). */
function reportCommonIssues(ctx: Reporting, site: Site, item: Record<string, unknown>): void {
  const parsed = z.object(ProbeCommonShape).loose().safeParse(item, { reportInput: true });
  if (parsed.success) return;
  reportIssues(
    ctx,
    site,
    parsed.error.issues.filter((issue) => issue.path[0] !== 'kind'),
  );
}

/** Applies the timeout default and checks `0 < timeout < interval`. Undefined when invalid. */
function checkTiming(ctx: Reporting, site: Site, common: CommonKeys) {
  const { interval, timeout } = common;
  if (interval === undefined) return undefined;
  let ok = true;
  if (interval <= 0) {
    report(ctx, site, ['interval'], 'must be greater than 0s');
    ok = false;
  }
  if (timeout !== undefined && timeout <= 0) {
    report(ctx, site, ['timeout'], 'must be greater than 0s');
    ok = false;
  } else if (timeout !== undefined && timeout >= interval) {
    const message = `timeout ${formatDuration(timeout)} must be less than interval ${formatDuration(interval)}`;
    report(ctx, site, ['timeout'], message);
    ok = false;
  }
  if (!ok) return undefined;
  return {
    intervalMs: interval,
    timeoutMs: timeout ?? Math.min(DEFAULT_TIMEOUT_MS, Math.floor(interval / 2)),
  };
}

/**
 * The probe's re-checks: its `recheck` over `defaults.recheck` key by key, over the built-in
 * defaults; undefined when off, false when invalid. A re-check never comes sooner than the
 * probe's timeout (one check of a series at a time), and one that would not come before the next
 * regular check is pointless: an error when the probe asks for it, quietly off when it comes
 * from `defaults` (a probe every 1s gains nothing from re-checks every 2s).
 */
function checkRecheck(
  ctx: Reporting,
  site: Site,
  own: RecheckSpec | undefined,
  defaults: RecheckSpec | undefined,
  timing: { readonly intervalMs: number; readonly timeoutMs: number },
): RecheckPlan | undefined | false {
  if (own === false || (own === undefined && defaults === false)) return undefined;
  const base = typeof defaults === 'object' ? defaults : {};
  const mine = typeof own === 'object' ? own : {};
  const interval = mine.interval ?? base.interval ?? RECHECK_DEFAULTS.intervalMs;
  if (interval >= timing.intervalMs) {
    if (mine.interval === undefined) return undefined;
    const message = `recheck interval ${formatDuration(interval)} must be less than interval ${formatDuration(timing.intervalMs)}`;
    report(ctx, site, ['recheck', 'interval'], message);
    return false;
  }
  return {
    intervalMs: Math.max(interval, timing.timeoutMs),
    max: mine.max ?? base.max ?? RECHECK_DEFAULTS.max,
  };
}

/** The probe's vantages, checked against the plan's; every vantage when it has none. */
function checkVantages(ctx: Reporting, env: ProbeDefaults, site: Site, own: readonly string[] | undefined) {
  if (!env.vantages) return undefined;
  if (!own) return [...env.vantages];
  const all = env.vantages;
  let ok = true;
  own.forEach((v, j) => {
    if (all.includes(v)) return;
    ok = false;
    const message =
      env.queueKind === 'inline'
        ? `vantage "${v}" is not this daemon's vantage "${all.join('", "')}" (queue.kind is inline)`
        : `vantage "${v}" is not in queue.vantages (${all.join(', ')})`;
    report(ctx, site, ['vantages', j], message);
  });
  return ok ? [...own] : undefined;
}

/**
 * Reads `tls.ca_file` (relative to the file declaring the probe) into `tls.ca`, as probes never
 * read files themselves. Returns the completed block, undefined without one, false on failure.
 */
async function loadTls(ctx: Reporting, site: Site, tls: TlsSpec | undefined): Promise<TlsSpec | undefined | false> {
  if (tls?.ca_file === undefined) return tls;
  const file = resolve(dirname(site.src.file), tls.ca_file);
  try {
    return { ...tls, ca_file: file, ca: await readFile(file, 'utf8') };
  } catch (err) {
    report(
      ctx,
      site,
      ['tls', 'ca_file'],
      `cannot read ca_file ${displayFile(file, ctx.cwd)}: ${describeFsError(err)}`,
    );
    return false;
  }
}
