import type { Window } from '../engine/maintenance.js';

// Shared by the page's upcoming maintenance (model.ts) and the uptime history (history.ts).

/**
 * The first occurrence of a recurring window starting in `(now, until]`. `activeAt(t)` answers the
 * latest start in `(t - duration, t]`, so probing every `duration` covers every minute once
 * (about one cron match per minute ahead in all, whatever the duration); the earliest start of
 * the first hit's span is then found by walking back through overlapping occurrences.
 */
export function nextOccurrence(
  window: Window,
  durationMs: number,
  now: number,
  until: number,
): { start: number; end: number } | undefined {
  if (durationMs <= 0) return undefined;
  for (let t = now + durationMs; t - durationMs < until; t += durationMs) {
    const probeAt = Math.min(t, until);
    let hit = window.activeAt(probeAt);
    if (!hit || hit.start <= now) continue;
    for (;;) {
      const earlier = window.activeAt(hit.start - 1);
      if (!earlier || earlier.start <= now) break;
      hit = earlier;
    }
    return hit;
  }
  return undefined;
}
