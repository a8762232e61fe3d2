/**
 * The regime zoos' optimizers (lib/zoo/optim.ts) against a float64 TypeScript reference of
 * PyTorch's update rules (torch.optim.SGD, SGD with momentum, Adam with coupled L2, AdamW),
 * on random weights and gradients of sizes that are not multiples of anything, under every
 * schedule; and the schedules' shapes.
 */
import * as tf from '@tensorflow/tfjs';
import { ManualOptimizer, OPTIMIZERS, OptimizerSpec, SCHEDULES, scheduledRate } from '../../lib/zoo/optim';
import { InvalidArgumentError } from '../../lib/errors';
import { rng } from '../helpers/models';

/** PyTorch's rules in float64, one step per call. */
function referenceRun(spec: OptimizerSpec, w0: number[], grads: number[][]): number[] {
  const w = w0.slice();
  const m = w.map(() => 0);
  const v = w.map(() => 0);
  const total = grads.length;
  grads.forEach((g, t) => {
    const lr = scheduledRate(spec, t, total);
    const wd = spec.weightDecay;
    for (let i = 0; i < w.length; i++) {
      const gi = spec.kind === 'adamw' ? g[i] : g[i] + wd * w[i];
      if (spec.kind === 'sgd') w[i] -= lr * gi;
      else if (spec.kind === 'sgd-momentum') {
        m[i] = (spec.momentum ?? 0.9) * m[i] + gi;
        w[i] -= lr * m[i];
      } else {
        if (spec.kind === 'adamw') w[i] *= 1 - lr * wd;
        m[i] = 0.9 * m[i] + 0.1 * gi;
        v[i] = 0.999 * v[i] + 0.001 * gi * gi;
        const mh = m[i] / (1 - 0.9 ** (t + 1));
        const vh = v[i] / (1 - 0.999 ** (t + 1));
        w[i] -= (lr * mh) / (Math.sqrt(vh) + 1e-8);
      }
    }
  });
  return w;
}

describe('ManualOptimizer', () => {
  for (const kind of OPTIMIZERS) {
    for (const schedule of SCHEDULES) {
      test(`${kind}, ${schedule}: equals the float64 reference of PyTorch's rule`, () => {
        const r = rng(kind.length * 7 + schedule.length);
        const n = 37; // not a multiple of any block size
        const steps = 13;
        const spec: OptimizerSpec = { kind, learningRate: 0.01, weightDecay: 0.1, schedule, ...(kind === 'sgd-momentum' ? { momentum: 0.9 } : {}) };
        const w0 = Array.from({ length: n }, () => r.normal());
        const grads = Array.from({ length: steps }, () => Array.from({ length: n }, () => r.normal()));
        const init = tf.tensor1d(w0, 'float32');
        const w = tf.variable(init);
        init.dispose();
        const opt = new ManualOptimizer(spec, [w], steps);
        for (const g of grads) {
          const gt = tf.tensor1d(g, 'float32');
          opt.step([gt]);
          gt.dispose();
        }
        const got = Array.from(w.dataSync());
        const want = referenceRun(spec, w0, grads);
        // float32 arithmetic against float64: agreement to ~1e-5 relative over 13 steps.
        got.forEach((x, i) => expect(Math.abs(x - want[i])).toBeLessThan(1e-5 * (1 + Math.abs(want[i]))));
        // Weight decay matters: without it the result differs.
        const plain = referenceRun({ ...spec, weightDecay: 0 }, w0, grads);
        expect(plain.some((x, i) => Math.abs(x - want[i]) > 1e-4)).toBe(true);
        opt.dispose();
        w.dispose();
      });
    }
  }

  test('leaves no tensors behind and refuses a bad spec naming what is wrong', () => {
    const before = tf.memory().numTensors;
    const z = tf.zeros([5]);
    const w = tf.variable(z);
    z.dispose();
    const opt = new ManualOptimizer({ kind: 'adamw', learningRate: 1e-3, weightDecay: 0.01, schedule: 'warmup' }, [w], 4);
    const g = tf.ones([5]);
    opt.step([g]);
    g.dispose();
    opt.dispose();
    w.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(() => new ManualOptimizer({ kind: 'rmsprop' as never, learningRate: 1, weightDecay: 0, schedule: 'constant' }, [], 1)).toThrow(InvalidArgumentError);
    expect(() => new ManualOptimizer({ kind: 'sgd', learningRate: 0, weightDecay: 0, schedule: 'constant' }, [], 1)).toThrow(/learning rate/);
  });
});

describe('scheduledRate', () => {
  test('constant, cosine from η to 0, warm-up over the first 10% then cosine', () => {
    const s = (schedule: OptimizerSpec['schedule'], t: number) => scheduledRate({ learningRate: 1, schedule }, t, 100);
    expect(s('constant', 0)).toBe(1);
    expect(s('constant', 99)).toBe(1);
    expect(s('cosine', 0)).toBe(1);
    expect(s('cosine', 50)).toBeCloseTo(0.5, 12);
    expect(s('cosine', 99)).toBeLessThan(0.001);
    expect(s('warmup', 0)).toBeCloseTo(0.1, 12);
    expect(s('warmup', 9)).toBeCloseTo(1, 12);
    expect(s('warmup', 10)).toBeCloseTo(1, 12);
    expect(s('warmup', 55)).toBeCloseTo(0.5, 12);
  });
});
