/** Display ids of indexed models: the discovery id, made unique by a hash prefix where two
 * different models share it, so results never depend on the order models were added. */
export function uniqueIds(rows: { id: string; hash: string }[]): string[] {
  const count = new Map<string, number>();
  for (const r of rows) count.set(r.id, (count.get(r.id) ?? 0) + 1);
  return rows.map((r) => (count.get(r.id)! > 1 ? `${r.id}#${r.hash.slice(0, 8)}` : r.id));
}

/**
 * Positions of `ids` in the order a scan lists its models (by id; a scan's ids are unique, and
 * uniqueIds makes the index's so): detection over an index then sees the models in the order
 * a scan of the same files would, so methods that depend on the order of their input (the
 * k-means family's seeded restarts) give the exact scan's answer on the same statistics.
 */
export function scanOrder(ids: string[]): number[] {
  return ids.map((_, i) => i).sort((a, b) => (ids[a] < ids[b] ? -1 : ids[a] > ids[b] ? 1 : a - b));
}
