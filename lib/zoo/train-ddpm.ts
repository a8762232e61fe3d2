/**
 * DDPM training of a UNet (lib/zoo/unet.ts) as diffusers' train scripts do it: a linear β
 * schedule, a uniformly drawn timestep per sample, noise ε ~ N(0, 1), the noisy sample
 * x_t = √ᾱ_t·x_0 + √(1−ᾱ_t)·ε, and the mean squared error between the predicted and the true ε.
 * Images enter scaled to [−1, 1] (the DDPM convention). Timesteps and noise come from the
 * zoo's seeded RNG, so a model is a pure function of its seeds; tfjs tensors never outlive a call.
 */
import * as tf from '@tensorflow/tfjs';
import { ManualOptimizer, OptimizerSpec } from './optim';
import { Rng } from './rng';
import { toVariables, yieldToEventLoop } from './train-classifier';
import { timestepEmbedding, UNet } from './unet';
import { Weights } from './vision-net';
import { PhylogenyError } from '../errors';

/** ᾱ_t for a linear β schedule from `betaStart` to `betaEnd` over `steps` timesteps. */
export function linearAlphasCumprod(steps: number, betaStart = 1e-4, betaEnd = 0.02): Float64Array {
  const out = new Float64Array(steps);
  let prod = 1;
  for (let t = 0; t < steps; t++) {
    const beta = steps === 1 ? betaStart : betaStart + ((betaEnd - betaStart) * t) / (steps - 1);
    prod *= 1 - beta;
    out[t] = prod;
  }
  return out;
}

/** Square greyscale images, row-major, values in [−1, 1]. */
export interface SampleSet {
  side: number;
  count: number;
  pixels: Float32Array;
}

/** A noised batch: network inputs and the noise to predict. */
interface NoisyBatch {
  x: Float32Array;
  tEmb: Float32Array;
  eps: Float32Array;
}

function noiseBatch(set: SampleSet, indices: ArrayLike<number>, alphas: Float64Array, timeDim: number, rng: Rng): NoisyBatch {
  const P = set.side * set.side;
  const n = indices.length;
  const x = new Float32Array(n * P);
  const eps = rng.fillNormal(new Float32Array(n * P), 1);
  const t = new Int32Array(n);
  for (let b = 0; b < n; b++) {
    t[b] = rng.int(alphas.length);
    const a = Math.sqrt(alphas[t[b]]);
    const s = Math.sqrt(1 - alphas[t[b]]);
    const src = indices[b] * P;
    for (let p = 0; p < P; p++) x[b * P + p] = a * set.pixels[src + p] + s * eps[b * P + p];
  }
  return { x, tEmb: timestepEmbedding(t, timeDim), eps };
}

/** The batch as tensors; the caller disposes them after the backward pass (conv_in's filter
 * gradient reads the input it captured). */
function batchTensors(batch: NoisyBatch, n: number, side: number): [tf.Tensor4D, tf.Tensor2D, tf.Tensor4D] {
  return [tf.tensor4d(batch.x, [n, side, side, 1]), tf.tensor2d(batch.tEmb, [n, batch.tEmb.length / n]), tf.tensor4d(batch.eps, [n, side, side, 1])];
}

function mse(net: UNet, vars: Map<string, tf.Tensor>, [x, tEmb, eps]: [tf.Tensor4D, tf.Tensor2D, tf.Tensor4D]): tf.Scalar {
  return tf.mean(tf.squaredDifference(net.forward(vars, x, tEmb), eps)) as tf.Scalar;
}

export interface DdpmTrainSettings {
  optimizer: OptimizerSpec;
  batchSize: number;
  steps: number;
  /** Seeds the shuffles, timesteps and noise. */
  seed: number;
  alphasCumprod: Float64Array;
  /** Steps per entry of lossHistory (the DDPM loss is noisy step to step). */
  logEvery?: number;
}

export interface DdpmOutcome {
  weights: Weights;
  /** Mean training loss over each `logEvery` steps. */
  lossHistory: number[];
  steps: number;
  seconds: number;
}

export async function trainDdpm(net: UNet, start: Weights, data: SampleSet, s: DdpmTrainSettings): Promise<DdpmOutcome> {
  const t0 = Date.now();
  const rng = new Rng(s.seed);
  const logEvery = s.logEvery ?? 50;
  const vars = toVariables(net, start);
  const trainable = [...vars.values()];
  const opt = new ManualOptimizer(s.optimizer, trainable, s.steps);
  const lossHistory: number[] = [];
  const timeDim = net.layout.timeDim;
  try {
    let order = rng.permutation(data.count);
    let pos = 0;
    let sum = 0;
    let seen = 0;
    for (let step = 0; step < s.steps; step++) {
      // Sets smaller than a batch (the DreamBooth children's five images) go whole each step.
      if (pos + Math.min(s.batchSize, data.count) > data.count) {
        order = rng.permutation(data.count);
        pos = 0;
      }
      const n = Math.min(s.batchSize, data.count);
      const batch = noiseBatch(data, order.slice(pos, pos + n), s.alphasCumprod, timeDim, rng);
      pos += n;
      const inputs = batchTensors(batch, n, data.side);
      const { value, grads } = tf.variableGrads(() => mse(net, vars, inputs), trainable);
      opt.step(trainable.map((v) => grads[v.name]));
      const loss = value.dataSync()[0];
      tf.dispose([value, ...Object.values(grads), ...inputs]);
      if (!Number.isFinite(loss)) throw new PhylogenyError('E_TRAIN', `DDPM training diverged (loss ${loss}) at step ${step + 1}`);
      sum += loss;
      seen++;
      if (seen === logEvery || step === s.steps - 1) {
        lossHistory.push(sum / seen);
        sum = 0;
        seen = 0;
        await yieldToEventLoop();
      }
    }
    const weights: Weights = new Map();
    for (const [name, v] of vars) weights.set(name, v.dataSync().slice() as Float32Array);
    return { weights, lossHistory, steps: s.steps, seconds: (Date.now() - t0) / 1000 };
  } finally {
    opt.dispose();
    tf.dispose([...vars.values()]);
  }
}

/**
 * Held-out denoising loss: the ε-prediction MSE over `draws` (timestep, noise) pairs per image,
 * drawn from `seed`. The same seed and set give the same pairs, so two models (a child and its
 * parent) are compared on identical noisy inputs.
 */
export function denoisingLoss(net: UNet, weights: Weights, data: SampleSet, alphas: Float64Array, seed: number, draws = 4, batchSize = 64): number {
  const rng = new Rng(seed);
  const indices: number[] = [];
  for (let d = 0; d < draws; d++) for (let i = 0; i < data.count; i++) indices.push(i);
  return tf.tidy(() => {
    const vars = new Map(net.params.map((p) => [p.name, tf.tensor(weights.get(p.name)!, p.tfShape)] as [string, tf.Tensor]));
    let total = 0;
    for (let i = 0; i < indices.length; i += batchSize) {
      const idx = indices.slice(i, i + batchSize);
      const batch = noiseBatch(data, idx, alphas, net.layout.timeDim, rng);
      const loss = tf.tidy(() => mse(net, vars, batchTensors(batch, idx.length, data.side)));
      total += loss.dataSync()[0] * idx.length;
      loss.dispose();
    }
    return total / indices.length;
  });
}
