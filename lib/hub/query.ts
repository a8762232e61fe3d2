/**
 * "Where does this model come from?" against an index: fingerprint the model (or reuse its
 * indexed fingerprint), take the nearest models of its architecture by sketch inside DuckDB
 * (plus every model that shares its tensors under another architecture, compared exactly),
 * estimate a scan of the model and those candidates from their fingerprints (probes, for
 * models kept whole: samples at the budget, so a query loads and compares little), and run
 * detection on it: relatives by estimated distance and correlation, likely parents and
 * children with direction and confidence. `confirm` re-runs the best candidates with the
 * exact scan of just those models.
 */
import { detect } from '../detect/detect';
import type { DetectOptions } from '../detect/options';
import { computeDistances } from '../detect/distances';
import { weightCorrelation } from '../detect/relatedness';
import type { DetectionResult } from '../detect/types';
import { InvalidArgumentError } from '../errors';
import { openModels } from '../io/discover';
import { scanModelSet } from '../scan/scan';
import { indexRecord } from './add';
import { estimateScan, IndexedModel } from './estimate';
import { scanOrder, uniqueIds } from './ids';
import { DEFAULT_FINGERPRINT_CONFIG } from './sample';
import { FingerprintIndex } from './store';

export interface QueryOptions {
  /** Candidates taken from the sketch prefilter (default 64). */
  candidates?: number;
  /** Relatives listed (default 10). */
  top?: number;
  /** Re-check the model and its K nearest relatives with an exact scan (default 0). */
  confirm?: number;
  detect?: DetectOptions;
}

export interface Relative {
  id: string;
  path: string;
  hash: string;
  /** Estimated distance (the detection's default metric) to the queried model. */
  distance: number;
  /** Estimated pooled weight correlation with the queried model. */
  correlation: number;
  related: boolean;
}

export interface LineageLink {
  id: string;
  path: string;
  confidence: number;
  /** The direction factor of the confidence (docs/confidence.md). */
  direction?: number;
  distance?: number;
}

export interface QueryResult {
  model: { id: string; path: string; hash: string; indexed: boolean };
  indexModels: number;
  candidates: number;
  relatives: Relative[];
  /** Edges into the queried model (at most one in a forest). */
  parents: LineageLink[];
  children: LineageLink[];
  /** The queried model's family within the candidates. */
  family: string[];
  /** Set with `confirm`: the same question answered by an exact scan of the model and its nearest relatives. */
  confirmed?: { models: string[]; parents: LineageLink[]; children: LineageLink[]; agrees: boolean; scanSeconds: number };
  timings: Record<string, number>;
}

function links(result: DetectionResult, id: string, paths: Map<string, string>, side: 'parent' | 'child'): LineageLink[] {
  return result.edges
    .filter((e) => (side === 'parent' ? e.child === id : e.parent === id))
    .map((e) => {
      const other = side === 'parent' ? e.parent : e.child;
      return { id: other, path: paths.get(other) ?? '', confidence: e.confidence, direction: e.confidenceParts?.direction, distance: e.distance };
    });
}

export async function queryIndex(indexDir: string, modelPath: string, opts: QueryOptions = {}): Promise<QueryResult> {
  const t0 = Date.now();
  const timings: Record<string, number> = {};
  // The model is opened and fingerprinted (with the default config, which most indexes use)
  // while DuckDB loads and opens the index: each is about a third of a query here.
  const reading = (async () => {
    const set = await openModels([modelPath]);
    if (set.models.length !== 1)
      throw new InvalidArgumentError('E_INVALID_ARG', `${modelPath}: give one model to query, found ${set.models.length}${set.warnings.length ? ` (${set.warnings.join('; ')})` : ''}`);
    return { model: set.models[0], rec: await indexRecord(set.models[0], DEFAULT_FINGERPRINT_CONFIG) };
  })();
  let index: FingerprintIndex;
  try {
    index = await FingerprintIndex.open(indexDir, { readOnly: true });
  } catch (e) {
    await reading.catch(() => undefined);
    throw e;
  }
  try {
    const { model, rec: early } = await reading;
    const rec = JSON.stringify(index.config) === JSON.stringify(DEFAULT_FINGERPRINT_CONFIG) ? early : await indexRecord(model, index.config);
    timings.fingerprint = Date.now() - t0;
    let mark = Date.now();
    const indexed = await index.hasModel(rec.hash);
    const near = await index.nearestBySketch(rec.arch, rec.sketch, opts.candidates ?? 64, rec.hash);
    const cousins = await index.cousins(rec.tensorSet, rec.arch);
    const hashes = [...new Set([...near.map((n) => n.hash), ...cousins])];
    timings.prefilter = Date.now() - mark;
    mark = Date.now();
    // Probes where models have them: a query compares samples at the budget, so what it loads
    // and compares stays small when small models are kept whole (lib/hub/sample.ts).
    const loaded = await index.rowsWithFingerprints(hashes, { probe: true });
    const rows = loaded.map((l) => l.row);
    const fps = new Map(loaded.map((l) => [l.row.hash, l.fingerprint]));
    timings.load = Date.now() - mark;
    mark = Date.now();
    const ids = uniqueIds(rows);
    const queryId = ids.includes(model.id) ? `${model.id} (query)` : model.id;
    const members: IndexedModel[] = [
      { id: queryId, path: model.path, fingerprint: rec.probe ?? rec.fingerprint },
      ...rows.map((r, i) => ({ id: ids[i], path: r.path, fingerprint: fps.get(r.hash)! })),
    ];
    // Only the query's row of each Gram: the candidates' distances to each other are not used.
    const scan = estimateScan(members, { gram: 'first-row' });
    const d = computeDistances(scan.tensors, members.length, { metric: 'euclidean', normalize: 'rms', combine: 'mean' });
    const rho = weightCorrelation(scan.tensors, members.length).rho;
    const minCorrelation = opts.detect?.minCorrelation ?? 0.25;
    const relatives: Relative[] = rows
      .map((r, i) => ({ id: ids[i], path: r.path, hash: r.hash, distance: d[0][i + 1], correlation: rho[0][i + 1], related: rho[0][i + 1] >= (minCorrelation ?? -1) }))
      .sort((a, b) => a.distance - b.distance || (a.hash < b.hash ? -1 : 1));
    // Detection over the model and its related candidates: the neighbourhood its edges live in.
    const relatedIdx = [0, ...rows.map((_, i) => i + 1).filter((i) => rho[0][i] >= (minCorrelation ?? -1))];
    const related = relatedIdx.map((i) => members[i]);
    const local = estimateScan(scanOrder(related.map((m) => m.id)).map((i) => related[i]));
    const result = detect(local, opts.detect ?? {});
    const paths = new Map(members.map((m) => [m.id, m.path]));
    const family = result.families.find((f) => f.includes(queryId)) ?? [queryId];
    timings.detect = Date.now() - mark;
    const out: QueryResult = {
      model: { id: queryId, path: model.path, hash: rec.hash, indexed },
      indexModels: await index.count(),
      candidates: rows.length,
      relatives: relatives.slice(0, opts.top ?? 10),
      parents: links(result, queryId, paths, 'parent'),
      children: links(result, queryId, paths, 'child'),
      family,
      timings,
    };
    if (opts.confirm && opts.confirm > 0) {
      mark = Date.now();
      const chosen = relatives.filter((r) => r.related).slice(0, opts.confirm);
      const exactSet = await openModels([model.path, ...chosen.map((r) => r.path)]);
      const exactScan = await scanModelSet(exactSet);
      const exact = detect(exactScan, opts.detect ?? {});
      const byPath = new Map(exactSet.models.map((m) => [m.path, m.id]));
      const qid = byPath.get(model.path)!;
      const exactPaths = new Map(exactSet.models.map((m) => [m.id, m.path]));
      const parents = links(exact, qid, exactPaths, 'parent');
      const estParentPath = out.parents[0]?.path;
      out.confirmed = {
        models: exactSet.models.map((m) => m.id),
        parents,
        children: links(exact, qid, exactPaths, 'child'),
        agrees: (parents[0]?.path ?? '') === (estParentPath ?? '') || (estParentPath !== undefined && !chosen.some((c) => c.path === estParentPath)),
        scanSeconds: exactScan.run.seconds,
      };
      timings.confirm = Date.now() - mark;
    }
    timings.total = Date.now() - t0;
    return out;
  } finally {
    index.close();
  }
}
