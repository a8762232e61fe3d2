/**
 * Adjusted Rand index (Hubert & Arabie 1985): agreement of two partitions of the same items,
 * corrected for chance, 1 = identical, ≈ 0 = as good as random labels, can go negative.
 */

function choose2(x: number): number {
  return (x * (x - 1)) / 2;
}

/** Both arrays give each item's cluster label (any values), item by item. */
export function adjustedRandIndex(a: ArrayLike<string | number>, b: ArrayLike<string | number>): number {
  if (a.length !== b.length) throw new RangeError(`partitions of different sizes: ${a.length} vs ${b.length}`);
  const n = a.length;
  const table = new Map<string, number>();
  const rows = new Map<string | number, number>();
  const cols = new Map<string | number, number>();
  for (let i = 0; i < n; i++) {
    const key = JSON.stringify([a[i], b[i]]);
    table.set(key, (table.get(key) ?? 0) + 1);
    rows.set(a[i], (rows.get(a[i]) ?? 0) + 1);
    cols.set(b[i], (cols.get(b[i]) ?? 0) + 1);
  }
  let index = 0;
  for (const c of table.values()) index += choose2(c);
  let sumRows = 0;
  for (const c of rows.values()) sumRows += choose2(c);
  let sumCols = 0;
  for (const c of cols.values()) sumCols += choose2(c);
  const total = choose2(n);
  const expected = total > 0 ? (sumRows * sumCols) / total : 0;
  const max = (sumRows + sumCols) / 2;
  // Both partitions all-singletons or both one block (or n < 2): no pairs to disagree on,
  // the index is 0/0; identical partitions then count as perfect agreement, as in scikit-learn.
  if (max === expected) return index === max ? 1 : 0;
  return (index - expected) / (max - expected);
}
