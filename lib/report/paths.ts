/**
 * Lineage paths: every ancestor → … → descendant chain of a detected forest, one line per
 * model with a parent, optionally marked against the true lineage (whole path right or not).
 */
import type { DetectionResult } from '../detect/types';
import type { Lineage } from '../io/types';

/** The chain from the root down to `id` under `parent` (cycle-safe). */
export function pathTo(id: string, parent: Map<string, string>): string[] {
  const path = [id];
  const seen = new Set([id]);
  let p = parent.get(id);
  while (p !== undefined && !seen.has(p)) {
    path.unshift(p);
    seen.add(p);
    p = parent.get(p);
  }
  return path;
}

export interface LineagePaths {
  text: string;
  /** Paths predicted, and how many of them equal the true path (when truth is given). */
  predicted: number;
  right: number;
}

export function formatLineagePaths(result: DetectionResult, truth?: Lineage): LineagePaths {
  const parent = new Map(result.edges.map((e) => [e.child, e.parent]));
  const conf = new Map(result.edges.map((e) => [e.child, e.confidence]));
  const trueParent = new Map(truth?.edges.map((e) => [e.child, e.parent]) ?? []);
  const rows = result.models
    .map((m) => pathTo(m.id, parent))
    .filter((p) => p.length > 1)
    .sort((a, b) => a.join('/').localeCompare(b.join('/')));
  const lines: string[] = [];
  let right = 0;
  for (const p of rows) {
    const id = p[p.length - 1];
    const links = p.slice(1).map((c) => `→(${(conf.get(c) ?? 0).toFixed(2)}) ${c}`).join(' ');
    let mark = '';
    if (truth) {
      const t = pathTo(id, trueParent);
      const ok = t.join('\u0000') === p.join('\u0000');
      right += ok ? 1 : 0;
      mark = ok ? '  ✓' : `  ✗ true: ${t.join(' → ')}`;
    }
    lines.push(`${p[0]} ${links}   (generation ${p.length - 1})${mark}`);
  }
  const isolated = result.roots.filter((id) => !result.edges.some((e) => e.parent === id));
  if (isolated.length) lines.push('', `no parent and no descendants: ${isolated.join(', ')}`);
  if (truth) lines.push('', `whole lineage paths right: ${right} of ${rows.length} predicted (${trueParent.size} models have a true parent)`);
  return { text: lines.join('\n'), predicted: rows.length, right };
}
