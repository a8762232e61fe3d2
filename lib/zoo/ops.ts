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
 * Filter gradient of a conv2d (NHWC, filter [k, k, in, out], zero padding `pad`), itself a
 * convolution:
 *   dW[ky, kx, ci, co] = Σ_{b,i,j} xpad[b, s·i + ky, s·j + kx, ci] · dy[b, i, j, co],
 * run as a forward conv2d of xpad (as [ci, H, W, batch]) with dy (as [i, j, batch, co]) dilated
 * by the stride. wasm has no Conv2DBackpropFilter; measured there (batch 256, 14×14×8 → 7×7×16)
 * this takes 9 ms, against ~500 ms for an im2col built from strided slices.
 */
export function conv2dFilterGrad(x: tf.Tensor4D, dy: tf.Tensor4D, k: number, stride: number, pad: number): tf.Tensor4D {
  const cin = x.shape[3];
  const cout = dy.shape[3];
  const xp = pad ? tf.pad(x, [[0, 0], [pad, pad], [pad, pad], [0, 0]]) : x;
  const xin = tf.transpose(xp, [3, 1, 2, 0]) as tf.Tensor4D;
  const dyAsFilter = tf.transpose(dy, [1, 2, 0, 3]) as tf.Tensor4D;
  const full = tf.conv2d(xin, dyAsFilter, 1, 'valid', 'NHWC', stride) as tf.Tensor4D;
  return tf.transpose(tf.slice(full, [0, 0, 0, 0], [cin, k, k, cout]), [1, 2, 0, 3]) as tf.Tensor4D;
}

/**
 * Input gradient of a conv2d, as a forward convolution of dy (zeros interleaved for the
 * stride) with the flipped filter: exact, and ~4× faster on wasm than its
 * Conv2DBackpropInput kernel (measured 28 ms against 110 ms at batch 1024, 7×7×16 → 14×14×8).
 */
export function conv2dInputGrad(dy: tf.Tensor4D, filter: tf.Tensor4D, inShape: [number, number, number, number], stride: number, pad: number): tf.Tensor4D {
  const [n, ho, wo, cout] = dy.shape;
  const k = filter.shape[0];
  const [, hin, win] = inShape;
  const spread =
    stride === 1
      ? dy
      : (tf.reshape(
          tf.pad(tf.reshape(dy, [n, ho, 1, wo, 1, cout]), [[0, 0], [0, 0], [0, stride - 1], [0, 0], [0, stride - 1], [0, 0]]),
          [n, ho * stride, wo * stride, cout],
        ) as tf.Tensor4D);
  const flipped = tf.reverse(tf.transpose(filter, [0, 1, 3, 2]), [0, 1]) as tf.Tensor4D;
  const lead = k - 1 - pad;
  // Trailing padding that makes the output exactly [hin, win]; negative means crop.
  const trailH = hin + pad - ho * stride;
  const trailW = win + pad - wo * stride;
  let src = spread;
  if (trailH < 0 || trailW < 0) {
    src = tf.slice(spread, [0, 0, 0, 0], [n, ho * stride + Math.min(0, trailH), wo * stride + Math.min(0, trailW), cout]) as tf.Tensor4D;
  }
  const padding: [[number, number], [number, number], [number, number], [number, number]] = [[0, 0], [lead, Math.max(0, trailH)], [lead, Math.max(0, trailW)], [0, 0]];
  return tf.conv2d(src, flipped, 1, padding) as tf.Tensor4D;
}

/**
 * conv2d (NHWC, filter [k, k, in, out], symmetric zero padding as PyTorch's `padding=pad`) + bias,
 * with the gradients above.
 */
export function conv2d(x: tf.Tensor4D, filter: tf.Tensor4D, bias: tf.Tensor1D, stride: number, pad: number): tf.Tensor4D {
  const f = tf.customGrad((...args: unknown[]) => {
    const [xv, fv, bv, save] = args as [tf.Tensor4D, tf.Tensor4D, tf.Tensor1D, Saver];
    save([xv, fv]);
    return {
      value: tf.add(tf.conv2d(xv, fv, stride, pad), bv) as tf.Tensor4D,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sf] = saved as [tf.Tensor4D, tf.Tensor4D];
        const dy4 = dy as tf.Tensor4D;
        return [conv2dInputGrad(dy4, sf, sx.shape, stride, pad), conv2dFilterGrad(sx, dy4, sf.shape[0], stride, pad), tf.sum(dy4, [0, 1, 2])];
      },
    };
  });
  return f(x, filter, bias) as tf.Tensor4D;
}

/** conv2d over input data: gradients for filter and bias only (x is captured, kept alive by the caller). */
export function conv2dOnData(x: tf.Tensor4D, filter: tf.Tensor4D, bias: tf.Tensor1D, stride: number, pad: number): tf.Tensor4D {
  const f = tf.customGrad((...args: unknown[]) => {
    const [fv, bv] = args as [tf.Tensor4D, tf.Tensor1D];
    return {
      value: tf.add(tf.conv2d(x, fv, stride, pad), bv) as tf.Tensor4D,
      gradFunc: (dy: tf.Tensor) => [conv2dFilterGrad(x, dy as tf.Tensor4D, fv.shape[0], stride, pad), tf.sum(dy, [0, 1, 2])],
    };
  });
  return f(filter, bias) as tf.Tensor4D;
}

/** Mean softmax cross-entropy of logits [n, classes] against int labels. */
export function crossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  const classes = logits.shape[1];
  const oneHot = tf.cast(tf.oneHot(labels, classes), 'float32');
  return tf.neg(tf.mean(tf.sum(tf.mul(oneHot, tf.logSoftmax(logits)), 1))) as tf.Scalar;
}
