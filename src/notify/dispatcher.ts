import { randomUUID } from 'node:crypto';
import type { AxiosError, AxiosInstance } from 'axios';
import { systemClock, type TimerClock } from '../clock.js';
import type { NotifierSpec } from '../config/schema.js';
import type { IncidentChange } from '../engine/types.js';
import type { Incident } from '../events/incident.js';
import { type SummarisedIncident, summariseDocument } from '../events/incident-summary.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics/registry.js';
import { eventFor, eventOf, type Notification, rerootOf } from './events.js';
import { type ChangeNews, GroupWait, type Outgoing } from './grouping.js';
import { RootMemory } from './roots.js';
import { slackRequest } from './slack.js';
import { type OutgoingRequest, webhookRequest } from './webhook.js';

export interface DispatcherOptions {
  readonly notifiers: readonly NotifierSpec[];
  readonly logger: Logger;
  readonly metrics?: Pick<Metrics, 'notifications' | 'notificationQueueDepth'>;
  /** Where `secret_env` is read. Default `process.env`. */
  readonly env?: NodeJS.ProcessEnv;
  /** `sent_at`, the signature timestamp and `group_wait`. Default the system clock. */
  readonly clock?: TimerClock;
  /**
   * The open incidents' roots, for what `incident.rerooted` says the root was: shared by the
   * dispatchers a reload replaces, seeded from the store at start. Default: an empty one.
   */
  readonly roots?: RootMemory;
  /** Attempts per notification, the first included. Default 4 (retries after ~1 s, 2 s, 4 s). */
  readonly maxAttempts?: number;
  /** Wait before the first retry; doubled for each next one, with ±25 % jitter. Default 1 s. */
  readonly baseDelayMs?: number;
  /** Longest wait between attempts; a receiver's Retry-After is honoured up to it. Default 30 s. */
  readonly maxDelayMs?: number;
  /**
   * Notifications waiting per notifier; beyond it the oldest is dropped. Default 1000. Openings
   * held for `group_wait` are bounded by it too: past it the oldest is queued at once.
   */
  readonly capacity?: number;
  /** Jitter source, in [0, 1). Default Math.random. */
  readonly random?: () => number;
}

export type DeliveryResult = 'success' | 'failure' | 'dropped';

/** One configured notifier: its own FIFO and worker, so a slow receiver delays only itself. */
interface Lane {
  /** `<kind>-<index in notifiers:>`: the metric label and log field (the URL may hold a secret). */
  readonly id: string;
  readonly spec: NotifierSpec;
  /** Scheme, host and port only: Slack-style URLs carry their secret in the path. */
  readonly origin: string;
  readonly build: (n: Notification, nowMs: number) => OutgoingRequest;
  /** Openings waiting for the notifier's `group_wait`, ahead of the queue. */
  readonly grouping: GroupWait;
  readonly waiting: Notification[];
  running: Promise<void> | undefined;
}

/**
 * Delivers incident notifications to webhooks and Slack-compatible receivers, off the engine's
 * path: `listener` only enqueues (it never blocks nor throws), each notifier has a bounded FIFO
 * delivered in order by one worker, with a timeout per attempt and retries with exponential
 * backoff and jitter; 4xx answers other than 408 and 429 are final. Outcomes are counted in
 * `tocsin_notifications_total{notifier,event,result}` and failures logged, never with a secret,
 * a signature or a URL path.
 */
export class NotificationDispatcher {
  readonly #lanes: Lane[];
  readonly #logger: Logger;
  readonly #metrics: DispatcherOptions['metrics'];
  readonly #clock: TimerClock;
  readonly #roots: RootMemory;
  /** Summarised once per stored document, whichever notifiers send it. */
  readonly #summaries = new WeakMap<Incident, SummarisedIncident>();
  /** Made on the first delivery: a daemon without notifiers never loads axios (memory). */
  #http: Promise<{ client: AxiosInstance; isAxiosError: (err: unknown) => err is AxiosError }> | undefined;
  readonly #maxAttempts: number;
  readonly #baseDelayMs: number;
  readonly #maxDelayMs: number;
  readonly #capacity: number;
  readonly #random: () => number;
  /** Aborted when a stop's drain bound passes: in-flight requests and backoff waits end at once. */
  readonly #abort = new AbortController();
  #stopping = false;

  constructor(opts: DispatcherOptions) {
    const env = opts.env ?? process.env;
    this.#logger = opts.logger.child({ component: 'notify' });
    this.#metrics = opts.metrics;
    this.#clock = opts.clock ?? systemClock;
    this.#maxAttempts = Math.max(1, opts.maxAttempts ?? 4);
    this.#baseDelayMs = opts.baseDelayMs ?? 1000;
    this.#maxDelayMs = opts.maxDelayMs ?? 30_000;
    this.#capacity = Math.max(1, opts.capacity ?? 1000);
    this.#random = opts.random ?? Math.random;
    this.#roots = opts.roots ?? new RootMemory();
    this.#lanes = opts.notifiers.map((spec, i) => {
      const secret = spec.secret_env ? env[spec.secret_env] : undefined;
      const lane: Lane = {
        id: `${spec.kind}-${i}`,
        spec,
        origin: originOf(spec.url),
        build: spec.kind === 'slack' ? (n: Notification) => slackRequest(n) : (n: Notification, now: number) => webhookRequest(n, now, secret),
        grouping: new GroupWait({
          waitMs: spec.group_wait,
          filter: spec.events,
          clock: this.#clock,
          limit: this.#capacity,
          emit: (o) => this.#queue(lane, o),
        }),
        waiting: [],
        running: undefined,
      };
      return lane;
    });
  }

  /** For `writer.onApplied`: enqueues and returns at once. */
  readonly listener = (change: IncidentChange, stored: Incident): void => {
    try {
      this.enqueue(change, stored);
    } catch (err) {
      // A notification bug must never reach the engine's write path.
      this.#logger.error({ err }, 'could not queue a notification');
    }
  };

  enqueue(change: Pick<IncidentChange, 'opened' | 'appended'>, stored: Incident): void {
    // Every change, even one that sends nothing: the root before a later re-root.
    const before = this.#roots.swap(stored);
    const news: ChangeNews = {
      stored,
      base: eventOf(change),
      appended: change.appended,
      reroot: rerootOf(change, before, stored.root_component),
    };
    for (const lane of this.#lanes) {
      if (this.#stopping) {
        const event = eventFor(lane.spec.events, news.base, news.reroot);
        if (event) this.#count(lane, event, 'dropped');
        continue;
      }
      lane.grouping.take(news);
    }
  }

  /** Queues a notification for one notifier (at once, or when its group_wait has passed). */
  #queue(lane: Lane, o: Outgoing): void {
    try {
      const n: Notification = {
        event: o.event,
        incident: this.#summary(o.stored),
        entries: o.entries,
        id: randomUUID(),
        ...(o.reroot ? { reroot: o.reroot } : {}),
      };
      lane.waiting.push(n);
      while (lane.waiting.length > this.#capacity) {
        const old = lane.waiting.shift();
        if (old) this.#count(lane, old.event, 'dropped');
        this.#logger.warn({ notifier: lane.id, capacity: this.#capacity }, 'notification queue full: dropped the oldest');
      }
      this.#depth(lane);
      lane.running ??= this.#work(lane);
    } catch (err) {
      // Called from a group_wait timer too: a notification bug must not escape into it.
      this.#logger.error({ err, notifier: lane.id }, 'could not queue a notification');
    }
  }

  /**
   * A zone failure's thousands of components are counted, not sent (and not held in up to
   * `capacity` queued notifications); once per stored document, whichever notifiers send it.
   */
  #summary(stored: Incident): SummarisedIncident {
    let summary = this.#summaries.get(stored);
    if (!summary) {
      summary = summariseDocument(stored);
      this.#summaries.set(stored, summary);
    }
    return summary;
  }

  /** Notifications waiting, per notifier id. */
  depth(): Record<string, number> {
    return Object.fromEntries(this.#lanes.map((l) => [l.id, l.waiting.length]));
  }

  /** Openings held for `group_wait`, per notifier id. */
  holding(): Record<string, number> {
    return Object.fromEntries(this.#lanes.map((l) => [l.id, l.grouping.holding]));
  }

  /** Resolves when every queue is empty and nothing is in flight (openings held for group_wait aside). */
  async idle(): Promise<void> {
    for (;;) {
      const running = this.#lanes.map((l) => l.running).filter((p): p is Promise<void> => p !== undefined);
      if (running.length === 0) return;
      await Promise.all(running);
    }
  }

  /**
   * Stops taking notifications and drains for at most `boundMs`; what is still queued then is
   * dropped (counted) and requests in flight are aborted. Openings held for `group_wait` are
   * queued first, as their incidents are now: a draft is never left untold. Resolves whether it
   * drained.
   */
  async stop(boundMs: number): Promise<boolean> {
    this.#stopping = true;
    for (const lane of this.#lanes) lane.grouping.releaseAll();
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), boundMs);
      timer.unref();
    });
    const drained = await Promise.race([this.idle().then(() => true as const), bound]);
    clearTimeout(timer);
    if (!drained) {
      this.#abort.abort();
      for (const lane of this.#lanes) {
        for (const n of lane.waiting.splice(0)) this.#count(lane, n.event, 'dropped');
        this.#depth(lane);
      }
      await this.idle();
      this.#logger.warn({ boundMs }, 'notifications not delivered before shutdown were dropped');
    }
    return drained;
  }

  async #work(lane: Lane): Promise<void> {
    try {
      for (let n = lane.waiting.shift(); n; n = lane.waiting.shift()) {
        this.#depth(lane);
        if (this.#abort.signal.aborted) {
          this.#count(lane, n.event, 'dropped');
          continue;
        }
        const result = await this.#deliver(lane, n);
        this.#count(lane, n.event, result);
      }
    } catch (err) {
      this.#logger.error({ err, notifier: lane.id }, 'notification worker failed');
    } finally {
      lane.running = undefined;
      this.#depth(lane);
    }
  }

  async #deliver(lane: Lane, n: Notification): Promise<DeliveryResult> {
    let reason = '';
    for (let attempt = 1; attempt <= this.#maxAttempts; attempt++) {
      if (this.#abort.signal.aborted) return 'dropped';
      const req = lane.build(n, this.#clock.now());
      const outcome = await this.#post(lane, req);
      if (outcome.ok) {
        this.#logger.debug({ notifier: lane.id, event: n.event, incident: n.incident.id, attempt }, 'notification delivered');
        return 'success';
      }
      reason = outcome.reason;
      if (!outcome.retry || attempt === this.#maxAttempts) break;
      const backoff = this.#baseDelayMs * 2 ** (attempt - 1) * (0.75 + 0.5 * this.#random());
      const wait = Math.min(this.#maxDelayMs, Math.max(backoff, outcome.retryAfterMs ?? 0));
      this.#logger.debug({ notifier: lane.id, event: n.event, attempt, reason, waitMs: Math.round(wait) }, 'notification attempt failed, retrying');
      await sleep(wait, this.#abort.signal);
    }
    if (this.#abort.signal.aborted) return 'dropped';
    this.#logger.warn(
      { notifier: lane.id, receiver: lane.origin, event: n.event, incident: n.incident.id, reason },
      'notification failed',
    );
    return 'failure';
  }

  async #post(
    lane: Lane,
    req: OutgoingRequest,
  ): Promise<{ ok: true } | { ok: false; retry: boolean; reason: string; retryAfterMs?: number }> {
    const timeoutMs = lane.spec.timeout;
    // axios's `timeout` is an idle timer; the signal bounds the whole exchange (a dripping receiver).
    const signal = AbortSignal.any([AbortSignal.timeout(timeoutMs), this.#abort.signal]);
    const { client, isAxiosError } = await this.#client();
    try {
      const res = await client.post(lane.spec.url, req.body, {
        headers: { ...req.headers },
        timeout: timeoutMs,
        signal,
      });
      if (res.status >= 200 && res.status < 300) return { ok: true };
      const retry = res.status >= 500 || res.status === 408 || res.status === 429 || res.status < 200;
      return { ok: false, retry, reason: `HTTP ${res.status}`, retryAfterMs: retryAfterMs(res.headers['retry-after']) };
    } catch (err) {
      return { ok: false, retry: true, reason: networkReason(err, timeoutMs, isAxiosError) };
    }
  }

  #client(): Promise<{ client: AxiosInstance; isAxiosError: (err: unknown) => err is AxiosError }> {
    this.#http ??= import('axios').then(({ default: axios, isAxiosError }) => ({
      client: axios.create({
        // Statuses are classified here; axios never builds an error holding the signed headers.
        validateStatus: () => true,
        maxRedirects: 0,
        responseType: 'text',
        transformResponse: [(data: unknown) => data],
        // The body is serialized (and signed) by the notifier: send those exact bytes.
        transformRequest: [(data: unknown) => data],
        maxContentLength: 64 * 1024,
      }),
      isAxiosError,
    }));
    return this.#http;
  }

  #count(lane: Lane, event: string, result: DeliveryResult): void {
    this.#metrics?.notifications.inc({ notifier: lane.id, event, result });
  }

  #depth(lane: Lane): void {
    this.#metrics?.notificationQueueDepth.set({ notifier: lane.id }, lane.waiting.length);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    timer.unref();
    signal.addEventListener('abort', done, { once: true });
  });
}

/** `Retry-After` in seconds (HTTP dates are rare from webhook receivers and ignored). */
function retryAfterMs(value: unknown): number | undefined {
  const s = typeof value === 'string' ? Number(value) : Number.NaN;
  return Number.isFinite(s) && s >= 0 ? s * 1000 : undefined;
}

function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '?';
  }
}

/** Why a request got no answer, in words safe to log (never the request's config or headers). */
function networkReason(err: unknown, timeoutMs: number, isAxiosError: (err: unknown) => err is AxiosError): string {
  if (isAxiosError(err)) {
    const timedOut = err.code === 'ECONNABORTED' || err.code === 'ETIMEDOUT' || err.code === 'ERR_CANCELED';
    if (timedOut) return `no answer within ${timeoutMs} ms`;
    const inner = (err.cause as { code?: string } | undefined)?.code;
    return err.code ?? inner ?? 'request failed';
  }
  return err instanceof Error ? err.name : 'request failed';
}
