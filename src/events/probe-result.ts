import { z } from 'zod';
import { ERROR_CODES } from './error-codes.js';

/**
 * The probe-result event (CONTRACT §3): what a probe emits for each target on each check, what
 * workers send to the engine, and one line of `tocsin replay --events`.
 */
export const ProbeResult = z
  .object({
    at: z.iso.datetime({ offset: true }),
    probe: z.string().min(1),
    target: z.string().min(1).optional(),
    vantage: z.string().min(1),
    ok: z.boolean(),
    duration_ms: z.number().nonnegative().optional(),
    error: z.enum(ERROR_CODES).optional(),
    detail: z.string().optional(),
    observations: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();
export type ProbeResult = z.infer<typeof ProbeResult>;

/** What a probe kind returns for one target; the runner adds `at`, `probe` and `vantage`. */
export type CheckResult = Omit<ProbeResult, 'at' | 'probe' | 'vantage' | 'target'> & { target: string };

const CODES: ReadonlySet<string> = new Set(ERROR_CODES);
const KEYS: ReadonlySet<string> = new Set(['at', 'probe', 'target', 'vantage', 'ok', 'duration_ms', 'error', 'detail', 'observations']);
/** RFC 3339 with seconds and an offset: the shape every probe and worker writes. */
const PLAIN_TIME = /^(\d{4})-(\d{2})-(\d{2})T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,9})?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)$/;

const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** A plain RFC 3339 time naming a real day (Date.parse rolls 02-30 over to March). */
function plainTime(at: string): boolean {
  const m = PLAIN_TIME.exec(at);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (mo < 1 || mo > 12 || d < 1) return false;
  const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  return d <= (mo === 2 ? (leap ? 29 : 28) : DAYS[mo - 1] ?? 31);
}

const nonEmpty = (v: unknown): v is string => typeof v === 'string' && v.length > 0;

/**
 * The event, when `raw` is plainly one (the shape probes and workers write); undefined when in
 * any doubt, and the caller then asks the schema, which also says what is wrong. Replay reads
 * millions of lines: this check costs a fraction of the schema's and accepts nothing it rejects.
 */
export function plainProbeResult(raw: unknown): ProbeResult | undefined {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return undefined;
  const r = raw as Record<string, unknown>;
  for (const k in r) if (!KEYS.has(k)) return undefined;
  if (typeof r.at !== 'string' || !plainTime(r.at)) return undefined;
  if (!nonEmpty(r.probe) || !nonEmpty(r.vantage) || typeof r.ok !== 'boolean') return undefined;
  if (r.target !== undefined && !nonEmpty(r.target)) return undefined;
  if (r.duration_ms !== undefined && !(typeof r.duration_ms === 'number' && Number.isFinite(r.duration_ms) && r.duration_ms >= 0)) return undefined;
  if (r.error !== undefined && !(typeof r.error === 'string' && CODES.has(r.error))) return undefined;
  if (r.detail !== undefined && typeof r.detail !== 'string') return undefined;
  if (r.observations !== undefined && (typeof r.observations !== 'object' || r.observations === null || Array.isArray(r.observations))) return undefined;
  return r as ProbeResult;
}
