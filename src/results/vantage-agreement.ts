import type { Plan } from '../config/plan.js';
import type { ProbeResult } from '../events/probe-result.js';

/** Results older than this many probe intervals no longer count as another vantage's view. */
const FRESH_INTERVALS = 3;

export interface VantageAgreementSink {
  /** A target this vantage started to see failing while most other vantages see it healthy. */
  disagreement(vantage: string): void;
  /** Targets currently failing from this vantage only (against a healthy majority of the others). */
  minorityFailing(vantage: string, count: number): void;
}

/**
 * The "vantage degraded" view of SCENARIOS S5: when one vantage sees targets fail that most other
 * vantages see healthy, its own network is the likely cause. The rules engine already refuses to
 * open an incident on a minority (quorum); this only makes the prober-side problem visible as
 * metrics, per vantage. It needs at least 3 vantages, as the quorum rule does.
 */
export class VantageAgreement {
  readonly #intervals = new Map<string, number>();
  /** Latest (ok, at) per probe + target, per vantage. */
  readonly #latest = new Map<string, Map<string, { ok: boolean; at: number }>>();
  /** probe + target keys failing from a minority of one vantage, per vantage. */
  readonly #minority = new Map<string, Set<string>>();

  constructor(
    plan: Pick<Plan, 'probes'>,
    private readonly sink: VantageAgreementSink,
  ) {
    for (const p of plan.probes) this.#intervals.set(p.id, p.intervalMs);
  }

  /** A reloaded plan: new intervals; what is known of probes gone is forgotten (and no longer counted). */
  setPlan(plan: Pick<Plan, 'probes'>): void {
    this.#intervals.clear();
    for (const p of plan.probes) this.#intervals.set(p.id, p.intervalMs);
    for (const key of this.#latest.keys()) {
      if (!this.#intervals.has(key.slice(0, key.indexOf('\u0000')))) this.#latest.delete(key);
    }
    for (const [vantage, keys] of this.#minority) {
      const before = keys.size;
      for (const key of keys) if (!this.#latest.has(key)) keys.delete(key);
      if (keys.size !== before) this.sink.minorityFailing(vantage, keys.size);
    }
  }

  record(r: ProbeResult): void {
    const interval = this.#intervals.get(r.probe);
    if (interval === undefined) return;
    const key = `${r.probe}\u0000${r.target ?? ''}`;
    let views = this.#latest.get(key);
    if (!views) {
      views = new Map();
      this.#latest.set(key, views);
    }
    views.set(r.vantage, { ok: r.ok, at: Date.parse(r.at) });
    // Any vantage's verdict may change with this result (a later healthy check elsewhere).
    for (const vantage of views.keys()) this.#judge(key, views, vantage, interval);
  }

  /**
   * A vantage fails alone when its latest check failed and most other vantages checked the target
   * healthy at the same time or later. Only later (or simultaneous) views count: when a target
   * goes down for everyone, the first vantage to see it is not alone, the others have not looked yet.
   */
  #judge(key: string, views: Map<string, { ok: boolean; at: number }>, vantage: string, interval: number): void {
    const own = views.get(vantage);
    if (!own) return;
    const fresh = (at: number) => at >= own.at && at - own.at <= FRESH_INTERVALS * interval;
    const others = [...views].filter(([v, s]) => v !== vantage && fresh(s.at));
    // Failing, but too few views since: no new evidence either way, the verdict stands.
    if (!own.ok && others.length < 2) return;
    const healthy = others.filter(([, s]) => s.ok).length;
    const alone = !own.ok && healthy * 2 > others.length;
    let set = this.#minority.get(vantage);
    if (!set) {
      set = new Set();
      this.#minority.set(vantage, set);
    }
    if (alone === set.has(key)) return;
    if (alone) {
      set.add(key);
      this.sink.disagreement(vantage);
    } else {
      set.delete(key);
    }
    this.sink.minorityFailing(vantage, set.size);
  }
}
