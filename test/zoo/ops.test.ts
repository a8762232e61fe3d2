/**
 * The hand-written gradients of lib/zoo/ops.ts against tfjs' own gradients (cpu backend), and
 * the same ops on the backend the zoo trains with (wasm here) against those values.
 */
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../lib/zoo/backend';
import { conv2d, conv2dOnData, embedding, linearOnData, matMul } from '../../lib/zoo/ops';
import { Rng } from '../../lib/zoo/rng';

function rand(shape: number[], seed: number): Float32Array {
  return new Rng(seed).fillNormal(new Float32Array(shape.reduce((a, b) => a * b, 1)), 1);
}

type Case = { name: string; shapes: number[][]; custom: (...t: tf.Tensor[]) => tf.Tensor; builtin: (...t: tf.Tensor[]) => tf.Tensor };

const cases: Case[] = [
  { name: 'matMul 2-D', shapes: [[5, 7], [7, 3]], custom: (a, b) => matMul(a, b), builtin: (a, b) => tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D) },
  { name: 'matMul 4-D', shapes: [[2, 3, 4, 5], [2, 3, 5, 6]], custom: (a, b) => matMul(a, b), builtin: (a, b) => tf.matMul(a as tf.Tensor3D, b as tf.Tensor3D) },
  {
    name: 'conv2d stride 2',
    shapes: [[3, 14, 14, 4], [3, 3, 4, 5], [5]],
    custom: (x, f, b) => conv2d(x as tf.Tensor4D, f as tf.Tensor4D, b as tf.Tensor1D, 2, 1),
    builtin: (x, f, b) => tf.add(tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, 2, 1), b),
  },
  {
    name: 'conv2d stride 1',
    shapes: [[2, 9, 9, 3], [3, 3, 3, 4], [4]],
    custom: (x, f, b) => conv2d(x as tf.Tensor4D, f as tf.Tensor4D, b as tf.Tensor1D, 1, 1),
    builtin: (x, f, b) => tf.add(tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, 1, 1), b),
  },
  {
    name: 'conv2d stride 2, odd size',
    shapes: [[2, 15, 15, 3], [3, 3, 3, 2], [2]],
    custom: (x, f, b) => conv2d(x as tf.Tensor4D, f as tf.Tensor4D, b as tf.Tensor1D, 2, 1),
    builtin: (x, f, b) => tf.add(tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, 2, 1), b),
  },
  {
    // Input data: the gradient with respect to x is not wanted (and not computed).
    name: 'conv2dOnData',
    shapes: [[3, 3, 1, 4], [4]],
    custom: (f, b) => conv2dOnData(DATA, f as tf.Tensor4D, b as tf.Tensor1D, 2, 1),
    builtin: (f, b) => tf.add(tf.conv2d(DATA, f as tf.Tensor4D, 2, 1), b),
  },
];

/** Fixed input data for conv2dOnData, created per backend (it must outlive each backward pass). */
let DATA: tf.Tensor4D;

/** Value and gradients of sum(op(inputs) · weights) for fixed random weights. */
function run(op: (...t: tf.Tensor[]) => tf.Tensor, shapes: number[][], seed: number): Float32Array[] {
  return tf.tidy(() => {
    const inputs = shapes.map((s, i) => tf.tensor(rand(s, seed + i), s));
    const out = op(...inputs);
    const w = tf.tensor(rand(out.shape, seed + 99), out.shape);
    const g = tf.grads((...xs: tf.Tensor[]) => tf.sum(tf.mul(op(...xs), w)))(inputs);
    return [out, ...g].map((t) => t.dataSync() as Float32Array);
  });
}

function expectClose(a: Float32Array[], b: Float32Array[], tol: number): void {
  expect(a.length).toBe(b.length);
  a.forEach((x, i) => {
    expect(x.length).toBe(b[i].length);
    let scale = 1e-6;
    let err = 0;
    for (let j = 0; j < x.length; j++) {
      scale = Math.max(scale, Math.abs(b[i][j]));
      err = Math.max(err, Math.abs(x[j] - b[i][j]));
    }
    expect(err / scale).toBeLessThan(tol);
  });
}

const reference = new Map<string, Float32Array[]>();

describe('on the cpu backend, against tfjs gradients', () => {
  beforeAll(async () => {
    await selectBackend('cpu');
    DATA = tf.tensor4d(rand([2, 28, 28, 1], 77), [2, 28, 28, 1]);
  });
  for (const c of cases) {
    test(c.name, () => {
      const ours = run(c.custom, c.shapes, 1);
      expectClose(ours, run(c.builtin, c.shapes, 1), 1e-4);
      reference.set(c.name, ours);
    });
  }
  test('linearOnData and embedding', () => {
    const x = tf.tensor2d(rand([6, 4], 3), [6, 4]);
    const w = tf.tensor2d(rand([4, 3], 4), [4, 3]);
    const b = tf.tensor1d(rand([3], 5));
    const xT = tf.transpose(x) as tf.Tensor2D; // data tensors must outlive the backward pass
    const gOurs = tf.grads((wv: tf.Tensor, bv: tf.Tensor) => tf.sum(tf.square(linearOnData(x, xT, wv as tf.Tensor2D, bv as tf.Tensor1D))))([w, b]);
    const gRef = tf.grads((wv: tf.Tensor, bv: tf.Tensor) => tf.sum(tf.square(tf.add(tf.matMul(x, wv as tf.Tensor2D), bv))))([w, b]);
    expectClose(gOurs.map((t) => t.dataSync() as Float32Array), gRef.map((t) => t.dataSync() as Float32Array), 1e-5);
    const table = tf.tensor2d(rand([7, 3], 6), [7, 3]);
    const ids = tf.tensor1d([1, 4, 4, 0, 6], 'int32');
    const eOurs = tf.grad((t: tf.Tensor) => tf.sum(tf.square(embedding(t as tf.Tensor2D, ids))))(table);
    const eRef = tf.grad((t: tf.Tensor) => tf.sum(tf.square(tf.gather(t, ids))))(table);
    expectClose([eOurs.dataSync() as Float32Array], [eRef.dataSync() as Float32Array], 1e-5);
  });
});

describe('on the training backend (auto), against the cpu values', () => {
  beforeAll(async () => {
    await selectBackend('auto');
    DATA = tf.tensor4d(rand([2, 28, 28, 1], 77), [2, 28, 28, 1]);
  });
  for (const c of cases) {
    test(c.name, () => {
      const ref = reference.get(c.name);
      expect(ref).toBeDefined();
      expectClose(run(c.custom, c.shapes, 1), ref as Float32Array[], 1e-4);
    });
  }
});
