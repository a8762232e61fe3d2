/**
 * A small pre-LayerNorm transformer encoder in plain tfjs ops (tfjs-layers has none), with an
 * additive attention mask: the detector lets each token attend only to the tokens that share
 * a model with it (see graph.ts), which is what tells an edge which competitors it has.
 */
import * as tf from '@tensorflow/tfjs';

export interface LayerVars {
  ln1g: tf.Variable; ln1b: tf.Variable;
  wq: tf.Variable; wk: tf.Variable; wv: tf.Variable; wo: tf.Variable;
  ln2g: tf.Variable; ln2b: tf.Variable;
  f1: tf.Variable; fb1: tf.Variable; f2: tf.Variable; fb2: tf.Variable;
}

export function glorot(rows: number, cols: number, rand: () => number): tf.Tensor2D {
  const bound = Math.sqrt(6 / (rows + cols));
  return tf.tensor2d(Float32Array.from({ length: rows * cols }, () => (2 * rand() - 1) * bound), [rows, cols]);
}

export function createLayer(d: number, ffn: number, rand: () => number, name: string): LayerVars {
  const v = (t: tf.Tensor, n: string) => tf.variable(t, true, `${name}/${n}`);
  return {
    ln1g: v(tf.ones([d]), 'ln1g'), ln1b: v(tf.zeros([d]), 'ln1b'),
    wq: v(glorot(d, d, rand), 'wq'), wk: v(glorot(d, d, rand), 'wk'), wv: v(glorot(d, d, rand), 'wv'), wo: v(glorot(d, d, rand), 'wo'),
    ln2g: v(tf.ones([d]), 'ln2g'), ln2b: v(tf.zeros([d]), 'ln2b'),
    f1: v(glorot(d, ffn, rand), 'f1'), fb1: v(tf.zeros([ffn]), 'fb1'), f2: v(glorot(ffn, d, rand), 'f2'), fb2: v(tf.zeros([d]), 'fb2'),
  };
}

export function layerVars(l: LayerVars): tf.Variable[] {
  return [l.ln1g, l.ln1b, l.wq, l.wk, l.wv, l.wo, l.ln2g, l.ln2b, l.f1, l.fb1, l.f2, l.fb2];
}

function layerNorm(x: tf.Tensor2D, g: tf.Tensor, b: tf.Tensor): tf.Tensor2D {
  const { mean, variance } = tf.moments(x, -1, true);
  return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-5))), g), b) as tf.Tensor2D;
}

/** x: [T, d]; mask: [T, T] additive (0 or a large negative). */
export function encoderLayer(l: LayerVars, x: tf.Tensor2D, mask: tf.Tensor2D, heads: number): tf.Tensor2D {
  const [T, d] = x.shape;
  const dh = d / heads;
  const h = layerNorm(x, l.ln1g, l.ln1b);
  const split = (t: tf.Tensor2D) => tf.transpose(tf.reshape(t, [T, heads, dh]), [1, 0, 2]) as tf.Tensor3D;
  const q = split(tf.matMul(h, l.wq as tf.Tensor2D));
  const k = split(tf.matMul(h, l.wk as tf.Tensor2D));
  const v = split(tf.matMul(h, l.wv as tf.Tensor2D));
  const att = tf.softmax(tf.add(tf.div(tf.matMul(q, k, false, true), Math.sqrt(dh)), mask));
  const ctx = tf.reshape(tf.transpose(tf.matMul(att, v), [1, 0, 2]), [T, d]) as tf.Tensor2D;
  const x1 = tf.add(x, tf.matMul(ctx, l.wo as tf.Tensor2D)) as tf.Tensor2D;
  const h2 = layerNorm(x1, l.ln2g, l.ln2b);
  const ff = tf.add(tf.matMul(tf.relu(tf.add(tf.matMul(h2, l.f1 as tf.Tensor2D), l.fb1)), l.f2 as tf.Tensor2D), l.fb2);
  return tf.add(x1, ff) as tf.Tensor2D;
}
