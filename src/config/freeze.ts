/**
 * A deep copy of `value`'s plain objects and arrays, frozen all the way down, so no part of the
 * daemon can change the plan another part relies on. Copying first matters: zod hands out its
 * `.default()` objects only shallow-cloned, and freezing them in place would freeze them for every
 * later parse. Other objects (URL, RegExp, class instances) are kept as they are, unfrozen: they
 * are not data, and freezing a RegExp would break its `lastIndex`.
 */
export function frozenCopy<T>(value: T): T {
  if (Array.isArray(value)) return Object.freeze(value.map(frozenCopy)) as T;
  if (!isPlainObject(value)) return value;
  // fromEntries defines own properties, so a `__proto__` key from YAML stays a plain key.
  const copy = Object.fromEntries(Object.entries(value).map(([key, v]) => [key, frozenCopy(v)]));
  return Object.freeze(copy) as T;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
