import { createHash } from 'node:crypto';

// Probe and component ids derived from what the operator wrote (job names, targets), so that an
// import run again on the same files gives the same ids: metrics, incidents and rules that name a
// probe keep naming it.

/** Ids are letters, digits, `.`, `_`, `:`, `-`, starting with a letter or digit (src/config/schema.ts). */
export function slug(text: string): string {
  const s = text
    .replace(/[^A-Za-z0-9._:-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^[._:-]+|[._:-]+$/g, '');
  return s === '' ? 'x' : s;
}

/** 8 hex digits of SHA-256: stable, and short enough to read. */
export function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 8);
}

/** A target as part of an id: `https://a.example/health` → `https-a.example-health`; http:// (the exporter's default) dropped. */
export function targetSlug(target: string): string {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(target);
  // IPv6 brackets go: `[2001:db8::10]:6379` → `2001:db8::10:6379`.
  const rest = (m ? target.slice(m[0].length) : target).replace(/[[\]]/g, '');
  const scheme = m?.[1]?.toLowerCase();
  return slug(scheme && scheme !== 'http' ? `${scheme}-${rest}` : rest);
}

/** Longer ids are cut, with a hash of the whole key so that they stay distinct. */
const MAX_ID_LENGTH = 100;

/** What an id is derived from: a preferred form, a longer one that tells more, and the whole key. */
export interface IdCandidate {
  readonly base: string;
  /** Used when two candidates share `base` (e.g. the base plus the module). */
  readonly longer: string;
  /** Everything that makes the candidate distinct; hashed as the last resort. */
  readonly key: string;
}

/**
 * One id per candidate, unique: the base when no other candidate has it, else the longer form,
 * else the base with a hash of the key. Which one a candidate gets depends only on the candidates
 * that collide with it, never on their order.
 */
export function assignIds(candidates: readonly IdCandidate[]): string[] {
  const cut = (id: string, key: string): string =>
    id.length > MAX_ID_LENGTH ? `${id.slice(0, MAX_ID_LENGTH - 9).replace(/[._:-]+$/, '')}-${shortHash(key)}` : id;
  const count = (ids: readonly string[]): Map<string, number> => {
    const n = new Map<string, number>();
    for (const id of ids) n.set(id, (n.get(id) ?? 0) + 1);
    return n;
  };
  const bases = candidates.map((c) => cut(c.base, c.key));
  const baseCount = count(bases);
  const longers = candidates.map((c) => cut(c.longer, c.key));
  const longerCount = count(longers.filter((_, i) => (baseCount.get(bases[i] ?? '') ?? 0) > 1));
  const first = candidates.map((c, i) => {
    const base = bases[i] ?? '';
    if (baseCount.get(base) === 1) return base;
    const longer = longers[i] ?? '';
    if (longer !== base && longerCount.get(longer) === 1) return longer;
    return cut(`${c.base}-${shortHash(c.key)}`, c.key);
  });
  // A longer form may equal another candidate's base: those settle on the hash too.
  const firstCount = count(first);
  return first.map((id, i) => {
    const c = candidates[i];
    return firstCount.get(id) === 1 || !c ? id : cut(`${c.base}-${shortHash(`${c.key}\0again`)}`, c.key);
  });
}
