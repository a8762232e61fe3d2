/**
 * Differentiable ops with hand-written gradients, for speed and for coverage of the wasm backend.
 *
 * - tfjs-backend-wasm runs matMul with a transposed operand about 6-10× slower than a plain
 *   one (measured: [1024,784]·[784,64] 6 ms plain, 37 ms with transposeB), and tfjs' built-in
 *   MatMul gradient uses exactly those transposed forms. These ops transpose explicitly, then
 *   multiply plainly: a 784-64-10 MLP step drops from ~75 ms to ~15 ms.
 * - wasm has no Conv2DBackpropFilter kernel (and the 'cpu' backend's takes seconds per batch),
 *   so conv2d's filter gradient is computed here as a forward convolution (see conv2d).
 * Each op is checked against tfjs' own gradients on the cpu backend in test/zoo/ops.test.ts.
 */
import * as tf from '@tensorflow/tfjs';

type Saver = (tensors: tf.Tensor[]) => void;

/** Swaps the last two axes. */
export function transposeLast(t: tf.Tensor): tf.Tensor {
  const perm = Array.from({ length: t.rank }, (_, i) => i);
  perm[t.rank - 2] = t.rank - 1;
  perm[t.rank - 1] = t.rank - 2;
  return tf.transpose(t, perm);
}

/** a · b over the last two axes (equal leading axes), gradient without transposed matMuls. */
export function matMul<T extends tf.Tensor>(a: T, b: tf.Tensor): T {
  const f = tf.customGrad((...args: unknown[]) => {
    const [x, y, save] = args as [tf.Tensor, tf.Tensor, Saver];
    save([x, y]);
    return {
      value: tf.matMul(x as tf.Tensor3D, y as tf.Tensor3D) as tf.Tensor,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sy] = saved;
        return [
          tf.matMul(dy as tf.Tensor3D, transposeLast(sy) as tf.Tensor3D),
          tf.matMul(transposeLast(sx) as tf.Tensor3D, dy as tf.Tensor3D),
        ];
      },
    };
  });
  return f(a, b) as T;
}

/** x · w (+ b) for x [n, in], w [in, out]. */
export function linear(x: tf.Tensor2D, w: tf.Tensor2D, b?: tf.Tensor1D): tf.Tensor2D {
  const y = matMul(x, w);
  return b ? tf.add(y, b) : y;
}

/**
 * x · w + b where x is input data (no gradient wanted): `xT` is x transposed, built once by the
 * caller (in JS, while assembling the batch), so the weight gradient is one plain matMul.
 * x and xT are captured, not saved: the caller keeps them alive until the backward pass is done.
 */
export function linearOnData(x: tf.Tensor2D, xT: tf.Tensor2D, w: tf.Tensor2D, b?: tf.Tensor1D): tf.Tensor2D {
  if (b) {
    const f = tf.customGrad((...args: unknown[]) => {
      const [wv, bv] = args as [tf.Tensor2D, tf.Tensor1D];
      return {
        value: tf.add(tf.matMul(x, wv), bv) as tf.Tensor2D,
        gradFunc: (dy: tf.Tensor) => [tf.matMul(xT, dy as tf.Tensor2D), tf.sum(dy, 0)],
      };
    });
    return f(w, b) as tf.Tensor2D;
  }
  const f = tf.customGrad((...args: unknown[]) => {
    const [wv] = args as [tf.Tensor2D];
    return { value: tf.matMul(x, wv) as tf.Tensor2D, gradFunc: (dy: tf.Tensor) => [tf.matMul(xT, dy as tf.Tensor2D)] };
  });
  return f(w) as tf.Tensor2D;
}

/** Rows of `table` [vocab, dim] picked by `ids` (int32 [n]); gradient = one-hot(ids)ᵀ · dy. */
export function embedding(table: tf.Tensor2D, ids: tf.Tensor1D): tf.Tensor2D {
  const vocab = table.shape[0];
  const f = tf.customGrad((...args: unknown[]) => {
    const [t] = args as [tf.Tensor2D];
    return {
      value: tf.gather(t, ids) as tf.Tensor2D,
      // tfjs' Gather gradient needs UnsortedSegmentSum, which wasm lacks.
      gradFunc: (dy: tf.Tensor) => [tf.matMul(tf.transpose(tf.cast(tf.oneHot(ids, vocab), 'float32')) as tf.Tensor2D, dy as tf.Tensor2D)],
    };
  });
  return f(table) as tf.Tensor2D;
}

/**
 * conv2d (NHWC, filter [k, k, in, out], symmetric zero padding as PyTorch's `padding=pad`) + bias.
 * Input gradient: Conv2DBackpropInput. Filter gradient: itself a convolution,
 *   dW[ky, kx, ci, co] = Σ_{b,i,j} xpad[b, s·i + ky, s·j + kx, ci] · dy[b, i, j, co],
 * run as a forward conv2d of xpad (as [ci, H, W, batch]) with dy (as [i, j, batch, co]) dilated
 * by the stride. Measured on wasm (batch 256, 14×14×8 → 7×7×16): 9 ms, against ~500 ms for an
 * im2col built from strided slices, which wasm runs slowly.
 */
export function conv2d(x: tf.Tensor4D, filter: tf.Tensor4D, bias: tf.Tensor1D, stride: number, pad: number): tf.Tensor4D {
  const f = tf.customGrad((...args: unknown[]) => {
    const [xv, fv, bv, save] = args as [tf.Tensor4D, tf.Tensor4D, tf.Tensor1D, Saver];
    save([xv, fv]);
    return {
      value: tf.add(tf.conv2d(xv, fv, stride, pad), bv) as tf.Tensor4D,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sf] = saved as [tf.Tensor4D, tf.Tensor4D];
        const [k, , cin, cout] = sf.shape;
        const dy4 = dy as tf.Tensor4D;
        const dx = tf.conv2dTranspose(dy4, sf, sx.shape, stride, pad);
        const xp = pad ? tf.pad(sx, [[0, 0], [pad, pad], [pad, pad], [0, 0]]) : sx;
        const xin = tf.transpose(xp, [3, 1, 2, 0]) as tf.Tensor4D;
        const dyAsFilter = tf.transpose(dy4, [1, 2, 0, 3]) as tf.Tensor4D;
        const full = tf.conv2d(xin, dyAsFilter, 1, 'valid', 'NHWC', stride) as tf.Tensor4D;
        const dw = tf.transpose(tf.slice(full, [0, 0, 0, 0], [cin, k, k, cout]), [1, 2, 0, 3]);
        return [dx, dw, tf.sum(dy4, [0, 1, 2])];
      },
    };
  });
  return f(x, filter, bias) as tf.Tensor4D;
}

/** Mean softmax cross-entropy of logits [n, classes] against int labels. */
export function crossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  const classes = logits.shape[1];
  const oneHot = tf.cast(tf.oneHot(labels, classes), 'float32');
  return tf.neg(tf.mean(tf.sum(tf.mul(oneHot, tf.logSoftmax(logits)), 1))) as tf.Scalar;
}
