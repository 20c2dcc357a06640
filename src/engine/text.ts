import type { Impact } from './types.js';

/**
 * Words for status-page readers. Templates are `{placeholder}` substitution only (no template
 * engine): an unknown placeholder is left as written, so a typo shows instead of vanishing.
 */
export function render(template: string, vars: Readonly<Record<string, string | number>>): string {
  return template.replace(/\{([a-z_]+)\}/g, (whole, name: string) => {
    const v = vars[name];
    return v === undefined ? whole : String(v);
  });
}

export const IMPACT_WORDS: Record<Impact, string> = {
  degraded_performance: 'degraded performance',
  partial_outage: 'partial outage',
  major_outage: 'major outage',
};

/** `45s`, `3 min`, `1 h 5 min`: a span for a sentence. */
export function humanDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
}

/** `hh:mm UTC`, as operators write them in the seeds. */
export function hhmm(iso: string): string {
  return `${iso.slice(11, 16)} UTC`;
}

/** `a`, `a and b`, `a, b and c`. */
export function listWords(items: readonly string[], max = 5): string {
  const shown = items.length > max ? [...items.slice(0, max), `${items.length - max} more`] : [...items];
  if (shown.length <= 1) return shown.join('');
  return `${shown.slice(0, -1).join(', ')} and ${shown[shown.length - 1]}`;
}

export function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}

/** Documents carry ISO 8601 times; the engine counts in ms. */
export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** An observation as template text: strings and numbers as written, anything else empty. */
export function str(v: unknown): string {
  return typeof v === 'string' || typeof v === 'number' ? String(v) : '';
}
