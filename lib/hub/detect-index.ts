/**
 * Detection over a whole index: every method of the registry, run on statistics estimated
 * from the fingerprints (lib/hub/estimate.ts), producing the usual DetectionResult.
 *
 * Models are compared only within a tensor set (models that share tensors). A tensor set of
 * at most `jointMax` models is detected jointly, exactly as a scan of those models would be.
 * A larger one (the M×M statistics of 10,000 models per tensor would not fit in memory) is
 * first split into related groups: connected components of the graph that links two models
 * of one architecture when the Pearson correlation of their sketches reaches `linkCorrelation`
 * (fine-tunes of one base correlate near 1, independently initialised models near 0), and
 * each group is detected on its own. Results are concatenated in a fixed order.
 */
import * as os from 'os';
import { detect } from '../detect/detect';
import type { DetectOptions } from '../detect/options';
import type { DetectionResult } from '../detect/types';
import { InvalidArgumentError } from '../errors';
import { UnionFind } from '../graph/union-find';
import { openModels } from '../io/discover';
import { scanModelSet } from '../scan/scan';
import { detectGroups } from './detect-pool';
import { scanOrder, uniqueIds } from './ids';
import { FingerprintIndex, IndexedRow } from './store';

export interface IndexDetectOptions extends DetectOptions {
  /** Largest tensor set detected jointly (default 2000). */
  jointMax?: number;
  /** Sketch correlation that links two models into one group when splitting (default 0.5). */
  linkCorrelation?: number;
  onProgress?: (done: number, total: number) => void;
  /** Worker threads detecting groups at the same time (default: all cores; results do not depend on it). */
  threads?: number;
  /** Modules each worker requires first (detect-pool.ts; a TypeScript loader for tests). */
  workerPreload?: string[];
}

/** Centred, unit-norm copies of the sketches: the dot product of two is their correlation. */
function standardise(s: Float32Array): Float32Array {
  let mean = 0;
  for (const v of s) mean += v;
  mean /= Math.max(1, s.length);
  let ss = 0;
  for (const v of s) ss += (v - mean) ** 2;
  const inv = ss > 0 ? 1 / Math.sqrt(ss) : 0;
  return Float32Array.from(s, (v) => (v - mean) * inv);
}

/** Related groups of one architecture's models (indices into `hashes`), by sketch correlation. */
export function relatedGroups(sketches: Float32Array[], threshold: number): number[][] {
  const z = sketches.map(standardise);
  const n = z.length;
  const uf = new UnionFind(n);
  for (let i = 0; i < n; i++) {
    const a = z[i];
    for (let j = i + 1; j < n; j++) {
      if (uf.find(i) === uf.find(j)) continue;
      const b = z[j];
      let dot = 0;
      for (let k = 0; k < a.length; k++) dot += a[k] * b[k];
      if (dot >= threshold) uf.union(i, j);
    }
  }
  const groups = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const r = uf.find(i);
    if (!groups.has(r)) groups.set(r, []);
    groups.get(r)!.push(i);
  }
  return [...groups.values()];
}

function combine(parts: DetectionResult[], method: string): DetectionResult {
  if (parts.length === 1) return parts[0];
  const timings: Record<string, number> = {};
  for (const p of parts) for (const [k, v] of Object.entries(p.timings)) timings[k] = (timings[k] ?? 0) + v;
  return {
    models: parts.flatMap((p) => p.models),
    edges: parts.flatMap((p) => p.edges),
    roots: parts.flatMap((p) => p.roots),
    families: parts.flatMap((p) => p.families),
    duplicates: parts.flatMap((p) => p.duplicates),
    method,
    options: { ...parts[0].options, parts: parts.length },
    timings,
    warnings: [...new Set(parts.flatMap((p) => p.warnings))],
  };
}

/**
 * Models added from more than one path with identical content are stored once; each other path
 * is put back as a duplicate of the stored model, as a scan reports identical models: an edge
 * of type 'duplicate' with confidence 0.5 (nothing says which came first), the group in
 * `duplicates`, the copy in the stored model's family.
 */
function addDuplicates(result: DetectionResult, rows: IndexedRow[], idOf: Map<string, string>, aliases: Map<string, { path: string; id: string }[]>): void {
  if (aliases.size === 0) return;
  const used = new Set(result.models.map((m) => m.id));
  const byId = new Map(result.models.map((m) => [m.id, m]));
  const notes: string[] = [];
  for (const r of rows) {
    const more = aliases.get(r.hash);
    if (!more) continue;
    const id = idOf.get(r.hash)!;
    const model = byId.get(id);
    if (!model) continue;
    const group = [id];
    for (const a of more) {
      const aliasId = used.has(a.id) ? `${a.id}#${r.hash.slice(0, 8)}` : a.id;
      used.add(aliasId);
      group.push(aliasId);
      result.models.push({ ...model, id: aliasId, path: a.path });
      result.edges.push({ parent: id, child: aliasId, confidence: 0.5, distance: 0, confidenceParts: { direction: 0.5, pairing: 1 }, type: 'duplicate' });
    }
    result.duplicates.push(group);
    const family = result.families.find((f) => f.includes(id));
    if (family) family.push(...group.slice(1));
    notes.push(group.join(' = '));
  }
  if (notes.length) result.warnings.push(`identical models (stored once in the index; the others attached to it with confidence 0.5): ${notes.join('; ')}`);
}

export async function detectIndex(indexDir: string, opts: IndexDetectOptions = {}): Promise<DetectionResult> {
  const started = Date.now();
  const { jointMax = 2000, linkCorrelation = 0.5, onProgress, threads, workerPreload, ...detectOpts } = opts;
  if (threads !== undefined && (!Number.isInteger(threads) || threads < 1)) throw new InvalidArgumentError('E_INVALID_ARG', `threads must be a positive integer, got ${threads}`);
  const index = await FingerprintIndex.open(indexDir, { readOnly: true });
  try {
    const rows = await index.models();
    const ids = uniqueIds(rows);
    const idOf = new Map(rows.map((r, i) => [r.hash, ids[i]]));
    const bySet = new Map<string, IndexedRow[]>();
    for (const r of rows) {
      if (!bySet.has(r.tensorSet)) bySet.set(r.tensorSet, []);
      bySet.get(r.tensorSet)!.push(r);
    }
    // Work items: lists of models detected together.
    const items: IndexedRow[][] = [];
    const notes: string[] = [];
    for (const [, members] of [...bySet].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      if (members.length <= jointMax) {
        items.push(members);
        continue;
      }
      const byArch = new Map<string, IndexedRow[]>();
      for (const r of members) {
        if (!byArch.has(r.arch)) byArch.set(r.arch, []);
        byArch.get(r.arch)!.push(r);
      }
      let groups = 0;
      for (const [arch, archRows] of [...byArch].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
        const { hashes, sketches } = await index.sketches(arch);
        const pos = new Map(hashes.map((h, i) => [h, i]));
        const own = archRows.map((r) => sketches[pos.get(r.hash)!]);
        for (const g of relatedGroups(own, linkCorrelation)) {
          items.push(g.map((i) => archRows[i]));
          groups++;
        }
      }
      notes.push(`${members.length} models sharing tensors were split into ${groups} related groups by sketch correlation >= ${linkCorrelation} and detected group by group (no edges between groups)`);
    }
    let done = 0;
    let at = 0;
    // Fingerprints are read from DuckDB on this thread, one group at a time as workers free up.
    const next = async () => {
      if (at >= items.length) return undefined;
      const item = items[at++];
      const fps = await index.fingerprints(item.map((r) => r.hash));
      const ordered = scanOrder(item.map((r) => idOf.get(r.hash)!)).map((i) => item[i]);
      return { models: ordered.map((r) => ({ id: idOf.get(r.hash)!, path: r.path, fingerprint: fps.get(r.hash)! })), opts: detectOpts };
    };
    const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
    const workers = Math.max(1, Math.min(threads ?? cores, items.length));
    const parts = await detectGroups(next, { threads: workers, preload: workerPreload }, (models) => {
      done += models;
      onProgress?.(done, rows.length);
    });
    const method = parts[0]?.method ?? String(detectOpts.method ?? 'default');
    if (parts.length === 0) {
      return { models: [], edges: [], roots: [], families: [], duplicates: [], method, options: {}, timings: {}, warnings: ['the index is empty'] };
    }
    const result = combine(parts, method);
    addDuplicates(result, rows, idOf, await index.aliases());
    result.warnings.unshift('statistics estimated from fingerprints (phylogeny index), not an exact scan', ...notes);
    result.timings.index = Date.now() - started;
    return result;
  } finally {
    index.close();
  }
}

/**
 * Re-checks the `k` most confident edges of an index detection with an exact scan of just
 * their two models: the edge's distance becomes the exact one, and an edge whose direction the
 * exact scan reverses (or leaves unlinked) is reported in the warnings.
 */
export async function confirmEdges(result: DetectionResult, k: number, opts: DetectOptions = {}): Promise<void> {
  const paths = new Map(result.models.map((m) => [m.id, m.path]));
  const chosen = [...result.edges].sort((a, b) => b.confidence - a.confidence || (a.child < b.child ? -1 : 1)).slice(0, k);
  let agree = 0;
  for (const e of chosen) {
    const set = await openModels([paths.get(e.parent)!, paths.get(e.child)!]);
    const scan = await scanModelSet(set);
    const exact = detect(scan, opts);
    const idOf = new Map(set.models.map((m) => [m.path, m.id]));
    const p = idOf.get(paths.get(e.parent)!);
    const c = idOf.get(paths.get(e.child)!);
    const same = exact.edges.find((x) => x.parent === p && x.child === c);
    if (same) {
      agree++;
      if (same.distance !== undefined) e.distance = same.distance;
    } else result.warnings.push(`--confirm: the exact scan of ${e.parent} and ${e.child} does not give the edge ${e.parent} -> ${e.child}`);
  }
  result.warnings.push(`--confirm: ${agree} of ${chosen.length} edges checked with an exact scan agree`);
}
