/**
 * Optimizers and learning-rate schedules of the regime zoos, written out as PyTorch defines
 * them so that each regime is what its name says (tfjs has no AdamW and couples weight decay
 * differently):
 *
 * - sgd:          w ← w − η·(g + λw)
 * - sgd-momentum: b ← μ·b + (g + λw); w ← w − η·b           (torch.optim.SGD, dampening 0)
 * - adam:         Adam on g + λw (L2 coupled into the gradient: torch.optim.Adam's weight_decay)
 * - adamw:        w ← w·(1 − ηλ), then Adam on g              (torch.optim.AdamW, decoupled)
 *
 * Adam: β = (0.9, 0.999), ε = 1e-8, bias-corrected. η follows the schedule per step:
 * constant; cosine from η to 0 over the run; warmup: linear from η/steps to η over the first
 * 10% of the steps, then cosine to 0 (the LLaMA recipe). Tensors not handed to the optimizer
 * are never touched (frozen tensors stay bit-identical).
 */
import * as tf from '@tensorflow/tfjs';
import { InvalidArgumentError } from '../errors';

export const OPTIMIZERS = ['sgd', 'sgd-momentum', 'adam', 'adamw'] as const;
export type OptimizerKind = (typeof OPTIMIZERS)[number];
export const SCHEDULES = ['constant', 'cosine', 'warmup'] as const;
export type Schedule = (typeof SCHEDULES)[number];

export interface OptimizerSpec {
  kind: OptimizerKind;
  learningRate: number;
  /** λ: L2 in the gradient for sgd, sgd-momentum and adam; decoupled for adamw. */
  weightDecay: number;
  schedule: Schedule;
  /** sgd-momentum's μ (default 0.9). */
  momentum?: number;
}

export const ADAM_BETAS = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8 } as const;

/** An optimizer as models.json records it: kind, rate, decay (and which kind of decay),
 * schedule, momentum or Adam's betas. */
export function optimizerRecord(o: OptimizerSpec): Record<string, unknown> {
  return {
    optimizer: o.kind,
    learningRate: o.learningRate,
    weightDecay: o.weightDecay,
    weightDecayKind: o.kind === 'adamw' ? 'decoupled' : 'L2 in the gradient',
    schedule: o.schedule,
    ...(o.momentum !== undefined ? { momentum: o.momentum } : {}),
    ...(o.kind === 'adam' || o.kind === 'adamw' ? ADAM_BETAS : {}),
  };
}
const WARMUP_FRACTION = 0.1;

/** The learning rate of step `t` (0-based) of `total`. */
export function scheduledRate(spec: Pick<OptimizerSpec, 'learningRate' | 'schedule'>, t: number, total: number): number {
  const lr = spec.learningRate;
  const cosine = (u: number) => 0.5 * lr * (1 + Math.cos(Math.PI * Math.min(1, Math.max(0, u))));
  switch (spec.schedule) {
    case 'constant':
      return lr;
    case 'cosine':
      return cosine(t / total);
    case 'warmup': {
      const warm = Math.max(1, Math.round(WARMUP_FRACTION * total));
      if (t < warm) return (lr * (t + 1)) / warm;
      return cosine((t - warm) / Math.max(1, total - warm));
    }
  }
}

export function validateOptimizer(spec: OptimizerSpec, where: string): void {
  if (!OPTIMIZERS.includes(spec.kind)) throw new InvalidArgumentError('E_INVALID_ARG', `${where}: unknown optimizer '${spec.kind}'`);
  if (!SCHEDULES.includes(spec.schedule)) throw new InvalidArgumentError('E_INVALID_ARG', `${where}: unknown schedule '${spec.schedule}'`);
  if (!(spec.learningRate > 0)) throw new InvalidArgumentError('E_INVALID_ARG', `${where}: learning rate must be positive`);
  if (!(spec.weightDecay >= 0)) throw new InvalidArgumentError('E_INVALID_ARG', `${where}: weight decay must be non-negative`);
}

/** An optimizer over a fixed list of variables; `step` applies one update from their gradients. */
export class ManualOptimizer {
  private readonly first: tf.Variable[] = [];
  private readonly second: tf.Variable[] = [];
  private t = 0;

  constructor(private readonly spec: OptimizerSpec, private readonly vars: tf.Variable[], private readonly totalSteps: number) {
    validateOptimizer(spec, 'optimizer');
    const needsFirst = spec.kind !== 'sgd';
    const needsSecond = spec.kind === 'adam' || spec.kind === 'adamw';
    // tf.variable keeps its own copy of the initial tensor: each zeros tensor is disposed.
    const zeros = (v: tf.Variable) => {
      const z = tf.zerosLike(v);
      const out = tf.variable(z, false);
      z.dispose();
      return out;
    };
    for (const v of vars) {
      if (needsFirst) this.first.push(zeros(v));
      if (needsSecond) this.second.push(zeros(v));
    }
  }

  /** The learning rate the next step will use. */
  get rate(): number {
    return scheduledRate(this.spec, this.t, this.totalSteps);
  }

  /** One update; `grads[i]` is the gradient of `vars[i]` (disposed by the caller). */
  step(grads: tf.Tensor[]): void {
    const { kind, weightDecay: wd } = this.spec;
    const lr = this.rate;
    this.t++;
    const { beta1, beta2, epsilon } = ADAM_BETAS;
    const c1 = 1 - beta1 ** this.t;
    const c2 = 1 - beta2 ** this.t;
    tf.tidy(() => {
      this.vars.forEach((w, i) => {
        // Coupled L2 for every kind but adamw, whose decay acts on the weights directly.
        const g = kind !== 'adamw' && wd > 0 ? tf.add(grads[i], tf.mul(w, wd)) : grads[i];
        if (kind === 'sgd') {
          w.assign(tf.sub(w, tf.mul(g, lr)));
        } else if (kind === 'sgd-momentum') {
          const b = tf.add(tf.mul(this.first[i], this.spec.momentum ?? 0.9), g);
          this.first[i].assign(b);
          w.assign(tf.sub(w, tf.mul(b, lr)));
        } else {
          const m = tf.add(tf.mul(this.first[i], beta1), tf.mul(g, 1 - beta1));
          const v = tf.add(tf.mul(this.second[i], beta2), tf.mul(tf.square(g), 1 - beta2));
          this.first[i].assign(m);
          this.second[i].assign(v);
          const update = tf.div(tf.div(m, c1), tf.add(tf.sqrt(tf.div(v, c2)), epsilon));
          const base = kind === 'adamw' && wd > 0 ? tf.mul(w, 1 - lr * wd) : w;
          w.assign(tf.sub(base, tf.mul(update, lr)));
        }
      });
    });
  }

  dispose(): void {
    tf.dispose([...this.first, ...this.second]);
  }
}
