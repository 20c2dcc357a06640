import type { HistoryPoint } from './history.js';

const WIDTH = 120;
const HEIGHT = 28;
const PAD = 3;

/**
 * A latency sparkline as inline SVG (no script, no image request): one line through the
 * durations of recent checks, oldest at the left, scaled to the slowest one; a failed check is a
 * red dot on the baseline (a failure's duration is often just its timeout, which would flatten
 * the line). The `<title>` carries the figures for screen readers and hover.
 */
export function sparkline(points: readonly HistoryPoint[]): string {
  if (points.length === 0) return '<span class="muted">no data yet</span>';
  const timed = points.filter((p) => p.ok && p.durationMs !== undefined).map((p) => p.durationMs ?? 0);
  const max = Math.max(1, ...timed);
  const step = points.length > 1 ? (WIDTH - 2 * PAD) / (points.length - 1) : 0;
  const x = (i: number) => (PAD + i * step).toFixed(1);
  const y = (ms: number) => (HEIGHT - PAD - (ms / max) * (HEIGHT - 2 * PAD)).toFixed(1);
  const segments: { x: string; y: string }[][] = [];
  let current: { x: string; y: string }[] = [];
  const dots: string[] = [];
  points.forEach((p, i) => {
    if (p.ok && p.durationMs !== undefined) {
      current.push({ x: x(i), y: y(p.durationMs) });
    } else {
      // A failure breaks the line: the chart never draws latency through an outage.
      if (current.length > 0) segments.push(current);
      current = [];
      if (!p.ok) dots.push(`<circle cx="${x(i)}" cy="${HEIGHT - PAD}" r="2" class="fail"/>`);
    }
  });
  if (current.length > 0) segments.push(current);
  // A lone successful check between failures has no line to be part of: a small dot.
  const lines = segments.map(([first, ...rest]) =>
    rest.length === 0 && first
      ? `<circle cx="${first.x}" cy="${first.y}" r="1.5" class="ok"/>`
      : `<polyline points="${[first, ...rest].map((p) => `${p?.x},${p?.y}`).join(' ')}"/>`,
  );
  const failed = points.filter((p) => !p.ok).length;
  const summary = timed.length > 0
    ? `last ${points.length} checks: ${Math.min(...timed)}–${Math.max(...timed)} ms` +
      `${failed > 0 ? `, ${failed} failed` : ''}`
    : `last ${points.length} checks: ${failed} failed`;
  return (
    `<svg class="spark" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}" role="img" aria-label="${summary}">` +
    `<title>${summary}</title>${lines.join('')}${dots.join('')}</svg>`
  );
}
