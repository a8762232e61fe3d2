/**
 * Training under an explicit regime (lib/zoo/optim.ts): a fixed number of optimizer steps
 * over seeded shuffles (a fresh one each pass over the data, the last partial batch kept),
 * softmax cross-entropy, and only the named tensors trainable — the rest are never handed to
 * the optimizer, so they come back bit-identical. Returns new weights; tfjs tensors never
 * outlive a call.
 */
import * as tf from '@tensorflow/tfjs';
import { ImageSet } from './data';
import { ManualOptimizer, OptimizerSpec } from './optim';
import { crossEntropy } from './ops';
import { Rng } from './rng';
import { gatherBatch, toVariables, TrainOutcome, yieldToEventLoop } from './train-classifier';
import { VisionNet, Weights } from './vision-net';
import { PhylogenyError } from '../errors';

export interface RegimeTrainSettings {
  optimizer: OptimizerSpec;
  batchSize: number;
  steps: number;
  seed: number;
  /** Tensors the optimizer updates (default: all). */
  trainable?: ReadonlySet<string>;
}

export async function trainRegime(net: VisionNet, start: Weights, data: ImageSet, s: RegimeTrainSettings): Promise<TrainOutcome> {
  const t0 = Date.now();
  const rng = new Rng(s.seed);
  const vars = toVariables(net, start, s.trainable);
  const trainable = [...vars].filter(([name]) => !s.trainable || s.trainable.has(name)).map(([, v]) => v);
  const opt = new ManualOptimizer(s.optimizer, trainable, s.steps);
  const lossHistory: number[] = [];
  let steps = 0;
  try {
    let order = rng.permutation(data.count);
    let pos = 0;
    let sum = 0;
    let seen = 0;
    while (steps < s.steps) {
      if (pos >= data.count) {
        lossHistory.push(sum / seen);
        sum = 0;
        seen = 0;
        order = rng.permutation(data.count);
        pos = 0;
        await yieldToEventLoop();
      }
      const end = Math.min(data.count, pos + s.batchSize);
      const batch = gatherBatch(data, order, pos, end);
      const input = net.makeInput(batch.images, end - pos);
      const labels = tf.tensor1d(batch.labels, 'int32');
      const { value, grads } = tf.variableGrads(() => crossEntropy(net.forward(vars, input), labels), trainable);
      opt.step(trainable.map((v) => grads[v.name]));
      const loss = value.dataSync()[0];
      if (!Number.isFinite(loss)) throw new PhylogenyError('E_TRAIN', `training diverged (loss ${loss}) at step ${steps + 1}`);
      sum += loss * (end - pos);
      seen += end - pos;
      tf.dispose([value, labels, ...Object.values(grads), ...input.tensors]);
      pos = end;
      steps++;
    }
    if (seen > 0) lossHistory.push(sum / seen);
    const weights: Weights = new Map();
    for (const [name, v] of vars) weights.set(name, v.dataSync().slice() as Float32Array);
    return { weights, lossHistory, steps, seconds: (Date.now() - t0) / 1000 };
  } finally {
    opt.dispose();
    tf.dispose([...vars.values()]);
  }
}
