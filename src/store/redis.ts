import { Redis, type Result } from 'ioredis';
import { TocsinError } from '../errors.js';
import type { ProbeResult } from '../events/probe-result.js';
import type { Incident, TimelineEntry } from '../events/incident.js';
import {
  type IncidentFilter,
  type IncidentStore,
  type IncidentWrite,
  type SavedListener,
  type SaveOutcome,
  stateText,
  type UptimeDay,
  type UptimeSpan,
  type UptimeStore,
  type UptimeWrite,
} from './port.js';
import { daemonRedisOptions, isSentinelUrl, redisOptions } from '../redis/connection.js';
import {
  LIST_INCIDENTS,
  OPEN_UPTIME_SPANS,
  PRUNE_UPTIME,
  PUT_STATE,
  SAVE_INCIDENT,
  SAVE_LATEST,
  SAVE_UPTIME,
  UPTIME_DAYS,
  UPTIME_SPANS,
} from './redis-scripts.js';

export { daemonRedisOptions } from '../redis/connection.js';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    tocsinSaveIncident(
      docKey: string, timelineKey: string, fenceKey: string, ...args: string[]
    ): Result<number, Context>;
    tocsinListIncidents(index: string, all: string, prefix: string, limit: string, before: string): Result<
      (string | string[])[], Context
    >;
    tocsinSaveLatest(results: string, ats: string, ...args: string[]): Result<number, Context>;
    tocsinPutState(
      state: string, fenceKey: string, field: string, json: string, token: string
    ): Result<number, Context>;
    tocsinSaveUptime(...args: string[]): Result<number, Context>;
    tocsinUptimeSpans(...args: string[]): Result<string[], Context>;
    tocsinOpenUptimeSpans(prefix: string): Result<string[], Context>;
    tocsinUptimeDays(prefix: string, from: string, to: string, component: string): Result<string[], Context>;
    tocsinPruneUptime(prefix: string, firstDay: string, before: string): Result<number, Context>;
  }
}

/** The default key prefix: every key the store (and the leader lease) writes starts with it. */
export const DEFAULT_REDIS_PREFIX = 'tocsin:';
/**
 * How long a write waits for its replica acknowledgements by default (`store.replicas_wait.timeout`):
 * well inside the 800 ms within which an operator's verb is answered (src/incidents/manager.ts).
 */
export const DEFAULT_REPLICAS_WAIT_TIMEOUT_MS = 300;
/** After a WAIT that came up short, writes are not waited for during this long. */
const REPLICAS_RETRY_MS = 10_000;

/** Shared by the views of one store: unreplicated writes, and until when WAIT is skipped. */
interface Counts {
  unreplicated: number;
  skipUntil: number;
  onUnreplicated?: (() => void) | undefined;
  /** Listeners of incident writes (`onIncidentSaved`), heard through every fenced view too. */
  saved: SavedListener[];
}
/** Results per script call: keeps one call from blocking Redis for long with 10k probes. */
const LATEST_CHUNK = 500;

/**
 * A fencing token source: the leader lease. Writes of incidents and engine state carry the token;
 * Redis refuses them when the counter at `fenceKey` has moved past it (a newer leader exists).
 */
export interface Fence {
  /** The Redis key holding the newest token handed out. */
  readonly fenceKey: string;
  /** The token while this process holds the lease, else undefined (writes are then refused here). */
  token(): number | undefined;
}

/** A write refused because this process is no longer the leader (its fencing token is stale). */
export class FencedError extends TocsinError {
  constructor(message: string) {
    super('CONFLICT', message);
    this.name = 'FencedError';
  }
}

/**
 * Replica acknowledgement of the writes an operator relies on (incidents, engine state): after
 * the write, `WAIT count timeoutMs` on the same connection. Fewer acknowledgements within the
 * timeout still count as success (the write is on the primary) and are counted in
 * `unreplicatedWrites`. `count: 0` turns it off.
 */
export interface ReplicasWait {
  readonly count: number;
  readonly timeoutMs: number;
}

/** `store.replicas_wait` when the config says nothing: one replica behind Sentinel, off otherwise. */
export function defaultReplicasWait(url: string): ReplicasWait {
  return { count: isSentinelUrl(url) ? 1 : 0, timeoutMs: DEFAULT_REPLICAS_WAIT_TIMEOUT_MS };
}

export interface RedisStoreOptions {
  /** Any URL of src/redis/connection.ts: `redis://`, `rediss://`, `redis+sentinel://`. */
  readonly url: string;
  /** Redis's password when the URL has none (`store.password_env`). */
  readonly password?: string | undefined;
  /** Key prefix. Default `tocsin:`. */
  readonly prefix?: string;
  /** Per-command timeout in ms. Default 5000. */
  readonly commandTimeoutMs?: number;
  /** Default: `defaultReplicasWait(url)`. */
  readonly replicasWait?: ReplicasWait;
  /** Called for every write stored on the primary without the replicas asked for (a metric). */
  readonly onUnreplicated?: () => void;
}

/** Reply errors that mean "Redis cannot serve now", not "this command is wrong". */
const TRANSIENT_REPLY = /^(LOADING|READONLY|MASTERDOWN|BUSY|TRYAGAIN|CLUSTERDOWN|NOAUTH|WRONGPASS)\b/;

/** Maps a client error: lost connection / timeout → UNAVAILABLE; fencing → FencedError; else as is. */
export function storeError(err: unknown): Error {
  if (err instanceof TocsinError) return err;
  const e = err instanceof Error ? err : new Error(String(err));
  if (e.name === 'ReplyError') {
    if (e.message.startsWith('FENCED')) return new FencedError(e.message.replace(/^FENCED /, ''));
    if (!TRANSIENT_REPLY.test(e.message)) return e;
  }
  return new TocsinError('UNAVAILABLE', `store unavailable: ${e.message}`);
}

function resultField(r: ProbeResult): string {
  return `${r.probe}\0${r.target ?? ''}\0${r.vantage}`;
}

/** opened_at as the sort score; an unparsable date sorts first rather than failing the save. */
function scoreOf(openedAt: string): string {
  const ms = Date.parse(openedAt);
  return String(Number.isFinite(ms) ? ms : 0);
}

/**
 * The fleet IncidentStore on Redis (layout in docs/fleet.md): each incident is a hash (document
 * without timeline, revision, status, review, score) plus a list (its timeline); sorted sets by
 * opened_at index all incidents, each status, each review and each pair; latest results and
 * engine state are hashes. Every change that touches several keys is one Lua script.
 */
export class RedisStore implements IncidentStore, UptimeStore {
  readonly #client: Redis;
  readonly #prefix: string;
  readonly #fence: Fence | undefined;
  /** Views made by `withFence` share the client and leave closing it to the store that opened it. */
  readonly #ownsClient: boolean;
  readonly #wait: ReplicasWait;
  /** Shared by the views of one store (`withFence`): one count per client. */
  readonly #counts: Counts;

  private constructor(
    client: Redis,
    prefix: string,
    fence: Fence | undefined,
    ownsClient: boolean,
    wait: ReplicasWait = { count: 0, timeoutMs: 0 },
    counts: Counts = { unreplicated: 0, skipUntil: 0, saved: [] },
  ) {
    this.#client = client;
    this.#prefix = prefix;
    this.#fence = fence;
    this.#ownsClient = ownsClient;
    this.#wait = wait;
    this.#counts = counts;
  }

  /** Connects (failing with UNAVAILABLE when Redis does not answer) and registers the scripts. */
  static async open(opts: RedisStoreOptions): Promise<RedisStore> {
    const client = new Redis({
      ...redisOptions(opts.url, opts.password),
      ...daemonRedisOptions(opts.commandTimeoutMs),
    });
    // Without a listener ioredis prints every reconnect failure; callers see errors on commands.
    client.on('error', () => undefined);
    try {
      await client.connect();
    } catch (err) {
      client.disconnect();
      throw storeError(err);
    }
    const wait = opts.replicasWait ?? defaultReplicasWait(opts.url);
    const store = RedisStore.fromClient(client, opts.prefix ?? DEFAULT_REDIS_PREFIX, true, wait);
    store.#counts.onUnreplicated = opts.onUnreplicated;
    return store;
  }

  /** A store over a client the caller manages (`close()` then quits it only if `owns`). */
  static fromClient(client: Redis, prefix = DEFAULT_REDIS_PREFIX, owns = false, wait?: ReplicasWait): RedisStore {
    client.defineCommand('tocsinSaveIncident', { numberOfKeys: 3, lua: SAVE_INCIDENT });
    client.defineCommand('tocsinListIncidents', { numberOfKeys: 2, lua: LIST_INCIDENTS });
    client.defineCommand('tocsinSaveLatest', { numberOfKeys: 2, lua: SAVE_LATEST });
    client.defineCommand('tocsinPutState', { numberOfKeys: 2, lua: PUT_STATE });
    // Uptime history keys are derived from the prefix inside the scripts, as the indices are.
    client.defineCommand('tocsinSaveUptime', { numberOfKeys: 0, lua: SAVE_UPTIME });
    client.defineCommand('tocsinUptimeSpans', { numberOfKeys: 0, lua: UPTIME_SPANS });
    client.defineCommand('tocsinOpenUptimeSpans', { numberOfKeys: 0, lua: OPEN_UPTIME_SPANS });
    client.defineCommand('tocsinUptimeDays', { numberOfKeys: 0, lua: UPTIME_DAYS });
    client.defineCommand('tocsinPruneUptime', { numberOfKeys: 0, lua: PRUNE_UPTIME });
    return new RedisStore(client, prefix, undefined, owns, wait);
  }

  /** The underlying client (the leader lease shares it). */
  get client(): Redis {
    return this.#client;
  }

  get prefix(): string {
    return this.#prefix;
  }

  /**
   * Writes stored on the primary whose `WAIT` saw fewer replicas than `replicasWait.count` within
   * its timeout (they may be lost if the primary fails before replicating them). Cumulative.
   */
  get unreplicatedWrites(): number {
    return this.#counts.unreplicated;
  }

  /**
   * A view of this store whose incident and state writes carry `fence`'s token: the engine of
   * the lease holder writes through it, so a deposed leader's late writes are refused (FencedError).
   * Reads and latest results are not fenced; closing the view leaves the connection open.
   */
  withFence(fence: Fence): RedisStore {
    return new RedisStore(this.#client, this.#prefix, fence, false, this.#wait, this.#counts);
  }

  async ping(): Promise<void> {
    await this.#run(() => this.#client.ping());
  }

  async close(): Promise<void> {
    if (!this.#ownsClient || this.#client.status === 'end') return;
    try {
      await this.#client.quit();
    } catch {
      // Redis is away: QUIT cannot be sent; drop the socket and stop reconnecting.
      this.#client.disconnect();
    }
  }

  async saveLatestResults(results: readonly ProbeResult[]): Promise<void> {
    for (let i = 0; i < results.length; i += LATEST_CHUNK) {
      const args: string[] = [];
      for (const r of results.slice(i, i + LATEST_CHUNK)) {
        const ms = Date.parse(r.at);
        args.push(resultField(r), String(Number.isFinite(ms) ? ms : 0), JSON.stringify(r));
      }
      await this.#run(() => this.#client.tocsinSaveLatest(this.#key('latest'), this.#key('latest:at'), ...args));
    }
  }

  async latestResults(): Promise<ProbeResult[]> {
    const docs = await this.#run(() => this.#client.hvals(this.#key('latest')));
    return docs.map((d) => JSON.parse(d) as ProbeResult);
  }

  async getIncident(id: string): Promise<{ incident: Incident; revision: number } | undefined> {
    const key = this.#incidentKey(id);
    // One MULTI: the document and its timeline as of the same instant.
    const replies = await this.#run(() =>
      this.#client.multi().hmget(key, 'doc', 'rev').lrange(`${key}:timeline`, 0, -1).exec(),
    );
    if (!replies) throw new TocsinError('UNAVAILABLE', 'store unavailable: transaction aborted');
    const [[docErr, row], [tlErr, timeline]] = replies as [[Error | null, (string | null)[]], [Error | null, string[]]];
    if (docErr) throw storeError(docErr);
    if (tlErr) throw storeError(tlErr);
    const [doc, rev] = row;
    if (doc == null || rev == null) return undefined;
    return { incident: withTimeline(doc, timeline), revision: Number(rev) };
  }

  async listIncidents(filter: IncidentFilter = {}): Promise<Incident[]> {
    const index =
      filter.status && filter.review
        ? `idx:status:${filter.status}:review:${filter.review}`
        : filter.status
          ? `idx:status:${filter.status}`
          : filter.review
            ? `idx:review:${filter.review}`
            : 'idx:all';
    const flat = await this.#run(() =>
      this.#client.tocsinListIncidents(
        this.#key(index),
        this.#key('idx:all'),
        this.#prefix,
        String(filter.limit ?? 0),
        filter.before ?? '',
      ),
    );
    const out: Incident[] = [];
    for (let i = 0; i + 3 < flat.length; i += 4) {
      out.push(withTimeline(flat[i + 1] as string, flat[i + 3] as string[]));
    }
    return out;
  }

  async saveIncident(write: IncidentWrite): Promise<SaveOutcome> {
    const { incident, append, expectedRevision, expectedEntries } = write;
    const { timeline: _ignored, ...doc } = incident as Incident;
    const token = this.#fenceToken();
    const revision = await this.#run(() =>
      this.#client.tocsinSaveIncident(
        this.#incidentKey(incident.id),
        `${this.#incidentKey(incident.id)}:timeline`,
        this.#fence?.fenceKey ?? '',
        this.#prefix,
        incident.id,
        expectedRevision === null ? '' : String(expectedRevision),
        String(expectedEntries),
        JSON.stringify(doc),
        incident.status,
        incident.review,
        scoreOf(incident.opened_at),
        token,
        ...append.map((e) =>
          JSON.stringify({ at: e.at, kind: e.kind, text: e.text, author: e.author, phase: e.phase }),
        ),
      ),
    );
    if (revision === 0) return { ok: false, conflict: true };
    await this.#waitForReplicas();
    for (const l of this.#counts.saved) l(incident);
    return { ok: true, revision };
  }

  onIncidentSaved(listener: SavedListener): void {
    this.#counts.saved.push(listener);
  }

  async uptimeFootprint(incident: string): Promise<UptimeSpan[]> {
    const row = await this.#run(() => this.#client.hgetall(this.#key(`uptime:fp:${incident}`)));
    return Object.entries(row).map(([component, value]) => parseSpan(incident, component, value));
  }

  async uptimeSpans(components: readonly string[], from: number): Promise<UptimeSpan[]> {
    const out: UptimeSpan[] = [];
    for (let i = 0; i < components.length; i += UPTIME_CHUNK) {
      const flat = await this.#run(() =>
        this.#client.tocsinUptimeSpans(this.#prefix, String(from), 'all', ...components.slice(i, i + UPTIME_CHUNK)),
      );
      out.push(...spansOf(flat));
    }
    return out;
  }

  async openUptimeSpans(component?: string): Promise<UptimeSpan[]> {
    const flat = await this.#run(() =>
      component === undefined
        ? this.#client.tocsinOpenUptimeSpans(this.#prefix)
        : this.#client.tocsinUptimeSpans(this.#prefix, '0', 'open', component),
    );
    return spansOf(flat);
  }

  /** In chunks (one script call each): a zone's thousands of rows would hold Redis for long in one. */
  async saveUptime(write: UptimeWrite): Promise<void> {
    const { put, remove, days } = write;
    for (let i = 0; i < Math.max(put.length, remove.length, days.length); i += UPTIME_CHUNK) {
      const puts = put.slice(i, i + UPTIME_CHUNK);
      const removes = remove.slice(i, i + UPTIME_CHUNK);
      const args = [this.#prefix, String(puts.length), String(removes.length)];
      for (const s of puts) {
        args.push(s.incident, s.component, s.impact, String(s.start), s.end === null ? '' : String(s.end), String(s.counted));
      }
      for (const r of removes) args.push(r.incident, r.component);
      for (const d of days.slice(i, i + UPTIME_CHUNK)) {
        args.push(d.day, String(dayStart(d.day)), d.component, String(d.major), String(d.partial), String(d.degraded));
      }
      await this.#run(() => this.#client.tocsinSaveUptime(...args));
    }
  }

  async uptimeDays(from: string, to: string, component?: string): Promise<UptimeDay[]> {
    const flat = await this.#run(() =>
      this.#client.tocsinUptimeDays(this.#prefix, String(dayStart(from)), String(dayStart(to)), component ?? ''),
    );
    const out: UptimeDay[] = [];
    for (let i = 0; i + 2 < flat.length; i += 3) {
      const [major, partial, degraded] = (flat[i + 2] as string).split('|').map(Number);
      const [day, component] = [flat[i] as string, flat[i + 1] as string];
      out.push({ day, component, major: major ?? 0, partial: partial ?? 0, degraded: degraded ?? 0 });
    }
    // As SQLite orders them: by day, then component bytewise.
    const bytewise = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
    return out.sort((a, b) => bytewise(a.day, b.day) || bytewise(a.component, b.component));
  }

  async pruneUptime(beforeDay: string, before: number): Promise<void> {
    await this.#run(() => this.#client.tocsinPruneUptime(this.#prefix, String(dayStart(beforeDay)), String(before)));
  }

  async getState(key: string): Promise<unknown> {
    const value = await this.#run(() => this.#client.hget(this.#key('state'), key));
    return value == null ? undefined : JSON.parse(value);
  }

  async putState(key: string, value: unknown): Promise<void> {
    const token = this.#fenceToken();
    await this.#run(() =>
      this.#client.tocsinPutState(this.#key('state'), this.#fence?.fenceKey ?? '', key, stateText(value), token),
    );
    await this.#waitForReplicas();
  }

  /**
   * WAIT right after a write, on the same connection (the store's one client; ioredis pipelines in
   * order), so the acknowledgements cover that write. Too few replicas in time: the write stands
   * on the primary (reported as done) and is counted; an error here (Redis gone) fails the call
   * like the write would have, as its fate is unknown.
   */
  async #waitForReplicas(): Promise<void> {
    if (this.#wait.count <= 0) return;
    // WAIT holds the connection (lease renewals, verbs, reads queue behind it): after one that
    // came up short, writes are not waited for (only counted) for a while, so a primary left
    // without replicas costs one timeout per REPLICAS_RETRY_MS, not one per write.
    if (Date.now() < this.#counts.skipUntil) {
      this.#unreplicated();
      return;
    }
    const acked = await this.#run(() => this.#client.wait(this.#wait.count, this.#wait.timeoutMs));
    if (acked < this.#wait.count) {
      this.#counts.skipUntil = Date.now() + REPLICAS_RETRY_MS;
      this.#unreplicated();
    }
  }

  #unreplicated(): void {
    this.#counts.unreplicated++;
    this.#counts.onUnreplicated?.();
  }

  /** '' without fencing; the token with it; refused here at once when the lease is not held. */
  #fenceToken(): string {
    if (!this.#fence) return '';
    const token = this.#fence.token();
    if (token === undefined) throw new FencedError('write refused: this process does not hold the leader lease');
    return String(token);
  }

  #key(name: string): string {
    return `${this.#prefix}${name}`;
  }

  #incidentKey(id: string): string {
    return this.#key(`incident:${id}`);
  }

  async #run<T>(command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (err) {
      throw storeError(err);
    }
  }
}

/** Items per uptime script call. */
const UPTIME_CHUNK = 500;

function dayStart(day: string): number {
  return Date.parse(`${day}T00:00:00.000Z`);
}

function parseSpan(incident: string, component: string, value: string): UptimeSpan {
  const [impact, start, end, counted] = value.split('|');
  return {
    incident,
    component,
    impact: impact as UptimeSpan['impact'],
    start: Number(start),
    end: end === '' || end === undefined ? null : Number(end),
    counted: Number(counted),
  };
}

function spansOf(flat: readonly string[]): UptimeSpan[] {
  const out: UptimeSpan[] = [];
  for (let i = 0; i + 2 < flat.length; i += 3) {
    out.push(parseSpan(flat[i] as string, flat[i + 1] as string, flat[i + 2] as string));
  }
  return out;
}

function withTimeline(doc: string, timeline: readonly string[]): Incident {
  return {
    ...(JSON.parse(doc) as Omit<Incident, 'timeline'>),
    timeline: timeline.map((e) => JSON.parse(e) as TimelineEntry),
  };
}
