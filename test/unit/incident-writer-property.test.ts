import { afterEach, describe, expect, it } from 'vitest';
import { createEngine, type Engine } from '../../src/engine/engine.js';
import type { IncidentChange, OperatorAction, OperatorActionKind } from '../../src/engine/types.js';
import { TocsinError } from '../../src/errors.js';
import type { Incident } from '../../src/events/incident.js';
import { IncidentWriter } from '../../src/incidents/manager.js';
import { ENGINE_STATE_KEY, recoverIncidents } from '../../src/incidents/recovery.js';
import type { IncidentFilter, IncidentStore, IncidentWrite, SaveOutcome } from '../../src/store/port.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import type { ProbeResult } from '../../src/events/probe-result.js';
import { makePlan } from '../helpers/plan.js';
import { prng } from '../../bench/lib/prng.js';
import { defaultRules } from '../helpers/engine-events.js';

// A property of the incident writer, the engine and recovery together, against the real
// embedded store (SQLite in memory): any interleaving of detector changes, operator verbs,
// store outages and crashes (the in-memory state of a "process" dropped at a random point, its
// writes in flight cut off) ends with the store holding exactly the acknowledged verbs, none of
// the refused ones, and every incident resolved once the target is healthy again.

const T0 = Date.parse('2026-01-01T00:00:00Z');
const INTERVAL = 10_000;
/** Scenarios per run; TOCSIN_PROPERTY_SEEDS=1000 for a longer search. */
const SEEDS = Number(process.env.TOCSIN_PROPERTY_SEEDS ?? 80);
const plan = makePlan([{ id: 'p', kind: 'http', component: 'app', intervalMs: INTERVAL, targets: ['t'] }]);

/**
 * One process's view of the shared store: calls fail while an outage lasts (before reaching
 * the store: nothing applied), a save may take effect and lose its answer, and once
 * the process "crashed" nothing it still has in flight reaches the store.
 */
class ProcessStore implements IncidentStore {
  dead = false;
  outage = 0;
  lostAnswers = 0;
  constructor(private readonly inner: SqliteStore) {}

  #gate(): void {
    if (this.dead) throw new TocsinError('UNAVAILABLE', 'process crashed');
    if (this.outage > 0) {
      this.outage--;
      throw new TocsinError('UNAVAILABLE', 'store unavailable: outage');
    }
  }

  async ping() {
    this.#gate();
  }

  async close() {}
  async saveLatestResults(r: readonly ProbeResult[]) {
    this.#gate();
    return this.inner.saveLatestResults(r);
  }

  async latestResults() {
    this.#gate();
    return this.inner.latestResults();
  }

  async getIncident(id: string) {
    this.#gate();
    return this.inner.getIncident(id);
  }

  async listIncidents(filter?: IncidentFilter) {
    this.#gate();
    return this.inner.listIncidents(filter);
  }

  async saveIncident(write: IncidentWrite): Promise<SaveOutcome> {
    this.#gate();
    const outcome = await this.inner.saveIncident(write);
    if (this.lostAnswers > 0) {
      this.lostAnswers--;
      throw new TocsinError('UNAVAILABLE', 'store unavailable: answer lost');
    }
    return outcome;
  }

  async getState(key: string) {
    this.#gate();
    return this.inner.getState(key);
  }

  async putState(key: string, value: unknown) {
    this.#gate();
    return this.inner.putState(key, value);
  }
}

interface Proc {
  store: ProcessStore;
  engine: Engine;
  writer: IncidentWriter;
}

type Outcome = 'acked' | 'failed' | 'unknown';
interface Verb {
  readonly by: string;
  readonly action: OperatorActionKind;
  outcome?: Outcome;
  order?: number;
}

const shared: SqliteStore[] = [];
afterEach(async () => {
  for (const s of shared.splice(0)) await s.close();
});

async function start(inner: SqliteStore): Promise<Proc> {
  const store = new ProcessStore(inner);
  const engine = createEngine({ plan, rules: defaultRules() });
  const writer = new IncidentWriter(store);
  writer.onStoredChange((doc) => engine.followStored(doc));
  await recoverIncidents(engine, store);
  return { store, engine, writer };
}

interface Run {
  verbs: Verb[];
  incidents: Incident[];
  crashes: number;
  /** Failures other than an unreachable store or a lasting conflict. */
  unexpected: unknown[];
}

async function runScenario(seed: number, withCrashes: boolean): Promise<Run> {
  const random = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;
  const inner = SqliteStore.open(':memory:');
  shared.push(inner);
  let proc = await start(inner);
  let now = T0;
  let healthy = false;
  let acks = 0;
  let crashes = 0;
  const verbs: Verb[] = [];
  const inFlight: Promise<unknown>[] = [];
  // Writes fail in this scenario only because the store is away (an outage, a crashed process) or
  // refuses for good (a conflict): anything else is a bug, reported by the test.
  const unexpected: unknown[] = [];
  const expectedFailure = (err: unknown): void => {
    if (!(err instanceof TocsinError && (err.code === 'UNAVAILABLE' || err.code === 'CONFLICT'))) unexpected.push(err);
  };
  const settle = () => new Promise((r) => setImmediate(r));

  const check = (p: Proc) => {
    now += INTERVAL;
    const ok = healthy || random() < 0.2;
    const event: ProbeResult = { at: new Date(now).toISOString(), probe: 'p', target: 't', vantage: 'local', ok, ...(ok ? {} : { error: 'timeout' as const }) };
    const changes: IncidentChange[] = [...p.engine.tick(now), ...p.engine.ingest(event)];
    inFlight.push(p.writer.apply(changes).catch(expectedFailure));
  };

  for (let step = 0; step < 70; step++) {
    const p = proc;
    const r = random();
    if (r < 0.4) {
      check(p);
    } else if (r < 0.75) {
      const stored = await inner.listIncidents();
      if (stored.length === 0) continue;
      const target = pick(stored);
      const action = pick<OperatorActionKind>(['note', 'note', 'note', 'confirm', 'dismiss', 'resolve']);
      const verb: Verb = { by: `op${verbs.length}`, action };
      verbs.push(verb);
      const op: OperatorAction = {
        incidentId: target.id,
        action,
        by: verb.by,
        at: now,
        text: action === 'note' ? `note by ${verb.by}` : undefined,
        reason: action === 'dismiss' ? 'planned work' : undefined,
      };
      inFlight.push(
        p.writer.verb(op, p.engine).then(
          () => {
            verb.outcome = p.store.dead ? 'unknown' : 'acked';
            verb.order = acks++;
          },
          (err: unknown) => {
            // A verb is refused for a reason (CONFLICT, INVALID, NOT_FOUND, UNAVAILABLE…), never by a bug.
            if (!(err instanceof TocsinError)) unexpected.push(err);
            const unknown = p.store.dead || (err instanceof TocsinError && err.code === 'OUTCOME_UNKNOWN');
            verb.outcome = unknown ? 'unknown' : 'failed';
          },
        ),
      );
    } else if (r < 0.83) {
      const save = p.writer.exclusive(() => p.store.putState(ENGINE_STATE_KEY, p.engine.snapshot()));
      inFlight.push(save.catch(expectedFailure));
    } else if (r < 0.9) {
      p.store.outage = 1 + Math.floor(random() * 4);
    } else if (r < 0.94) {
      p.store.lostAnswers = 1;
    } else if (withCrashes) {
      // kill -9: what is in flight is cut off; a new process recovers from the store.
      p.store.dead = true;
      crashes++;
      await settle();
      proc = await start(inner);
    }
    if (random() < 0.5) await settle();
  }

  // The target comes back; long enough for adopted incidents' grace and every retry.
  healthy = true;
  proc.store.outage = 0;
  proc.store.lostAnswers = 0;
  for (let i = 0; i < 100; i++) {
    check(proc);
    await settle();
  }
  await Promise.allSettled(inFlight);
  await proc.writer.retry();
  return { verbs, incidents: await inner.listIncidents(), crashes, unexpected };
}

describe('incident writer: crashes, outages and verbs in any interleaving', () => {
  it('keeps every acknowledged verb once, no refused one, and resolves every incident', async () => {
    let crashes = 0;
    let acked = 0;
    let failed = 0;
    for (let seed = 1; seed <= SEEDS; seed++) {
      // Odd seeds crash; even ones only have outages and lost answers.
      const { verbs, incidents, crashes: c, unexpected } = await runScenario(seed, seed % 2 === 1);
      expect(unexpected, `seed ${seed}`).toEqual([]);
      crashes += c;
      const entries = incidents.flatMap((i) => i.timeline.map((e) => ({ incident: i, e })));
      for (const v of verbs) {
        const mine = entries.filter(({ e }) => e.author === v.by);
        const where = `seed ${seed}: ${v.by} (${v.action}, ${v.outcome ?? 'pending'})`;
        if (v.outcome === 'acked') expect(mine.length, where).toBe(1);
        else if (v.outcome === 'failed') expect(mine.length, where).toBe(0);
        else expect(mine.length, where).toBeLessThanOrEqual(1);
        if (v.outcome === 'acked') acked++;
        if (v.outcome === 'failed') failed++;
      }
      for (const inc of incidents) {
        const where = `seed ${seed}: ${inc.id}`;
        // A replay of the stored verbs: acknowledged ones in the order they were acknowledged.
        const byOrder = new Map(verbs.filter((v) => v.outcome === 'acked').map((v) => [v.by, v.order ?? 0]));
        const orders = inc.timeline.filter((e) => byOrder.has(e.author)).map((e) => byOrder.get(e.author) ?? 0);
        expect(orders, where).toEqual([...orders].sort((a, b) => a - b));
        const reviews = inc.timeline.filter((e) => e.kind === 'confirmed' || e.kind === 'dismissed');
        expect(reviews.length, where).toBeLessThanOrEqual(1);
        expect(inc.review, where).toBe(reviews[0]?.kind ?? 'pending');
        expect(inc.status, where).toBe('resolved');
        // Detector entries are not lost either: the last status entry says what the status is.
        const statusEntries = inc.timeline.filter((e) => ['opened', 'reopened', 'resolved'].includes(e.kind));
        expect(statusEntries.at(0)?.kind, where).toBe('opened');
        expect(statusEntries.at(-1)?.kind, `${where}: ${inc.timeline.map((e) => `${e.at}|${e.kind}|${e.author}|${e.text}`).join('\n')}`).toBe('resolved');
        // No entry twice: a write retried after its answer was lost appends only what the store
        // lacks. (After a crash the engine may derive an entry again from events its older
        // snapshot held: generated text, not an acknowledged write.)
        const keys = inc.timeline.map((e) => `${e.at}|${e.kind}|${e.author}|${e.text}`);
        if (c === 0) expect(new Set(keys).size, `${where}: ${keys.join('\n')}`).toBe(keys.length);
      }
    }
    // The scenarios exercised what they claim to.
    expect(crashes).toBeGreaterThan(SEEDS / 4);
    expect(acked).toBeGreaterThan(100);
    expect(failed).toBeGreaterThan(10);
  }, 120_000);
});
