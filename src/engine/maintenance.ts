import { parse as parseCron } from 'node-cron';
import type { MaintenanceSpec } from '../config/schema.js';

/**
 * Maintenance windows on the virtual clock. One-off windows are `[start, end)`; recurring ones are
 * `[fire, fire + duration)` for every minute `fire` matching the cron expression (node-cron's
 * parser, our own matcher: the engine must never arm real timers), in UTC unless `timezone`.
 */
export interface Window {
  readonly id: string;
  readonly title: string;
  readonly components: readonly string[];
  /** Whether the window is active at `t`, and since when (the occurrence's start). */
  activeAt(t: number): { start: number; end: number } | undefined;
}

const MINUTE = 60_000;

interface CronSets {
  readonly minute: ReadonlySet<number>;
  readonly hour: ReadonlySet<number>;
  readonly dayOfMonth: ReadonlySet<number | string>;
  readonly month: ReadonlySet<number>;
  readonly dayOfWeek: ReadonlySet<number | string>;
  readonly domAll: boolean;
  readonly dowAll: boolean;
}

function cronSets(expr: string): CronSets {
  const f = parseCron(expr);
  return {
    minute: new Set(f.minute),
    hour: new Set(f.hour),
    dayOfMonth: new Set(f.dayOfMonth),
    month: new Set(f.month),
    dayOfWeek: new Set(f.dayOfWeek.map((d) => (d === 7 ? 0 : d))),
    domAll: f.dayOfMonth.length >= 31,
    dowAll: f.dayOfWeek.length >= 7,
  };
}

interface Fields {
  minute: number;
  hour: number;
  day: number;
  month: number;
  weekday: number;
  lastDay: boolean;
}

const WEEKDAYS: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

function fieldsIn(t: number, timezone: string | undefined): Fields {
  if (timezone === undefined) {
    const d = new Date(t);
    const next = new Date(t + 86_400_000);
    return {
      minute: d.getUTCMinutes(),
      hour: d.getUTCHours(),
      day: d.getUTCDate(),
      month: d.getUTCMonth() + 1,
      weekday: d.getUTCDay(),
      lastDay: next.getUTCMonth() !== d.getUTCMonth(),
    };
  }
  const parts = (at: number) => {
    const out: Record<string, string> = {};
    for (const p of formatter(timezone).formatToParts(at)) out[p.type] = p.value;
    return out;
  };
  const p = parts(t);
  const n = parts(t + 86_400_000);
  return {
    minute: Number(p.minute),
    hour: Number(p.hour) % 24,
    day: Number(p.day),
    month: Number(p.month),
    weekday: WEEKDAYS[p.weekday ?? 'Sun'] ?? 0,
    lastDay: n.month !== p.month,
  };
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(timezone: string): Intl.DateTimeFormat {
  let f = formatters.get(timezone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      hourCycle: 'h23',
      minute: 'numeric',
      hour: 'numeric',
      day: 'numeric',
      month: 'numeric',
      weekday: 'short',
    });
    formatters.set(timezone, f);
  }
  return f;
}

/** Standard cron day semantics: with both day fields restricted, either one matching is enough. */
export function cronMatches(sets: CronSets, f: Fields): boolean {
  if (!sets.minute.has(f.minute) || !sets.hour.has(f.hour) || !sets.month.has(f.month)) return false;
  const dom = sets.dayOfMonth.has(f.day) || (f.lastDay && sets.dayOfMonth.has('L'));
  const dow = sets.dayOfWeek.has(f.weekday);
  if (sets.domAll && sets.dowAll) return true;
  if (sets.domAll) return dow;
  if (sets.dowAll) return dom;
  return dom || dow;
}

export function compileWindow(spec: MaintenanceSpec): Window {
  const title = spec.title ?? spec.id;
  if (spec.start !== undefined && spec.end !== undefined) {
    const start = Date.parse(spec.start);
    const end = Date.parse(spec.end);
    return {
      id: spec.id,
      title,
      components: spec.components,
      activeAt: (t) => (t >= start && t < end ? { start, end } : undefined),
    };
  }
  const sets = cronSets(spec.cron ?? '* * * * *');
  const duration = spec.duration ?? 0;
  const tz = spec.timezone;
  // The last lookup, so a tick each second does not rescan the whole duration.
  let cache: { from: number; to: number; hit: { start: number; end: number } | undefined } | undefined;
  return {
    id: spec.id,
    title,
    components: spec.components,
    activeAt(t) {
      if (cache && t >= cache.from && t < cache.to) return cache.hit;
      const minute = Math.floor(t / MINUTE) * MINUTE;
      // The latest matching minute within the duration before t (the occurrence t falls in).
      for (let m = minute; m > t - duration; m -= MINUTE) {
        if (cronMatches(sets, fieldsIn(m, tz))) {
          const hit = { start: m, end: m + duration };
          cache = { from: Math.max(m, minute), to: Math.min(hit.end, minute + MINUTE), hit };
          return hit;
        }
      }
      cache = { from: minute, to: minute + MINUTE, hit: undefined };
      return undefined;
    },
  };
}
