import { resolve } from 'node:path';
import { formatDuration } from '../duration.js';
import { displayFile } from '../config/problems.js';
import { type BlackboxModule, readBlackboxModules } from './blackbox-modules.js';
import { mapModule } from './map-module.js';
import type { ModuleMapping } from './module-mapping.js';
import { assignIds, slug, targetSlug } from './probe-ids.js';
import { formatImportProblem, type ImportProblem, ImportProblems, type Report } from './problems.js';
import { renderProbesYaml, type RenderedTemplate } from './render.js';
import { readPrometheusProbes, type ScrapeTarget } from './scrape-jobs.js';

// `tocsin import blackbox`: Blackbox exporter modules and the Prometheus jobs that probe through
// them, as Tocsin probes. Every target becomes one probe of its job's component, or a problem at
// the line that explains why not; nothing is dropped without a word (docs/import-blackbox.md).

export interface ImportOptions {
  /** blackbox.yml. */
  readonly blackbox: string;
  /** prometheus.yml; without it, the modules alone are shown (no targets, no probes). */
  readonly prometheus?: string | undefined;
  /** What paths are resolved against and problems shown relative to. Default: `process.cwd()`. */
  readonly cwd?: string;
}

export interface ImportedComponent {
  readonly id: string;
  readonly name: string;
}

export interface ImportResult {
  /** The probes, as written in the output (a Tocsin probes list). */
  readonly probes: readonly Readonly<Record<string, unknown>>[];
  /** One component per Prometheus job with probes, for tocsin.yml's `components:`. */
  readonly components: readonly ImportedComponent[];
  readonly problems: readonly ImportProblem[];
  /** The problems as `FILE:LINE: reason` lines. */
  readonly problemLines: readonly string[];
  /** The output document. */
  readonly yaml: string;
  /** Probes imported; without a Prometheus config, modules mapped. */
  readonly imported: number;
}

/**
 * The exporter's timeout rule (prober/handler.go, getTimeout): the scrape timeout less the
 * exporter's 0.5 s offset, or the module's own timeout when it is set and shorter.
 */
export function effectiveTimeoutMs(moduleMs: number | undefined, scrapeTimeoutMs: number): number {
  const max = scrapeTimeoutMs - 500;
  const module = moduleMs ?? 0;
  return (module > 0 && module < max) || max < 0 ? module : max;
}

export async function importBlackbox(opts: ImportOptions): Promise<ImportResult> {
  const cwd = opts.cwd ?? process.cwd();
  const blackboxFile = resolve(cwd, opts.blackbox);
  const prometheusFile = opts.prometheus === undefined ? undefined : resolve(cwd, opts.prometheus);
  const problems = new ImportProblems();
  problems.noteFile(blackboxFile);
  if (prometheusFile) problems.noteFile(prometheusFile);
  const report = problems.add;
  const show = (file: string): string => displayFile(file, cwd);

  const modules = (await readBlackboxModules(blackboxFile, report)) ?? [];
  const result = prometheusFile
    ? await importJobs(modules, show(blackboxFile), prometheusFile, report, show)
    : importModules(modules, report, show);
  const yaml = renderProbesYaml({
    blackbox: show(blackboxFile),
    prometheus: prometheusFile && show(prometheusFile),
    probes: result.probes,
    components: result.components,
    templates: result.templates,
  });
  const list = problems.list();
  return {
    probes: result.probes.map((p) => p.spec),
    components: result.components.map(({ id, name }) => ({ id, name })),
    problems: list,
    problemLines: list.map((p) => formatImportProblem(p, cwd)),
    yaml,
    imported: prometheusFile ? result.probes.length : result.templates.length,
  };
}

interface Mapped {
  readonly probes: { spec: Record<string, unknown>; comment: string }[];
  readonly components: { id: string; name: string; comment: string }[];
  readonly templates: RenderedTemplate[];
}

function importModules(modules: readonly BlackboxModule[], report: Report, show: (f: string) => string): Mapped {
  const templates: RenderedTemplate[] = [];
  for (const m of modules) {
    const mapping = mapModule(m, report);
    if (!mapping) continue;
    templates.push({
      comment: `module ${m.name} (${show(m.src.file)}:${mapping.where.line}):`,
      keys: {
        kind: mapping.kind,
        ...(mapping.timeoutMs !== undefined ? { timeout: formatDuration(mapping.timeoutMs) } : {}),
        ...mapping.template(),
      },
    });
  }
  return { probes: [], components: [], templates };
}

/** A probe before its id is known. */
interface Draft {
  readonly t: ScrapeTarget;
  readonly kind: string;
  readonly timing: Record<string, string>;
  readonly keys: Record<string, unknown>;
  readonly comment: string;
}

async function importJobs(
  modules: readonly BlackboxModule[],
  blackboxShown: string,
  prometheusFile: string,
  report: Report,
  show: (f: string) => string,
): Promise<Mapped> {
  const prom = await readPrometheusProbes(prometheusFile, report);
  const byName = new Map(modules.map((m) => [m.name, m]));
  // Each module is mapped once, when a job first uses it: what it cannot map is said once.
  const mappings = new Map<string, ModuleMapping | undefined>();
  const mappingOf = (m: BlackboxModule): ModuleMapping | undefined => {
    if (!mappings.has(m.name)) mappings.set(m.name, mapModule(m, report));
    return mappings.get(m.name);
  };

  const drafts: Draft[] = [];
  const seen = new Set<string>();
  for (const t of prom?.targets ?? []) {
    const m = byName.get(t.module);
    if (!m) {
      report(t.jobWhere, `job "${t.job}": module "${t.module}" is not in ${blackboxShown}: its targets are not imported`);
      continue;
    }
    const mapping = mappingOf(m);
    if (!mapping) {
      report(t.jobWhere, `job "${t.job}": module ${t.module} is not mapped (${show(m.src.file)}:${m.at().line}): its targets are not imported`);
      continue;
    }
    // Prometheus keeps one of identical targets; so does the import.
    const identity = JSON.stringify([t.job, t.module, t.target, t.labels, [...t.params]]);
    if (seen.has(identity)) continue;
    seen.add(identity);
    for (const name of t.params.keys()) {
      if (!mapping.params.includes(name)) report(t.where, `job "${t.job}": target ${t.target}: parameter ${name} is not mapped`);
    }
    const keys = mapping.keysFor({ target: t.target, where: t.where, params: t.params }, report);
    if (!keys) continue;
    drafts.push({
      t,
      kind: mapping.kind,
      timing: timing(t, mapping, report),
      keys,
      comment: `job ${t.job}, module ${t.module} (${show(m.src.file)}:${mapping.where.line}), target at ${show(t.where.file)}:${t.where.line}`,
    });
  }

  const components = jobComponents(drafts, show);
  const componentOf = new Map(components.map((c) => [c.name, c.id]));
  const ids = assignIds(
    drafts.map(({ t }) => {
      const base = `${slug(t.job)}-${targetSlug(t.target)}`;
      return {
        base,
        longer: `${base}-${slug(t.module)}`,
        key: JSON.stringify([t.job, t.module, t.target, t.labels, [...t.params]]),
      };
    }),
  );
  const probes = drafts.map((d, i) => ({
    spec: {
      id: ids[i] ?? '',
      kind: d.kind,
      component: componentOf.get(d.t.job) ?? '',
      ...d.timing,
      ...d.keys,
      ...(Object.keys(d.t.labels).length > 0 ? { labels: d.t.labels } : {}),
    },
    comment: d.comment,
  }));
  return { probes, components, templates: [] };
}

/** `interval` from the scrape interval, `timeout` as the exporter would give the check. */
function timing(t: ScrapeTarget, mapping: ModuleMapping, report: Report): Record<string, string> {
  const interval = formatDuration(t.intervalMs);
  const timeoutMs = effectiveTimeoutMs(mapping.timeoutMs, t.scrapeTimeoutMs);
  if (timeoutMs <= 0 || timeoutMs >= t.intervalMs) {
    report(
      t.where,
      `job "${t.job}": target ${t.target}: the exporter's timeout (${formatDuration(Math.max(0, timeoutMs))}) does not fit in the scrape interval ${interval}: Tocsin's default timeout used`,
    );
    return { interval };
  }
  return { interval, timeout: formatDuration(timeoutMs) };
}

function jobComponents(
  drafts: readonly Draft[],
  show: (f: string) => string,
): { id: string; name: string; comment: string }[] {
  const jobs = new Map<string, Draft['t']>();
  for (const d of drafts) if (!jobs.has(d.t.job)) jobs.set(d.t.job, d.t);
  const list = [...jobs.values()];
  const ids = assignIds(list.map((t) => ({ base: slug(t.job), longer: slug(t.job), key: t.job })));
  return list.map((t, i) => ({
    id: ids[i] ?? '',
    name: t.job,
    comment: `job ${t.job} (${show(t.jobWhere.file)}:${t.jobWhere.line})`,
  }));
}
