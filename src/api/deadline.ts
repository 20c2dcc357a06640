import { TocsinError } from '../errors.js';
import { answerWithin, type IncidentsContext } from '../incidents/manager.js';
import type { IncidentStore } from '../store/port.js';

/**
 * How long a request waits for a store read. A store that is away fails at once (the Redis client
 * queues nothing offline), but one that hangs (unreachable, not refusing) would hold a request for
 * the client's command timeout (5 s): the API answers 503 within a second instead. Operator verbs
 * have their own deadline (src/incidents/manager.ts, VERB_ANSWER_MS).
 */
export const STORE_READ_WAIT_MS = 800;

/** `work`, or UNAVAILABLE once `ms` passed without its answer (a read: abandoning it changes nothing). */
export function storeWithin<T>(work: Promise<T>, ms = STORE_READ_WAIT_MS, consequence = ''): Promise<T> {
  return answerWithin(work, ms, () => new TocsinError('UNAVAILABLE', `store unavailable: no answer within ${ms} ms${consequence}`));
}

const bounded = new WeakMap<IncidentStore, IncidentStore>();

/**
 * The store as the API's handlers see it: reads (and ping, for /readyz) answer within
 * STORE_READ_WAIT_MS or fail UNAVAILABLE; writes pass through unchanged (the API writes only
 * through the IncidentWriter, which bounds its own waits without ever abandoning a sent write).
 */
export function boundedReads(store: IncidentStore): IncidentStore {
  const known = bounded.get(store);
  if (known) return known;
  const view: IncidentStore = {
    ping: () => storeWithin(store.ping()),
    close: () => store.close(),
    saveLatestResults: (results) => store.saveLatestResults(results),
    latestResults: () => storeWithin(store.latestResults()),
    getIncident: (id) => storeWithin(store.getIncident(id)),
    listIncidents: (filter) => storeWithin(store.listIncidents(filter)),
    saveIncident: (write) => store.saveIncident(write),
    getState: (key) => storeWithin(store.getState(key)),
    putState: (key, value) => store.putState(key, value),
  };
  bounded.set(store, view);
  return view;
}

/** The incidents context with its store's reads bounded; the rest read live from `ctx` (it changes with the lease). */
export function boundedIncidents(ctx: IncidentsContext): IncidentsContext {
  return {
    get store() {
      return boundedReads(ctx.store);
    },
    get clock() {
      return ctx.clock;
    },
    get writer() {
      return ctx.writer;
    },
    get engine() {
      return ctx.engine;
    },
    get notReady() {
      return ctx.notReady;
    },
  };
}
