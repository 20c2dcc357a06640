import type { Plan, ProbePlan } from './plan.js';

/** What a reload changed, as `POST /-/reload` answers it and the log line says it. */
export interface ReloadAnswer {
  readonly status: 'success';
  /** Probes by id: added, removed, changed (any key), unchanged (kept their schedule and series). */
  readonly probes: {
    readonly added: number;
    readonly removed: number;
    readonly changed: number;
    readonly unchanged: number;
  };
  /**
   * Settings that differ from the running ones but apply only at the next start (where the
   * daemon listens, its store and queue, its vantage, the metrics registry's shape, logging).
   * Everything else took effect.
   */
  readonly restart_required: readonly string[];
}

/** Why a reload changed nothing: every problem as `FILE:LINE: …`, as `check-config` prints them. */
export interface ReloadRefusal {
  readonly problems: readonly string[];
}

export type ReloadOutcome = ({ readonly ok: true } & ReloadAnswer) | ({ readonly ok: false } & ReloadRefusal);

/**
 * The settings a running daemon cannot take over: the listener and the proxy trust fastify was
 * built with, the store and the queue it opened, the vantage its checks report, the shape of
 * the metrics registry, the logger. Everything else (probes, components, rules, maintenance,
 * notifiers, tokens, the engine's tunables, Alertmanager intake) is applied by a reload.
 */
const AT_START: readonly { readonly key: string; readonly of: (p: Plan) => unknown }[] = [
  { key: 'server.listen', of: (p) => p.server.listen },
  { key: 'server.trust_proxy', of: (p) => p.server.trust_proxy },
  { key: 'store', of: (p) => p.store },
  // The re-check rate is the one queue setting a reload applies (the queue's bucket takes it).
  { key: 'queue', of: (p) => ({ ...p.queue, recheck_rate: undefined }) },
  { key: 'vantage', of: (p) => p.vantage },
  { key: 'metrics', of: (p) => p.metrics },
  { key: 'log', of: (p) => p.log },
];

/** Probe counts and settings needing a restart, from the running plan to the reloaded one. */
export function planChanges(before: Plan, after: Plan): ReloadAnswer {
  const old = new Map(before.probes.map((p) => [p.id, p]));
  let added = 0;
  let changed = 0;
  let unchanged = 0;
  for (const p of after.probes) {
    const was = old.get(p.id);
    if (!was) added++;
    else if (sameProbe(was, p)) unchanged++;
    else changed++;
  }
  const removed = before.probes.length - changed - unchanged;
  const restart = AT_START.filter(({ of }) => JSON.stringify(of(before)) !== JSON.stringify(of(after))).map(
    (s) => s.key,
  );
  return { status: 'success', probes: { added, removed, changed, unchanged }, restart_required: restart };
}

/** Equal in everything but where it was written (moving a probe in its file changes nothing). */
function sameProbe(a: ProbePlan, b: ProbePlan): boolean {
  const { source: _a, ...restA } = a;
  const { source: _b, ...restB } = b;
  return JSON.stringify(restA) === JSON.stringify(restB);
}

export interface ReloaderDeps {
  /** Reads and validates the configuration again; problems already formatted `FILE:LINE: …`. */
  readonly load: () => Promise<{ ok: true; plan: Plan } | { ok: false; problems: readonly string[] }>;
  /**
   * Checks what only the running daemon can (tokens, binding) and hands the plan to every
   * component; throws (a TocsinError) to refuse it before anything changed.
   */
  readonly apply: (plan: Plan, before: Plan) => Promise<void>;
  /** After each attempt, for metrics and logs. */
  readonly onOutcome: (outcome: ReloadOutcome) => void;
}

/**
 * Reloads on SIGHUP, `POST /-/reload` and `tocsin reload`: one at a time (a reload asked for while
 * one runs waits for it, then reads the files again), all or nothing: a config with any problem
 * changes nothing and answers with every problem.
 */
export class Reloader {
  #plan: Plan;
  #last: Promise<unknown> = Promise.resolve();

  constructor(
    plan: Plan,
    private readonly deps: ReloaderDeps,
  ) {
    this.#plan = plan;
  }

  /** The running plan. */
  get plan(): Plan {
    return this.#plan;
  }

  reload(): Promise<ReloadOutcome> {
    const run = this.#last.then(() => this.#reload());
    this.#last = run.catch(() => undefined);
    return run;
  }

  async #reload(): Promise<ReloadOutcome> {
    const outcome = await this.#attempt();
    this.deps.onOutcome(outcome);
    return outcome;
  }

  async #attempt(): Promise<ReloadOutcome> {
    const loaded = await this.deps.load();
    if (!loaded.ok) return { ok: false, problems: loaded.problems };
    const before = this.#plan;
    try {
      await this.deps.apply(loaded.plan, before);
    } catch (err) {
      return { ok: false, problems: [(err as Error).message] };
    }
    this.#plan = loaded.plan;
    return { ok: true, ...planChanges(before, loaded.plan) };
  }
}
