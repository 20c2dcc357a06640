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
