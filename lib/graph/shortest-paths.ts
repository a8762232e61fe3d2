/**
 * Completes a family's squared distances (row-major, m×m) in place. Members that share no
 * tensor (possible when architectures differ) have no distance of their own; they get the
 * shortest sum of squared distances through other members, which is their tree distance when
 * the squared distances form a tree metric, and an upper bound on it otherwise.
 */
export function fillMissing(local: Float64Array, m: number): Float64Array {
  let missing = false;
  for (let i = 0; i < m * m; i++) if (!Number.isFinite(local[i])) missing = true;
  if (missing) {
    for (let k = 0; k < m; k++) {
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < m; j++) {
          const via = local[i * m + k] + local[k * m + j];
          if (via < local[i * m + j]) local[i * m + j] = via;
        }
      }
    }
  }
  return local;
}
