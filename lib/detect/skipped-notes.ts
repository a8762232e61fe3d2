/**
 * The detection result's notes about tensors the scan left out because they cannot be
 * compared as weights (integer dtypes, tensors not readable in place): one line per reason,
 * with how many and a few names, so a reader sees what the statistics do not cover.
 * Tensors left out by include/exclude patterns were asked for and get no note.
 */
import type { ScanResult } from '../scan/types';

const ASKED = new Set(['not matched by include', 'matched by exclude']);

export function skippedNotes(scan: ScanResult): string[] {
  const byReason = new Map<string, Set<string>>();
  let total = 0;
  const perReason = new Map<string, number>();
  for (const s of scan.skipped ?? []) {
    if (ASKED.has(s.reason)) continue;
    total++;
    perReason.set(s.reason, (perReason.get(s.reason) ?? 0) + 1);
    let names = byReason.get(s.reason);
    if (!names) byReason.set(s.reason, (names = new Set()));
    names.add(s.tensor);
  }
  if (total === 0) return [];
  return [...byReason].map(([reason, names]) => {
    const list = [...names];
    const shown = list.slice(0, 3).join(', ') + (list.length > 3 ? `, … (${list.length} names)` : '');
    const counters = scan.counters?.length ? '; step counters among them are read as direction evidence' : '';
    return `left out of the statistics: ${perReason.get(reason)} tensor(s), ${reason} (${shown})${counters}`;
  });
}
