/**
 * detect(): a ScanResult in, a directed forest out. Everything here is O(M²)-ish work on the
 * per-tensor sums; the weights are never read again.
 *
 * Steps: select tensors → direction scores and distances (over the tensors each pair shares)
 * → correlation gate (unrelated pairs never linked) → collapse exact duplicates → τ and the
 * score's sign → the method → confidences → ids, families, roots.
 */
import type { ScanResult } from '../scan/types';
import type { DetectionResult } from './types';
import type { DetectOptions, ResolvedOptions } from './options';
import { resolveOptions } from './resolve-options';
import { InvalidArgumentError } from '../errors';
import { comparedParams, comparedTensors, selectTensors } from './select';
import { computeScores } from './scores';
import { computeDistances, perTensorSquaredDistances, squaredDistancesOver } from './distances';
import { relativeSteps, tinyStepTest } from './tiny-step';
import { gateDistances, weightCorrelation } from './relatedness';
import { findDuplicates } from './duplicates';
import { tensorChanges } from './unchanged-tensors';
import { chooseTau } from './tau';
import { chooseSign } from './orient';
import { minimumSpanningForest, thresholdComponents } from '../graph/components';
import { forestResult } from './result';
import { methodSpec } from './methods/registry';
import { edgeConfidences } from './confidence';
import { tensorSignals, type DirectionSignal } from './root-posterior';
import { attachMerges, findMerges, findQuantized, mergeFamilies, SLACK, typeEdges } from './typing';
import { counterSignal } from '../scan/counters';
import { modelSignal } from './direction-signals';
import { skippedNotes } from './skipped-notes';
import { familyDirections } from './family-direction';

/**
 * The error rate a step counter votes with (weight log(999) ≈ 6.9 nats per edge): fine-tuning
 * continues the parent's count, so a parent below its child is near certain; not 0, so that a
 * counter reset somewhere cannot overrule everything else.
 */
export const STEP_COUNTER_ERROR_RATE = 1e-3;

function now(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

export function detect(scan: ScanResult, opts: DetectOptions = {}): DetectionResult {
  const started = now();
  const o: ResolvedOptions = resolveOptions(opts);
  const spec = methodSpec(o.method);
  if (spec.run === undefined) throw new InvalidArgumentError('E_INVALID_ARG', spec.modelFiles?.why ?? `method '${o.method}' cannot run on a scan alone`);
  const warnings: string[] = [];
  const timings: Record<string, number> = {};
  const M = scan.models.length;
  const ids = scan.models.map((m) => m.id);

  let mark = now();
  const selected = selectTensors(scan, o.include, o.exclude, o.runningStats);
  const compared = comparedTensors(selected);
  const params = comparedParams(selected, M);
  const scoreSettings = { kind: o.score, normalize: o.scoreNormalize, combine: o.scoreCombine, tensors: o.scoreTensors };
  const rawScore = computeScores(compared, M, scoreSettings);
  // A model that shares nothing is still shown with a score over its own tensors.
  const ownScore = computeScores(selected, M, scoreSettings);
  for (let m = 0; m < M; m++) if (Number.isNaN(rawScore[m])) rawScore[m] = ownScore[m];
  warnings.push(...skippedNotes(scan));
  const lonely = ids.filter((_, m) => params[m] === 0);
  if (lonely.length > 0) warnings.push(`no selected tensor shared with another model: ${lonely.join(', ')} (each left as a root of its own)`);
  timings.scores = round(now() - mark);

  mark = now();
  const dist = computeDistances(compared, M, { metric: o.distance, normalize: o.distanceNormalize, combine: o.distanceCombine });
  const corr = o.minCorrelation === null ? null : weightCorrelation(compared, M);
  const link = gateDistances(dist, corr, o.minCorrelation);
  timings.distances = round(now() - mark);

  // One representative per group of identical models: nothing can order copies.
  const dupGroups = findDuplicates(compared, M);
  const copyOf = new Int32Array(M).fill(-1);
  for (const g of dupGroups) for (const m of g.slice(1)) copyOf[m] = g[0];
  if (dupGroups.length > 0) {
    warnings.push(`identical models (attached to the first of each group with confidence 0.5): ${dupGroups.map((g) => g.map((m) => ids[m]).join(' = ')).join('; ')}`);
  }
  // Merged children are fitted on the Gram first and left out of the tree method, which knows
  // one parent per child; they are attached with one edge per parent afterwards.
  // Quantized children (rounding noise of their format from a more precise model) likewise.
  const related = link.map((row) => row.map(Number.isFinite));
  const originals = [...Array(M).keys()].filter((m) => copyOf[m] < 0);
  // A PEFT adapter's weights are its base plus B·A by construction (the scan formed them so):
  // its edge is read from the file, not inferred, and it takes no part in the fits below.
  const idAt = new Map(ids.map((id, i) => [id, i]));
  const adapterBase = new Map<number, number>();
  scan.models.forEach((m, i) => m.adapter && idAt.has(m.adapter.base) && copyOf[i] < 0 && adapterBase.set(i, idAt.get(m.adapter.base)!));
  const quantized = findQuantized(compared, originals.filter((m) => !adapterBase.has(m)), related);
  const quantOf = new Map(quantized.map((f) => [f.child, f]));
  const unquantized = originals.filter((m) => !quantOf.has(m) && !adapterBase.has(m));
  const merges = o.mergeRatio === null ? [] : findMerges(compared, unquantized, related, o.mergeRatio);
  const mergeChild = new Set(merges.map((f) => f.child));
  const reps = unquantized.filter((m) => !mergeChild.has(m));
  const D = reps.map((a) => reps.map((b) => link[a][b]));
  const rawD = reps.map((a) => reps.map((b) => dist[a][b]));

  mark = now();
  const tauChoice = chooseTau(rawD, o.tau, o.tauMinRatio);
  const tau = tauChoice.tau;
  let sign: 1 | -1 = o.scoreSign === 'auto' ? 1 : o.scoreSign;
  if (o.scoreSign === 'auto') {
    const nodes = [...reps.keys()];
    const choice = chooseSign(nodes, minimumSpanningForest(D, nodes, tau), reps.map((m) => rawScore[m]));
    if (choice.sign === null) warnings.push(`scoreSign 'auto': the trees fit both signs equally (${choice.agree} edges agree either way); kept +1`);
    else sign = choice.sign;
  }
  const score = reps.map((m) => sign * rawScore[m]);
  const distanceSettings = { metric: o.distance, normalize: o.distanceNormalize, combine: o.distanceCombine };
  let signals: DirectionSignal[] | null = null;
  const counts = scan.counters ? counterSignal(scan.counters, M) : null;
  const repCounts = counts ? Float64Array.from(reps, (m) => counts[m]) : null;
  // Model-level signals with error rates given in the options (learnt on other zoos).
  const fixedSignals = (): DirectionSignal[] =>
    Object.entries(o.directionSignals).map(([name, errorRate]) => {
      const all = modelSignal(name, compared, M);
      return { name: `model:${name}`, values: Float64Array.from(reps, (m) => all[m]), errorRate };
    });
  // One memo of the pairs' relative steps for both tiny-step options (tiny-step.ts; off by default).
  const steps = o.tinyStep !== null || o.tinyStepGains !== null ? relativeSteps(compared, reps) : null;
  const counterVotes: DirectionSignal[] =
    repCounts && repCounts.filter((v) => !Number.isNaN(v)).length >= 2 ? [{ name: 'step-counter', values: repCounts, errorRate: STEP_COUNTER_ERROR_RATE }] : [];
  const run = spec.run({
    options: o,
    D,
    score,
    tau,
    tauComponents: thresholdComponents(D, tau).length,
    relatedComponents: thresholdComponents(D).length,
    squaredOf: (f) => squaredDistancesOver(compared, f.map((i) => reps[i]), distanceSettings).d2,
    tensorChangesOf: (f) => tensorChanges(compared, f.map((i) => reps[i])),
    tensorDistancesOf: (f) => perTensorSquaredDistances(compared, f.map((i) => reps[i])),
    signals: () => (signals ??= [...tensorSignals(compared, reps, o.fakeInitAbstain, o.tinyStepGains !== null ? tinyStepTest(compared, reps, o.tinyStepGains, steps!) : undefined), ...fixedSignals(), ...counterVotes]),
    ...(o.tinyStep !== null ? { tinyStep: tinyStepTest(compared, reps, o.tinyStep, steps!) } : {}),
  });
  warnings.push(...run.warnings);
  timings.method = round(now() - mark);

  mark = now();
  const conf = edgeConfidences(run.parent, score, D, run.rivalTau, run.orientation, run.direction);
  const parent = new Int32Array(M).fill(-1);
  reps.forEach((m, i) => (parent[m] = run.parent[i] >= 0 ? reps[run.parent[i]] : -1));
  for (let m = 0; m < M; m++) if (copyOf[m] >= 0) parent[m] = copyOf[m];
  attachMerges(parent, merges);
  for (const f of quantized) parent[f.child] = f.parent;
  for (const [m, b] of adapterBase) parent[m] = copyOf[b] >= 0 ? copyOf[b] : b;
  const repIndex = new Map(reps.map((m, i) => [m, i]));
  const forest = forestResult(ids, parent, (m, p) => {
    // A merged child's edge is replaced by its merge edges (typeEdges) below.
    if (mergeChild.has(m)) return { confidence: 0 };
    if (adapterBase.has(m)) return { confidence: 1, distance: dist[p][m], confidenceParts: { direction: 1, pairing: 1 } };
    const q = quantOf.get(m);
    // Precision orients it for sure; how well the noise matches its format is the pairing.
    if (q) return { confidence: 1 - q.ratio / (2 * SLACK), distance: dist[p][m], confidenceParts: { direction: 1, pairing: 1 - q.ratio / (2 * SLACK) } };
    const c = copyOf[m] >= 0 ? { direction: 0.5, pairing: 1, confidence: 0.5 } : conf[repIndex.get(m)!]!;
    return { confidence: c.confidence, distance: dist[p][m], confidenceParts: { direction: c.direction, pairing: c.pairing } };
  });
  const idIndex = new Map(ids.map((id, i) => [id, i]));
  const kindOf = (id: string) => {
    const m = idIndex.get(id)!;
    return copyOf[m] >= 0 ? 'duplicate' : quantOf.has(m) ? 'quantized' : adapterBase.has(m) ? 'peft' : 'finetune';
  };
  forest.edges = typeEdges(forest.edges, ids, merges, kindOf, o.mergeRatio ?? 1, (a, b) => dist[a][b]);
  for (const e of forest.edges) {
    const a = scan.models[idIndex.get(e.child)!].adapter;
    if (e.type === 'peft' && a) e.rank = a.rank;
  }
  if (quantized.length > 0) warnings.push(`quantized copies (rounding noise of their format): ${quantized.map((f) => `${ids[f.child]} from ${ids[f.parent]}`).join('; ')}`);
  if (merges.length > 0) {
    forest.families = mergeFamilies(forest.families, forest.edges);
    warnings.push(`merged models (fitted on the Gram as weighted averages of family members): ${merges.map((f) => `${ids[f.child]} = ${f.parents.map((p) => `${p.weight.toFixed(2)}·${ids[p.model]}`).join(' + ')}`).join('; ')}`);
  }
  const directions = familyDirections(forest.families, forest.edges, o.minDirectionConfidence);
  const undirected = directions.filter((f) => !f.directed);
  if (undirected.length > 0) {
    warnings.push(`${undirected.length} ${undirected.length === 1 ? 'family' : 'families'} left undirected (direction confidence below ${o.minDirectionConfidence}): ${undirected.map((f) => `${f.root} ${f.confidence!.toFixed(2)}`).join(', ')}`);
  }
  timings.confidence = round(now() - mark);
  timings.detect = round(now() - started);

  return {
    models: scan.models.map((m, i) => ({ id: m.id, path: m.path, params: params[i], score: sign * rawScore[i] })),
    ...forest,
    familyDirections: directions,
    duplicates: dupGroups.map((g) => g.map((m) => ids[m])),
    distances: { ids, matrix: dist },
    method: o.method,
    options: { ...o, tauValue: tau, scoreSignUsed: sign, ...run.chosen },
    timings,
    warnings,
  };
}
