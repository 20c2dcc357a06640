// How long each instance has differed, across checks. The probe kind object lives as long as the
// daemon, so this state lives in it; the clock is a parameter so that tests drive it.

/** An instance that differs: since when (ms since the epoch) and for how long, at `now`. */
export interface Lag {
  readonly since: number;
  readonly lagMs: number;
}

export interface LagTrackerOptions {
  /** Entries not seen for this long are dropped (instances removed from the config). Default 1 h. */
  readonly ttlMs?: number;
  /** Most entries kept; the least recently seen go first. Default 10 000. */
  readonly maxEntries?: number;
}

interface Entry {
  readonly since: number;
  seen: number;
}

const DEFAULT_TTL_MS = 3_600_000;
const DEFAULT_MAX_ENTRIES = 10_000;
/** A sweep walks every entry: at most once a minute. */
const SWEEP_EVERY_MS = 60_000;

/**
 * Where lags live between checks: in the process (LagTracker), or shared by the workers of a
 * vantage (src/worker/shared-lag.ts in fleet mode), so a lag does not depend on which worker ran
 * the check. Same semantics as LagTracker's methods.
 */
export interface LagStore {
  record(key: string, differs: boolean, now: number): Lag | undefined | Promise<Lag | undefined>;
  hold(key: string, now: number): Lag | undefined | Promise<Lag | undefined>;
}

/**
 * "Differs since" per key (probe id + instance). Only differing keys are held: an instance back in
 * sync is forgotten, so its next difference starts a new lag from zero. Keys unseen for `ttlMs`
 * are dropped, and the map never holds more than `maxEntries`.
 */
export class LagTracker implements LagStore {
  private readonly entries = new Map<string, Entry>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private lastSweep = Number.NEGATIVE_INFINITY;

  constructor(options: LagTrackerOptions = {}) {
    this.ttlMs = options.ttlMs ?? DEFAULT_TTL_MS;
    this.maxEntries = Math.max(1, options.maxEntries ?? DEFAULT_MAX_ENTRIES);
  }

  get size(): number {
    return this.entries.size;
  }

  /**
   * Records one check's verdict for `key` at `now`. Returns the lag while it differs (zero at the
   * first difference), undefined when in sync.
   */
  record(key: string, differs: boolean, now: number): Lag | undefined {
    this.sweep(now);
    if (!differs) {
      this.entries.delete(key);
      return undefined;
    }
    const since = this.entries.get(key)?.since ?? now;
    this.touch(key, { since, seen: now });
    return { since, lagMs: Math.max(0, now - since) };
  }

  /**
   * Notes a check that could not compare `key` (the instance was unreachable): a running lag goes
   * on (nothing says the instance caught up), none is started. Returns the running lag, if any.
   */
  hold(key: string, now: number): Lag | undefined {
    this.sweep(now);
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.touch(key, { since: entry.since, seen: now });
    return { since: entry.since, lagMs: Math.max(0, now - entry.since) };
  }

  /** Re-inserts so that the map's order stays "least recently seen first". */
  private touch(key: string, entry: Entry): void {
    this.entries.delete(key);
    this.entries.set(key, entry);
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
  }

  private sweep(now: number): void {
    if (now - this.lastSweep < SWEEP_EVERY_MS && now >= this.lastSweep) return;
    this.lastSweep = now;
    for (const [key, entry] of this.entries) {
      if (now - entry.seen >= this.ttlMs) this.entries.delete(key);
    }
  }
}
