/**
 * What the zoo needs from a vision architecture (mlp.ts, cnn.ts): its parameters in both
 * layouts, a JS-side batch builder (so data-side transposes cost nothing on the backend), and a
 * forward pass. Weights travel between parents and children as plain Float32Arrays in tfjs layout.
 */
import * as tf from '@tensorflow/tfjs';
import { TensorData } from '../io/safetensors-writer';
import { initBiasFor, initWeight, InitScheme } from './init';
import { inversePermutation, permuteAxes } from './layout';
import { Rng } from './rng';
import { PhylogenyError } from '../errors';

export interface ParamSpec {
  /** PyTorch state_dict name, e.g. "fc1.weight". */
  name: string;
  /** Shape of the tfjs variable. */
  tfShape: number[];
  /** The tfjs values viewed with this shape, permuted by `perm`, are the PyTorch tensor. */
  view: number[];
  perm: number[];
  torchShape: number[];
  fanIn: number;
  kind: 'weight' | 'bias';
  /** A fixed start instead of the regime's draw (BatchNorm: weight ones, bias zeros), or a
   * scheme of its own for tensors that are not fan-in-scaled matrices (a ViT's position
   * embeddings and CLS token, which transformers draws with std 0.02 whatever the layers use). */
  init?: 'ones' | 'zeros' | InitScheme;
}

/** Parameters in tfjs layout, by PyTorch name. */
export type Weights = Map<string, Float32Array>;

export interface NetInput {
  tensors: tf.Tensor[];
}

export interface VisionNet {
  /** 'mlp' or 'cnn'. */
  kind: string;
  /** Architecture as written into models.json. */
  describe(): Record<string, unknown>;
  params: ParamSpec[];
  /** Builds backend tensors for `count` images (row-major 28×28 each). */
  makeInput(images: Float32Array, count: number): NetInput;
  /** Logits [count, classes]. */
  forward(vars: Map<string, tf.Tensor>, input: NetInput): tf.Tensor2D;
}

export function paramCount(net: VisionNet): number {
  return net.params.reduce((a, p) => a + p.tfShape.reduce((x, y) => x * y, 1), 0);
}

/** Draws initial weights in PyTorch element order (as torch would), stored in tfjs layout. */
export function initWeights(net: Pick<VisionNet, 'params'>, scheme: InitScheme, rng: Rng): Weights {
  const w: Weights = new Map();
  for (const p of net.params) {
    const count = p.torchShape.reduce((a, b) => a * b, 1);
    const torch =
      p.init === 'ones' || p.init === 'zeros'
        ? new Float32Array(count).fill(p.init === 'ones' ? 1 : 0)
        : p.init
          ? initWeight(p.init, count, p.fanIn, rng)
          : p.kind === 'weight' ? initWeight(scheme, count, p.fanIn, rng) : initBiasFor(scheme, count, p.fanIn, rng);
    w.set(p.name, permuteAxes(torch, p.perm.map((i) => p.view[i]), inversePermutation(p.perm)));
  }
  return w;
}

/** The weights as PyTorch-layout F32 tensors, in parameter order. */
export function toTorchTensors(net: Pick<VisionNet, 'params'>, weights: Weights): TensorData[] {
  return net.params.map((p) => {
    const data = weights.get(p.name);
    if (!data) throw new PhylogenyError('E_INTERNAL', `missing weight ${p.name}`);
    return { name: p.name, dtype: 'F32', shape: p.torchShape, data: permuteAxes(data, p.view, p.perm) };
  });
}

export function cloneWeights(w: Weights): Weights {
  return new Map([...w].map(([k, v]) => [k, v.slice()]));
}
