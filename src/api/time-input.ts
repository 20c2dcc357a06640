import { z } from 'zod';

/**
 * Times as the API takes them and as operators type them. The API takes RFC 3339 with an offset
 * (`Time`, in the body schemas); the console's form and the CLI's flags take what a person types
 * (`operatorTime`) and turn it into that, so the three read a time one way.
 */

/** An operator's time in a request body: RFC 3339 with an offset. */
export const Time = z.iso.datetime({ offset: true, error: 'expected an RFC 3339 time with an offset, e.g. 2024-11-18T21:00:00Z' });

/**
 * A date and a time (seconds optional), with an optional offset: a console `datetime-local`
 * value (`2024-11-18T21:00`), `2024-11-18 21:00` on a command line, or RFC 3339 itself.
 */
const TYPED = /^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2})(:\d{2}(?:\.\d+)?)?([Zz]|[+-]\d{2}:\d{2})?$/;

/** Why a typed time was refused (the console and the CLI put the field or flag before it). */
export const TYPED_TIME_EXPECTED = 'expected an RFC 3339 time (2024-11-18T21:00:00Z) or "YYYY-MM-DD HH:MM" in UTC';

/**
 * What an operator typed as RFC 3339 (`2024-11-18T21:00:00.000Z`): without an offset the time is
 * UTC, as the console's form and the CLI's help say (a browser's `datetime-local` has no zone).
 */
export function operatorTime(text: string): { ok: true; value: string } | { ok: false; message: string } {
  const typed = TYPED.exec(text.trim());
  const rfc3339 = typed ? `${typed[1]}T${typed[2]}${typed[3] ?? ':00'}${(typed[4] ?? 'Z').toUpperCase()}` : '';
  if (!Time.safeParse(rfc3339).success) return { ok: false, message: TYPED_TIME_EXPECTED };
  return { ok: true, value: new Date(rfc3339).toISOString() };
}
