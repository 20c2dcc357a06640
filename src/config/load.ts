import { resolve } from 'node:path';
import { PROBE_KINDS } from '../../probes/index.js';
import type { ProbeKind } from '../../probes/probe.js';
import { checkComponents, checkMaintenance } from './components.js';
import { frozenCopy } from './freeze.js';
import { readSource } from './includes.js';
import { typeName } from './issues.js';
import { DEFAULT_PACK_DIR } from './pack.js';
import { pick } from './pick.js';
import type { Plan } from './plan.js';
import { type ConfigProblem, formatProblem, ProblemList, ROOT_PATH } from './problems.js';
import { loadProbes } from './probes.js';
import { loadRules, type RulesContext } from './rules.js';
import { ConfigFileSpec, DefaultsSpec, type QueueSpec } from './schema.js';
import { checkSecrets, type SecretsContext } from './secrets.js';
import { at, lineOf, report, reportIssues, type Site } from './site.js';
import type { YamlSource } from './yaml-source.js';
import { isRecord } from '../json.js';

/**
 * Loading a config: the main file read, then each part handed to the module that checks it —
 * includes and source locations (./includes.ts, ./site.ts), components and maintenance
 * (./components.ts), secrets (./secrets.ts), probes (./probes.ts), rules (./rules.ts) — with
 * every zod problem worded by ./issues.ts.
 */

export type { ConfigProblem };
export { formatProblem };

export interface LoadOptions {
  /** Probe kinds by `kind:` name. Default: every kind Tocsin ships (`PROBE_KINDS`). */
  readonly kinds?: Readonly<Record<string, ProbeKind>>;
  /** Where `token_env` / `secret_env` variables are looked up. Default: `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /**
   * Directory the config path and `store.path` are resolved against, and problems' files are shown
   * relative to. Default: `process.cwd()`.
   */
  readonly cwd?: string;
  /**
   * The default rule pack's directory, read (and validated like any rule file) when the config
   * has no `rules:`. Default: the package's `rules/`.
   */
  readonly packDir?: string;
}

export type LoadResult =
  | { readonly ok: true; readonly plan: Plan }
  | { readonly ok: false; readonly problems: ConfigProblem[] };

/** Everything the parts of the loader need: each takes the slice it uses. */
type Ctx = RulesContext & SecretsContext;

/**
 * Loads and validates a config file and everything it includes into a deep-frozen {@link Plan}.
 * Never stops at the first problem: every file is read and every item checked, so one run of
 * `tocsin check-config` shows everything to fix. Expected failures (missing files, bad YAML,
 * invalid keys) are returned as problems, not thrown.
 */
export async function loadConfig(file: string, opts: LoadOptions = {}): Promise<LoadResult> {
  const cwd = opts.cwd ?? process.cwd();
  const ctx: Ctx = {
    kinds: opts.kinds ?? PROBE_KINDS,
    env: opts.env ?? process.env,
    cwd,
    packDir: opts.packDir ?? DEFAULT_PACK_DIR,
    problems: new ProblemList(cwd),
  };
  const abs = resolve(cwd, file);
  const read = await readSource(ctx, abs);
  if (read.kind === 'unreadable') ctx.problems.add(abs, 1, ROOT_PATH, `cannot read config: ${read.reason}`);
  const plan = read.kind === 'ok' ? await loadMain(ctx, read.source) : undefined;
  if (plan && ctx.problems.size === 0) return { ok: true, plan: frozenCopy(plan) };
  return { ok: false, problems: ctx.problems.list() };
}

async function loadMain(ctx: Ctx, src: YamlSource): Promise<Plan | undefined> {
  const root: Site = { src, doc: [], shown: [] };
  const raw = src.value;
  if (!isRecord(raw)) {
    report(ctx, root, [], `expected a mapping of config keys, got ${typeName(raw)}`);
    return undefined;
  }
  const top = ConfigFileSpec.safeParse(raw, { reportInput: true });
  if (!top.success) reportIssues(ctx, root, top.error.issues);

  // Sections are also parsed one by one so that cross-checks still run when another section is
  // invalid (a bad `store` must not hide an unknown `component` reference).
  const queue = pick(ConfigFileSpec.shape.queue, raw.queue);
  const vantage = pick(ConfigFileSpec.shape.vantage, raw.vantage);
  const vantages = queue && vantage ? planVantages(queue, vantage) : undefined;
  const componentIds = checkComponents(ctx, at(root, 'components'), raw.components);
  checkMaintenance(ctx, at(root, 'maintenance'), raw.maintenance, componentIds);
  checkSecrets(ctx, root, raw);

  const defaults = pick(DefaultsSpec, raw.defaults ?? {});
  const probes = await loadProbes(ctx, at(root, 'probes'), raw.probes, {
    vantages,
    queueKind: queue?.kind ?? 'inline',
    recheck: defaults?.recheck,
  });
  for (const ref of probes.componentRefs) {
    if (!componentIds.has(ref.component))
      report(ctx, ref.site, ['component'], `unknown component "${ref.component}"`);
  }
  const refs = { components: componentIds, probes: probes.ids, labels: probes.labelKeys };
  const rules = await loadRules(ctx, at(root, 'rules'), raw.rules, refs);

  if (!top.success || !vantages) return undefined;
  const data = top.data;
  return {
    file: src.file,
    server: data.server,
    // Relative to the working directory, not the config file: where operators expect `data/` to be.
    store:
      data.store.kind === 'sqlite' ? { ...data.store, path: resolve(ctx.cwd, data.store.path) } : data.store,
    queue: data.queue,
    vantage: data.vantage,
    vantages,
    components: data.components.map((c, i) => ({
      ...c,
      source: { file: src.file, line: lineOf(root, ['components', i]) },
    })),
    probes: probes.plans,
    rules,
    maintenance: data.maintenance,
    notifiers: data.notifiers,
    alertmanager: data.alertmanager,
    engine: data.engine,
    metrics: data.metrics,
    log: data.log,
  };
}

/** Every vantage probes run at: this process's inline, the queue's with BullMQ. */
function planVantages(queue: QueueSpec, vantage: string): string[] {
  return queue.kind === 'bullmq' ? [...queue.vantages] : [vantage];
}
