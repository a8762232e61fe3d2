/**
 * Axis permutation of dense row-major arrays: converts weights between the layout the tfjs
 * models compute in ([in, out] matrices, [kh, kw, in, out] filters) and PyTorch's ([out, in],
 * [out, in, kh, kw]), which is what the zoo writes and what the detectors' fake inits assume.
 */
import { InvalidArgumentError } from '../errors';

export function permuteAxes(data: Float32Array, shape: number[], perm: number[]): Float32Array {
  const rank = shape.length;
  if (perm.length !== rank) throw new InvalidArgumentError('E_INVALID_ARG', `permutation ${perm} does not fit shape ${shape}`);
  const outShape = perm.map((p) => shape[p]);
  const inStrides = new Array<number>(rank);
  let s = 1;
  for (let i = rank - 1; i >= 0; i--) {
    inStrides[i] = s;
    s *= shape[i];
  }
  if (s !== data.length) throw new InvalidArgumentError('E_INVALID_ARG', `shape ${shape} does not hold ${data.length} values`);
  // Stride in the source for each output axis.
  const srcStride = perm.map((p) => inStrides[p]);
  const out = new Float32Array(data.length);
  const idx = new Array<number>(rank).fill(0);
  let src = 0;
  for (let o = 0; o < out.length; o++) {
    out[o] = data[src];
    for (let ax = rank - 1; ax >= 0; ax--) {
      idx[ax]++;
      src += srcStride[ax];
      if (idx[ax] < outShape[ax]) break;
      src -= srcStride[ax] * outShape[ax];
      idx[ax] = 0;
    }
  }
  return out;
}

export function inversePermutation(perm: number[]): number[] {
  const inv = new Array<number>(perm.length);
  perm.forEach((p, i) => (inv[p] = i));
  return inv;
}

/** Transpose of a row-major [rows, cols] matrix, in 32×32 tiles (about twice as fast as a plain loop). */
export function transpose2d(x: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  const T = 32;
  for (let r0 = 0; r0 < rows; r0 += T) {
    const r1 = Math.min(rows, r0 + T);
    for (let c0 = 0; c0 < cols; c0 += T) {
      const c1 = Math.min(cols, c0 + T);
      for (let r = r0; r < r1; r++) {
        const base = r * cols;
        for (let c = c0; c < c1; c++) out[c * rows + r] = x[base + c];
      }
    }
  }
  return out;
}
