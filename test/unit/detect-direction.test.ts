/**
 * Direction evidence and honesty about it: model-level signals (direction-signals.ts) against
 * a direct computation, fixed-error-rate signals in the root posterior, family direction
 * confidences (the mean of their edges' direction confidences), minDirectionConfidence
 * leaving families undirected, and how text, JSON and eval show that.
 */
import { detect } from '../../lib/detect';
import { MODEL_SIGNAL_NAMES, modelSignal } from '../../lib/detect/direction-signals';
import { evaluate } from '../../lib/eval/metrics';
import { InvalidArgumentError } from '../../lib/errors';
import { parseDetectionJson, renderJson } from '../../lib/report/json';
import { renderText } from '../../lib/report/text';
import { renderHtml } from '../../lib/report/html';
import { simulateZoo } from '../helpers/synthetic-scan';

const zoo = simulateZoo({ families: 3, depth: 2, branching: [3, 1], seed: 4, monotone: 'none' });

describe('model-level direction signals', () => {
  test('norm and bias-mean equal a direct computation from the models', () => {
    const M = zoo.scan.models.length;
    const norm = modelSignal('norm', zoo.scan.tensors, M);
    const biasMean = modelSignal('bias-mean', zoo.scan.tensors, M);
    const index = new Map(zoo.scan.models.map((m, i) => [m.id, i]));
    const names = Object.keys(zoo.models[0].tensors);
    const sq = (x: ArrayLike<number>) => Array.from(x).reduce((a, v) => a + Math.fround(v) ** 2, 0);
    const absMean = (x: ArrayLike<number>) => Math.abs(Array.from(x).reduce((a, v) => a + Math.fround(v), 0) / x.length);
    const meanOver = (f: (x: ArrayLike<number>) => number, n: string) => zoo.models.reduce((a, m) => a + f(m.tensors[n]), 0) / zoo.models.length;
    for (const m of zoo.models) {
      const i = index.get(m.id)!;
      const wantNorm = names.reduce((a, n) => a + sq(m.tensors[n]) / meanOver(sq, n), 0) / names.length;
      expect(norm[i]).toBeCloseTo(wantNorm, 9);
      const vecs = names.filter((n) => n.endsWith('bias'));
      const wantBias = vecs.reduce((a, n) => a + absMean(m.tensors[n]) / meanOver(absMean, n), 0) / vecs.length;
      expect(biasMean[i]).toBeCloseTo(wantBias, 9);
    }
    // The simulated models have no norm gains, so gain-drift has no value; every other signal has one.
    for (const name of MODEL_SIGNAL_NAMES) expect(modelSignal(name, zoo.scan.tensors, M).every(Number.isFinite)).toBe(name !== 'gain-drift');
    expect(() => modelSignal('loss', zoo.scan.tensors, M)).toThrow(InvalidArgumentError);
  });

  test('a signal with a fixed error rate votes under both evidence settings and is recorded', () => {
    const r = detect(zoo.scan, { directionEvidence: 'score', directionSignals: { norm: 0.2 } });
    expect((r.options.directionWeights as Record<string, number>)['model:norm']).toBeCloseTo(Math.log(4), 3);
    expect(r.options.directionSignals).toEqual({ norm: 0.2 });
    // A signal declared to fall (ε > ½) votes with a negative weight.
    const back = detect(zoo.scan, { directionSignals: { norm: 0.8 } });
    expect((back.options.directionWeights as Record<string, number>)['model:norm']).toBeCloseTo(-Math.log(4), 3);
    // 'kurtosis-votes': the score and the per-tensor kurtosis votes, no fake-init votes.
    const kv = Object.keys(detect(zoo.scan, { directionEvidence: 'kurtosis-votes' }).options.directionWeights as object);
    expect(kv.length).toBeGreaterThan(1);
    expect(kv.every((k) => k === 'score' || k.endsWith(':kurtosis'))).toBe(true);
    expect(() => detect(zoo.scan, { directionSignals: { norm: 0 } })).toThrow(/error rate of 'norm' must be in \(0, 1\)/);
    expect(() => detect(zoo.scan, { directionSignals: { nope: 0.1 } })).toThrow(/unknown signal 'nope'/);
  });
});

describe('family direction confidence', () => {
  const r = detect(zoo.scan);
  test('one per family: 1 minus the expected number of its reversed edges (at least 0)', () => {
    expect(r.familyDirections).toHaveLength(r.families.length);
    r.families.forEach((f, i) => {
      const d = r.familyDirections![i];
      expect(f).toContain(d.root);
      expect(r.roots).toContain(d.root);
      const edges = r.edges.filter((e) => f.includes(e.child));
      const reversed = edges.reduce((a, e) => a + 1 - e.confidenceParts!.direction, 0);
      expect(d.confidence).toBeCloseTo(Math.max(0, 1 - reversed), 12);
      // Never above the least sure edge: a family is directed right only if each edge is.
      expect(d.confidence!).toBeLessThanOrEqual(Math.min(...edges.map((e) => e.confidenceParts!.direction)) + 1e-12);
      expect(d.directed).toBe(true);
    });
  });

  test('minDirectionConfidence leaves the families below it undirected; eval, text, JSON and HTML say so', async () => {
    const confs = r.familyDirections!.map((f) => f.confidence!).sort((a, b) => a - b);
    const cut = (confs[0] + confs[confs.length - 1]) / 2;
    expect(confs[0]).toBeLessThan(confs[confs.length - 1]);
    const u = detect(zoo.scan, { minDirectionConfidence: cut });
    const low = u.familyDirections!.filter((f) => f.confidence! < cut);
    expect(low.length).toBeGreaterThan(0);
    for (const f of u.familyDirections!) expect(f.directed).toBe(f.confidence! >= cut);
    const undirectedEdges = u.edges.filter((e) => e.undirected);
    expect(undirectedEdges.length).toBeGreaterThan(0);
    expect(u.warnings.join('\n')).toMatch(/left undirected \(direction confidence below/);
    // Same edges as without the threshold; eval counts only the directed ones.
    expect(u.edges.map((e) => `${e.parent}>${e.child}`)).toEqual(r.edges.map((e) => `${e.parent}>${e.child}`));
    const all = evaluate(r, zoo.lineage).counts;
    const some = evaluate(u, zoo.lineage).counts;
    expect(some.predictedEdges).toBe(all.predictedEdges - undirectedEdges.length);
    expect(some.correctEdges).toBeLessThanOrEqual(all.correctEdges);
    // Text: each family's head line; JSON: the records and edge marks survive a round trip.
    const text = renderText(u);
    expect(text).toMatch(/family \d+ · \d+ models · direction undecided \((0\.\d+|1\.00)\)/);
    expect(text).toMatch(/family \d+ · \d+ models · direction (0\.\d+|1\.00)/);
    const back = parseDetectionJson(renderJson(u));
    expect(back.familyDirections).toEqual(u.familyDirections);
    expect(back.edges.filter((e) => e.undirected).length).toBe(undirectedEdges.length);
    expect(await renderHtml(u)).toMatch(/Family 1: direction (undecided )?/);
    expect(() => detect(zoo.scan, { minDirectionConfidence: 1.5 })).toThrow(InvalidArgumentError);
  });
});
