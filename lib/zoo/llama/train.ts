/**
 * Next-token training of the tiny LLaMA: Adam on random windows of a token stream (seeded),
 * for a fixed number of steps; held-out loss and next-token accuracy on consecutive windows of
 * a separate stream. With `optimizer` set, a regime's optimizer written out as PyTorch defines
 * it (lib/zoo/optim.ts) takes Adam's place and only the `trainable` tensors are handed to it,
 * so the rest come back bit-identical; without it the run is tfjs's Adam as the tiny-llama
 * preset has always trained (its cached zoos keep their weights).
 */
import * as tf from '@tensorflow/tfjs';
import { ADAM, yieldToEventLoop } from '../train-classifier';
import { ManualOptimizer, OptimizerSpec } from '../optim';
import { Rng } from '../rng';
import { LlamaConfig, llamaTensorSpecs } from './config';
import { llamaConstants, llamaForward, llamaLoss, LlamaWeights, tfShape } from './model';
import { InvalidArgumentError, PhylogenyError } from '../../errors';

export interface LmSettings {
  learningRate: number;
  steps: number;
  batchSize: number;
  seqLen: number;
  seed: number;
  /** Steps per loss-history entry. */
  logEvery: number;
  onLog?: (step: number, loss: number) => void;
  /** A regime's optimizer and schedule instead of tfjs Adam at `learningRate`. */
  optimizer?: OptimizerSpec;
  /** Tensors the optimizer updates (default: all); needs `optimizer`. */
  trainable?: ReadonlySet<string>;
}

export interface LmOutcome {
  weights: LlamaWeights;
  /** Mean training loss over each `logEvery` steps. */
  lossHistory: number[];
  seconds: number;
}

function variables(c: LlamaConfig, w: LlamaWeights): Map<string, tf.Variable> {
  const vars = new Map<string, tf.Variable>();
  for (const s of llamaTensorSpecs(c)) {
    const d = w.get(s.name);
    if (!d) throw new PhylogenyError('E_INTERNAL', `missing tensor ${s.name}`);
    const init = tf.tensor(d, tfShape(s)); // tf.variable would keep this alive: dispose it
    vars.set(s.name, tf.variable(init, true));
    init.dispose();
  }
  return vars;
}

/** `batch` windows of seqLen+1 tokens: inputs and next-token targets, each [batch·seqLen]. */
function windows(tokens: Int32Array, starts: number[], seqLen: number): { ids: Int32Array; targets: Int32Array } {
  const ids = new Int32Array(starts.length * seqLen);
  const targets = new Int32Array(starts.length * seqLen);
  starts.forEach((s, b) => {
    ids.set(tokens.subarray(s, s + seqLen), b * seqLen);
    targets.set(tokens.subarray(s + 1, s + seqLen + 1), b * seqLen);
  });
  return { ids, targets };
}

export async function trainLm(c: LlamaConfig, start: LlamaWeights, tokens: Int32Array, s: LmSettings): Promise<LmOutcome> {
  const t0 = Date.now();
  if (tokens.length < s.seqLen + 2) throw new InvalidArgumentError('E_INVALID_ARG', 'training text is shorter than one window');
  // Checked before any tensor exists, so a refusal leaks nothing.
  if (s.trainable && !s.optimizer) throw new InvalidArgumentError('E_INVALID_ARG', 'trainable tensors need an explicit optimizer');
  for (const name of s.trainable ?? []) if (!start.has(name)) throw new InvalidArgumentError('E_INVALID_ARG', `trainable tensor '${name}' is not in the model`);
  const rng = new Rng(s.seed);
  const vars = variables(c, start);
  const varList = [...vars.values()];
  const trainable = s.trainable ? [...vars].filter(([name]) => s.trainable!.has(name)).map(([, v]) => v) : varList;
  const k = llamaConstants(c, s.seqLen);
  const optimizer = s.optimizer ? null : tf.train.adam(s.learningRate, ADAM.beta1, ADAM.beta2, ADAM.epsilon);
  const manual = s.optimizer ? new ManualOptimizer(s.optimizer, trainable, s.steps) : null;
  const lossHistory: number[] = [];
  try {
    let sum = 0;
    let n = 0;
    for (let step = 1; step <= s.steps; step++) {
      const starts = Array.from({ length: s.batchSize }, () => rng.int(tokens.length - s.seqLen - 1));
      const w = windows(tokens, starts, s.seqLen);
      const ids = tf.tensor1d(w.ids, 'int32');
      const targets = tf.tensor1d(w.targets, 'int32');
      const f = () => llamaLoss(c, vars, ids, targets, s.batchSize, s.seqLen, k);
      let loss: tf.Scalar;
      if (manual) {
        const { value, grads } = tf.variableGrads(f, trainable);
        manual.step(trainable.map((v) => grads[v.name]));
        tf.dispose(Object.values(grads));
        loss = value;
      } else {
        loss = optimizer!.minimize(f, true, varList) as tf.Scalar;
      }
      const l = loss.dataSync()[0];
      tf.dispose([loss, ids, targets]);
      if (!Number.isFinite(l)) throw new PhylogenyError('E_TRAIN', `language-model training diverged at step ${step}`);
      sum += l;
      n++;
      if (step % s.logEvery === 0 || step === s.steps) {
        lossHistory.push(sum / n);
        s.onLog?.(step, sum / n);
        sum = 0;
        n = 0;
        await yieldToEventLoop();
      }
    }
    const weights: LlamaWeights = new Map();
    for (const [name, v] of vars) weights.set(name, v.dataSync().slice() as Float32Array);
    return { weights, lossHistory, seconds: (Date.now() - t0) / 1000 };
  } finally {
    optimizer?.dispose();
    manual?.dispose();
    tf.dispose([...varList, k.cos, k.sin, k.mask]);
  }
}

/** Held-out mean loss and next-token accuracy over up to `maxWindows` consecutive windows. */
export function evaluateLm(c: LlamaConfig, w: LlamaWeights, tokens: Int32Array, seqLen: number, maxWindows = 64): { loss: number; accuracy: number } {
  const starts: number[] = [];
  for (let s = 0; s + seqLen + 1 <= tokens.length && starts.length < maxWindows; s += seqLen) starts.push(s);
  if (!starts.length) throw new InvalidArgumentError('E_INVALID_ARG', 'held-out text is shorter than one window');
  const vars = new Map<string, tf.Tensor>();
  for (const s of llamaTensorSpecs(c)) vars.set(s.name, tf.tensor(w.get(s.name) as Float32Array, tfShape(s)));
  const k = llamaConstants(c, seqLen);
  let lossSum = 0;
  let hits = 0;
  let count = 0;
  try {
    for (let b = 0; b < starts.length; b += 16) {
      const chunk = starts.slice(b, b + 16);
      const win = windows(tokens, chunk, seqLen);
      const [l, h] = tf.tidy(() => {
        const ids = tf.tensor1d(win.ids, 'int32');
        const targets = tf.tensor1d(win.targets, 'int32');
        const logits = llamaForward(c, vars, ids, chunk.length, seqLen, k);
        const ce = tf.neg(tf.sum(tf.mul(tf.cast(tf.oneHot(targets, c.vocabSize), 'float32'), tf.logSoftmax(logits))));
        const right = tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), targets), 'float32'));
        return [ce.dataSync()[0], right.dataSync()[0]];
      });
      lossSum += l;
      hits += h;
      count += win.ids.length;
    }
  } finally {
    tf.dispose([...vars.values(), k.cos, k.sin, k.mask]);
  }
  return { loss: lossSum / count, accuracy: hits / count };
}
