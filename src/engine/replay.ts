import type { Plan } from '../config/plan.js';
import { plainProbeResult, ProbeResult } from '../events/probe-result.js';
import type { Incident } from '../events/incident.js';
import { createEngine, type Engine, type EngineOptions } from './engine.js';
import type { Rule } from './rules.js';
import type { IncidentChange } from './types.js';

export type ParsedLine = { ok: true; event: ProbeResult } | { ok: false; reason: string };

/** Parses JSON lines into events of probes the plan knows (probe ids looked up, not scanned). */
export function eventLineParser(plan: Pick<Plan, 'probes'>): (line: string) => ParsedLine {
  const known = new Set(plan.probes.map((p) => p.id));
  return (line) => {
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch (err) {
      return { ok: false, reason: `invalid JSON: ${(err as Error).message}` };
    }
    let event = plainProbeResult(raw);
    if (!event) {
      const parsed = ProbeResult.safeParse(raw);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const path = issue?.path.join('.') ?? '';
        return { ok: false, reason: `${path ? `${path}: ` : ''}${issue?.message ?? 'invalid event'}` };
      }
      event = parsed.data;
    }
    if (!known.has(event.probe)) return { ok: false, reason: `probe: unknown probe "${event.probe}" (not in the config)` };
    return { ok: true, event };
  };
}

/** Parses one JSON line into an event of a probe the plan knows; a reason when malformed. */
export function parseEventLine(line: string, plan: Pick<Plan, 'probes'>): ParsedLine {
  return eventLineParser(plan)(line);
}

/** How often (virtual time) a replay collects the engine's changes: the daemon's tick. */
const COLLECT_EVERY_MS = 1000;

/**
 * Replays events on the virtual clock they carry: each event is applied at its own time (events
 * of one timestamp together, once time moves on), the clock is ticked every virtual second as
 * the daemon ticks, and everything buffered is applied after the last one. Collects every incident
 * opened during the replay, in its latest state, oldest first.
 */
export class Replay {
  readonly engine: Engine;
  readonly #docs = new Map<string, Incident>();
  readonly #opened: string[] = [];
  #nextCollect = Number.NEGATIVE_INFINITY;

  constructor(opts: { plan: EngineOptions['plan']; rules: readonly Rule[] } & Omit<EngineOptions, 'plan' | 'rules'>) {
    this.engine = createEngine(opts);
  }

  feed(event: ProbeResult): void {
    // Changes are collected once per virtual second, as the daemon's ticks do: the engine
    // evaluates every event as it comes either way, but a zone's incident is copied out once a
    // second, not once per app joining it.
    const at = Date.parse(event.at);
    if (at >= this.#nextCollect) {
      this.#record(this.engine.tick(at));
      this.#nextCollect = at + COLLECT_EVERY_MS;
    }
    this.engine.enqueue(event, at);
  }

  /** Applies what is buffered; call after the last event. */
  finish(): Incident[] {
    this.#record(this.engine.flush());
    return this.incidents();
  }

  record(changes: readonly IncidentChange[]): void {
    this.#record(changes);
  }

  incidents(): Incident[] {
    return this.#opened
      .map((id) => this.#docs.get(id))
      .filter((d): d is Incident => d !== undefined)
      .sort((a, b) => (a.opened_at < b.opened_at ? -1 : a.opened_at > b.opened_at ? 1 : a.id < b.id ? -1 : 1));
  }

  #record(changes: readonly IncidentChange[]): void {
    for (const c of changes) {
      if (!this.#docs.has(c.incident.id)) this.#opened.push(c.incident.id);
      this.#docs.set(c.incident.id, c.incident);
    }
  }
}
