/**
 * The edge encoder in tfjs: [W_a, W_b] / scale → 1×1 conv 2→c → ReLU → 3×3 conv c→32 →
 * batch norm → ReLU → global average pool → 32 numbers.
 *
 * Padding convention (identical in native/core/edge_encoder_cpu.h): SAME, with zeros in the
 * 1×1 activations h outside the matrix (not zeros in W, since ReLU(b1) ≠ 0). It is computed
 * here as a VALID 3×3 conv over a window one larger on each side whose h is multiplied by a
 * mask that is 0 outside the matrix. So a training crop carries its real neighbours, and its
 * pooled output is an unbiased estimate of the whole matrix's mean over the same windows.
 */
import * as tf from '@tensorflow/tfjs';
import type { NativeEdgeWeights } from '../native';

export const LATENT = 32;
const BN_EPS = 1e-3;
const BN_MOMENTUM = 0.9;

export interface EncoderVars {
  channels: number;
  w1: tf.Variable<tf.Rank.R4>; // [1, 1, 2, c]
  b1: tf.Variable<tf.Rank.R1>;
  w2: tf.Variable<tf.Rank.R4>; // [3, 3, c, 32]
  b2: tf.Variable<tf.Rank.R1>;
  gamma: tf.Variable<tf.Rank.R1>;
  beta: tf.Variable<tf.Rank.R1>;
  /** Running batch-norm statistics (not trained; updated after each step). */
  movingMean: tf.Variable<tf.Rank.R1>;
  movingVar: tf.Variable<tf.Rank.R1>;
}

/** He-style initialization from a seeded uniform source. */
export function createEncoder(channels: number, rand: () => number, prefix = 'encoder'): EncoderVars {
  const uni = (n: number, bound: number) => Float32Array.from({ length: n }, () => (2 * rand() - 1) * bound);
  // Half of the 1×1 filters start as ± differences of the two inputs: the signal of a
  // fine-tune is in W_b − W_a, which is small next to W itself.
  const w1 = uni(2 * channels, Math.sqrt(6 / 2));
  for (let k = 0; k < channels; k += 2) {
    const g = 4 * (k % 4 === 0 ? 1 : -1);
    w1[0 * channels + k] = g; // tfjs [1,1,2,c]: index ch*c + k
    w1[1 * channels + k] = -g;
  }
  return {
    channels,
    w1: tf.variable(tf.tensor4d(w1, [1, 1, 2, channels]), true, `${prefix}/w1`),
    b1: tf.variable(tf.zeros([channels]), true, `${prefix}/b1`),
    w2: tf.variable(tf.tensor4d(uni(9 * channels * LATENT, Math.sqrt(6 / (9 * channels))), [3, 3, channels, LATENT]), true, `${prefix}/w2`),
    b2: tf.variable(tf.zeros([LATENT]), true, `${prefix}/b2`),
    gamma: tf.variable(tf.ones([LATENT]), true, `${prefix}/gamma`),
    beta: tf.variable(tf.zeros([LATENT]), true, `${prefix}/beta`),
    movingMean: tf.variable(tf.zeros([LATENT]), false, `${prefix}/moving_mean`),
    movingVar: tf.variable(tf.ones([LATENT]), false, `${prefix}/moving_var`),
  };
}

export function trainableEncoderVars(e: EncoderVars): tf.Variable[] {
  return [e.w1, e.b1, e.w2, e.b2, e.gamma, e.beta];
}

export interface EncodeResult {
  /** [N, 32] */
  out: tf.Tensor2D;
  /** Batch statistics when training (to update the moving averages after the step). */
  batchMean?: tf.Tensor1D;
  batchVar?: tf.Tensor1D;
}

/**
 * The convolutions as plain matrix products (im2col by nine slices): the wasm backend has no
 * conv2d filter-gradient kernel, and this is the same arithmetic on every backend.
 */
function conv1x1(x: tf.Tensor4D, w: tf.Tensor4D): tf.Tensor4D {
  const [n, H, W, cin] = x.shape;
  const cout = w.shape[3];
  return tf.reshape(tf.matMul(tf.reshape(x, [n * H * W, cin]), tf.reshape(w, [cin, cout])), [n, H, W, cout]);
}

function conv3x3Valid(h: tf.Tensor4D, w: tf.Tensor4D): tf.Tensor4D {
  const [n, H, W, c] = h.shape;
  const cout = w.shape[3];
  const taps: tf.Tensor4D[] = [];
  for (let di = 0; di < 3; di++) for (let dj = 0; dj < 3; dj++) taps.push(tf.slice(h, [0, di, dj, 0], [n, H - 2, W - 2, c]));
  // Column order (tap, channel) is the row order of the HWIO filter reshaped to [9c, cout].
  const cols = tf.reshape(tf.concat(taps, 3), [n * (H - 2) * (W - 2), 9 * c]);
  return tf.reshape(tf.matMul(cols, tf.reshape(w, [9 * c, cout])), [n, H - 2, W - 2, cout]);
}

/**
 * x: [N, H+2, W+2, 2], already divided by the pair's scale; mask: [N or 1, H+2, W+2, 1].
 * Training uses the batch's statistics (over every position of every window), inference the
 * running ones.
 */
export function encodeWindows(e: EncoderVars, x: tf.Tensor4D, mask: tf.Tensor4D, training: boolean): EncodeResult {
  const h = tf.mul(tf.relu(tf.add(conv1x1(x, e.w1), e.b1)), mask) as tf.Tensor4D;
  const z = tf.add(conv3x3Valid(h, e.w2), e.b2) as tf.Tensor4D;
  let mean: tf.Tensor1D;
  let variance: tf.Tensor1D;
  if (training) {
    const m = tf.moments(z, [0, 1, 2]);
    mean = m.mean as tf.Tensor1D;
    variance = m.variance as tf.Tensor1D;
  } else {
    mean = e.movingMean;
    variance = e.movingVar;
  }
  const norm = tf.add(tf.mul(tf.div(tf.sub(z, mean), tf.sqrt(tf.add(variance, BN_EPS))), e.gamma), e.beta);
  const out = tf.mean(tf.relu(norm), [1, 2]) as tf.Tensor2D;
  return training ? { out, batchMean: mean, batchVar: variance } : { out };
}

/** Moves the running statistics toward a step's batch statistics. */
export function updateMovingStats(e: EncoderVars, mean: tf.Tensor1D, variance: tf.Tensor1D): void {
  tf.tidy(() => {
    e.movingMean.assign(tf.add(tf.mul(e.movingMean, BN_MOMENTUM), tf.mul(mean, 1 - BN_MOMENTUM)));
    e.movingVar.assign(tf.add(tf.mul(e.movingVar, BN_MOMENTUM), tf.mul(variance, 1 - BN_MOMENTUM)));
  });
}

/** The inference weights with batch norm folded into the 3×3 conv (what the native forward runs). */
export function foldEncoder(e: EncoderVars): NativeEdgeWeights {
  return tf.tidy(() => {
    const s = tf.div(e.gamma, tf.sqrt(tf.add(e.movingVar, BN_EPS)));
    const w2 = tf.mul(e.w2, s);
    const b2 = tf.add(tf.mul(tf.sub(e.b2, e.movingMean), s), e.beta);
    return {
      channels: e.channels,
      w1: Float32Array.from(e.w1.dataSync()),
      b1: Float32Array.from(e.b1.dataSync()),
      w2: Float32Array.from(w2.dataSync()),
      b2: Float32Array.from(b2.dataSync()),
    };
  });
}

/** Window input: [W_a, W_b] / scale padded by one zero row and column on each side, with its mask. */
export function paddedPair(a: Float32Array, b: Float32Array, rows: number, cols: number, scale: number): { x: tf.Tensor4D; mask: tf.Tensor4D } {
  const H = rows + 2;
  const W = cols + 2;
  const x = new Float32Array(H * W * 2);
  const m = new Float32Array(H * W);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const p = (i + 1) * W + j + 1;
      x[2 * p] = a[i * cols + j] / scale;
      x[2 * p + 1] = b[i * cols + j] / scale;
      m[p] = 1;
    }
  }
  return { x: tf.tensor4d(x, [1, H, W, 2]), mask: tf.tensor4d(m, [1, H, W, 1]) };
}

/** The folded encoder over a whole matrix pair, in tfjs: the reference for the native forward. */
export function encodeMatrixTf(w: NativeEdgeWeights, a: Float32Array, b: Float32Array, rows: number, cols: number, scale: number): Float32Array {
  return tf.tidy(() => {
    const { x, mask } = paddedPair(a, b, rows, cols, scale);
    const w1 = tf.tensor4d(w.w1, [1, 1, 2, w.channels]);
    const w2 = tf.tensor4d(w.w2, [3, 3, w.channels, LATENT]);
    const h = tf.mul(tf.relu(tf.add(tf.conv2d(x, w1, 1, 'valid'), tf.tensor1d(w.b1))), mask) as tf.Tensor4D;
    const z = tf.add(tf.conv2d(h, w2, 1, 'valid'), tf.tensor1d(w.b2));
    return Float32Array.from(tf.mean(tf.relu(z), [0, 1, 2]).dataSync());
  });
}
