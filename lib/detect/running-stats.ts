/**
 * Normalisation layers' running statistics: BatchNorm's running_mean / running_var (PyTorch)
 * and moving_mean / moving_variance (Keras). They are not trained by gradient but are moving
 * averages of the activations on the last batches seen (PyTorch's momentum 0.1 keeps 0.9^n of
 * the parent's after n batches), so a fine-tune on other data largely overwrites them: they
 * do not add along the tree as trained weights do, and on a CNN fine-tuned on inverted images
 * they put one child 30-60 times farther (squared distance) from its siblings than the
 * siblings are from each other.
 * Detection leaves them out by default (`runningStats: 'ignore'`); the step counters that sit
 * beside them (num_batches_tracked) are read separately and still vote on direction.
 */

/** Last name components of running statistics. */
export const RUNNING_STAT_NAMES: readonly string[] = ['running_mean', 'running_var', 'moving_mean', 'moving_variance'];

export function isRunningStat(name: string): boolean {
  return RUNNING_STAT_NAMES.includes(name.slice(name.lastIndexOf('.') + 1));
}

export type RunningStats = 'ignore' | 'compare';
export const RUNNING_STATS: readonly RunningStats[] = ['ignore', 'compare'];
