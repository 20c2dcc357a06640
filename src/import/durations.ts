// The two duration syntaxes of the files imported: Prometheus's (scrape_interval: 1m, 1h30m, 1w)
// and Go's time.Duration (a Blackbox module's timeout: 5s, 1.5s, 500ms). Both to milliseconds.

const PROM_UNITS_MS: Readonly<Record<string, number>> = {
  y: 365 * 86_400_000,
  w: 7 * 86_400_000,
  d: 86_400_000,
  h: 3_600_000,
  m: 60_000,
  s: 1000,
  ms: 1,
};
const PROM_DURATION = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;

/** Prometheus's model.Duration (`15s`, `1m`, `1h30m`, `2w`); undefined when malformed. */
export function parsePromDuration(text: string): number | undefined {
  if (text === '0') return 0;
  const m = PROM_DURATION.exec(text);
  if (!m || text === '') return undefined;
  const units = ['y', 'w', 'd', 'h', 'm', 's', 'ms'];
  let total = 0;
  units.forEach((unit, i) => {
    const n = m[i + 1];
    if (n !== undefined) total += Number(n) * (PROM_UNITS_MS[unit] ?? 0);
  });
  return total;
}

const GO_UNITS_MS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** Go's time.ParseDuration (`5s`, `1.5s`, `1m30s`, `250ms`) in whole ms; undefined when malformed or negative. */
export function parseGoDuration(text: string): number | undefined {
  const s = text.startsWith('+') ? text.slice(1) : text;
  if (s === '0') return 0;
  let total = 0;
  let consumed = 0;
  for (const m of s.matchAll(/(\d*\.?\d*)(ns|us|µs|μs|ms|s|m|h)/g)) {
    if (m.index !== consumed || m[1] === '' || m[1] === '.') return undefined;
    total += Number(m[1]) * (GO_UNITS_MS[m[2] ?? ''] ?? Number.NaN);
    consumed += m[0].length;
  }
  if (consumed === 0 || consumed !== s.length || !Number.isFinite(total)) return undefined;
  return Math.round(total);
}
