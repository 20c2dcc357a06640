import type { TimerClock } from '../clock.js';
import type { Plan } from '../config/plan.js';
import { type IncidentsContext, IncidentWriter } from '../incidents/manager.js';
import { type IncidentRuntime, startIncidentRuntime } from '../incidents/runtime.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics/registry.js';
import type { DurableResults } from '../queue/port.js';
import type { ResultsBus } from '../results/bus.js';
import type { RedisStore } from '../store/redis.js';
import { RedisLease, type RedisLeaseOptions } from './lease.js';

/** What the daemon needs from its incidents side: the same shape with or without a lease. */
export interface LeaderRuntime {
  /** Operator verbs: through the live engine while leader, straight to the store while standby. */
  readonly ctx: IncidentsContext;
  readonly lease: RedisLease;
  /** A reloaded config: the running engine takes it, and an engine started later starts with it. */
  reconfigure(plan: Plan): void;
  /** Stops the engine (final writes while still leader), then releases the lease. */
  stop(): Promise<void>;
}

export interface LeaderRuntimeDeps {
  readonly plan: Plan;
  readonly store: RedisStore;
  readonly bus: ResultsBus;
  readonly metrics: Metrics;
  readonly clock: TimerClock;
  readonly logger: Logger;
  /** Lease timings and callbacks; the key defaults to `<store prefix>leader`. */
  readonly lease?: Omit<RedisLeaseOptions, 'redis' | 'clock' | 'logger' | 'onAcquired' | 'onLost'>;
  /** The fleet's results stream: a new leader replays what the last snapshot had not taken. */
  readonly results?: DurableResults | undefined;
  /** Starts the engine (default: startIncidentRuntime); tests substitute it. */
  readonly startRuntime?: typeof startIncidentRuntime;
}

/**
 * Fleet mode: the rules engine runs only in the process holding the leader lease. The others
 * stand by (API reads and operator verbs still work: writes are conditional on revisions) and
 * one takes over when the leader dies, restoring the engine's snapshot and adopting open
 * incidents from the store, so the takeover opens no duplicate. The engine writes through a
 * store fenced by the lease's token: a deposed leader's late writes are refused.
 */
export async function startLeaderRuntime(deps: LeaderRuntimeDeps): Promise<LeaderRuntime> {
  const { store, clock, logger } = deps;
  const start = deps.startRuntime ?? startIncidentRuntime;
  const standby: IncidentsContext = { store, clock, writer: new IncidentWriter(store) };
  let current: IncidentRuntime | undefined;
  let plan = deps.plan;
  /** While the engine starts: /readyz says so; verbs meanwhile go to the store as on a standby. */
  let recovering = false;
  let stopping = false;
  // Start and stop in order: a loss arriving while the engine starts waits for the start.
  let transitions: Promise<void> = Promise.resolve();
  const enqueue = (fn: () => Promise<void>): void => {
    transitions = transitions.then(fn).catch((err: unknown) => logger.error({ err }, 'leader transition failed'));
  };
  const stopEngine = async (): Promise<void> => {
    const runtime = current;
    current = undefined;
    deps.metrics.leader.set(0);
    // After a loss the final writes are refused (fenced): nothing is lost, the new leader has the store.
    await runtime?.stop().catch((err: unknown) => logger.warn({ err }, 'engine stopped without its final save'));
  };

  const lease: RedisLease = new RedisLease({
    key: `${store.prefix}leader`,
    ...deps.lease,
    redis: store.client,
    clock,
    logger,
    onAcquired: () =>
      enqueue(async () => {
        if (current || stopping || !lease.isLeader()) return;
        const { bus, metrics, results } = deps;
        recovering = true;
        try {
          current = await start({ plan, bus, metrics, clock, logger, results, store: store.withFence(lease) });
        } catch (err) {
          // Recovery failed (the store went away again): give the lease up so that this process
          // or another campaigns again and recovers from the store, rather than holding it idle.
          logger.error({ err }, 'leader: recovery failed; releasing the lease');
          await lease.release().catch(() => undefined);
          return;
        } finally {
          recovering = false;
        }
        // The lease may have gone while the engine was starting.
        if (!lease.isLeader()) await stopEngine();
        else {
          deps.metrics.leader.set(1);
          logger.info({ holder: lease.holder, fencingToken: lease.token() }, 'leader: rules engine running');
        }
      }),
    onLost: () =>
      enqueue(async () => {
        await stopEngine();
        logger.warn({ holder: lease.holder }, 'standby: rules engine stopped');
      }),
  });
  lease.start();

  const ctx: IncidentsContext = {
    get store() {
      return current?.ctx.store ?? standby.store;
    },
    get clock() {
      return clock;
    },
    get writer() {
      return current?.ctx.writer ?? standby.writer;
    },
    get engine() {
      return current?.ctx.engine;
    },
    get notReady() {
      return recovering ? 'recovering incidents from the store (leader lease acquired)' : undefined;
    },
  };
  return {
    ctx,
    lease,
    reconfigure(next) {
      plan = next;
      // In order with starts and stops: an engine starting now gets the new plan either way.
      enqueue(async () => current?.reconfigure(next));
    },
    async stop() {
      stopping = true;
      await transitions;
      await stopEngine();
      await lease.stop();
    },
  };
}
