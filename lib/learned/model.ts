/**
 * The detector: per candidate pair, the encoder's 32 numbers per tensor plus a learned
 * tensor-type embedding, pooled over tensors, beside the scalar edge features; node tokens
 * from the node features; a masked transformer over all tokens; a logit per edge token and a
 * "no parent" logit per node token.
 */
import { DEFAULTS, type TreeModel, type UnchangedTensors, type NearTwins, type Forgetting, type TensorMajority } from '../detect/options';
import * as tf from '@tensorflow/tfjs';
import { createEncoder, EncoderVars, LATENT, trainableEncoderVars } from './encoder';
import { EDGE_FEATURES, NODE_FEATURES, TENSOR_FEATURES } from './features';
import { TENSOR_TYPES } from './matrix';
import { DEFAULT_TREE_GATE } from './tree-gate';

const TREE_PARENT = EDGE_FEATURES.indexOf('at-parent');
const TREE_ROOT = NODE_FEATURES.indexOf('at-root');
import { createLayer, encoderLayer, glorot, LayerVars, layerVars } from './transformer';

export interface DetectorConfig {
  /** Channels of the encoder's 1×1 conv (c). */
  channels: number;
  dModel: number;
  heads: number;
  layers: number;
  ffn: number;
  /** Encoder training crops (rows × cols of the matrix view). */
  cropRows: number;
  cropCols: number;
  /** Tensors per pair that enter the encoder (largest first). */
  maxTensors: number;
  candidates: 'families' | 'knn' | 'both';
  k: number;
  /** false: scalar features only (an ablation). */
  useEncoder: boolean;
  /**
   * Initial weight of the additive-tree prior: a learned scalar times the "additive tree's
   * parent" flag is added to each edge logit (and times "additive tree's root" to the
   * no-parent logit), so an untrained detector decodes to the additive tree and training
   * learns where to depart from it. 0: no prior (the network alone).
   */
  treePrior: number;
  /** false: the additive-tree features are zeroed (an ablation; treePrior should then be 0). */
  treeInput: boolean;
  /**
   * β of the tree gate at decoding (tree-gate.ts gateLogits): the additive tree's choices gain β ×
   * its direction log-odds. Not trained; set after training from a leave-one-regime-out
   * choice (scripts/eval-learned-regimes.ts). Absent in a saved detector: 0 (no gate, what
   * detectors saved before it decoded with).
   */
  treeGate?: number;
  /**
   * The additive tree's root options its tree-input features are computed with: a detector
   * must see the features it was trained on, whatever the package's defaults have since
   * become. Recorded at training (the defaults then); absent in older detector files, which
   * read as LEGACY_TREE_OPTIONS.
   */
  treeOptions?: TreeRootOptions;
}

/** additive-tree options that move its roots, and with them the tree-input features. */
export interface TreeRootOptions {
  familyFlip: number | null;
  familyNoise: number | null;
  /** Absent in detectors trained before it existed: 1, what they were trained with. */
  evidenceTemper?: number;
  /** Absent in detectors trained before it existed: null (every fake-init vote counts). */
  fakeInitAbstain?: number | null;
  /** Absent in detectors trained before it existed: 'shared-drift'. */
  treeModel?: TreeModel;
  /** Absent in detectors trained before it existed: null (the score's votes as they fall). */
  tinyStep?: number | null;
  /** Absent in detectors trained before it existed: 'ignore'. */
  unchangedTensors?: UnchangedTensors;
  /** Absent in detectors trained before it existed: 'ignore' (the fitted tree's confidences). */
  nearTwins?: NearTwins;
  /** Absent in detectors trained before it existed: 'ignore' (one increment correlation). */
  forgetting?: Forgetting;
  /** Absent in detectors trained before it existed: 'ignore' (the summed distances decide). */
  tensorMajority?: TensorMajority;
}

/** What detectors saved without `treeOptions` were trained with: family flips 0.2, no family
 * noise (the defaults until family noise was added). */
export const LEGACY_TREE_OPTIONS: TreeRootOptions = { familyFlip: 0.2, familyNoise: null };

export const DEFAULT_CONFIG: DetectorConfig = {
  channels: 4,
  dModel: 32,
  heads: 4,
  layers: 2,
  ffn: 64,
  cropRows: 8,
  cropCols: 32,
  maxTensors: 8,
  candidates: 'both',
  k: 3,
  useEncoder: true,
  treePrior: 3,
  treeInput: true,
  treeGate: DEFAULT_TREE_GATE,
  treeOptions: { familyFlip: DEFAULTS.familyFlip, familyNoise: DEFAULTS.familyNoise, evidenceTemper: DEFAULTS.evidenceTemper, fakeInitAbstain: DEFAULTS.fakeInitAbstain, treeModel: DEFAULTS.treeModel, tinyStep: DEFAULTS.tinyStep, unchangedTensors: DEFAULTS.unchangedTensors,
    // The detector reads the tree's direction confidences as features; those it was measured
    // with are the fitted tree's, so near-twin doubt ('doubt', the additive-tree default) is
    // not passed on to it (not measured for the detector).
    nearTwins: 'ignore',
    // The forgetting refit (forgetting.ts) changes the tree itself, which the detector takes as
    // input and trains on; detectors trained now record the default.
    forgetting: DEFAULTS.forgetting,
    // Tensor-majority moves (tensor-majority.ts) change the tree too: recorded like forgetting.
    tensorMajority: DEFAULTS.tensorMajority,
  },
};

export interface DetectorVars {
  config: DetectorConfig;
  encoder: EncoderVars;
  typeEmb: tf.Variable;
  tensorIn: tf.Variable;
  edgeIn: tf.Variable;
  edgeInB: tf.Variable;
  srcIn: tf.Variable;
  dstIn: tf.Variable;
  nodeIn: tf.Variable;
  nodeInB: tf.Variable;
  layers: LayerVars[];
  edgeOut: tf.Variable;
  nodeOut: tf.Variable;
  outB: tf.Variable;
  prior: tf.Variable;
}

// tfjs variable names are global: each detector gets its own prefix, which namedVars strips.
let instances = 0;

export function createDetector(config: DetectorConfig, rand: () => number): DetectorVars {
  const d = config.dModel;
  const F = EDGE_FEATURES.length;
  const G = NODE_FEATURES.length;
  const inst = `np${instances++}`;
  const v = (t: tf.Tensor, n: string) => tf.variable(t, true, `${inst}/detector/${n}`);
  return {
    config,
    encoder: createEncoder(config.channels, rand, `${inst}/encoder`),
    typeEmb: v(tf.mul(glorot(TENSOR_TYPES.length, LATENT, rand), 0.1), 'type_embedding'),
    tensorIn: v(glorot(TENSOR_FEATURES.length, LATENT, rand), 'tensor_in'),
    edgeIn: v(glorot(LATENT + F, d, rand), 'edge_in'),
    edgeInB: v(tf.zeros([d]), 'edge_in_b'),
    srcIn: v(glorot(G, d, rand), 'src_in'),
    dstIn: v(glorot(G, d, rand), 'dst_in'),
    nodeIn: v(glorot(G, d, rand), 'node_in'),
    nodeInB: v(tf.zeros([d]), 'node_in_b'),
    layers: Array.from({ length: config.layers }, (_, i) => createLayer(d, config.ffn, rand, `${inst}/detector/layer${i}`)),
    edgeOut: v(glorot(d, 1, rand), 'edge_out'),
    nodeOut: v(glorot(d, 1, rand), 'node_out'),
    outB: v(tf.zeros([1]), 'node_out_b'),
    prior: v(tf.fill([1], config.treePrior ?? 0), 'tree_prior'),
  };
}

export function trainableVars(m: DetectorVars): tf.Variable[] {
  return [
    ...(m.config.useEncoder ? trainableEncoderVars(m.encoder) : []),
    m.typeEmb, m.tensorIn,
    m.edgeIn, m.edgeInB, m.srcIn, m.dstIn, m.nodeIn, m.nodeInB,
    ...m.layers.flatMap(layerVars),
    m.edgeOut, m.nodeOut, m.outB,
    ...(m.config.treePrior ? [m.prior] : []),
  ];
}

/** Every variable, by name (what the detector directory stores). */
export function namedVars(m: DetectorVars): Map<string, tf.Variable> {
  const e = m.encoder;
  const all = [e.w1, e.b1, e.w2, e.b2, e.gamma, e.beta, e.movingMean, e.movingVar, ...trainableVars({ ...m, config: { ...m.config, useEncoder: false } })];
  return new Map(all.map((v) => [v.name.slice(v.name.indexOf('/') + 1), v]));
}

export interface SetInputs {
  /** [P, 32]: the pooled per-tensor tokens (data.ts poolTokens). */
  encoded: tf.Tensor2D;
  edge: tf.Tensor2D; // [P, F]
  node: tf.Tensor2D; // [M, G]
  src: tf.Tensor1D; // int32 [P]: a of each pair
  dst: tf.Tensor1D; // int32 [P]: b
  mask: tf.Tensor2D; // [T, T]
}

/** Logits of every token: [P] edges then [M] "no parent". */
export function detectorLogits(m: DetectorVars, x: SetInputs): tf.Tensor1D {
  const node = x.node;
  const edgeTok = tf.add(
    tf.add(tf.matMul(tf.concat([x.encoded, x.edge], 1), m.edgeIn as tf.Tensor2D), m.edgeInB),
    tf.add(tf.matMul(tf.gather(node, x.src), m.srcIn as tf.Tensor2D), tf.matMul(tf.gather(node, x.dst), m.dstIn as tf.Tensor2D)),
  ) as tf.Tensor2D;
  const nodeTok = tf.add(tf.matMul(node, m.nodeIn as tf.Tensor2D), m.nodeInB) as tf.Tensor2D;
  let h = tf.concat([edgeTok, nodeTok], 0) as tf.Tensor2D;
  for (const l of m.layers) h = encoderLayer(l, h, x.mask, m.config.heads);
  const P = x.edge.shape[0];
  const M = node.shape[0];
  let e = tf.matMul(tf.slice(h, [0, 0], [P, -1]), m.edgeOut as tf.Tensor2D);
  let n = tf.add(tf.matMul(tf.slice(h, [P, 0], [M, -1]), m.nodeOut as tf.Tensor2D), m.outB);
  if (m.config.treePrior) {
    e = tf.add(e, tf.mul(tf.slice(x.edge, [0, TREE_PARENT], [P, 1]), m.prior));
    n = tf.add(n, tf.mul(tf.slice(node, [0, TREE_ROOT], [M, 1]), m.prior));
  }
  return tf.reshape(tf.concat([e, n], 0), [P + M]) as tf.Tensor1D;
}
