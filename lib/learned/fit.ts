/**
 * The training loop: Adam (lr 0.01), one model set per step, the encoder on random crops,
 * early stopping on validation accuracy (ties: validation loss), best weights restored.
 */
import * as tf from '@tensorflow/tfjs';
import { createRng, Mulberry32Rng } from '../graph';
import { updateMovingStats } from './encoder';
import { encodeFromCrops, poolTokens, PreparedSet, presentSlots, Role, setTensors, WeightCache } from './data';
import { accuracyOver, choiceLoss, decodeForest } from './decode';
import { createDetector, DetectorConfig, detectorLogits, DetectorVars, namedVars, trainableVars } from './model';

export interface FitOptions {
  epochs: number;
  learningRate: number;
  seed: number;
  /** Epochs without a better validation result before stopping. */
  patience: number;
  /** Fixed crops per tensor averaged for validation. */
  valCrops: number;
  /** L2 penalty on the weight matrices (a few dozen labelled children per zoo overfit fast). */
  l2?: number;
  /**
   * Among epochs of equal validation accuracy: 'latest' keeps the later one (default: with a
   * handful of validation children, ties are the rule and the early ones are undertrained),
   * 'loss' the lower validation loss.
   */
  tieBreak?: 'latest' | 'loss';
  onEpoch?: (e: EpochReport) => void;
}

export interface EpochReport {
  epoch: number;
  epochs: number;
  loss: number;
  valAccuracy: number;
  valLoss: number;
  best: boolean;
  seconds: number;
}

export interface FitResult {
  model: DetectorVars;
  history: EpochReport[];
  bestEpoch: number;
  stoppedEarly: boolean;
}

interface TrainSet {
  ps: PreparedSet;
  roles: Role[];
  cache: WeightCache;
}

function labelled(roles: Role[], want: Role[]): number[] {
  return roles.map((r, m) => (want.includes(r) ? m : -1)).filter((m) => m >= 0);
}

function encodedFor(model: DetectorVars, s: TrainSet, rng: Mulberry32Rng, training: boolean, crops: number, stats?: { mean: tf.Tensor1D; variance: tf.Tensor1D }[]): tf.Tensor2D {
  const perTensor = model.config.useEncoder && s.ps.tensors.length > 0 ? encodeFromCrops(s.ps, s.cache, model.encoder, model.config, rng, training, crops, stats) : null;
  return poolTokens(s.ps, perTensor, presentSlots(s.ps), model.typeEmb as tf.Tensor2D, model.tensorIn as tf.Tensor2D);
}

/** Validation over every set's 'val' children: accuracy of the decoded forest, and loss. */
function validate(model: DetectorVars, sets: TrainSet[], crops: number, seed: number): { accuracy: number; loss: number } {
  let right = 0;
  let total = 0;
  let loss = 0;
  let lossSets = 0;
  sets.forEach((s, i) => {
    const val = labelled(s.roles, ['val']);
    if (val.length === 0) return;
    // The same crops every epoch, so epochs are compared on equal terms.
    const rng = createRng(seed * 7919 + i);
    const logits = tf.tidy(() => detectorLogits(model, setTensors(s.ps, encodedFor(model, s, rng, false, crops))));
    const data = logits.dataSync() as Float32Array;
    const forest = decodeForest(data, s.ps.graph, s.ps.features.pairs, s.ps.scan.models.length);
    right += accuracyOver(forest.parent, s.ps.parent!, val) * val.length;
    total += val.length;
    const l = tf.tidy(() => choiceLoss(logits, s.ps.graph, s.ps.features.pairs, s.ps.parent!, val)?.dataSync()[0]);
    if (l !== undefined) {
      loss += l;
      lossSets++;
    }
    logits.dispose();
  });
  return { accuracy: total ? right / total : NaN, loss: lossSets ? loss / lossSets : NaN };
}

export function fitDetector(sets: { ps: PreparedSet; roles: Role[] }[], config: DetectorConfig, opts: FitOptions): FitResult {
  const rng = createRng(opts.seed);
  const model = createDetector(config, () => rng.next());
  const train: TrainSet[] = sets.map((s) => ({ ...s, cache: new WeightCache(s.ps.set) }));
  const optimizer = tf.train.adam(opts.learningRate);
  const vars = trainableVars(model);
  const matrices = vars.filter((v) => v.rank >= 2);
  const all = namedVars(model);
  let best: { accuracy: number; loss: number } | null = null;
  let bestValues: Map<string, tf.Tensor> | null = null;
  let bestEpoch = 0;
  let improvedEpoch = 0;
  const history: EpochReport[] = [];
  let stoppedEarly = false;
  for (let epoch = 1; epoch <= opts.epochs; epoch++) {
    const t0 = Date.now();
    const order = train.map((_, i) => i);
    for (let i = order.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [order[i], order[j]] = [order[j], order[i]];
    }
    let lossSum = 0;
    let steps = 0;
    for (const i of order) {
      const s = train[i];
      const lab = labelled(s.roles, ['train', 'root']);
      const stats: { mean: tf.Tensor1D; variance: tf.Tensor1D }[] = [];
      const cost = optimizer.minimize(() => {
        const logits = detectorLogits(model, setTensors(s.ps, encodedFor(model, s, rng, true, 1, stats)));
        const loss = choiceLoss(logits, s.ps.graph, s.ps.features.pairs, s.ps.parent!, lab) ?? tf.scalar(0);
        if (!opts.l2) return loss;
        const penalty = tf.addN(matrices.map((v) => tf.sum(tf.square(v))));
        return tf.add(loss, tf.mul(penalty, opts.l2)) as tf.Scalar;
      }, true, vars);
      if (cost) {
        lossSum += cost.dataSync()[0];
        cost.dispose();
        steps++;
      }
      for (const st of stats) {
        updateMovingStats(model.encoder, st.mean, st.variance);
        st.mean.dispose();
        st.variance.dispose();
      }
    }
    const val = validate(model, train, opts.valCrops, opts.seed);
    const latest = (opts.tieBreak ?? 'latest') === 'latest';
    const better = best === null || val.accuracy > best.accuracy || (val.accuracy === best.accuracy && (latest || val.loss < best.loss)) || (Number.isNaN(best.accuracy) && (latest || val.loss < best.loss));
    // Patience runs from the last strict improvement: ties move the kept weights, not the clock.
    if (best === null || val.accuracy > best.accuracy || (Number.isNaN(best.accuracy) && val.loss < best.loss)) improvedEpoch = epoch;
    if (better) {
      best = val;
      bestEpoch = epoch;
      bestValues?.forEach((t) => t.dispose());
      bestValues = new Map([...all].map(([n, v]) => [n, tf.clone(v)]));
    }
    const report: EpochReport = { epoch, epochs: opts.epochs, loss: steps ? lossSum / steps : NaN, valAccuracy: val.accuracy, valLoss: val.loss, best: better, seconds: (Date.now() - t0) / 1000 };
    history.push(report);
    opts.onEpoch?.(report);
    if (epoch - improvedEpoch >= opts.patience) {
      stoppedEarly = epoch < opts.epochs;
      break;
    }
  }
  if (bestValues) {
    for (const [n, v] of all) v.assign(bestValues.get(n)!);
    bestValues.forEach((t) => t.dispose());
  }
  optimizer.dispose();
  return { model, history, bestEpoch, stoppedEarly };
}
