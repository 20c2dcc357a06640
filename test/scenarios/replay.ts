import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src/config/load.js';
import type { Plan } from '../../src/config/plan.js';
import { engineOptionsForPlan, rulesForPlan } from '../../src/engine/pack.js';
import { eventLineParser, Replay } from '../../src/engine/replay.js';
import type { ProbeResult } from '../../src/events/probe-result.js';
import type { Incident } from '../../src/events/incident.js';

const here = dirname(fileURLToPath(import.meta.url));

/** A scenario fixture: its plan (config.yml) and events (events.jsonl). */
export async function loadScenario(name: string): Promise<{ plan: Plan; events: ProbeResult[] }> {
  const loaded = await loadConfig(join(here, name, 'config.yml'), { cwd: here, env: {} });
  if (!loaded.ok) throw new Error(`${name}: ${loaded.problems.map((p) => `${p.line}: ${p.path}: ${p.message}`).join('; ')}`);
  const events = readFileSync(join(here, name, 'events.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((line, i) => {
      const parsed = eventLineParser(loaded.plan)(line);
      if (!parsed.ok) throw new Error(`${name}: LINE ${i + 1}: ${parsed.reason}`);
      return parsed.event;
    });
  return { plan: loaded.plan, events };
}

export function newReplay(plan: Plan): Replay {
  return new Replay({ plan, rules: rulesForPlan(plan), ...engineOptionsForPlan(plan) });
}

/** Replays every event; the incidents as `tocsin replay` prints them. */
export async function replayScenario(name: string): Promise<Incident[]> {
  const { plan, events } = await loadScenario(name);
  const replay = newReplay(plan);
  for (const e of events) replay.feed(e);
  return replay.finish();
}

export const kinds = (i: Incident | undefined): string[] => i?.timeline.map((t) => t.kind) ?? [];
