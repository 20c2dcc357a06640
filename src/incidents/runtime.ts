import type { TimerClock, TimerHandle } from '../clock.js';
import type { Plan } from '../config/plan.js';
import { createEngine, type Engine } from '../engine/engine.js';
import { engineOptionsForPlan, rulesForPlan } from '../engine/pack.js';
import type { IncidentChange } from '../engine/types.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics/registry.js';
import { NotificationDispatcher } from '../notify/dispatcher.js';
import { RootMemory } from '../notify/roots.js';
import type { DurableResults } from '../queue/port.js';
import type { ResultsBus } from '../results/bus.js';
import { type IncidentStore, JsonText } from '../store/port.js';
import { type IncidentsContext, IncidentWriter } from './manager.js';
import { HeldResults, RESULTS_POSITION_KEY, replayUnseen } from './catch-up.js';
import { componentStatusRecorder, incidentMetricsRecorder } from './metrics.js';
import { ENGINE_STATE_KEY, type Recovered, recoverIncidents } from './recovery.js';

/** How often the daemon advances the engine's clock (recoveries, staleness, maintenance). */
const TICK_MS = 1000;
/**
 * The snapshot is saved every SNAPSHOT_EVERY_MS, and SNAPSHOT_AFTER_CHANGE_MS after incident
 * changes; but never more often than SNAPSHOT_COST_FACTOR times what the last save held the event
 * loop for (up to SNAPSHOT_AT_MOST_MS apart): 10,000 failing series are about 20 MB of JSON and
 * half a second to write, and a storm changing incidents every tick must not spend its time (and
 * the API's) saving them. Incident documents are written every tick regardless; the snapshot is
 * what a restart resumes detection from.
 */
const SNAPSHOT_EVERY_MS = 5000;
const SNAPSHOT_AFTER_CHANGE_MS = 2000;
const SNAPSHOT_COST_FACTOR = 100;
const SNAPSHOT_AT_MOST_MS = 60_000;
/** On stop, notifications still queued get this long to be delivered. */
const NOTIFY_DRAIN_MS = 3000;

export interface IncidentRuntime {
  readonly engine: Engine;
  /** What operator verbs (API, CLI) need. */
  readonly ctx: IncidentsContext;
  /**
   * A reloaded config: the engine carries its state over to the new rules, probes and components
   * (Engine.reconfigure), and notifications go to the new notifiers (those queued for the old ones
   * are still delivered, within the stop's drain time).
   */
  reconfigure(plan: Plan): void;
  /** Stops ticking, applies what is buffered, waits for writes, saves the snapshot. */
  stop(): Promise<void>;
}

/**
 * The live driver of the pure engine: results from the bus, the wall clock through periodic
 * ticks, changes through the IncidentWriter to the store once per tick, the engine's state saved
 * soon after them (so a restart, even after SIGKILL, resumes without a duplicate draft: see
 * `recover`).
 */
export async function startIncidentRuntime(deps: {
  plan: Plan;
  store: IncidentStore;
  bus: ResultsBus;
  metrics: Metrics;
  clock: TimerClock;
  logger: Logger;
  /** Results that outlive this process (fleet): replayed from the snapshot's position on start. */
  results?: DurableResults | undefined;
}): Promise<IncidentRuntime> {
  const { plan, store, bus, metrics, clock, logger, results } = deps;
  const engine = createEngine({
    plan,
    rules: rulesForPlan(plan),
    ...engineOptionsForPlan(plan),
    onDrop: (reason) => metrics.eventsDropped.inc({ reason }),
  });
  const writer = new IncidentWriter(store);
  // Operators' changes another process stored, found when the writer reads: the engine follows.
  writer.onStoredChange((doc) => engine.followStored(doc));
  const started = performance.now();
  // Results published while recovering are held and reach the engine after the replayed ones.
  const held = new HeldResults(engine);
  const unsubscribe = bus.subscribe(held.listener);
  let recovered: Recovered;
  try {
    recovered = await recoverIncidents(engine, store);
    if (results) await replayUnseen({ engine, store, results, metrics, logger });
    metrics.recoveries.inc({ outcome: 'ok' });
  } catch (err) {
    unsubscribe();
    metrics.recoveries.inc({ outcome: 'failed' });
    throw err;
  }
  held.release();
  logger.info(
    {
      ms: Math.round(performance.now() - started),
      snapshot: recovered.fromSnapshot,
      open: recovered.open,
    },
    'incidents recovered from the store',
  );
  writer.onApplied(incidentMetricsRecorder(metrics, recovered.known));
  // Notifications only enqueue here: a slow or failing receiver never holds the write path.
  // The roots outlive a reload's dispatcher: what a later re-root says the root was.
  const roots = new RootMemory(recovered.known);
  const dispatcherFor = (notifiers: Plan['notifiers']): NotificationDispatcher =>
    new NotificationDispatcher({ notifiers, logger, metrics, clock, roots });
  let notifiers = plan.notifiers;
  let notifier = dispatcherFor(notifiers);
  // Through the current dispatcher: a reload with other notifiers replaces it.
  writer.onApplied((change, stored) => notifier.listener(change, stored));
  const ctx: IncidentsContext = { store, writer, clock, engine };

  let lastSnapshot = clock.now();
  let changedSinceSnapshot = false;
  let snapshotCostMs = 0;
  const saveState = () =>
    writer.exclusive(async () => {
      lastSnapshot = clock.now();
      changedSinceSnapshot = false;
      // Read before the snapshot is taken, so the saved position is never ahead of it.
      const position = results?.delivered();
      const started = performance.now();
      const text = new JsonText(engine.snapshotText());
      const saving = store.putState(ENGINE_STATE_KEY, text);
      snapshotCostMs = performance.now() - started;
      await saving;
      if (position !== undefined) await store.putState(RESULTS_POSITION_KEY, { position });
    });
  // A store that cannot take a write keeps it in the writer's outbox, retried every tick; the
  // failure is logged once per episode, not once per tick.
  let failing = false;
  const persist = (changes: IncidentChange[]): void => {
    if (changes.length === 0 && writer.unsaved === 0) return;
    for (const c of changes) {
      if (c.opened) logger.warn({ incident: c.incident.id, title: c.incident.title, rule: c.rule }, 'draft incident opened');
    }
    if (changes.length > 0) changedSinceSnapshot = true;
    writer
      .apply(changes)
      .then(() => {
        if (failing) logger.info('incident changes stored again');
        failing = false;
      })
      .catch((err: unknown) => {
        if (!failing) logger.error({ err, unsaved: writer.unsaved }, 'could not save incident changes; retrying every tick');
        failing = true;
      })
      .finally(() => metrics.incidentWritesPending.set(writer.unsaved));
  };
  const recordStatuses = componentStatusRecorder(metrics);

  // Results only feed the engine (subscribed above); its changes are collected once per tick
  // (one write, coalesced entries), so a storm costs the store and the notifiers per tick, not per result.
  let timer: TimerHandle | undefined;
  let stopped = false;
  const tick = (): void => {
    if (stopped) return;
    try {
      persist(engine.tick(clock.now()));
      recordStatuses(engine.componentStatuses());
      const since = clock.now() - lastSnapshot;
      const base = changedSinceSnapshot ? SNAPSHOT_AFTER_CHANGE_MS : SNAPSHOT_EVERY_MS;
      const due = Math.min(SNAPSHOT_AT_MOST_MS, Math.max(base, SNAPSHOT_COST_FACTOR * snapshotCostMs));
      if (since >= due) {
        saveState().catch((err: unknown) => logger.error({ err }, 'could not save the engine state'));
      }
    } catch (err) {
      logger.error({ err }, 'rules engine tick failed');
    }
    timer = clock.setTimeout(tick, TICK_MS);
    timer.unref?.();
  };
  tick();

  return {
    engine,
    ctx,
    reconfigure(next) {
      persist(engine.reconfigure({ plan: next, rules: rulesForPlan(next), ...engineOptionsForPlan(next) }));
      if (JSON.stringify(next.notifiers) !== JSON.stringify(notifiers)) {
        const old = notifier;
        notifiers = next.notifiers;
        notifier = dispatcherFor(notifiers);
        old.stop(NOTIFY_DRAIN_MS).catch((err: unknown) => logger.warn({ err }, 'notifiers replaced by a reload did not drain'));
      }
    },
    async stop() {
      stopped = true;
      unsubscribe();
      if (timer) clock.clearTimeout(timer);
      persist(engine.flush());
      await writer.idle();
      await saveState();
      await notifier.stop(NOTIFY_DRAIN_MS);
    },
  };
}
