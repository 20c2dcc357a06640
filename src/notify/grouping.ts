import type { TimerClock, TimerHandle } from '../clock.js';
import type { Incident, TimelineEntry } from '../events/incident.js';
import { eventFor, type NotifyEvent, type Reroot } from './events.js';

/** One stored incident change, as every notifier sees it. */
export interface ChangeNews {
  readonly stored: Incident;
  /** The change's event before any notifier's filter (`eventOf`); undefined: nothing a reader would see. */
  readonly base: NotifyEvent | undefined;
  /** The timeline entries the change appended. */
  readonly appended: readonly TimelineEntry[];
  /** The change re-rooted the incident (`rerootOf`). */
  readonly reroot: Reroot | undefined;
}

/** A notification to queue: the dispatcher summarises the document and delivers it. */
export interface Outgoing {
  readonly event: NotifyEvent;
  readonly stored: Incident;
  readonly entries: readonly TimelineEntry[];
  readonly reroot?: Reroot;
}

export interface GroupWaitOptions {
  /** `group_wait`, ms: how long the notification of an opening waits; 0 sends it at once. */
  readonly waitMs: number;
  /** The notifier's `events` (undefined: every event). */
  readonly filter: readonly NotifyEvent[] | undefined;
  readonly clock: TimerClock;
  /** Openings held at most; past it the oldest is sent at once (memory stays bounded in a storm). */
  readonly limit: number;
  /** Called with each notification to send, in order; must not throw. */
  readonly emit: (n: Outgoing) => void;
}

/** An opening waiting for its group_wait to pass: the latest stored document and every entry since. */
interface Held {
  stored: Incident;
  readonly entries: TimelineEntry[];
  readonly timer: TimerHandle;
}

/**
 * Changes folded into a held opening: updates (a re-root among them) and changes without an
 * entry only make the document newer. A resolution, a confirmation or a dismissal is news of
 * its own: it ends the wait (docs/notifications.md, "group_wait").
 */
const FOLDED: ReadonlySet<NotifyEvent | undefined> = new Set([undefined, 'incident.opened', 'incident.updated']);

/**
 * One notifier's `group_wait` (Alertmanager's name and meaning): the notification of an incident
 * being opened (a new draft or a reopening) waits `waitMs` from when the change was stored, then
 * goes out with the incident as it is then, its root and components as correlation settled them
 * in a cascade, and with every entry appended meanwhile; those changes send nothing of their own.
 * A resolution, confirmation or dismissal during the wait sends the opening at once, as the
 * incident was just before it, then itself: receivers that pair an opening with its end (open a
 * ticket, close it) hear both, in order. Only the notification waits; the draft is stored, and
 * shown by the API, at once.
 *
 * At most one held opening per incident, and at most `limit` in all.
 */
export class GroupWait {
  readonly #opts: GroupWaitOptions;
  /** Held openings by incident id, oldest first (a Map keeps insertion order). */
  readonly #held = new Map<string, Held>();

  constructor(opts: GroupWaitOptions) {
    this.#opts = { ...opts, limit: Math.max(1, opts.limit) };
  }

  /** Openings waiting. */
  get holding(): number {
    return this.#held.size;
  }

  take(news: ChangeNews): void {
    const id = news.stored.id;
    const held = this.#held.get(id);
    if (held) {
      if (FOLDED.has(news.base)) {
        held.stored = news.stored;
        // One at a time: changes kept while the store was away arrive as one, with many entries.
        for (const e of news.appended) held.entries.push(e);
        return;
      }
      this.#release(id);
    }
    const { filter, waitMs, clock, emit } = this.#opts;
    const event = eventFor(filter, news.base, news.reroot);
    if (event === undefined) return;
    if (event === 'incident.opened' && waitMs > 0) {
      const timer = clock.setTimeout(() => this.#release(id), waitMs);
      timer.unref?.();
      this.#held.set(id, { stored: news.stored, entries: [...news.appended], timer });
      if (this.#held.size > this.#opts.limit) {
        const oldest = this.#held.keys().next();
        if (!oldest.done) this.#release(oldest.value);
      }
      return;
    }
    emit(event === 'incident.rerooted' && news.reroot
      ? { event, stored: news.stored, entries: news.appended, reroot: news.reroot }
      : { event, stored: news.stored, entries: news.appended });
  }

  /** Sends every held opening now (shutdown, a reload replacing the notifier). */
  releaseAll(): void {
    for (const id of [...this.#held.keys()]) this.#release(id);
  }

  #release(id: string): void {
    const held = this.#held.get(id);
    if (!held) return;
    this.#held.delete(id);
    this.#opts.clock.clearTimeout(held.timer);
    this.#opts.emit({ event: 'incident.opened', stored: held.stored, entries: held.entries });
  }
}
