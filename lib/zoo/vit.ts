/**
 * A small Vision Transformer, held and written exactly as transformers' ViTForImageClassification
 * (pre-LayerNorm encoder, no pooler, classifier on the CLS token): 28×28×1 images cut into 7×7
 * patches (16 patches + CLS = 17 tokens), hidden size D, `layers` encoder layers of `heads`
 * heads, MLP size M, exact (erf) GELU, LayerNorm ε = 1e-12, no dropout (ViTConfig's defaults
 * are 0.0). State-dict names, order and PyTorch shapes are HF's, so a checkpoint loads into
 * ViTForImageClassification(ViTConfig(image_size=28, patch_size=7, num_channels=1, …)).
 *
 * Layouts: Linear weights are held [in, out] (HF [out, in] transposed, as mlp.ts). The patch
 * embedding is a conv with kernel = stride = patch, i.e. one matMul of the flattened patches
 * [B·16, 49] with a [49, D] weight whose rows are (ky, kx) in row-major order — exactly the
 * conv filter [7, 7, 1, D] of bn-cnn.ts flattened, so the same view/perm gives torch's
 * [D, 1, 7, 7]. The patches (and their transpose, for the weight gradient) are built in JS in
 * makeInput: input data needs no gradient and the backend sees no strided gathers.
 */
import * as tf from '@tensorflow/tfjs';
import { IMAGE_PIXELS, IMAGE_SIDE } from './data';
import { linear, linearOnData, matMul } from './ops';
import { NetInput, ParamSpec, VisionNet } from './vision-net';
import { InvalidArgumentError } from '../errors';

export interface VitConfig {
  patch: number;
  hidden: number;
  layers: number;
  heads: number;
  mlp: number;
  classes: number;
}

export const DEFAULT_VIT: VitConfig = { patch: 7, hidden: 32, layers: 2, heads: 2, mlp: 64, classes: 10 };

/** transformers' ViTConfig.layer_norm_eps default. */
const LN_EPS = 1e-12;

export function createVit(config: Partial<VitConfig> = {}): VisionNet {
  const c = { ...DEFAULT_VIT, ...config };
  const P = c.patch;
  const D = c.hidden;
  const H = c.heads;
  const hd = D / H;
  const side = IMAGE_SIDE / P;
  const N = side * side;
  const T = N + 1;
  const pix = P * P;
  if (!Number.isInteger(side) || !Number.isInteger(hd)) throw new InvalidArgumentError('E_INVALID_ARG', `ViT: patch ${P} must divide ${IMAGE_SIDE} and heads ${H} must divide hidden ${D}`);

  const linearParams = (name: string, fin: number, fout: number): ParamSpec[] => [
    { name: `${name}.weight`, tfShape: [fin, fout], view: [fin, fout], perm: [1, 0], torchShape: [fout, fin], fanIn: fin, kind: 'weight' },
    { name: `${name}.bias`, tfShape: [fout], view: [fout], perm: [0], torchShape: [fout], fanIn: fin, kind: 'bias' },
  ];
  // LayerNorm γ starts at 1 and β at 0 (nn.LayerNorm's reset_parameters), whatever the regime.
  const layerNorm = (name: string): ParamSpec[] => [
    { name: `${name}.weight`, tfShape: [D], view: [D], perm: [0], torchShape: [D], fanIn: D, kind: 'bias', init: 'ones' },
    { name: `${name}.bias`, tfShape: [D], view: [D], perm: [0], torchShape: [D], fanIn: D, kind: 'bias', init: 'zeros' },
  ];
  // CLS token and position embeddings are no fan-in-scaled matrices, so the regime's scheme
  // (Kaiming, Xavier, …) has no meaning for them; they are drawn as transformers'
  // ViTPreTrainedModel._init_weights draws them for every ViT, N(0, 0.02²) truncated. Fixed
  // across regimes, they start as a real ViT's do. (transformers truncates at ±2 absolute, in
  // effect not at all at this std; the zoo's scheme truncates at ±2σ, which moves ~5% of draws.)
  const embedding = (name: string, shape: number[]): ParamSpec => ({
    name,
    tfShape: shape,
    view: shape,
    perm: shape.map((_, i) => i),
    torchShape: shape,
    fanIn: D,
    kind: 'weight',
    init: 'truncated-normal-0.02',
  });
  // HF's state-dict order (module registration order), which also puts the classifier last.
  const params: ParamSpec[] = [
    embedding('vit.embeddings.cls_token', [1, 1, D]),
    embedding('vit.embeddings.position_embeddings', [1, T, D]),
    { name: 'vit.embeddings.patch_embeddings.projection.weight', tfShape: [pix, D], view: [P, P, 1, D], perm: [3, 2, 0, 1], torchShape: [D, 1, P, P], fanIn: pix, kind: 'weight' },
    { name: 'vit.embeddings.patch_embeddings.projection.bias', tfShape: [D], view: [D], perm: [0], torchShape: [D], fanIn: pix, kind: 'bias' },
  ];
  for (let i = 0; i < c.layers; i++) {
    const l = `vit.encoder.layer.${i}`;
    params.push(
      ...linearParams(`${l}.attention.attention.query`, D, D),
      ...linearParams(`${l}.attention.attention.key`, D, D),
      ...linearParams(`${l}.attention.attention.value`, D, D),
      ...linearParams(`${l}.attention.output.dense`, D, D),
      ...linearParams(`${l}.intermediate.dense`, D, c.mlp),
      ...linearParams(`${l}.output.dense`, c.mlp, D),
      ...layerNorm(`${l}.layernorm_before`),
      ...layerNorm(`${l}.layernorm_after`),
    );
  }
  params.push(...layerNorm('vit.layernorm'), ...linearParams('classifier', D, c.classes));

  const layerNormOf = (x: tf.Tensor2D, vars: Map<string, tf.Tensor>, name: string): tf.Tensor2D => {
    const mean = tf.mean(x, -1, true);
    const centered = tf.sub(x, mean);
    const variance = tf.mean(tf.square(centered), -1, true);
    return tf.add(tf.mul(tf.mul(centered, tf.rsqrt(tf.add(variance, LN_EPS))), vars.get(`${name}.weight`)!), vars.get(`${name}.bias`)!) as tf.Tensor2D;
  };
  const lin = (x: tf.Tensor2D, vars: Map<string, tf.Tensor>, name: string): tf.Tensor2D =>
    linear(x, vars.get(`${name}.weight`) as tf.Tensor2D, vars.get(`${name}.bias`) as tf.Tensor1D);
  // ACT2FN['gelu'] is the exact erf form; wasm has an Erf kernel and tfjs an Erf gradient.
  const gelu = (x: tf.Tensor2D): tf.Tensor2D => tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1)) as tf.Tensor2D;

  return {
    kind: 'vit',
    params,
    describe: () => ({
      name: `vit-p${P}-d${D}-l${c.layers}-h${H}-m${c.mlp}`,
      type: 'vision transformer (pre-LayerNorm)',
      patches: `${N} patches of ${P}×${P} + CLS token`,
      hidden: D,
      layers: c.layers,
      heads: H,
      mlp: c.mlp,
      activation: 'gelu (exact, erf)',
      layerNormEps: LN_EPS,
      pytorch:
        `transformers ViTForImageClassification(ViTConfig(image_size=${IMAGE_SIDE}, patch_size=${P}, num_channels=1, hidden_size=${D}, ` +
        `num_hidden_layers=${c.layers}, num_attention_heads=${H}, intermediate_size=${c.mlp}, hidden_act='gelu', layer_norm_eps=${LN_EPS}, ` +
        `hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, qkv_bias=True, num_labels=${c.classes}))`,
    }),
    makeInput(images: Float32Array, count: number): NetInput {
      // Row (b·N + py·side + px) is patch (py, px) of image b, its pixels (ky, kx) row-major:
      // the order of HF's conv → flatten(2) → transpose(1, 2).
      const rows = count * N;
      const x = new Float32Array(rows * pix);
      const xT = new Float32Array(rows * pix);
      for (let b = 0; b < count; b++) {
        const img = b * IMAGE_PIXELS;
        for (let py = 0; py < side; py++) {
          for (let px = 0; px < side; px++) {
            const row = b * N + py * side + px;
            for (let ky = 0; ky < P; ky++) {
              for (let kx = 0; kx < P; kx++) {
                const v = images[img + (py * P + ky) * IMAGE_SIDE + px * P + kx];
                const col = ky * P + kx;
                x[row * pix + col] = v;
                xT[col * rows + row] = v;
              }
            }
          }
        }
      }
      return { tensors: [tf.tensor2d(x, [rows, pix]), tf.tensor2d(xT, [pix, rows])] };
    },
    forward(vars, input) {
      const [x, xT] = input.tensors as tf.Tensor2D[];
      const B = x.shape[0] / N;
      const patches = tf.reshape(
        linearOnData(x, xT, vars.get('vit.embeddings.patch_embeddings.projection.weight') as tf.Tensor2D, vars.get('vit.embeddings.patch_embeddings.projection.bias') as tf.Tensor1D),
        [B, N, D],
      );
      // The CLS token broadcast to the batch by an add, whose gradient sums over the batch.
      const cls = tf.add(tf.zeros([B, 1, D]), vars.get('vit.embeddings.cls_token')!);
      const tokens = tf.add(tf.concat([cls, patches], 1), vars.get('vit.embeddings.position_embeddings')!);
      let h = tf.reshape(tokens, [B * T, D]) as tf.Tensor2D;
      const scale = 1 / Math.sqrt(hd);
      for (let i = 0; i < c.layers; i++) {
        const l = `vit.encoder.layer.${i}`;
        const a = layerNormOf(h, vars, `${l}.layernorm_before`);
        const q = tf.transpose(tf.reshape(lin(a, vars, `${l}.attention.attention.query`), [B, T, H, hd]), [0, 2, 1, 3]);
        // Keys laid out [B, H, hd, T] by one transpose, so scores are a plain matMul.
        const kT = tf.transpose(tf.reshape(lin(a, vars, `${l}.attention.attention.key`), [B, T, H, hd]), [0, 2, 3, 1]);
        const v = tf.transpose(tf.reshape(lin(a, vars, `${l}.attention.attention.value`), [B, T, H, hd]), [0, 2, 1, 3]);
        const probs = tf.softmax(tf.mul(matMul(q, kT), scale));
        const context = tf.reshape(tf.transpose(matMul(probs, v), [0, 2, 1, 3]), [B * T, D]) as tf.Tensor2D;
        h = tf.add(h, lin(context, vars, `${l}.attention.output.dense`));
        const m = gelu(lin(layerNormOf(h, vars, `${l}.layernorm_after`), vars, `${l}.intermediate.dense`));
        h = tf.add(h, lin(m, vars, `${l}.output.dense`));
      }
      // HF normalises every token, then classifies token 0; LayerNorm is per token, so
      // normalising the CLS token alone gives the same logits.
      const clsOut = tf.reshape(tf.slice(tf.reshape(h, [B, T, D]), [0, 0, 0], [B, 1, D]), [B, D]) as tf.Tensor2D;
      return lin(layerNormOf(clsOut, vars, 'vit.layernorm'), vars, 'classifier');
    },
  };
}
