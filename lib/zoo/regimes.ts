/**
 * Training regimes of the `regimes` zoo: families whose parents and fine-tunes are trained
 * under different optimizers, weight decays, schedules and initialisations, so that a
 * direction signal can be checked on regimes it was not designed on. Each regime is one
 * family shape: a parent (250 steps on MNIST), three children (100 steps each, on three other
 * tasks) and a grandchild fine-tuned from the first child on a fourth task.
 *
 * | regime        | parent                               | children                                   |
 * |---------------|--------------------------------------|--------------------------------------------|
 * | sgd           | SGD 0.05, constant                   | SGD 0.02–0.05                              |
 * | sgd-momentum  | SGD μ 0.9, 0.01, wd 1e-4, cosine     | the same at 0.005–0.01, cosine or constant |
 * | adam          | Adam 1e-3                            | Adam 3e-4–1e-3 (the mnist-fc regime)       |
 * | adam-l2       | Adam 1e-3, L2 1e-2                   | Adam with L2 1e-2                          |
 * | adamw-warmup  | AdamW 1e-3, wd 1e-2, warm-up+cosine  | the same at 3e-4–1e-3                      |
 * | adamw-strong  | AdamW 2e-3, wd 0.1, cosine           | AdamW 1e-3, wd 0.1                         |
 * | mixed         | SGD μ 0.9, wd 1e-4, cosine           | AdamW wd 0.1 / Adam / SGD wd 1e-2 / Adam L2 |
 * | partial       | Adam 1e-3                            | last layer only by Adam 1e-2 (the rest bit-identical), a rank-4 LoRA-style update merged in, last layer by SGD |
 * | tiny          | Adam 1e-3                            | Adam 1e-5 × 20 steps, Adam 1e-4 × 10, SGD 1e-3 × 20 |
 *
 * Initialisations rotate over Kaiming uniform/normal, Xavier, normal(0.02) and truncated
 * normal(0.02) with the regime and the zoo seed, so over a few seeds each regime meets several.
 */
import { InvalidArgumentError } from '../errors';
import { INIT_SCHEMES, InitScheme } from './init';
import type { OptimizerSpec } from './optim';
import type { VisionTaskName } from './tasks';

export const REGIMES = ['sgd', 'sgd-momentum', 'adam', 'adam-l2', 'adamw-warmup', 'adamw-strong', 'mixed', 'partial', 'tiny'] as const;
export type RegimeName = (typeof REGIMES)[number];

/**
 * Which tensors a fine-tune changes: all; the last layer only (weight and bias); or 'lora':
 * the weight matrices are fine-tuned (biases frozen) and each matrix's update is then replaced
 * by its best rank-4 approximation, which is what merging a rank-4 LoRA adapter leaves.
 */
export type UpdateKind = 'full' | 'last-layer' | 'lora';
export const LORA_RANK = 4;

export interface TrainRecipe {
  optimizer: OptimizerSpec;
  steps: number;
  batchSize: number;
  update: UpdateKind;
}

export interface RegimePlanEntry {
  /** "r<regime>/f<family>", "…/c<j>", "…/c0/g0"; hashed into the model id. */
  key: string;
  regime: RegimeName;
  generation: 0 | 1 | 2;
  parentKey: string | null;
  task: VisionTaskName;
  recipe: TrainRecipe;
  /** Parents only. */
  init?: InitScheme;
}

const PARENT_STEPS = 250;
const CHILD_STEPS = 100;
const BATCH = 128;

const r = (kind: OptimizerSpec['kind'], learningRate: number, weightDecay = 0, schedule: OptimizerSpec['schedule'] = 'constant', steps = CHILD_STEPS, update: UpdateKind = 'full'): TrainRecipe => ({
  optimizer: { kind, learningRate, weightDecay, schedule, ...(kind === 'sgd-momentum' ? { momentum: 0.9 } : {}) },
  steps,
  batchSize: BATCH,
  update,
});

/** Per regime: the parent's recipe, the three children's and the grandchild's. */
const CATALOGUE: Record<RegimeName, { parent: TrainRecipe; children: [TrainRecipe, TrainRecipe, TrainRecipe]; grandchild: TrainRecipe }> = {
  sgd: { parent: r('sgd', 0.05, 0, 'constant', PARENT_STEPS), children: [r('sgd', 0.05), r('sgd', 0.02), r('sgd', 0.05)], grandchild: r('sgd', 0.02) },
  'sgd-momentum': {
    parent: r('sgd-momentum', 0.01, 1e-4, 'cosine', PARENT_STEPS),
    children: [r('sgd-momentum', 0.01, 1e-4, 'cosine'), r('sgd-momentum', 0.005, 1e-4, 'cosine'), r('sgd-momentum', 0.01, 1e-4)],
    grandchild: r('sgd-momentum', 0.005, 1e-4, 'cosine'),
  },
  adam: { parent: r('adam', 1e-3, 0, 'constant', PARENT_STEPS), children: [r('adam', 1e-3), r('adam', 3e-4), r('adam', 1e-3)], grandchild: r('adam', 1e-3) },
  'adam-l2': {
    parent: r('adam', 1e-3, 1e-2, 'constant', PARENT_STEPS),
    children: [r('adam', 1e-3, 1e-2), r('adam', 3e-4, 1e-2), r('adam', 1e-3, 1e-2)],
    grandchild: r('adam', 1e-3, 1e-2),
  },
  'adamw-warmup': {
    parent: r('adamw', 1e-3, 1e-2, 'warmup', PARENT_STEPS),
    children: [r('adamw', 1e-3, 1e-2, 'warmup'), r('adamw', 3e-4, 1e-2, 'warmup'), r('adamw', 1e-3, 1e-2, 'warmup')],
    grandchild: r('adamw', 1e-3, 1e-2, 'warmup'),
  },
  'adamw-strong': {
    parent: r('adamw', 2e-3, 0.1, 'cosine', PARENT_STEPS),
    children: [r('adamw', 1e-3, 0.1, 'cosine'), r('adamw', 1e-3, 0.1, 'warmup'), r('adamw', 5e-4, 0.1, 'cosine')],
    grandchild: r('adamw', 1e-3, 0.1, 'cosine'),
  },
  mixed: {
    parent: r('sgd-momentum', 0.01, 1e-4, 'cosine', PARENT_STEPS),
    children: [r('adamw', 1e-3, 0.1, 'warmup'), r('adam', 1e-3), r('sgd', 0.05, 1e-2)],
    grandchild: r('adam', 3e-4, 1e-2),
  },
  partial: {
    parent: r('adam', 1e-3, 0, 'constant', PARENT_STEPS),
    children: [r('adam', 1e-2, 0, 'constant', CHILD_STEPS, 'last-layer'), r('adam', 1e-3, 0, 'constant', CHILD_STEPS, 'lora'), r('sgd', 0.05, 0, 'constant', CHILD_STEPS, 'last-layer')],
    grandchild: r('adam', 1e-3, 0, 'constant', CHILD_STEPS, 'lora'),
  },
  tiny: {
    parent: r('adam', 1e-3, 0, 'constant', PARENT_STEPS),
    children: [r('adam', 1e-5, 0, 'constant', 20), r('adam', 1e-4, 0, 'constant', 10), r('sgd', 1e-3, 0, 'constant', 20)],
    grandchild: r('adam', 1e-5, 0, 'constant', 20),
  },
};

const CHILD_TASKS: VisionTaskName[] = ['fashion-mnist', 'mnist-rotated', 'mnist-flipped'];
const GRANDCHILD_TASK: VisionTaskName = 'mnist-permuted-labels';

export function parseRegimes(names: readonly string[] | undefined): RegimeName[] {
  if (names === undefined || names.length === 0) return [...REGIMES];
  for (const n of names) {
    if (!(REGIMES as readonly string[]).includes(n)) throw new InvalidArgumentError('E_INVALID_ARG', `unknown regime '${n}' (known: ${REGIMES.join(', ')})`);
  }
  return REGIMES.filter((n) => names.includes(n));
}

/** The plan in build order (every parent before its children): `families` families per regime. */
export function regimePlan(regimes: RegimeName[], families: number, seed: number): RegimePlanEntry[] {
  if (!Number.isInteger(families) || families < 1) throw new InvalidArgumentError('E_INVALID_ARG', `families must be a positive integer (got ${families})`);
  const out: RegimePlanEntry[] = [];
  regimes.forEach((regime) => {
    const spec = CATALOGUE[regime];
    const ri = REGIMES.indexOf(regime);
    for (let f = 0; f < families; f++) {
      const pk = `r${regime}/f${f}`;
      const init = INIT_SCHEMES[(ri + seed + f) % INIT_SCHEMES.length];
      out.push({ key: pk, regime, generation: 0, parentKey: null, task: 'mnist', recipe: spec.parent, init });
      spec.children.forEach((recipe, j) => out.push({ key: `${pk}/c${j}`, regime, generation: 1, parentKey: pk, task: CHILD_TASKS[j], recipe }));
      out.push({ key: `${pk}/c0/g0`, regime, generation: 2, parentKey: `${pk}/c0`, task: GRANDCHILD_TASK, recipe: spec.grandchild });
    }
  });
  return out;
}
