import { Counter, collectProcessMetrics, Gauge, Histogram, Registry } from './prom.js';
import { HistogramFamily } from './histogram-family.js';
import { M } from './names.js';
import { SeriesFamily } from './series-family.js';

/** A histogram observed at every check: allocation-free updates (histogram-family.ts). */
function perCheck<L extends string = never>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly L[],
  buckets: readonly number[],
): HistogramFamily<L> {
  const family = new HistogramFamily<L>(name, help, labelNames, buckets);
  // The registry calls get(), getForPromString() and reset() and reads `name`, which it has.
  registry.registerMetric(family as unknown as Gauge);
  return family;
}

/**
 * Seconds; from a fast loopback answer to a check's longest sensible deadline. Kept short: with
 * `metrics.per_probe_histograms` at 10,000 probes every bucket is 10,000 more series per scrape.
 */
const DURATION_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Detection delay: a few check intervals when all is well; the target is under a minute. */
const DETECTION_BUCKETS = [1, 5, 10, 15, 30, 45, 60, 90, 120, 300, 600, 1800];
/** Scheduler lag should stay in milliseconds; the upper buckets show a backlog. */
const LAG_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** `result` of `tocsin_rechecks_total`: the re-check ran (target answered or not), or was not started. */
export const RECHECK_RESULTS = ['ok', 'failed', 'skipped'] as const;
export type RecheckResult = (typeof RECHECK_RESULTS)[number];

/** A family with a series per probe, registered like any prom-client metric (SeriesFamily). */
function perProbe<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  type: 'gauge' | 'counter',
  labelNames: readonly L[],
): SeriesFamily<L> {
  const family = new SeriesFamily(name, help, type, labelNames);
  // The registry only calls get() and reset() and reads `name`, which a SeriesFamily has.
  registry.registerMetric(family as unknown as Gauge);
  return family;
}

/**
 * Tocsin's metrics, in a registry of its own (never prom-client's global one, so tests and
 * embedders can run several daemons in one process).
 */
export function createMetrics(opts: { version: string; processMetrics?: boolean; perProbeHistograms?: boolean }) {
  const registry = new Registry();
  if (opts.processMetrics !== false) {
    collectProcessMetrics(registry, 'tocsin_');
    // prom-client names these gauges *_total, which `promtool check metrics` rejects; the
    // process's handle and request counts are not worth a failing lint.
    for (const name of ['active_handles_total', 'active_requests_total', 'active_resources_total']) {
      registry.removeSingleMetric(`tocsin_nodejs_${name}`);
    }
  }
  const metrics = {
    registry,
    // Families with a series per probe are SeriesFamily: compact, and rendered a chunk at a time.
    probeSuccess: perProbe(
      registry,
      M.probeSuccess,
      'Whether the last check of this target from this vantage succeeded (1) or not (0).',
      'gauge',
      ['probe', 'kind', 'component', 'target', 'vantage'] as const,
    ),
    probeDuration: perProbe(
      registry,
      M.probeDuration,
      'How long the last check took, seconds (as Blackbox exporter\'s probe_duration_seconds).',
      'gauge',
      ['probe', 'kind', 'target', 'vantage'] as const,
    ),
    // Per kind and vantage: a handful of series whatever the number of probes; per probe too
    // only when asked for (`metrics.per_probe_histograms`).
    checkDuration: perCheck<'probe' | 'kind' | 'vantage'>(
      registry,
      M.checkDuration,
      'Check durations, seconds, per kind and vantage (and per probe with metrics.per_probe_histograms).',
      opts.perProbeHistograms ? ['probe', 'kind', 'vantage'] : ['kind', 'vantage'],
      DURATION_BUCKETS,
    ),
    probeChecks: perProbe(
      registry,
      M.probeChecks,
      'Checks run, by result (success|failure) and error code ("" on success).',
      'counter',
      ['probe', 'kind', 'vantage', 'result', 'error'] as const,
    ),
    // Not per probe: five phases per probe multiplied the exposition by three at 10,000 probes
    // (bench/README.md). Per-probe phase timings are in each result's observations (API).
    httpPhase: perCheck(
      registry,
      M.httpPhase,
      'Duration of each phase of HTTP checks (dns, connect, tls, ttfb, transfer), all probes together, in seconds.',
      ['phase'] as const,
      DURATION_BUCKETS,
    ),
    tlsHandshake: new Histogram({
      name: M.tlsHandshake,
      help: 'Duration of the TLS handshake of a tls probe check (TCP connect excluded), in seconds.',
      labelNames: ['probe', 'target', 'vantage'] as const,
      buckets: DURATION_BUCKETS,
      registers: [registry],
    }),
    tlsCertNotAfter: perProbe(
      registry,
      M.tlsCertNotAfter,
      'Expiry (notAfter) of the leaf certificate last seen by a tls probe, as a Unix timestamp in seconds.',
      'gauge',
      ['probe', 'target'] as const,
    ),
    lbConfigInSync: new Gauge({
      name: M.lbConfigInSync,
      help: 'Whether a load-balancer instance served the reference config at its last lb_sync check (1) or not (0).',
      labelNames: ['probe', 'instance'] as const,
      registers: [registry],
    }),
    lbConfigLag: new Gauge({
      name: M.lbConfigLag,
      help: 'How long a load-balancer instance has differed from the reference config, in seconds (0 in sync).',
      labelNames: ['probe', 'instance'] as const,
      registers: [registry],
    }),
    storageOperation: new Histogram({
      name: M.storageOperation,
      help: 'Duration of each operation of a storage check (s3 put/get/delete, redis connect/ping/set/get/del, tcp connect), in seconds.',
      labelNames: ['probe', 'op', 'vantage'] as const,
      buckets: DURATION_BUCKETS,
      registers: [registry],
    }),
    schedulerLag: perCheck(
      registry,
      M.schedulerLag,
      'Delay between when a check was due and when it started, in seconds.',
      [],
      LAG_BUCKETS,
    ),
    schedulerSkipped: perProbe(
      registry,
      M.schedulerSkipped,
      'Checks not started because the previous check of the same probe/target/vantage was still running.',
      'counter',
      ['probe'] as const,
    ),
    // Series appear for probes that were re-checked: at most three per probe, most never.
    rechecks: perProbe(
      registry,
      M.rechecks,
      'Re-checks after a failed check (or a first healthy one), by result (ok|failed|skipped).',
      'counter',
      ['probe', 'result'] as const,
    ),
    schedulerInflight: new Gauge({
      name: M.schedulerInflight,
      help: 'Checks running now.',
      registers: [registry],
    }),
    schedulerScheduled: new Gauge({
      name: M.schedulerScheduled,
      help: 'Checks (probe x target x vantage) on the schedule.',
      registers: [registry],
    }),
    vantageStale: new Gauge({
      name: M.vantageStale,
      help: 'Fleet mode: whether a vantage has reported nothing for 3 of its shortest probe intervals (1) or not (0).',
      labelNames: ['vantage'] as const,
      registers: [registry],
    }),
    vantageDisagreements: new Counter({
      name: M.vantageDisagreements,
      help: 'Times a vantage began to see a target fail that most other vantages see healthy (its own network is suspect).',
      labelNames: ['vantage'] as const,
      registers: [registry],
    }),
    vantageMinorityFailing: new Gauge({
      name: M.vantageMinorityFailing,
      help: 'Targets currently failing from this vantage only, while most other vantages see them healthy.',
      labelNames: ['vantage'] as const,
      registers: [registry],
    }),
    storeWriteErrors: new Counter({
      name: M.storeWriteErrors,
      help: 'Failed writes of results to the store.',
      registers: [registry],
    }),
    incidents: new Gauge({
      name: M.incidents,
      help: 'Incidents Tocsin knows, by detector status (open|resolved) and operator review (pending|confirmed|dismissed).',
      labelNames: ['status', 'review'] as const,
      registers: [registry],
    }),
    incidentsOpened: new Counter({
      name: M.incidentsOpened,
      help: 'Draft incidents opened, by the rule of their first signal.',
      labelNames: ['rule'] as const,
      registers: [registry],
    }),
    incidentReviews: new Counter({
      name: M.incidentReviews,
      help: 'Operator reviews of incidents (confirmed|dismissed), by the rule of their first signal.',
      labelNames: ['rule', 'review'] as const,
      registers: [registry],
    }),
    detectionDelay: new Histogram({
      name: M.detectionDelay,
      help: 'Time from the first failed check to the draft incident being opened, in seconds.',
      buckets: DETECTION_BUCKETS,
      registers: [registry],
    }),
    componentStatus: new Gauge({
      name: M.componentStatus,
      help: 'Current status of each component: 1 for its status, 0 for the others.',
      labelNames: ['component', 'status'] as const,
      registers: [registry],
    }),
    notifications: new Counter({
      name: M.notifications,
      help: 'Notification deliveries by notifier (its index and kind), event and result (success|failure|dropped).',
      labelNames: ['notifier', 'event', 'result'] as const,
      registers: [registry],
    }),
    notificationQueueDepth: new Gauge({
      name: M.notificationQueueDepth,
      help: 'Notifications waiting for delivery, per notifier.',
      labelNames: ['notifier'] as const,
      registers: [registry],
    }),
    alertsReceived: new Counter({
      name: M.alertsReceived,
      help: 'Alertmanager alerts received, by status (firing|resolved|ignored).',
      labelNames: ['status'] as const,
      registers: [registry],
    }),
    eventsDropped: new Counter({
      name: M.eventsDropped,
      help: 'Probe-result events the rules engine dropped, by reason (duplicate|out_of_order|stale|unknown_probe).',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    recoveries: new Counter({
      name: M.recoveries,
      help: 'Recoveries of the incidents side from the store (a start, a restart, a leader lease acquired), by outcome (ok|failed).',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    incidentWritesPending: new Gauge({
      name: M.incidentWritesPending,
      help: 'Incidents with detector changes not stored yet (the store was unreachable); written when it answers again.',
      registers: [registry],
    }),
    configLastReloadSuccessful: new Gauge({
      name: M.configLastReloadSuccessful,
      help: 'Whether the last configuration reload (SIGHUP, POST /-/reload, tocsin reload) succeeded: 1, or 0 when the config was refused and the running one kept. 1 at start.',
      registers: [registry],
    }),
    configLastReloadSuccessTimestamp: new Gauge({
      name: M.configLastReloadSuccessTimestamp,
      help: 'When the running configuration was loaded (start, or the last successful reload), Unix seconds.',
      registers: [registry],
    }),
    leader: new Gauge({
      name: M.leader,
      help: '1 while this process runs the rules engine (always, embedded; the leader lease holder, in a fleet), else 0.',
      registers: [registry],
    }),
    storeUnreplicatedWrites: new Counter({
      name: M.storeUnreplicatedWrites,
      help: 'Redis store writes stored on the primary without the replicas store.replicas_wait asks for (lost if the primary fails before replicating them).',
      registers: [registry],
    }),
    resultsReplayed: new Counter({
      name: M.resultsReplayed,
      help: 'Results the rules engine replayed from the fleet results stream after a start or a leader takeover (those after its last saved position).',
      registers: [registry],
    }),
    resultsReplayGaps: new Counter({
      name: M.resultsReplayGaps,
      help: 'Replays that found the saved position gone from the results stream (trimmed, or lost with Redis data): results in between may be missing.',
      registers: [registry],
    }),
    workerResultsBuffered: new Gauge({
      name: M.workerResultsBuffered,
      help: 'Results waiting in the buffers of a vantage\'s workers (Redis was unreachable), as they last reported.',
      labelNames: ['vantage'] as const,
      registers: [registry],
    }),
    workerResultsDropped: new Counter({
      name: M.workerResultsDropped,
      help: 'Results a vantage\'s workers dropped from their buffers, by reason (overflow|expired), as they reported once Redis answered again.',
      labelNames: ['vantage', 'reason'] as const,
      registers: [registry],
    }),
    workerFallbackChecks: new Counter({
      name: M.workerFallbackChecks,
      help: 'Checks a vantage\'s workers ran on their own schedule while Redis was unreachable.',
      labelNames: ['vantage'] as const,
      registers: [registry],
    }),
    authFailures: new Counter({
      name: M.authFailures,
      help: 'Failed authentications (an unknown token), by kind (bearer|console); refusals during a backoff are not checked, so not counted.',
      labelNames: ['kind'] as const,
      registers: [registry],
    }),
    buildInfo: new Gauge({
      name: M.buildInfo,
      help: 'Always 1; the running version in a label.',
      labelNames: ['version'] as const,
      registers: [registry],
    }),
  };
  metrics.buildInfo.set({ version: opts.version }, 1);
  return metrics;
}

export type Metrics = ReturnType<typeof createMetrics>;
