import type { Clock, TimerClock, TimerHandle } from '../clock.js';
import type { Logger } from '../log.js';
import type { IncidentFields, IncidentStore, UptimeDay, UptimeSpan, UptimeStore, UptimeWrite } from '../store/port.js';
import { dayOf, daySeconds, HISTORY_SINCE_KEY, incidentSpans, retention, type Span } from './history.js';

type Store = UptimeStore & Pick<IncidentStore, 'getState' | 'putState' | 'listIncidents'>;

/** Confirmed incidents read per page when reconciling at start. */
const RECONCILE_PAGE = 100;

/**
 * Keeps uptime history in step with the incidents the store takes (docs/status-page.md, "Uptime
 * history"). It hears of every incident write (`store.onIncidentSaved`) and, when what the
 * incident says publicly of its components changed (confirmed, resolved, a component or an
 * impact edited, times moved by a retroactive post), recomputes the days those components'
 * spans touch, from every published span on them. A write that changes nothing public (a
 * note, a draft's new signal) costs a comparison with the incident's last footprint, kept in
 * memory while the incident is open: no store access.
 *
 * Work is done one incident at a time, off the write path; a store that fails keeps the
 * incident pending, retried by the next write or `tick`. At start, confirmed incidents of the
 * retained window are reconciled with their spans (history written by an older version, or a
 * write whose history was lost in a crash).
 */
export class UptimeRecorder {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #logger: Pick<Logger, 'warn' | 'info'>;
  /** Latest fields per incident not recorded yet. */
  readonly #pending = new Map<string, IncidentFields>();
  /** Footprints of open incidents (what the store holds for them), so their writes read nothing. */
  readonly #footprints = new Map<string, Map<string, UptimeSpan>>();
  #running: Promise<void> | undefined;
  #failing = false;
  #prunedDay: string | undefined;
  #since: number | undefined;

  constructor(deps: { store: Store; clock: Clock; logger: Pick<Logger, 'warn' | 'info'> }) {
    this.#store = deps.store;
    this.#clock = deps.clock;
    this.#logger = deps.logger;
  }

  /** Listens to the store's writes; marks where history starts; prunes; reconciles in the background. */
  async start(): Promise<void> {
    this.#store.onIncidentSaved((incident) => this.record(incident));
    await this.#ensureSince();
    await this.#prune();
  }

  /**
   * Records every confirmed incident opened within the retained window (and a margin for those
   * that stayed open long): what an upgrade or a crash left unrecorded. Bounded: pages of
   * {@link RECONCILE_PAGE} back to the window's start.
   */
  async reconcile(): Promise<void> {
    const oldest = retention(this.#clock.now()).from - 30 * 86_400_000;
    let before: string | undefined;
    for (;;) {
      const page = await this.#store.listIncidents({ review: 'confirmed', limit: RECONCILE_PAGE, ...(before ? { before } : {}) });
      for (const inc of page) if (!this.#pending.has(inc.id)) this.#pending.set(inc.id, inc);
      this.#kick();
      await this.idle();
      if (this.#failing) throw new Error('uptime history: the store failed while reconciling');
      const last = page[page.length - 1];
      if (!last || page.length < RECONCILE_PAGE || Date.parse(last.opened_at) < oldest) break;
      before = last.id;
    }
  }

  /** An incident as just stored: recorded in the background. Never throws. */
  record(incident: IncidentFields): void {
    this.#pending.set(incident.id, incident);
    this.#kick();
  }

  /** Retries what failed and prunes once a day: called on a timer. */
  tick(): void {
    this.#kick();
  }

  /** Resolves once nothing is pending or running (a failure leaves it pending and resolves too). */
  async idle(): Promise<void> {
    while (this.#running) await this.#running;
  }

  get pending(): number {
    return this.#pending.size;
  }

  #kick(): void {
    if (this.#running) return;
    this.#running = this.#drain().finally(() => {
      this.#running = undefined;
    });
  }

  async #drain(): Promise<void> {
    try {
      await this.#ensureSince();
      if (this.#prunedDay !== dayOf(this.#clock.now())) await this.#prune();
      for (let first = this.#pending.entries().next(); !first.done; first = this.#pending.entries().next()) {
        const [id, fields] = first.value;
        await this.#apply(fields);
        // A newer write of the same incident arrived meanwhile: it stays pending, handled next.
        if (this.#pending.get(id) === fields) this.#pending.delete(id);
      }
      if (this.#failing) {
        this.#failing = false;
        this.#logger.info('uptime history: recorded again');
      }
    } catch (err) {
      if (!this.#failing) {
        this.#failing = true;
        this.#logger.warn({ err, pending: this.#pending.size }, 'uptime history: could not record; retrying');
      }
    }
  }

  async #prune(): Promise<void> {
    const { firstDay, from } = retention(this.#clock.now());
    await this.#store.pruneUptime(firstDay, from);
    this.#prunedDay = dayOf(this.#clock.now());
  }

  /** History starts now unless it started earlier (a restart keeps the first start). */
  async #ensureSince(): Promise<void> {
    if (this.#since !== undefined) return;
    const since = await this.#store.getState(HISTORY_SINCE_KEY);
    if (typeof since === 'number') this.#since = since;
    else await this.#setSince(this.#clock.now());
  }

  async #setSince(ms: number): Promise<void> {
    await this.#store.putState(HISTORY_SINCE_KEY, ms);
    this.#since = ms;
  }

  async #apply(incident: IncidentFields): Promise<void> {
    const now = this.#clock.now();
    const next = incidentSpans(incident);
    const known = this.#footprints.get(incident.id);
    const before = known ?? new Map((await this.#store.uptimeFootprint(incident.id)).map((s) => [s.component, s]));
    const changed: string[] = [];
    for (const [c, span] of next) {
      const old = before.get(c);
      if (!old || old.impact !== span.impact || old.start !== span.start || old.end !== span.end) changed.push(c);
    }
    for (const c of before.keys()) if (!next.has(c)) changed.push(c);
    if (changed.length > 0) this.#remember(incident, await this.#recompute(incident.id, changed, before, next, now));
    else if (!known) this.#remember(incident, before);
  }

  /**
   * Recomputes the day rows of `components` from the day their changed spans (old or new) start,
   * or from the earliest point their open spans were counted to, through today, with the
   * incident's spans replaced; the open spans of those components are then counted to `now`.
   */
  async #recompute(
    id: string,
    components: readonly string[],
    before: ReadonlyMap<string, UptimeSpan>,
    next: ReadonlyMap<string, Span>,
    now: number,
  ): Promise<Map<string, UptimeSpan>> {
    const { from: kept } = retention(now);
    const stored = await this.#store.uptimeSpans(components, kept);
    const byComponent = new Map<string, UptimeSpan[]>();
    for (const s of stored) {
      if (s.incident === id) continue;
      const list = byComponent.get(s.component);
      if (list) list.push(s);
      else byComponent.set(s.component, [s]);
    }
    const put: UptimeSpan[] = [];
    const remove: { incident: string; component: string }[] = [];
    const days: UptimeDay[] = [];
    const footprint = new Map<string, UptimeSpan>();
    const recomputed = new Set(components); // a zone-wide incident lists 10,000: no scan per entry
    for (const [c, s] of before) if (!recomputed.has(c)) footprint.set(c, s);
    let earliest = Infinity;
    for (const c of components) {
      const others = byComponent.get(c) ?? [];
      const mine = next.get(c);
      const old = before.get(c);
      let from = Math.min(mine?.start ?? Infinity, old?.start ?? Infinity);
      for (const o of others) if (o.end === null) from = Math.min(from, o.counted);
      from = Math.max(from, kept);
      if (mine) {
        const span: UptimeSpan = { incident: id, component: c, ...mine, counted: now };
        put.push(span);
        footprint.set(c, span);
        earliest = Math.min(earliest, mine.start);
      } else {
        remove.push({ incident: id, component: c });
      }
      for (const o of others) if (o.end === null) put.push({ ...o, counted: now });
      if (from > now) continue;
      const spans: Span[] = mine ? [...others, mine] : others;
      for (const [day, secs] of daySeconds(spans, dayOf(from), now)) days.push({ day, component: c, ...secs });
    }
    const write: UptimeWrite = { put, remove, days };
    await this.#store.saveUptime(write);
    if (earliest < (this.#since ?? Infinity)) await this.#setSince(earliest);
    return footprint;
  }

  /** Keeps the footprint of an open incident (dropped once it resolves: it rarely changes after). */
  #remember(incident: IncidentFields, footprint: Map<string, UptimeSpan>): void {
    if (incident.status === 'open') this.#footprints.set(incident.id, footprint);
    else this.#footprints.delete(incident.id);
  }
}

/** How often a running daemon retries unrecorded incidents and checks whether a day passed (pruning). */
export const UPTIME_TICK_MS = 10 * 60_000;

/**
 * The daemon's recorder: listening from now on, reconciling the retained window in the
 * background, ticking every {@link UPTIME_TICK_MS}. A store that fails at start delays history,
 * never the daemon: it is logged and retried by the ticks.
 */
export async function startUptimeRecorder(deps: {
  store: Store;
  clock: TimerClock;
  logger: Pick<Logger, 'warn' | 'info'>;
}): Promise<{ recorder: UptimeRecorder; stop(): Promise<void> }> {
  const { clock, logger } = deps;
  const recorder = new UptimeRecorder(deps);
  await recorder.start().catch((err: unknown) => logger.warn({ err }, 'uptime history: could not start; retrying'));
  let stopped = false;
  let timer: TimerHandle | undefined;
  const schedule = (): void => {
    timer = clock.setTimeout(() => {
      recorder.tick();
      if (!stopped) schedule();
    }, UPTIME_TICK_MS);
    timer.unref?.();
  };
  schedule();
  const reconciling = recorder
    .reconcile()
    .catch((err: unknown) => logger.warn({ err }, 'uptime history: could not reconcile with the stored incidents'));
  return {
    recorder,
    async stop() {
      stopped = true;
      if (timer) clock.clearTimeout(timer);
      await reconciling;
      await recorder.idle();
    },
  };
}
