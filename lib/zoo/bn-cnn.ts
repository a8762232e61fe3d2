/**
 * CNN with BatchNorm, as PyTorch holds it: conv1 (1→c1, 3×3, stride 2, padding 1) → bn1 →
 * ReLU → conv2 (c1→c2, 3×3, stride 2, padding 1) → bn2 → ReLU → flatten (NCHW) → fc. Each
 * BatchNorm2d has a weight (γ, starts at 1) and bias (β, 0) that train, and buffers that do
 * not: running_mean, running_var (updated in train mode with momentum 0.1, the variance
 * unbiased, as torch.nn.BatchNorm2d does) and the int64 num_batches_tracked, one more per
 * training batch. Train mode normalises by the batch's statistics (biased variance), eval
 * mode by the running ones; ε = 1e-5.
 *
 * The buffers live in `state` (per model: the zoo swaps them in before training or
 * evaluating a model), because they change outside the gradient.
 */
import * as tf from '@tensorflow/tfjs';
import type { TensorData } from '../io/safetensors-writer';
import { IMAGE_PIXELS, IMAGE_SIDE } from './data';
import { conv2d, conv2dOnData, linear } from './ops';
import { NetInput, ParamSpec, VisionNet } from './vision-net';

const K = 3;
const STRIDE = 2;
const PAD = 1;
const EPS = 1e-5;
const MOMENTUM = 0.1;

/** One model's BatchNorm buffers, by layer name ("bn1"). */
export interface BnBuffers {
  mean: Map<string, Float32Array>;
  variance: Map<string, Float32Array>;
  batches: Map<string, number>;
}

export interface BnCnn extends VisionNet {
  /** train mode (batch statistics, buffers updated) or eval mode (running statistics). */
  state: { training: boolean; buffers: BnBuffers };
  /** Fresh buffers: mean 0, variance 1, counters 0. */
  freshBuffers(): BnBuffers;
  /** The buffers as PyTorch state-dict tensors (num_batches_tracked as I64 scalars). */
  bufferTensors(b: BnBuffers): TensorData[];
}

export function isBnNet(net: VisionNet): net is BnCnn {
  return (net as Partial<BnCnn>).state !== undefined;
}

export function cloneBuffers(b: BnBuffers): BnBuffers {
  return {
    mean: new Map([...b.mean].map(([k, v]) => [k, v.slice()])),
    variance: new Map([...b.variance].map(([k, v]) => [k, v.slice()])),
    batches: new Map(b.batches),
  };
}

export function createBnCnn(c1: number, c2: number, classes = 10): BnCnn {
  const s2 = 7;
  const flat = c2 * s2 * s2;
  const layers: [string, number][] = [['bn1', c1], ['bn2', c2]];
  const bn = (name: string, c: number): ParamSpec[] => [
    { name: `${name}.weight`, tfShape: [c], view: [c], perm: [0], torchShape: [c], fanIn: c, kind: 'bias', init: 'ones' },
    { name: `${name}.bias`, tfShape: [c], view: [c], perm: [0], torchShape: [c], fanIn: c, kind: 'bias', init: 'zeros' },
  ];
  const params: ParamSpec[] = [
    { name: 'conv1.weight', tfShape: [K, K, 1, c1], view: [K, K, 1, c1], perm: [3, 2, 0, 1], torchShape: [c1, 1, K, K], fanIn: K * K, kind: 'weight' },
    { name: 'conv1.bias', tfShape: [c1], view: [c1], perm: [0], torchShape: [c1], fanIn: K * K, kind: 'bias' },
    ...bn('bn1', c1),
    { name: 'conv2.weight', tfShape: [K, K, c1, c2], view: [K, K, c1, c2], perm: [3, 2, 0, 1], torchShape: [c2, c1, K, K], fanIn: K * K * c1, kind: 'weight' },
    { name: 'conv2.bias', tfShape: [c2], view: [c2], perm: [0], torchShape: [c2], fanIn: K * K * c1, kind: 'bias' },
    ...bn('bn2', c2),
    { name: 'fc.weight', tfShape: [flat, classes], view: [s2, s2, c2, classes], perm: [3, 2, 0, 1], torchShape: [classes, flat], fanIn: flat, kind: 'weight' },
    { name: 'fc.bias', tfShape: [classes], view: [classes], perm: [0], torchShape: [classes], fanIn: flat, kind: 'bias' },
  ];
  const freshBuffers = (): BnBuffers => ({
    mean: new Map(layers.map(([n, c]) => [n, new Float32Array(c)])),
    variance: new Map(layers.map(([n, c]) => [n, new Float32Array(c).fill(1)])),
    batches: new Map(layers.map(([n]) => [n, 0])),
  });
  const state = { training: false, buffers: freshBuffers() };

  /** BatchNorm over NHWC: batch statistics in train mode (and the buffers' update), running ones in eval. */
  const norm = (x: tf.Tensor4D, name: string, vars: Map<string, tf.Tensor>): tf.Tensor4D => {
    const gamma = vars.get(`${name}.weight`)!;
    const beta = vars.get(`${name}.bias`)!;
    const b = state.buffers;
    if (!state.training) {
      const mean = tf.tensor1d(b.mean.get(name)!);
      const variance = tf.tensor1d(b.variance.get(name)!);
      return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, EPS))), gamma), beta) as tf.Tensor4D;
    }
    const { mean, variance } = tf.moments(x, [0, 1, 2]);
    const n = x.shape[0] * x.shape[1] * x.shape[2];
    // The buffers' update reads the batch statistics' values (a few dozen numbers per batch).
    const m = mean.dataSync();
    const v = variance.dataSync();
    const rm = b.mean.get(name)!;
    const rv = b.variance.get(name)!;
    for (let i = 0; i < rm.length; i++) {
      rm[i] = (1 - MOMENTUM) * rm[i] + MOMENTUM * m[i];
      rv[i] = (1 - MOMENTUM) * rv[i] + MOMENTUM * v[i] * (n / (n - 1));
    }
    b.batches.set(name, b.batches.get(name)! + 1);
    return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, EPS))), gamma), beta) as tf.Tensor4D;
  };

  return {
    kind: 'cnn-bn',
    params,
    state,
    freshBuffers,
    bufferTensors: (b) =>
      layers.flatMap(([n, c]): TensorData[] => [
        { name: `${n}.running_mean`, dtype: 'F32', shape: [c], data: b.mean.get(n)! },
        { name: `${n}.running_var`, dtype: 'F32', shape: [c], data: b.variance.get(n)! },
        { name: `${n}.num_batches_tracked`, dtype: 'I64', shape: [], data: [b.batches.get(n)!] },
      ]),
    describe: () => ({
      name: `cnn-bn-c${c1}-c${c2}`,
      type: 'convolutional with BatchNorm',
      layers: [
        `conv1=nn.Conv2d(1, ${c1}, 3, stride=2, padding=1)`, `bn1=nn.BatchNorm2d(${c1})`, 'ReLU',
        `conv2=nn.Conv2d(${c1}, ${c2}, 3, stride=2, padding=1)`, `bn2=nn.BatchNorm2d(${c2})`, 'ReLU',
        'flatten (NCHW)', `fc=nn.Linear(${flat}, ${classes})`,
      ],
    }),
    makeInput(images: Float32Array, count: number): NetInput {
      return { tensors: [tf.tensor4d(images.subarray(0, count * IMAGE_PIXELS), [count, IMAGE_SIDE, IMAGE_SIDE, 1])] };
    },
    forward(vars, input) {
      const [x] = input.tensors as tf.Tensor4D[];
      const count = x.shape[0];
      const h1 = tf.relu(norm(conv2dOnData(x, vars.get('conv1.weight') as tf.Tensor4D, vars.get('conv1.bias') as tf.Tensor1D, STRIDE, PAD), 'bn1', vars));
      const h2 = tf.relu(norm(conv2d(h1 as tf.Tensor4D, vars.get('conv2.weight') as tf.Tensor4D, vars.get('conv2.bias') as tf.Tensor1D, STRIDE, PAD), 'bn2', vars));
      return linear(tf.reshape(h2, [count, flat]) as tf.Tensor2D, vars.get('fc.weight') as tf.Tensor2D, vars.get('fc.bias') as tf.Tensor1D);
    },
  };
}
