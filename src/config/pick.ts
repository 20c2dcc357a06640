import type { z } from 'zod';

/**
 * Parts of a config parsed on their own, quietly: cross-checks need the part they look at even
 * when a sibling is invalid (a bad `store` must not hide an unknown `component` reference). The
 * part's own problems are reported by the full parse, once.
 */

/** `value` parsed by `schema`; undefined when invalid. */
export function pick<S extends z.ZodType>(schema: S, value: unknown): z.output<S> | undefined {
  const parsed = schema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}

/** The items of a list that pass `schema`, with their index in the list. */
export function parseItems<S extends z.ZodType>(list: unknown, schema: S): { index: number; value: z.output<S> }[] {
  if (!Array.isArray(list)) return [];
  const out: { index: number; value: z.output<S> }[] = [];
  list.forEach((item: unknown, index) => {
    const parsed = schema.safeParse(item);
    if (parsed.success) out.push({ index, value: parsed.data });
  });
  return out;
}
