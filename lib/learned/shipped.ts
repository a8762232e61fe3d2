/**
 * The detector that ships inside the package (detectors/default/): what `detect --method
 * learned`, `eval`'s learned entry and detectLearned use when no detector is named, and the
 * recipe that trained it (scripts/train-shipped.ts; docs/learned.md "The shipped detector").
 * The recipe lives here, beside the path, so the leave-one-regime-out evaluation
 * (scripts/eval-learned-regimes.ts) scores exactly the training that produced the file.
 */
import * as path from 'path';
import { packageRoot } from '../native';

/** detectors/default under the package root (the same from lib/ under ts-jest and from dist/lib/). */
export function shippedDetectorDir(): string {
  return path.join(packageRoot(), 'detectors', 'default');
}

/** How the shipped detector is trained: which zoos, and the fit's settings. */
export const SHIPPED_TRAINING = {
  /** `regimes` zoos of these seeds, 2 families per regime (90 models each: every regime). */
  regimeSeeds: [0, 1, 2, 3, 4],
  regimeFamilies: 2,
  /** Seed of the 7:1:2 split, the initialization and the crops. */
  seed: 0,
  /**
   * Bounded so one training fits a shared 2-core machine (wasm: ~30 s per epoch per two
   * 80-model sets there); the leave-one-regime-out evaluation trains with the same bounds.
   */
  epochs: 12,
  patience: 4,
  learningRate: 0.01,
} as const;
