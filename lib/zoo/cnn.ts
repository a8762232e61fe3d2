/**
 * Small convolutional classifier: conv1 (1→c1, 3×3, stride 2, padding 1) → ReLU → conv2
 * (c1→c2, 3×3, stride 2, padding 1) → ReLU → flatten → fc (c2·7·7 → 10). Strided convs instead
 * of max-pooling keep a training step cheap on 2 cores (pool gradients cost as much as the
 * convs). Saved exactly as the PyTorch module would hold it: conv weights [out, in, kh, kw],
 * fc weight [10, c2·7·7] over the NCHW flatten order; computed in NHWC.
 */
import * as tf from '@tensorflow/tfjs';
import { IMAGE_PIXELS, IMAGE_SIDE } from './data';
import { conv2d, conv2dOnData, linear } from './ops';
import { NetInput, ParamSpec, VisionNet } from './vision-net';

const K = 3;
const STRIDE = 2;
const PAD = 1;

function outSide(side: number): number {
  return Math.floor((side + 2 * PAD - K) / STRIDE) + 1;
}

export function createCnn(c1: number, c2: number, classes = 10): VisionNet {
  const s1 = outSide(IMAGE_SIDE); // 14
  const s2 = outSide(s1); // 7
  const flat = c2 * s2 * s2;
  const params: ParamSpec[] = [
    { name: 'conv1.weight', tfShape: [K, K, 1, c1], view: [K, K, 1, c1], perm: [3, 2, 0, 1], torchShape: [c1, 1, K, K], fanIn: K * K, kind: 'weight' },
    { name: 'conv1.bias', tfShape: [c1], view: [c1], perm: [0], torchShape: [c1], fanIn: K * K, kind: 'bias' },
    { name: 'conv2.weight', tfShape: [K, K, c1, c2], view: [K, K, c1, c2], perm: [3, 2, 0, 1], torchShape: [c2, c1, K, K], fanIn: K * K * c1, kind: 'weight' },
    { name: 'conv2.bias', tfShape: [c2], view: [c2], perm: [0], torchShape: [c2], fanIn: K * K * c1, kind: 'bias' },
    // rows of the tfjs matrix follow the NHWC flatten (y, x, c); PyTorch's follow (c, y, x).
    { name: 'fc.weight', tfShape: [flat, classes], view: [s2, s2, c2, classes], perm: [3, 2, 0, 1], torchShape: [classes, flat], fanIn: flat, kind: 'weight' },
    { name: 'fc.bias', tfShape: [classes], view: [classes], perm: [0], torchShape: [classes], fanIn: flat, kind: 'bias' },
  ];
  return {
    kind: 'cnn',
    params,
    describe: () => ({
      name: `cnn-c${c1}-c${c2}`,
      type: 'convolutional',
      layers: [
        `conv1=nn.Conv2d(1, ${c1}, 3, stride=2, padding=1)`,
        'ReLU',
        `conv2=nn.Conv2d(${c1}, ${c2}, 3, stride=2, padding=1)`,
        'ReLU',
        'flatten (NCHW)',
        `fc=nn.Linear(${flat}, ${classes})`,
      ],
    }),
    makeInput(images: Float32Array, count: number): NetInput {
      return { tensors: [tf.tensor4d(images.subarray(0, count * IMAGE_PIXELS), [count, IMAGE_SIDE, IMAGE_SIDE, 1])] };
    },
    forward(vars, input) {
      const [x] = input.tensors as tf.Tensor4D[];
      const count = x.shape[0];
      const h1 = tf.relu(conv2dOnData(x, vars.get('conv1.weight') as tf.Tensor4D, vars.get('conv1.bias') as tf.Tensor1D, STRIDE, PAD));
      const h2 = tf.relu(conv2d(h1, vars.get('conv2.weight') as tf.Tensor4D, vars.get('conv2.bias') as tf.Tensor1D, STRIDE, PAD));
      return linear(tf.reshape(h2, [count, flat]) as tf.Tensor2D, vars.get('fc.weight') as tf.Tensor2D, vars.get('fc.bias') as tf.Tensor1D);
    },
  };
}
