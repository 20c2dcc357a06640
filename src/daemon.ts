import type { FastifyInstance } from 'fastify';
import { PROBE_KINDS } from '../probes/index.js';
import type { ProbeKind } from '../probes/probe.js';
import { TokenTable } from './auth/tokens.js';
import { AuthThrottle } from './api/throttle.js';
import { checkBinding } from './api/binding.js';
import { buildApi } from './api/server.js';
import { systemClock, type TimerClock } from './clock.js';
import { formatProblem, loadConfig } from './config/load.js';
import type { Plan } from './config/plan.js';
import { Reloader, type ReloadOutcome } from './config/reload.js';
import { ResultHistory } from './console/history.js';
import { TocsinError } from './errors.js';
import type { Logger } from './log.js';
import { runningFields } from './log-start.js';
import type { WarnFn } from './private-files.js';
import { probeMetricsRecorder } from './metrics/probe-metrics.js';
import { createMetrics, type Metrics } from './metrics/registry.js';
import { VERSION } from './package-info.js';
import { createQueue } from './queue/create.js';
import type { ProbeQueue } from './queue/port.js';
import { BatchWriter } from './results/batch-writer.js';
import { ResultsBus } from './results/bus.js';
import { LatestResults } from './results/latest.js';
import { VantageAgreement } from './results/vantage-agreement.js';
import { openStore, passwordInUrl } from './store/open.js';
import type { IncidentsContext } from './incidents/manager.js';
import { startIncidentRuntime } from './incidents/runtime.js';
import type { IncidentStore, UptimeStore } from './store/port.js';
import { startUptimeRecorder } from './status/history-recorder.js';
import type { RedisStore } from './store/redis.js';
import { startLeaderRuntime } from './lease/standby.js';

export interface DaemonOptions {
  readonly plan: Plan;
  readonly logger: Logger;
  readonly clock?: TimerClock;
  readonly kinds?: Readonly<Record<string, ProbeKind>>;
  readonly env?: NodeJS.ProcessEnv;
  /** Reads the configuration again at a reload; default: `plan.file`, as it was loaded at start. */
  readonly load?: () => Promise<{ ok: true; plan: Plan } | { ok: false; problems: readonly string[] }>;
}

export interface Daemon {
  /** `http://host:port` the API listens on. */
  readonly url: string;
  readonly metrics: Metrics;
  readonly bus: ResultsBus;
  /** Incidents: the live rules engine and what operator verbs need. */
  readonly incidents: IncidentsContext;
  /**
   * Re-reads the configuration and applies the difference (SIGHUP, `POST /-/reload`): unchanged
   * probes keep their schedule and series, removed ones stop, new ones start, the rules engine
   * carries its state over to the new rules. A config with any problem changes nothing.
   */
  reload(): Promise<ReloadOutcome>;
  /** Stops scheduling, lets running checks end within `graceMs`, flushes and closes everything. */
  stop(graceMs: number): Promise<void>;
}

/**
 * The composition root of `tocsin run`: config → store → scheduler → API, each handed what it
 * needs explicitly. Nothing else in the code base wires components together.
 */
export async function startDaemon(opts: DaemonOptions): Promise<Daemon> {
  const { plan, logger } = opts;
  const clock = opts.clock ?? systemClock;
  const kinds = opts.kinds ?? PROBE_KINDS;
  const metrics = createMetrics({ version: VERSION, perProbeHistograms: plan.metrics?.per_probe_histograms === true });

  // Refused before anything is opened or written: a daemon the network reaches needs real tokens.
  const binding = checkBinding(plan.server);
  if (!binding.ok) throw new TocsinError('INVALID', binding.reason);
  for (const w of binding.warnings) logger.warn({ listen: plan.server.listen }, w);
  const warn: WarnFn = (fields, msg) => logger.warn(fields, msg);

  const onUnreplicated = (): void => metrics.storeUnreplicatedWrites.inc();
  const store: IncidentStore & UptimeStore = await openStore(plan, { warn, env: opts.env, onUnreplicated });
  // Listening before anything writes incidents: every published change reaches uptime history.
  const uptime = await startUptimeRecorder({ store, clock, logger });
  if (plan.queue.kind === 'bullmq') {
    const w = passwordInUrl(plan.queue.redis_url, 'queue.redis_url', 'queue.password_env');
    if (w) warn({ key: 'queue.redis_url' }, w);
  }
  const latest = new LatestResults();
  for (const r of await store.latestResults()) latest.record(r);

  const bus = new ResultsBus((err) => logger.error({ err }, 'results listener failed'));
  const writer = new BatchWriter({
    write: (batch) => store.saveLatestResults(batch),
    // A store outage fails a batch every second: counted each time, logged once per outage.
    onError: (err, first) => {
      metrics.storeWriteErrors.inc();
      if (first) logger.error({ err }, 'could not save latest results; retrying every second');
    },
    onRecovered: () => logger.info('latest results saved again'),
  });
  const recorder = probeMetricsRecorder(plan, metrics);
  bus.subscribe(recorder);
  bus.subscribe((r) => latest.record(r));
  const agreement = new VantageAgreement(plan, {
    disagreement: (vantage) => metrics.vantageDisagreements.inc({ vantage }),
    minorityFailing: (vantage, count) => metrics.vantageMinorityFailing.set({ vantage }, count),
  });
  // Judging a vantage against the others takes three of them (as the quorum does); with fewer
  // (every embedded daemon) there is nothing to judge, and nothing to spend per result.
  // `queue.vantages` applies at the next start only, so a reload never changes this.
  if (plan.vantages.length >= 3) bus.subscribe((r) => agreement.record(r));
  const history = new ResultHistory();
  bus.subscribe((r) => history.record(r));
  bus.subscribe((r) => writer.add(r));
  bus.subscribe((r) => {
    if (!r.ok)
      logger.debug({ probe: r.probe, target: r.target, error: r.error, detail: r.detail }, 'check failed');
  });
  writer.start();
  // The rules engine hears every result before the first check runs.
  // The queue is synced (not started) first: in a fleet the engine replays from its results
  // stream what its last snapshot had not taken, and the queue knows which results the plan uses.
  const queue: ProbeQueue = await createQueue(plan, { kinds, bus, metrics, clock, logger, env: opts.env });
  await queue.sync(plan);
  const results = queue.durable;
  let incidents: { ctx: IncidentsContext; reconfigure(plan: Plan): void; stop(): Promise<void> };
  try {
    // Fleet mode (store in Redis): the engine runs only while this process holds the leader lease.
    if (plan.store.kind === 'redis') {
      incidents = await startLeaderRuntime({ plan, store: store as RedisStore, bus, metrics, clock, logger, results });
    } else {
      incidents = await startIncidentRuntime({ plan, store, bus, metrics, clock, logger, results });
      metrics.leader.set(1);
    }
  } catch (err) {
    await queue.stop(0);
    await writer.stop();
    await store.close();
    throw err;
  }

  await queue.start();

  // What a reload replaces; the API reads both on every request. Made in the try below: a token
  // refused at start (too short) stops what started above before the error ends the process.
  let tokens: TokenTable;
  const reloader = new Reloader(plan, {
    load:
      opts.load ??
      (async () => {
        const loaded = await loadConfig(plan.file, { env: opts.env });
        return loaded.ok ? loaded : { ok: false, problems: loaded.problems.map(formatProblem) };
      }),
    apply: async (next) => {
      // Refused before anything changes: what `run` would refuse at start.
      const nextBinding = checkBinding(next.server);
      if (!nextBinding.ok) throw new TocsinError('INVALID', nextBinding.reason);
      const nextTokens = TokenTable.fromPlan(next, opts.env, warn);
      tokens = nextTokens;
      agreement.setPlan(next);
      incidents.reconfigure(next);
      await Promise.all([queue.sync(next), recorder.setPlan(next)]);
    },
    onOutcome: (outcome) => reloaded(outcome),
  });
  const reloaded = (outcome: ReloadOutcome): void => {
    metrics.configLastReloadSuccessful.set(outcome.ok ? 1 : 0);
    if (!outcome.ok) {
      for (const problem of outcome.problems) logger.error(problem);
      logger.error({ problems: outcome.problems.length }, 'configuration reload failed: the running configuration is kept');
      return;
    }
    metrics.configLastReloadSuccessTimestamp.set(clock.now() / 1000);
    logger.info({ probes: outcome.probes }, 'configuration reloaded');
    if (outcome.restart_required.length > 0) {
      logger.warn({ settings: outcome.restart_required }, 'changed settings apply at the next start only');
    }
  };
  metrics.configLastReloadSuccessful.set(1);
  metrics.configLastReloadSuccessTimestamp.set(clock.now() / 1000);

  let api: FastifyInstance;
  try {
    tokens = TokenTable.fromPlan(plan, opts.env, warn);
    api = buildApi({
      get plan() {
        return reloader.plan;
      },
      get tokens() {
        return tokens;
      },
      reload: () => reloader.reload(),
      store,
      queue,
      latest,
      metrics,
      throttle: new AuthThrottle({ clock }),
      logger,
      incidents: incidents.ctx,
      history,
      uptime: store,
    });
    await api.listen({ host: plan.server.listen.host, port: plan.server.listen.port });
  } catch (err) {
    await queue.stop(0);
    await incidents.stop();
    await writer.stop();
    await store.close();
    throw err;
  }
  const address = api.server.address();
  const url =
    typeof address === 'object' && address
      ? `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`
      : `http://${plan.server.listen.host}:${plan.server.listen.port}`;
  // Where the API, the console and /metrics listen, and the token file's path (never the token).
  logger.info(runningFields(url, plan, queue.stats().scheduled), 'tocsin running');

  return {
    url,
    metrics,
    bus,
    incidents: incidents.ctx,
    reload: () => reloader.reload(),
    async stop(graceMs) {
      await queue.stop(graceMs);
      await incidents.stop();
      await api.close();
      await writer.stop();
      await uptime.stop();
      await store.close();
      logger.info('tocsin stopped');
    },
  };
}
