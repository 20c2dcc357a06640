import v8 from 'node:v8';
import type { Plan } from '../config/plan.js';

/**
 * V8's heap sizing during start-up, when everything allocated survives (bench/README.md, memory).
 * Two holds, each put back once it has done its work, so a daemon under load sizes its heap as V8
 * would. An operator who tunes either setting (NODE_OPTIONS, node flags) keeps theirs.
 */

const YOUNG_FLAG = '--semi-space-growth-factor';
/** V8's own default for YOUNG_FLAG (node --v8-options). */
const V8_DEFAULT_YOUNG_GROWTH = 2;
const OLD_FLAG = '--heap-growing-percent';
/** Old-generation growth allowed between full collections while held: 1.3 times the live heap. */
const HELD_OLD_GROWTH_PERCENT = 30;
/** V8's default for OLD_FLAG: 0, its own dynamic factor (1.1 to 4 times the live heap). */
const V8_DEFAULT_OLD_GROWTH = 0;

function tunedByOperator(word: string): boolean {
  return [...process.execArgv, process.env.NODE_OPTIONS ?? ''].some((a) => a.includes(word));
}

function setFlag(flag: string, value: number, word: string): void {
  if (!tunedByOperator(word)) v8.setFlagsFromString(`${flag}=${value}`);
}

/**
 * Holds both generations' growth, from the first line of the program:
 * - the young generation: loading fastify, zod, yaml and the config allocates tens of MB that
 *   all survive, and V8 answers by doubling the semi-spaces, which are never given back (an idle
 *   daemon held ~12 MB of empty young generation: 93 MB RSS instead of 80);
 * - the old generation: the first round of checks creates every probe's long-lived state (series,
 *   latest results, metric slots) while checks make garbage, and V8, seeing a heap that grows
 *   fast, lets it reach up to 4 times its live size before a full collection; the pages it commits
 *   then stay (at 50,000 probes a peak of ~370 MB RSS against ~290 MB once steady).
 */
export function holdStartUpHeap(): void {
  setFlag(YOUNG_FLAG, 1, 'semi-space');
  setFlag(OLD_FLAG, HELD_OLD_GROWTH_PERCENT, 'heap-growing');
}

/** Start-up is over (the daemon runs): the young generation grows as V8 would. */
export function releaseYoungGeneration(): void {
  setFlag(YOUNG_FLAG, V8_DEFAULT_YOUNG_GROWTH, 'semi-space');
}

/**
 * Gives the old generation back its dynamic growth once `ms` have passed (the longest probe
 * interval: every probe has run once and its state exists). The timer keeps nothing alive.
 */
export function releaseOldGenerationAfter(ms: number): void {
  setTimeout(() => setFlag(OLD_FLAG, V8_DEFAULT_OLD_GROWTH, 'heap-growing'), ms).unref();
}

/** Most a start-up hold lasts, whatever the intervals: a probe checked hourly does not hold it an hour. */
const MAX_HOLD_MS = 10 * 60_000;

/** How long the first round of checks takes: the longest probe interval (bounded). */
export function firstRoundMs(plan: Pick<Plan, 'probes'>): number {
  let longest = 0;
  for (const p of plan.probes) if (p.intervalMs > longest) longest = p.intervalMs;
  return Math.min(MAX_HOLD_MS, longest);
}
