/**
 * `; did you mean "http"?` when a known name is close to the unknown one, else an empty string.
 * Close: at most one edit (insertion, deletion, substitution or swap of two neighbours) per three
 * characters, so "htpp" suggests "http" but "icmp" suggests nothing. Ties go to the first in
 * sorted order, so the hint is the same on every run.
 */
export function didYouMean(name: string, known: Iterable<string>): string {
  const limit = Math.max(1, Math.floor(name.length / 3));
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const candidate of [...known].sort()) {
    if (candidate === name) continue;
    const d = editDistance(name, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best === undefined ? '' : `; did you mean ${JSON.stringify(best)}?`;
}

/** Optimal string alignment distance (Levenshtein plus transpositions: "htpp" → "http" is 1). */
export function editDistance(a: string, b: string): number {
  // Rows i-2, i-1 and i of the usual dynamic programming table.
  let prev2: number[] = [];
  let prev: number[] = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, (prev2[j - 2] ?? 0) + 1);
      row.push(d);
    }
    prev2 = prev;
    prev = row;
  }
  return prev[b.length] ?? 0;
}
