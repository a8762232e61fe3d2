/**
 * Fully connected classifier 784 → hidden… → 10 with ReLU, as the paper's fully connected
 * setting. PyTorch names fc1, fc2, … with weights [out, in]; computed as x · W[in, out].
 */
import * as tf from '@tensorflow/tfjs';
import { IMAGE_PIXELS } from './data';
import { linear, linearOnData } from './ops';
import { transpose2d } from './layout';
import { NetInput, ParamSpec, VisionNet } from './vision-net';

export function createMlp(hidden: number[], classes = 10): VisionNet {
  const sizes = [IMAGE_PIXELS, ...hidden, classes];
  const params: ParamSpec[] = [];
  for (let i = 0; i + 1 < sizes.length; i++) {
    const [fin, fout] = [sizes[i], sizes[i + 1]];
    params.push({ name: `fc${i + 1}.weight`, tfShape: [fin, fout], view: [fin, fout], perm: [1, 0], torchShape: [fout, fin], fanIn: fin, kind: 'weight' });
    params.push({ name: `fc${i + 1}.bias`, tfShape: [fout], view: [fout], perm: [0], torchShape: [fout], fanIn: fin, kind: 'bias' });
  }
  const layers = sizes.length - 1;
  return {
    kind: 'mlp',
    params,
    describe: () => ({
      name: `mlp-${sizes.join('-')}`,
      type: 'fully connected',
      layers: sizes,
      activation: 'relu',
      pytorch: `nn.Sequential-equivalent of ${Array.from({ length: layers }, (_, i) => `fc${i + 1}=nn.Linear(${sizes[i]}, ${sizes[i + 1]})`).join(', ')} with ReLU between`,
    }),
    makeInput(images: Float32Array, count: number): NetInput {
      const x = images.subarray(0, count * IMAGE_PIXELS);
      // xᵀ built here, in JS, so the first layer's weight gradient is one plain matMul.
      return { tensors: [tf.tensor2d(x, [count, IMAGE_PIXELS]), tf.tensor2d(transpose2d(x, count, IMAGE_PIXELS), [IMAGE_PIXELS, count])] };
    },
    forward(vars, input) {
      const [x, xT] = input.tensors as tf.Tensor2D[];
      let h = linearOnData(x, xT, vars.get('fc1.weight') as tf.Tensor2D, vars.get('fc1.bias') as tf.Tensor1D);
      for (let i = 2; i <= layers; i++) {
        h = linear(tf.relu(h), vars.get(`fc${i}.weight`) as tf.Tensor2D, vars.get(`fc${i}.bias`) as tf.Tensor1D);
      }
      return h;
    },
  };
}
