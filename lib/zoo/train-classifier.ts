/**
 * Training and evaluation of the vision classifiers: Adam (PyTorch's defaults: β = (0.9, 0.999),
 * ε = 1e-8, no weight decay), softmax cross-entropy, a fresh seeded shuffle every epoch and a
 * final partial batch kept (DataLoader with drop_last=False). Returns new weights; tfjs tensors
 * never outlive a call.
 */
import * as tf from '@tensorflow/tfjs';
import { IMAGE_PIXELS, ImageSet } from './data';
import { crossEntropy } from './ops';
import { Rng } from './rng';
import { VisionNet, Weights } from './vision-net';
import { PhylogenyError } from '../errors';
import type { ZooModelRecord } from './types';

export const ADAM = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0 } as const;

export interface TrainSettings {
  learningRate: number;
  batchSize: number;
  epochs: number;
  /** Seeds the per-epoch shuffles. */
  seed: number;
  /** Called after each epoch with its mean training loss. */
  onEpoch?: (epoch: number, loss: number) => void;
}

export interface TrainOutcome {
  weights: Weights;
  /** Mean training loss of each epoch. */
  lossHistory: number[];
  steps: number;
  seconds: number;
}

export function gatherBatch(set: ImageSet, order: number[], start: number, end: number): { images: Float32Array; labels: Int32Array } {
  const n = end - start;
  const images = new Float32Array(n * IMAGE_PIXELS);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const j = order[start + i];
    images.set(set.images.subarray(j * IMAGE_PIXELS, (j + 1) * IMAGE_PIXELS), i * IMAGE_PIXELS);
    labels[i] = set.labels[j];
  }
  return { images, labels };
}

/** The weights as tfjs variables, by name; only those in `trainable` (default: all) train. */
export function toVariables(net: Pick<VisionNet, 'params'>, weights: Weights, trainable?: ReadonlySet<string>): Map<string, tf.Variable> {
  const vars = new Map<string, tf.Variable>();
  for (const p of net.params) {
    const data = weights.get(p.name);
    if (!data) throw new PhylogenyError('E_INTERNAL', `missing weight ${p.name}`);
    // tf.variable keeps its initial tensor alive as a separate tensor: dispose it.
    const init = tf.tensor(data, p.tfShape);
    vars.set(p.name, tf.variable(init, !trainable || trainable.has(p.name)));
    init.dispose();
  }
  return vars;
}

/** Lets progress bars and timers run between epochs: training itself is synchronous. */
export const yieldToEventLoop = (): Promise<void> => new Promise((r) => setImmediate(r));

export async function trainClassifier(net: VisionNet, start: Weights, data: ImageSet, s: TrainSettings): Promise<TrainOutcome> {
  const t0 = Date.now();
  const rng = new Rng(s.seed);
  const vars = toVariables(net, start);
  const varList = [...vars.values()];
  const optimizer = tf.train.adam(s.learningRate, ADAM.beta1, ADAM.beta2, ADAM.epsilon);
  const lossHistory: number[] = [];
  let steps = 0;
  try {
    for (let epoch = 0; epoch < s.epochs; epoch++) {
      const order = rng.permutation(data.count);
      let sum = 0;
      for (let b = 0; b < data.count; b += s.batchSize) {
        const e = Math.min(data.count, b + s.batchSize);
        const batch = gatherBatch(data, order, b, e);
        const input = net.makeInput(batch.images, e - b);
        const labels = tf.tensor1d(batch.labels, 'int32');
        const loss = optimizer.minimize(() => crossEntropy(net.forward(vars, input), labels), true, varList);
        sum += (loss as tf.Scalar).dataSync()[0] * (e - b);
        tf.dispose([loss as tf.Scalar, labels, ...input.tensors]);
        steps++;
      }
      const mean = sum / data.count;
      if (!Number.isFinite(mean)) throw new PhylogenyError('E_TRAIN', `training diverged (loss ${mean}) at epoch ${epoch + 1}`);
      lossHistory.push(mean);
      s.onEpoch?.(epoch + 1, mean);
      await yieldToEventLoop();
    }
    const weights: Weights = new Map();
    for (const [name, v] of vars) weights.set(name, v.dataSync().slice() as Float32Array);
    return { weights, lossHistory, steps, seconds: (Date.now() - t0) / 1000 };
  } finally {
    optimizer.dispose();
    tf.dispose(varList);
  }
}

/** Fraction of `data` classified correctly, and the mean cross-entropy. */
export function evaluateClassifier(net: VisionNet, weights: Weights, data: ImageSet, batchSize = 1000): { accuracy: number; loss: number } {
  const vars = new Map<string, tf.Tensor>();
  for (const p of net.params) vars.set(p.name, tf.tensor(weights.get(p.name) as Float32Array, p.tfShape));
  let correct = 0;
  let lossSum = 0;
  const order = Array.from({ length: data.count }, (_, i) => i);
  try {
    for (let b = 0; b < data.count; b += batchSize) {
      const e = Math.min(data.count, b + batchSize);
      const batch = gatherBatch(data, order, b, e);
      const input = net.makeInput(batch.images, e - b);
      const [c, l] = tf.tidy(() => {
        const labels = tf.tensor1d(batch.labels, 'int32');
        const logits = net.forward(vars, input);
        const hits = tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), labels), 'float32'));
        return [hits.dataSync()[0], crossEntropy(logits, labels).dataSync()[0]];
      });
      tf.dispose(input.tensors);
      correct += c;
      lossSum += l * (e - b);
    }
  } finally {
    tf.dispose([...vars.values()]);
  }
  return { accuracy: correct / data.count, loss: lossSum / data.count };
}

/** What a trained classifier's manifest record says of its training, shared by the presets that
 * train classifiers (the vision zoos and the regimes zoo). */
export function classifierOutcome(
  out: { lossHistory: number[]; seconds: number },
  ev: { accuracy: number; loss: number },
  parentEval: { accuracy: number; loss: number } | null,
  backend: string,
): Pick<ZooModelRecord, 'finalLoss' | 'lossHistory' | 'accuracy' | 'heldOutLoss' | 'parentAccuracyOnTask' | 'parentHeldOutLossOnTask' | 'backend' | 'trainSeconds' | 'synthetic'> {
  return {
    finalLoss: out.lossHistory[out.lossHistory.length - 1] ?? null,
    lossHistory: out.lossHistory,
    accuracy: ev.accuracy,
    heldOutLoss: ev.loss,
    parentAccuracyOnTask: parentEval ? parentEval.accuracy : null,
    parentHeldOutLossOnTask: parentEval ? parentEval.loss : null,
    backend,
    trainSeconds: out.seconds,
    synthetic: false,
  };
}
