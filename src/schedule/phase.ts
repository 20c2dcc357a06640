/**
 * A stable offset in [0, interval) for a check key (FNV-1a hash). Spreading checks by a hash of
 * their identity, as Prometheus does for scrapes, keeps 10,000 probes with one interval from
 * firing in one burst, and keeps each check's slot the same across restarts and config reloads.
 */
export function phaseOffset(key: string, intervalMs: number): number {
  return keyHash(key) % Math.max(1, Math.floor(intervalMs));
}

/** FNV-1a of a check key, as an unsigned 32-bit integer: stable across processes and versions. */
export function keyHash(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The first slot of a check strictly after `now`: slots are `offset + k * interval`. */
export function nextSlot(now: number, intervalMs: number, offset: number): number {
  const k = Math.floor((now - offset) / intervalMs) + 1;
  return offset + k * intervalMs;
}
