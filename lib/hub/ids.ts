/** Display ids of indexed models: the discovery id, made unique by a hash prefix where two
 * different models share it, so results never depend on the order models were added. */
export function uniqueIds(rows: { id: string; hash: string }[]): string[] {
  const count = new Map<string, number>();
  for (const r of rows) count.set(r.id, (count.get(r.id) ?? 0) + 1);
  return rows.map((r) => (count.get(r.id)! > 1 ? `${r.id}#${r.hash.slice(0, 8)}` : r.id));
}
