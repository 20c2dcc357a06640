/**
 * A deep copy of `value`'s plain objects and arrays, frozen all the way down, so no part of the
 * daemon can change the plan another part relies on. Copying first matters: zod hands out its
 * `.default()` objects only shallow-cloned, and freezing them in place would freeze them for every
 * later parse. Other objects (URL, RegExp, class instances) are kept as they are, unfrozen: they
 * are not data, and freezing a RegExp would break its `lastIndex`.
 */
export function frozenCopy<T>(value: T): T {
  return copyOf(value, new Map());
}

/**
 * `lists` holds the frozen copies of short string lists made so far, by content: frozen, two equal
 * lists are interchangeable, so one serves every probe's `vantages` (the probe's own and its
 * spec's: two arrays per probe, 5 MB of heap at 50,000 probes).
 */
function copyOf<T>(value: T, lists: Map<string, readonly string[]>): T {
  if (Array.isArray(value)) {
    const key = listKey(value);
    const known = key === undefined ? undefined : lists.get(key);
    if (known) return known as T;
    const copy = Object.freeze(value.map((v: unknown) => copyOf(v, lists)));
    if (key !== undefined) lists.set(key, copy as readonly string[]);
    return copy as T;
  }
  if (!isPlainObject(value)) return value;
  // Frozen, an empty object is the same as any other: one serves every probe's empty `labels`,
  // `headers`, `headers_env` (four per probe at 50,000 probes was 11 MB of heap).
  if (isEmpty(value)) return (Object.getPrototypeOf(value) === null ? EMPTY_NULL_PROTO : EMPTY) as T;
  // fromEntries defines own properties, so a `__proto__` key from YAML stays a plain key.
  const copy = Object.fromEntries(Object.entries(value).map(([key, v]) => [key, copyOf(v, lists)]));
  return Object.freeze(copy) as T;
}

/** Lists of a few short strings get a content key (each item length-prefixed: unambiguous); others none. */
function listKey(list: readonly unknown[]): string | undefined {
  if (list.length > MAX_SHARED_LIST) return undefined;
  let key = '';
  for (const item of list) {
    if (typeof item !== 'string' || item.length > MAX_SHARED_ITEM) return undefined;
    key += `${item.length}:${item}`;
  }
  return key;
}
const MAX_SHARED_LIST = 16;
const MAX_SHARED_ITEM = 64;

const EMPTY = Object.freeze({});
const EMPTY_NULL_PROTO = Object.freeze(Object.create(null) as object);

function isEmpty(value: object): boolean {
  return Reflect.ownKeys(value).length === 0;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
