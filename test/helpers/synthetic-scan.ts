/**
 * Builds ScanResults from in-memory "models" (arrays per tensor name), computing every sum the
 * native scan computes directly in float64, so detection can be tested without files or the
 * addon. `simulateZoo` grows families the way the zoo does in spirit: a root = its own random
 * init + training drift; each child = its parent + a smaller perturbation.
 */
import type { ScanResult, ScanTensor, TensorFakeInit } from '../../lib/scan/types';
import type { Lineage } from '../../lib/io/types';
import { createRng, type Mulberry32Rng } from '../../lib/graph/rng';

export interface SynthModel {
  id: string;
  tensors: Record<string, ArrayLike<number>>;
}

export interface BuildOptions {
  /** Shapes by tensor name (default: [length]). */
  shapes?: Record<string, number[]>;
  /** Fake-init distribution by tensor name (default: uniform ±1/√fan_in, fan_in = last dim). */
  inits?: Record<string, TensorFakeInit>;
  seed?: number;
  /** Round elements to float32 first, as the scan does (default true). */
  float32?: boolean;
}

function hashName(name: string): number {
  let h = 2166136261;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619);
  return h >>> 0;
}

export function gaussian(rng: Mulberry32Rng): number {
  const u = 1 - rng.next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.next());
}

export function defaultInit(shape: number[]): TensorFakeInit {
  const fanIn = shape.length >= 2 ? shape.slice(1).reduce((a, b) => a * b, 1) : shape[0];
  const bound = 1 / Math.sqrt(fanIn);
  return { scheme: `uniform(±${bound.toPrecision(4)})`, kind: 'uniform', a: -bound, b: bound };
}

/** The fake initialization of one tensor (a stand-in for the native Philox draw). */
export function fakeInitValues(init: TensorFakeInit, count: number, seed: number, name: string): Float64Array {
  const rng = createRng((seed * 7919) ^ hashName(name));
  return Float64Array.from({ length: count }, () => {
    if (init.kind === 'constant') return init.a;
    if (init.kind === 'uniform') return Math.fround(init.a + (init.b - init.a) * rng.next());
    return Math.fround(init.a + init.b * gaussian(rng));
  });
}

export function buildScan(models: SynthModel[], opts: BuildOptions = {}): ScanResult {
  const seed = opts.seed ?? 0;
  const round = opts.float32 === false ? (x: number) => x : Math.fround;
  const names: string[] = [];
  for (const m of models) for (const name of Object.keys(m.tensors)) if (!names.includes(name)) names.push(name);
  const tensors: ScanTensor[] = names.map((name) => {
    const members = models.map((m, i) => (m.tensors[name] ? i : -1)).filter((i) => i >= 0);
    const data = members.map((i) => Float64Array.from(models[i].tensors[name] as ArrayLike<number>, round));
    const count = data[0].length;
    for (const d of data) if (d.length !== count) throw new Error(`tensor ${name}: models disagree on its size`);
    const shape = opts.shapes?.[name] ?? [count];
    const fakeInit = opts.inits?.[name] ?? defaultInit(shape);
    const r = fakeInitValues(fakeInit, count, seed, name);
    const moment = (f: (x: number, i: number) => number) => data.map((d) => d.reduce((s, x, i) => s + f(x, i), 0));
    return {
      name,
      shape,
      models: members,
      dtypes: members.map(() => 'F32'),
      count,
      fakeInit,
      sum: moment((x) => x),
      sumSq: moment((x) => x * x),
      sumCube: moment((x) => x * x * x),
      sumQuad: moment((x) => x * x * x * x),
      fakeInitSq: moment((x, i) => (x - r[i]) ** 2),
      gram: data.map((a) => data.map((b) => a.reduce((s, x, i) => s + x * b[i], 0))),
    };
  });
  return {
    format: 'neural-phylogeny/scan',
    version: 1,
    models: models.map((m) => {
      const params = Object.values(m.tensors).reduce((s, t) => s + t.length, 0);
      return { id: m.id, path: `/synthetic/${m.id}.safetensors`, params, bytes: 4 * params };
    }),
    seed,
    fakeInit: 'synthetic',
    tensors,
    skipped: [],
    run: { backend: 'cpu', device: 'synthetic', isa: 'none', threads: 1, seconds: 0, bytes: 0 },
  };
}

export interface ZooSpec {
  families: number;
  /** Generations below each root (1: a parent and its children). */
  depth: number;
  /** Children per model, or one count per generation. */
  branching: number | number[];
  /** Tensor shapes (default: a small MLP). */
  shapes?: Record<string, number[]>;
  seed?: number;
  /** The fake-init seed shared with buildScan. */
  scanSeed?: number;
  /** Root training drift per element, in units of the init bound. */
  trainScale?: number;
  /** First-generation fine-tune perturbation per element, in units of the init bound. */
  fineTuneScale?: number;
  /** Each later generation's perturbation is this times the previous one. */
  decay?: number;
  /**
   * Flip each perturbation (per tensor) so that the chosen score cannot fall from parent to
   * child: 'fake-init' makes (θ_parent − r)·Δ ≥ 0 and 'norm' makes θ_parent·Δ ≥ 0, so every
   * tensor's term grows by at least ‖Δ‖². 'none' leaves the perturbation as drawn.
   */
  monotone?: 'fake-init' | 'norm' | 'none';
  /**
   * Correlation between the perturbations of siblings (same parent): each child's perturbation
   * mixes a direction common to its parent's children (weight √ρ) with its own (√(1−ρ)), as
   * fine-tunes of one model share part of their drift. Default 0.
   */
  siblingCorrelation?: number;
  /** Each perturbation's scale is multiplied by spread^u, u uniform in [−1, 1], as fine-tunes at
   * different learning rates move different distances. Default 1 (no spread). */
  scaleSpread?: number;
  /** Each fine-tune starts from (1 − shrink)·parent, as weight decay pulls every weight
   * towards zero while it trains, so it keeps only part of what its parent learnt. Default 0. */
  shrink?: number;
}

export interface Zoo {
  models: SynthModel[];
  lineage: Lineage;
  shapes: Record<string, number[]>;
  scan: ScanResult;
}

export const MLP_SHAPES: Record<string, number[]> = {
  'fc1.weight': [32, 48],
  'fc1.bias': [32],
  'fc2.weight': [16, 32],
  'fc2.bias': [16],
};

export function simulateZoo(spec: ZooSpec): Zoo {
  const shapes = spec.shapes ?? MLP_SHAPES;
  const scanSeed = spec.scanSeed ?? 0;
  const rng = createRng(spec.seed ?? 1);
  const trainScale = spec.trainScale ?? 0.5;
  const fineTune = spec.fineTuneScale ?? 0.2;
  const decay = spec.decay ?? 0.7;
  const monotone = spec.monotone ?? 'fake-init';
  const rho = spec.siblingCorrelation ?? 0;
  const spread = spec.scaleSpread ?? 1;
  const keep = 1 - (spec.shrink ?? 0);
  // A second stream for the optional draws keeps the main stream (and older zoos) unchanged.
  const extra = createRng(((spec.seed ?? 1) * 7919 + 17) >>> 0);
  const names = Object.keys(shapes);
  const bounds = Object.fromEntries(names.map((n) => [n, defaultInit(shapes[n]).b]));
  const fake = Object.fromEntries(
    names.map((n) => [n, fakeInitValues(defaultInit(shapes[n]), shapes[n].reduce((a, b) => a * b, 1), scanSeed, n)]),
  );
  const models: SynthModel[] = [];
  const lineage: Lineage = { edges: [], families: [] };
  const branchingAt = (g: number) => (Array.isArray(spec.branching) ? spec.branching[g] ?? 0 : spec.branching);

  const perturb = (parent: Record<string, Float64Array>, scale: number, common: Record<string, Float64Array> | null): Record<string, Float64Array> => {
    const out: Record<string, Float64Array> = {};
    const s = spread === 1 ? scale : scale * spread ** (2 * extra.next() - 1);
    for (const n of names) {
      const p = parent[n];
      const own = Float64Array.from(p, () => gaussian(rng));
      const c = common?.[n];
      const e = Float64Array.from(own, (g, i) => s * bounds[n] * (c ? Math.sqrt(1 - rho) * g + Math.sqrt(rho) * c[i] : g));
      const ref = monotone === 'fake-init' ? fake[n] : null;
      let dot = 0;
      for (let i = 0; i < p.length; i++) dot += (ref ? p[i] - ref[i] : p[i]) * e[i];
      const flip = monotone !== 'none' && dot < 0 ? -1 : 1;
      // Stored rounded to float32 so that the scan's rounding cannot undo the guarantee.
      out[n] = Float64Array.from(p, (x, i) => Math.fround(keep * x + flip * e[i]));
    }
    return out;
  };

  for (let f = 0; f < spec.families; f++) {
    const rootId = `f${f}`;
    const root: Record<string, Float64Array> = {};
    for (const n of names) {
      const b = bounds[n];
      root[n] = Float64Array.from({ length: shapes[n].reduce((a, c) => a * c, 1) }, () => Math.fround(-b + 2 * b * rng.next() + trainScale * b * gaussian(rng)));
    }
    const family = [rootId];
    models.push({ id: rootId, tensors: root });
    let level: { id: string; w: Record<string, Float64Array> }[] = [{ id: rootId, w: root }];
    for (let g = 0; g < spec.depth; g++) {
      const next: typeof level = [];
      for (const node of level) {
        const common = rho > 0 ? Object.fromEntries(names.map((n) => [n, Float64Array.from(node.w[n], () => gaussian(extra))])) : null;
        for (let c = 0; c < branchingAt(g); c++) {
          const id = `${node.id}.${c}`;
          const w = perturb(node.w, fineTune * decay ** g, common);
          models.push({ id, tensors: w });
          lineage.edges.push({ parent: node.id, child: id });
          family.push(id);
          next.push({ id, w });
        }
      }
      level = next;
    }
    lineage.families.push(family);
  }
  return { models, lineage, shapes, scan: buildScan(models, { shapes, seed: scanSeed }) };
}
