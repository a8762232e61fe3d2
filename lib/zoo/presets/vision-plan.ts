/**
 * The fine-tuning protocol of the vision presets, shared by mnist-fc and mnist-cnn: which
 * parents, children and grandchildren a zoo has, with which task and hyperparameters.
 *
 * Paper (Yu & Wang 2025): parents over lr {0.01, 0.001} × batch {256, 1024} × init
 * {Kaiming-uniform, Kaiming-normal} × 8 seeds, 50 epochs of Adam; children of each parent over
 * lr {0.01, 0.001, 0.0001} × batch {256, 1024} × 4 seeds, 30 epochs, on Fashion-MNIST and
 * EMNIST-Letters (here: mnist-rotated stands in for the letters).
 *
 * Small: the first `families` parent configurations of the same grid, each with four children
 * on four different tasks whose (lr, batch) pairs walk a child grid without lr 0.0001 (see
 * SMALL_CHILD_GRID), and one grandchild
 * fine-tuned from one child on another task. Epoch counts are set from a step budget (parents
 * ≈250 Adam steps, fine-tunes ≈100) because 50 epochs at batch 1024 over a few thousand images
 * would be too few steps to converge and too many seconds on 2 cores.
 */
import { InitScheme } from '../init';
import { VisionTaskName } from '../tasks';
import { ZooScale } from '../types';
import { InvalidArgumentError } from '../../errors';

export interface VisionPlanEntry {
  /** Position in the plan ("f0", "f0/c2", "f0/c2/g0"); hashed into the model id. */
  key: string;
  generation: 0 | 1 | 2;
  parentKey: string | null;
  task: VisionTaskName;
  learningRate: number;
  batchSize: number;
  /** Fixed epochs (paper), or null: derived from `targetSteps` and the task's training-set size. */
  epochs: number | null;
  targetSteps: number | null;
  /** Seed index of the grid (the paper's "random seeds"). */
  gridSeed: number;
  /** Parents only. */
  init?: InitScheme;
}

const PARENT_LRS = [0.01, 0.001];
const BATCHES = [256, 1024];
const INITS: InitScheme[] = ['kaiming-uniform', 'kaiming-normal'];
const CHILD_LRS = [0.01, 0.001, 0.0001];

/** Small scale walks the parent grid in an order that varies every factor early. */
const SMALL_PARENTS: [number, number, InitScheme][] = [
  [0.01, 256, 'kaiming-uniform'],
  [0.001, 1024, 'kaiming-normal'],
  [0.001, 256, 'kaiming-uniform'],
  [0.01, 1024, 'kaiming-normal'],
  [0.01, 256, 'kaiming-normal'],
  [0.001, 256, 'kaiming-normal'],
  [0.01, 1024, 'kaiming-uniform'],
  [0.001, 1024, 'kaiming-uniform'],
];
const SMALL_CHILD_TASKS: VisionTaskName[] = ['fashion-mnist', 'mnist-rotated', 'mnist-flipped', 'mnist-permuted-labels'];
/**
 * lr 0.0001 is left out at small scale: in ~100 steps it moves weights ~100× less than the
 * paper's 30 epochs do and barely learns the new task (measured: 1 to 8 points over the parent).
 * Three pairs, cycled over four children, give every family a different mix.
 */
const SMALL_CHILD_GRID: [number, number][] = [
  [0.001, 256],
  [0.01, 1024],
  [0.001, 1024],
  [0.01, 256],
  [0.001, 256],
  [0.001, 1024],
];
export const SMALL_STEPS = { parent: 250, child: 100 } as const;

export const PAPER_TASKS: VisionTaskName[] = ['fashion-mnist', 'mnist-rotated'];
export const PAPER_EPOCHS = { parent: 50, child: 30 } as const;
export const PAPER_PARENTS = PARENT_LRS.length * BATCHES.length * INITS.length * 8;

export function defaultFamilies(scale: ZooScale, smallFamilies = 5): number {
  return scale === 'paper' ? PAPER_PARENTS : smallFamilies;
}

function smallPlan(families: number): VisionPlanEntry[] {
  if (families > SMALL_PARENTS.length) throw new InvalidArgumentError('E_INVALID_ARG', `small scale has at most ${SMALL_PARENTS.length} families`);
  const out: VisionPlanEntry[] = [];
  for (let f = 0; f < families; f++) {
    const [lr, batch, init] = SMALL_PARENTS[f];
    const pk = `f${f}`;
    out.push({ key: pk, generation: 0, parentKey: null, task: 'mnist', learningRate: lr, batchSize: batch, epochs: null, targetSteps: SMALL_STEPS.parent, gridSeed: f, init });
  }
  for (let f = 0; f < families; f++) {
    SMALL_CHILD_TASKS.forEach((task, j) => {
      const [lr, batch] = SMALL_CHILD_GRID[(f * SMALL_CHILD_TASKS.length + j) % SMALL_CHILD_GRID.length];
      out.push({ key: `f${f}/c${j}`, generation: 1, parentKey: `f${f}`, task, learningRate: lr, batchSize: batch, epochs: null, targetSteps: SMALL_STEPS.child, gridSeed: j });
    });
  }
  for (let f = 0; f < families; f++) {
    const j = f % SMALL_CHILD_TASKS.length;
    const task = SMALL_CHILD_TASKS[(j + 1) % SMALL_CHILD_TASKS.length];
    out.push({ key: `f${f}/c${j}/g0`, generation: 2, parentKey: `f${f}/c${j}`, task, learningRate: 0.001, batchSize: 256, epochs: null, targetSteps: SMALL_STEPS.child, gridSeed: 0 });
  }
  return out;
}

function paperPlan(families: number): VisionPlanEntry[] {
  // Seeds vary slowest, so the first 8 families are the 8 configurations of seed 0.
  const parents: VisionPlanEntry[] = [];
  for (let seed = 0; seed < 8; seed++)
    for (const init of INITS)
      for (const lr of PARENT_LRS)
        for (const batch of BATCHES)
          parents.push({ key: `f${parents.length}`, generation: 0, parentKey: null, task: 'mnist', learningRate: lr, batchSize: batch, epochs: PAPER_EPOCHS.parent, targetSteps: null, gridSeed: seed, init });
  const chosen = parents.slice(0, families);
  const out: VisionPlanEntry[] = [...chosen];
  for (const p of chosen) {
    let j = 0;
    for (const task of PAPER_TASKS)
      for (const lr of CHILD_LRS)
        for (const batch of BATCHES)
          for (let seed = 0; seed < 4; seed++)
            out.push({ key: `${p.key}/c${j++}`, generation: 1, parentKey: p.key, task, learningRate: lr, batchSize: batch, epochs: PAPER_EPOCHS.child, targetSteps: null, gridSeed: seed });
  }
  // Cross-generation: the first child of each task gets a grandchild on the other task.
  const perTask = CHILD_LRS.length * BATCHES.length * 4;
  for (const p of chosen) {
    PAPER_TASKS.forEach((_, t) => {
      const childKey = `${p.key}/c${t * perTask}`;
      out.push({ key: `${childKey}/g0`, generation: 2, parentKey: childKey, task: PAPER_TASKS[(t + 1) % PAPER_TASKS.length], learningRate: 0.001, batchSize: 256, epochs: PAPER_EPOCHS.child, targetSteps: null, gridSeed: 0 });
    });
  }
  return out;
}

/** The plan in build order: every parent before its children. */
export function visionPlan(scale: ZooScale, families: number): VisionPlanEntry[] {
  const n = families;
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('E_INVALID_ARG', `families must be a positive integer (got ${families})`);
  if (scale === 'paper' && n > PAPER_PARENTS) throw new InvalidArgumentError('E_INVALID_ARG', `the paper grid has ${PAPER_PARENTS} parents`);
  return scale === 'paper' ? paperPlan(n) : smallPlan(n);
}

/** Epochs of an entry for a training set of `trainCount` images. */
export function epochsFor(e: VisionPlanEntry, trainCount: number): number {
  if (e.epochs !== null) return e.epochs;
  const stepsPerEpoch = Math.ceil(trainCount / e.batchSize);
  return Math.max(1, Math.round((e.targetSteps as number) / stepsPerEpoch));
}
