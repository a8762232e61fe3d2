/**
 * synthetic-large: SYNTHETIC models for scale and speed tests only — no training. LLaMA-shaped
 * HF checkpoints (up to 7B, sharded BF16) whose lineage is made by structured perturbation:
 *   parent      = seeded init-like draw (N(0, 0.02²) matrices, norms 1 + N(0, 0.02²));
 *   child       = parent + low-rank drift (U·Vᵀ, rank r) + small uniform noise;
 *   grandchild  = child + its own drift and noise.
 * Values are regenerated row block by row block from seeds (parent and every ancestor's drift),
 * so memory stays at a few blocks (tens of MB) whatever the model size; a 7B child is written
 * without its parent ever being in memory. Marked synthetic in models.json, in every shard's
 * metadata and in config.json.
 */
import * as path from 'path';
import { writeHfCheckpoint } from '../hf-writer';
import { modelId } from '../ids';
import { deriveSeed, Rng } from '../rng';
import { SyntheticSize, ZooModelRecord, ZooOptions } from '../types';
import { hfConfigJson, LlamaConfig, llamaParamCount, llamaTensorSpecs } from '../llama/config';
import { PresetBuilder, PresetContext, PresetResult } from './context';
import { InvalidArgumentError } from '../../errors';

const base = { maxPositions: 4096, rmsNormEps: 1e-5, ropeTheta: 10000, initializerRange: 0.02 };
export const SYNTHETIC_SIZES: Record<SyntheticSize, LlamaConfig> = {
  tiny: { ...base, vocabSize: 512, hiddenSize: 64, intermediateSize: 176, numLayers: 2, numHeads: 4, numKvHeads: 4, maxPositions: 128 },
  // TinyLlama-1.1B shapes (grouped-query attention, 4 KV heads).
  '1b': { ...base, vocabSize: 32000, hiddenSize: 2048, intermediateSize: 5632, numLayers: 22, numHeads: 32, numKvHeads: 4, maxPositions: 2048 },
  // OpenLLaMA-3B shapes.
  '3b': { ...base, vocabSize: 32000, hiddenSize: 3200, intermediateSize: 8640, numLayers: 26, numHeads: 32, numKvHeads: 32, maxPositions: 2048 },
  // LLaMA(-2)-7B shapes.
  '7b': { ...base, vocabSize: 32000, hiddenSize: 4096, intermediateSize: 11008, numLayers: 32, numHeads: 32, numKvHeads: 32 },
};

/** Perturbation of one fine-tuning edge. */
interface Drift {
  seed: number;
  rank: number;
  /** Element-wise standard deviation of the low-rank term on matrices. */
  driftStd: number;
  /** Standard deviation of the uniform noise. */
  noiseStd: number;
}

interface SynthNode {
  key: string;
  id: string;
  generation: number;
  parentKey: string | null;
  parentSeed: number;
  /** Drifts from the root to this node, in order. */
  drifts: Drift[];
}

const CHILD_DRIFTS: { rank: number; driftStd: number; noiseStd: number }[] = [
  { rank: 8, driftStd: 0.004, noiseStd: 0.001 },
  { rank: 4, driftStd: 0.002, noiseStd: 0.0005 },
  { rank: 16, driftStd: 0.006, noiseStd: 0.002 },
];

const ROW_BLOCK_ELEMENTS = 1 << 21; // 2M values (8 MB) per block

function normalize(o: ZooOptions): Record<string, unknown> {
  return {
    preset: 'synthetic-large',
    seed: o.seed ?? 0,
    size: o.size ?? 'tiny',
    families: o.families ?? 2,
    childrenPerFamily: o.childrenPerFamily ?? 2,
    grandchildrenPerFamily: o.grandchildrenPerFamily ?? 1,
    numLayers: o.numLayers ?? null,
    maxShardBytes: o.maxShardBytes ?? 2 ** 31,
  };
}

function plan(seed: number, families: number, children: number, grandchildren: number): SynthNode[] {
  const nodes: SynthNode[] = [];
  for (let f = 0; f < families; f++) {
    const parentSeed = deriveSeed(seed, 'synthetic-parent', f);
    const root: SynthNode = { key: `f${f}`, id: modelId('synthetic-large', seed, `f${f}`), generation: 0, parentKey: null, parentSeed, drifts: [] };
    nodes.push(root);
    const kids: SynthNode[] = [];
    for (let c = 0; c < children; c++) {
      const key = `f${f}/c${c}`;
      const d = CHILD_DRIFTS[c % CHILD_DRIFTS.length];
      const kid: SynthNode = { key, id: modelId('synthetic-large', seed, key), generation: 1, parentKey: root.key, parentSeed, drifts: [{ seed: deriveSeed(seed, 'drift', key), ...d }] };
      kids.push(kid);
      nodes.push(kid);
    }
    if (kids.length) {
      for (let g = 0; g < grandchildren; g++) {
        const key = `${kids[0].key}/g${g}`;
        const d = CHILD_DRIFTS[(g + 1) % CHILD_DRIFTS.length];
        nodes.push({ key, id: modelId('synthetic-large', seed, key), generation: 2, parentKey: kids[0].key, parentSeed, drifts: [...kids[0].drifts, { seed: deriveSeed(seed, 'drift', key), ...d }] });
      }
    }
  }
  return nodes;
}

/**
 * Streams one tensor of a node: rows in blocks, each row's parent values and per-drift noise
 * drawn from their own (seed, tensor, row) stream, low-rank terms from per-drift factors.
 */
function produceTensor(node: SynthNode, name: string, shape: number[], isNorm: boolean, write: (v: Float32Array) => void): void {
  const rows = shape.length === 1 ? 1 : shape[0];
  const cols = shape.length === 1 ? shape[0] : shape[1];
  // Column factors V [cols, rank] per drift (the only per-tensor state), scaled so that
  // (U·Vᵀ)[i, j] has standard deviation driftStd.
  const factors = node.drifts.map((d) => {
    const rng = new Rng(deriveSeed(d.seed, name, 'V'));
    const v = rng.fillNormal(new Float32Array(cols * d.rank), d.driftStd / Math.sqrt(d.rank));
    return { d, v };
  });
  const blockRows = Math.max(1, Math.floor(ROW_BLOCK_ELEMENTS / cols));
  const block = new Float32Array(Math.min(rows, blockRows) * cols);
  for (let r0 = 0; r0 < rows; r0 += blockRows) {
    const r1 = Math.min(rows, r0 + blockRows);
    const out = block.subarray(0, (r1 - r0) * cols);
    for (let r = r0; r < r1; r++) {
      const row = out.subarray((r - r0) * cols, (r - r0 + 1) * cols);
      const prng = new Rng(deriveSeed(node.parentSeed, name, r));
      if (isNorm) for (let j = 0; j < cols; j++) row[j] = 1 + 0.02 * prng.normal();
      else prng.fillNormal(row, 0.02);
      for (const { d, v } of factors) {
        const rrng = new Rng(deriveSeed(d.seed, name, r));
        const u = new Float32Array(d.rank);
        for (let k = 0; k < d.rank; k++) u[k] = rrng.normal();
        const a = d.noiseStd * Math.sqrt(3); // uniform(±a) has std noiseStd
        if (isNorm) {
          // Norm weights drift element-wise (fine-tuning moves them by ~0.01-0.03).
          for (let j = 0; j < cols; j++) row[j] += 5 * d.driftStd * rrng.normal() + a * (2 * rrng.next() - 1);
        } else {
          for (let j = 0; j < cols; j++) {
            let s = 0;
            const vj = j * d.rank;
            for (let k = 0; k < d.rank; k++) s += u[k] * v[vj + k];
            row[j] += s + a * (2 * rrng.next() - 1);
          }
        }
      }
    }
    write(out);
  }
}

async function build(ctx: PresetContext): Promise<PresetResult> {
  const o = normalize(ctx.options);
  const size = o.size as SyntheticSize;
  if (!SYNTHETIC_SIZES[size]) throw new InvalidArgumentError('E_INVALID_ARG', `unknown synthetic size '${size}' (known: ${Object.keys(SYNTHETIC_SIZES).join(', ')})`);
  const config: LlamaConfig = { ...SYNTHETIC_SIZES[size], ...(o.numLayers ? { numLayers: o.numLayers as number } : {}) };
  const specs = llamaTensorSpecs(config);
  const nodes = plan(ctx.seed, o.families as number, o.childrenPerFamily as number, o.grandchildrenPerFamily as number);
  const idOf = new Map(nodes.map((n) => [n.key, n.id]));
  const params = llamaParamCount(config);
  ctx.log(`synthetic-large: ${nodes.length} models of ${params.toLocaleString('en-US')} parameters (${size} shapes, ${config.numLayers} layers), ${((params * 2) / 2 ** 30).toFixed(3)} GiB each in BF16`);
  const models: ZooModelRecord[] = [];
  for (let i = 0; i < nodes.length; i++) {
    const n = nodes[i];
    const t0 = Date.now();
    const progress = { model: i + 1, models: nodes.length, modelId: n.id, generation: n.generation };
    ctx.progress({ ...progress, phase: 'write', bytes: 0, totalBytes: params * 2 });
    let lastReport = 0;
    writeHfCheckpoint(
      {
        dir: path.join(ctx.outDir, n.id),
        config: hfConfigJson(config, { neural_phylogeny_synthetic: true }),
        tensors: specs.map((s) => ({ name: s.name, shape: s.shape })),
        dtype: 'BF16',
        maxShardBytes: o.maxShardBytes as number,
        minShards: 2,
        metadata: { synthetic: 'true', generator: 'neural-phylogeny zoo synthetic-large: structured perturbation, no training' },
      },
      (name, shape, write) => produceTensor(n, name, shape, specs.find((s) => s.name === name)?.kind === 'norm', write),
      (bytes, totalBytes) => {
        const now = Date.now();
        if (now - lastReport > 200 || bytes === totalBytes) {
          lastReport = now;
          ctx.progress({ ...progress, phase: 'write', bytes, totalBytes });
        }
      },
    );
    const seconds = (Date.now() - t0) / 1000;
    ctx.log(`${n.id} gen ${n.generation}: written in ${seconds.toFixed(1)} s`);
    const last = n.drifts[n.drifts.length - 1];
    models.push({
      id: n.id,
      path: n.id,
      format: 'hf-dir',
      dtype: 'BF16',
      architecture: { name: 'llama', size, ...hfConfigJson(config), params },
      task: { name: 'synthetic', description: 'no task: SYNTHETIC weights made by structured perturbation, for scale and speed tests only' },
      hyperparameters: last
        ? { perturbation: 'parent + low-rank drift U·Vᵀ + uniform noise', rank: last.rank, driftStd: last.driftStd, noiseStd: last.noiseStd, driftSeed: last.seed, normDrift: 'N(0, (5·driftStd)²) + the same noise' }
        : { perturbation: 'none (root)' },
      initialization: last
        ? { perturbedFrom: idOf.get(n.parentKey as string) }
        : { scheme: 'init-like draw', weights: 'N(0, 0.02²) for embeddings and linears; 1 + N(0, 0.02²) for RMSNorm weights', rngSeed: n.parentSeed },
      epochs: null,
      steps: null,
      finalLoss: null,
      lossHistory: [],
      accuracy: null,
      heldOutLoss: null,
      parent: n.parentKey ? (idOf.get(n.parentKey) as string) : null,
      generation: n.generation,
      parentAccuracyOnTask: null,
      parentHeldOutLossOnTask: null,
      backend: 'none',
      trainSeconds: seconds,
      synthetic: true,
    });
    await new Promise((r) => setImmediate(r));
  }
  return {
    models,
    backend: null,
    datasets: {},
    notes: [
      'SYNTHETIC: these models were not trained. Parents are seeded init-like draws; children add low-rank drift and noise. Use for scale and speed tests only, never for accuracy claims.',
      `Shapes: ${size} (${config.numLayers} layers, hidden ${config.hiddenSize}, intermediate ${config.intermediateSize}, vocab ${config.vocabSize}, ${config.numKvHeads} KV heads), ${params} parameters.`,
    ],
    synthetic: true,
  };
}

export const syntheticLargePreset: PresetBuilder = { normalize, build };
