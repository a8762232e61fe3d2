/**
 * Model-level direction signals: per model, one number that may move monotonically from
 * parent to child, computed from the scan's per-tensor sums alone. Each is a per-tensor
 * quantity, divided by its mean over the models that have the tensor (so tensors of every
 * size and scale count alike), averaged over the tensors the model has.
 *
 * Which of them grows along fine-tuning depends on the training regime (weight decay shrinks
 * norms; a small normal(0.02) init grows them): docs/detect.md tables each signal's
 * reliability per regime. `directionSignals` (options.ts) makes any of them vote in the root
 * posterior with a fixed error rate, i.e. a weight learnt on other zoos rather than on the
 * scan at hand.
 */
import { InvalidArgumentError } from '../errors';
import type { ScanTensor } from '../scan/types';
import { initSecondMoment, tensorKurtosis } from './scores';
import { isRunningStat } from './running-stats';

type Which = 'all' | 'matrices' | 'vectors';

interface SignalSpec {
  description: string;
  tensors: Which;
  value(t: ScanTensor, slot: number): number | null;
}

const variance = (t: ScanTensor, slot: number): number => {
  const mu = t.sum[slot] / t.count;
  return Math.max(0, t.sumSq[slot] / t.count - mu * mu);
};

/** Variance of the tensor's fake-init law (0 for a constant init). */
function initVariance(t: ScanTensor): number {
  const { kind, a, b } = t.fakeInit;
  if (kind === 'constant') return 0;
  const mean = kind === 'uniform' ? (a + b) / 2 : a;
  return Math.max(0, initSecondMoment(t) - mean * mean);
}

export const MODEL_SIGNALS: Record<string, SignalSpec> = {
  norm: { description: 'squared norm Σθ²', tensors: 'all', value: (t, s) => t.sumSq[s] },
  'weight-norm': { description: 'squared norm of the matrices (≥ 2 dimensions)', tensors: 'matrices', value: (t, s) => t.sumSq[s] },
  'bias-norm': { description: 'squared norm of the vectors (biases, norm gains)', tensors: 'vectors', value: (t, s) => t.sumSq[s] },
  'bias-mean': { description: '|mean| of the vectors (biases, norm gains)', tensors: 'vectors', value: (t, s) => Math.abs(t.sum[s] / t.count) },
  'fake-init': { description: 'distance to the seeded fake initialization Σ(θ − r)²', tensors: 'all', value: (t, s) => t.fakeInitSq[s] },
  // A constant init is known exactly, so for these tensors the fake-init distance is the true
  // distance from init: how far norm gains (LayerNorm, BatchNorm, RMSNorm weights, init 1)
  // have drifted. NaN for a model without them (an MLP).
  'gain-drift': {
    description: 'distance of the norm gains (vectors with a constant non-zero init) from their init Σ(γ − c)²',
    tensors: 'vectors',
    value: (t, s) => (isNormGain(t) ? t.fakeInitSq[s] : null),
  },
  'init-law': {
    description: 'distance of the variance from the init law |var(θ)/var_init − 1| (tensors with a random init)',
    tensors: 'all',
    value: (t, s) => {
      const v0 = initVariance(t);
      return v0 > 0 ? Math.abs(variance(t, s) / v0 - 1) : null;
    },
  },
  kurtosis: { description: 'kurtosis of the matrices', tensors: 'matrices', value: (t, s) => tensorKurtosis(t, s) },
  'abs-skew': {
    description: '|skewness| of the matrices',
    tensors: 'matrices',
    value: (t, s) => {
      const n = t.count;
      const mu = t.sum[s] / n;
      const m2 = variance(t, s);
      if (!(m2 > 0)) return null;
      const m3 = t.sumCube[s] / n - 3 * mu * (t.sumSq[s] / n) + 2 * mu ** 3;
      return Math.abs(m3) / m2 ** 1.5;
    },
  },
};

export const MODEL_SIGNAL_NAMES = Object.keys(MODEL_SIGNALS);

/** A norm gain: a tensor with a constant non-zero init (LayerNorm, BatchNorm, RMSNorm weights).
 * BatchNorm's running_var also starts at 1 but is a data statistic, not a trained gain. */
export function isNormGain(t: ScanTensor): boolean {
  return t.fakeInit.kind === 'constant' && t.fakeInit.a !== 0 && !isRunningStat(t.name);
}

function selected(t: ScanTensor, which: Which): boolean {
  if (which === 'all') return true;
  return which === 'matrices' ? t.shape.length >= 2 : t.shape.length === 1;
}

/**
 * One signal for every model of the scan (NaN where the model has no usable tensor), over
 * the given tensors (callers pass the compared tensors).
 */
export function modelSignal(name: string, tensors: ScanTensor[], nModels: number): Float64Array {
  const spec = MODEL_SIGNALS[name];
  if (!spec) throw new InvalidArgumentError('E_INVALID_ARG', `unknown direction signal '${name}' (known: ${MODEL_SIGNAL_NAMES.join(', ')})`);
  const sum = new Float64Array(nModels);
  const terms = new Int32Array(nModels);
  for (const t of tensors) {
    if (t.models.length < 2 || !selected(t, spec.tensors)) continue;
    const vals = t.models.map((_, slot) => spec.value(t, slot));
    const ok = vals.filter((v): v is number => v !== null && Number.isFinite(v));
    const scale = ok.reduce((a, b) => a + b, 0) / (ok.length || 1);
    if (!(scale > 0)) continue;
    t.models.forEach((m, slot) => {
      const v = vals[slot];
      if (v === null || !Number.isFinite(v)) return;
      sum[m] += v / scale;
      terms[m]++;
    });
  }
  return Float64Array.from(sum, (s, m) => (terms[m] > 0 ? s / terms[m] : NaN));
}

/** Validates a `directionSignals` option: known names, error rates strictly inside (0, 1). */
export function validateDirectionSignals(value: unknown): Record<string, number> {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new InvalidArgumentError('E_INVALID_ARG', 'directionSignals must map signal names to error rates');
  const out: Record<string, number> = {};
  for (const [name, eps] of Object.entries(value as Record<string, unknown>)) {
    if (!MODEL_SIGNALS[name]) throw new InvalidArgumentError('E_INVALID_ARG', `directionSignals: unknown signal '${name}' (known: ${MODEL_SIGNAL_NAMES.join(', ')})`);
    if (typeof eps !== 'number' || !(eps > 0 && eps < 1)) throw new InvalidArgumentError('E_INVALID_ARG', `directionSignals: the error rate of '${name}' must be in (0, 1) (got ${String(eps)})`);
    out[name] = eps;
  }
  return out;
}
