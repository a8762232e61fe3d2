/**
 * A tiny diffusers UNet2DModel in tfjs, with the state-dict names and PyTorch shapes diffusers
 * gives the same config, so that the zoo's checkpoints look to the scanner like the unet of a
 * Stable Diffusion pipeline at toy scale.
 *
 * Structure (as diffusers builds UNet2DModel, time_embedding_type 'positional',
 * resnet_time_scale_shift 'default', downsample/upsample type 'conv', dropout 0):
 *
 * - time_proj: sinusoidal embedding of the timestep, block_out_channels[0] wide, cos half first
 *   (flip_sin_to_cos), frequency shift 0 — no parameters, so it is computed in JS with the batch;
 * - time_embedding: linear_1 → SiLU → linear_2, 4·block_out_channels[0] wide;
 * - conv_in: 3×3;
 * - down_blocks.i: layers_per_block ResnetBlock2D (+ an Attention after each in an
 *   AttnDownBlock2D), then a Downsample2D (3×3 conv, stride 2, padding 1) except in the last;
 *   each resnet's (or attention's) output and the downsampler's output are kept as skips;
 * - mid_block: resnets.0 → attentions.0 → resnets.1;
 * - up_blocks.i (reversed channels): layers_per_block + 1 resnets, each fed its input
 *   concatenated (channels last) with the latest unused skip, (+ attention after each in an
 *   AttnUpBlock2D), then an Upsample2D (nearest ×2, 3×3 conv) except in the last;
 * - conv_norm_out (GroupNorm) → SiLU → conv_out.
 *
 * ResnetBlock2D: norm1 → SiLU → conv1 → + time_emb_proj(SiLU(temb)) → norm2 → SiLU → conv2,
 * plus the input (through a 1×1 conv_shortcut when the channel count changes).
 * Attention: group_norm → to_q / to_k / to_v → heads of attention_head_dim channels, softmax
 * of q·kᵀ/√d → to_out.0, plus the input.
 *
 * Computation is NHWC (tfjs); conv filters are [k, k, in, out] and Linear weights [in, out] in
 * tfjs, [out, in, k, k] and [out, in] in the files. Convolutions and matMuls use lib/zoo/ops.ts
 * for the wasm backend's sake (no Conv2DBackpropFilter kernel there, slow transposed matMuls).
 */
import * as tf from '@tensorflow/tfjs';
import { conv2d, conv2dOnData, linear, matMul, transposeLast } from './ops';
import { ParamSpec } from './vision-net';
import { InvalidArgumentError } from '../errors';

export type DownBlockType = 'DownBlock2D' | 'AttnDownBlock2D';
export type UpBlockType = 'UpBlock2D' | 'AttnUpBlock2D';

export interface UNetConfig {
  sampleSize: number;
  inChannels: number;
  outChannels: number;
  blockOutChannels: number[];
  downBlockTypes: DownBlockType[];
  upBlockTypes: UpBlockType[];
  layersPerBlock: number;
  normNumGroups: number;
  attentionHeadDim: number;
  /** GroupNorm ε (diffusers' norm_eps). */
  normEps: number;
}

interface ResnetLayout {
  prefix: string;
  inC: number;
  outC: number;
}
interface AttnLayout {
  prefix: string;
  channels: number;
  heads: number;
}
interface BlockLayout {
  resnets: ResnetLayout[];
  attentions: AttnLayout[];
  /** Prefix of the down- or upsampler ("down_blocks.0.downsamplers.0"), or null in the last block. */
  resample: string | null;
}
export interface UNetLayout {
  timeDim: number;
  embDim: number;
  down: BlockLayout[];
  mid: { resnets: ResnetLayout[]; attentions: AttnLayout[] };
  up: BlockLayout[];
}

/** Spatial sizes must survive each stride-2 downsampling exactly, as they must in diffusers
 * (UNet2DModel has no upsample_size fallback: the skip concatenation would fail). */
export function validateUNetConfig(c: UNetConfig): void {
  const n = c.blockOutChannels.length;
  const bad = (msg: string) => new InvalidArgumentError('E_INVALID_ARG', `UNet config: ${msg}`);
  if (c.downBlockTypes.length !== n || c.upBlockTypes.length !== n) throw bad('one down and one up block type per block_out_channels entry');
  if (c.sampleSize % 2 ** (n - 1) !== 0) throw bad(`sample_size ${c.sampleSize} is not divisible by 2^${n - 1}`);
  if (c.layersPerBlock < 1) throw bad('layers_per_block must be at least 1');
  const lay = unetLayout(c);
  const all = [...lay.down, lay.mid, ...lay.up].flatMap((b) => [...b.resnets.flatMap((r) => [r.inC, r.outC]), ...b.attentions.map((a) => a.channels)]);
  for (const ch of [...all, c.blockOutChannels[0]]) if (ch % c.normNumGroups !== 0) throw bad(`norm_num_groups ${c.normNumGroups} does not divide ${ch} channels`);
  for (const a of [...lay.down, lay.mid, ...lay.up].flatMap((b) => b.attentions)) if (a.channels % c.attentionHeadDim !== 0) throw bad(`attention_head_dim ${c.attentionHeadDim} does not divide ${a.channels}`);
  if (lay.timeDim % 2 !== 0) throw bad('block_out_channels[0] must be even (the sinusoidal embedding has a sin and a cos half)');
}

/** The module tree of the config, with each resnet's channel counts as diffusers computes them. */
export function unetLayout(c: UNetConfig): UNetLayout {
  const ch = c.blockOutChannels;
  const n = ch.length;
  const attn = (prefix: string, channels: number): AttnLayout => ({ prefix, channels, heads: Math.max(1, Math.floor(channels / c.attentionHeadDim)) });
  const down: BlockLayout[] = [];
  let out = ch[0];
  for (let i = 0; i < n; i++) {
    const inC = out;
    out = ch[i];
    const p = `down_blocks.${i}`;
    const resnets = Array.from({ length: c.layersPerBlock }, (_, j) => ({ prefix: `${p}.resnets.${j}`, inC: j === 0 ? inC : out, outC: out }));
    const attentions = c.downBlockTypes[i] === 'AttnDownBlock2D' ? resnets.map((_, j) => attn(`${p}.attentions.${j}`, out)) : [];
    down.push({ resnets, attentions, resample: i < n - 1 ? `${p}.downsamplers.0` : null });
  }
  const last = ch[n - 1];
  const mid = {
    resnets: [0, 1].map((j) => ({ prefix: `mid_block.resnets.${j}`, inC: last, outC: last })),
    attentions: [attn('mid_block.attentions.0', last)],
  };
  const rev = [...ch].reverse();
  const up: BlockLayout[] = [];
  out = rev[0];
  for (let i = 0; i < n; i++) {
    const prevOut = out;
    out = rev[i];
    const inC = rev[Math.min(i + 1, n - 1)];
    const p = `up_blocks.${i}`;
    const layers = c.layersPerBlock + 1;
    // The last resnet of an up block takes the skip from before the matching down block (its
    // input width); the others take skips of the block's own width.
    const resnets = Array.from({ length: layers }, (_, j) => {
      const skip = j === layers - 1 ? inC : out;
      return { prefix: `${p}.resnets.${j}`, inC: (j === 0 ? prevOut : out) + skip, outC: out };
    });
    const attentions = c.upBlockTypes[i] === 'AttnUpBlock2D' ? resnets.map((_, j) => attn(`${p}.attentions.${j}`, out)) : [];
    up.push({ resnets, attentions, resample: i < n - 1 ? `${p}.upsamplers.0` : null });
  }
  return { timeDim: ch[0], embDim: 4 * ch[0], down, mid, up };
}

const conv = (name: string, cin: number, cout: number, k: number): ParamSpec[] => [
  { name: `${name}.weight`, tfShape: [k, k, cin, cout], view: [k, k, cin, cout], perm: [3, 2, 0, 1], torchShape: [cout, cin, k, k], fanIn: cin * k * k, kind: 'weight' },
  { name: `${name}.bias`, tfShape: [cout], view: [cout], perm: [0], torchShape: [cout], fanIn: cin * k * k, kind: 'bias' },
];
const dense = (name: string, cin: number, cout: number): ParamSpec[] => [
  { name: `${name}.weight`, tfShape: [cin, cout], view: [cin, cout], perm: [1, 0], torchShape: [cout, cin], fanIn: cin, kind: 'weight' },
  { name: `${name}.bias`, tfShape: [cout], view: [cout], perm: [0], torchShape: [cout], fanIn: cin, kind: 'bias' },
];
// nn.GroupNorm starts at weight 1, bias 0 whatever the init scheme.
const groupNorm = (name: string, c: number): ParamSpec[] => [
  { name: `${name}.weight`, tfShape: [c], view: [c], perm: [0], torchShape: [c], fanIn: c, kind: 'bias', init: 'ones' },
  { name: `${name}.bias`, tfShape: [c], view: [c], perm: [0], torchShape: [c], fanIn: c, kind: 'bias', init: 'zeros' },
];

function resnetParams(r: ResnetLayout, embDim: number): ParamSpec[] {
  return [
    ...groupNorm(`${r.prefix}.norm1`, r.inC),
    ...conv(`${r.prefix}.conv1`, r.inC, r.outC, 3),
    ...dense(`${r.prefix}.time_emb_proj`, embDim, r.outC),
    ...groupNorm(`${r.prefix}.norm2`, r.outC),
    ...conv(`${r.prefix}.conv2`, r.outC, r.outC, 3),
    ...(r.inC !== r.outC ? conv(`${r.prefix}.conv_shortcut`, r.inC, r.outC, 1) : []),
  ];
}

function attnParams(a: AttnLayout): ParamSpec[] {
  return [
    ...groupNorm(`${a.prefix}.group_norm`, a.channels),
    ...dense(`${a.prefix}.to_q`, a.channels, a.channels),
    ...dense(`${a.prefix}.to_k`, a.channels, a.channels),
    ...dense(`${a.prefix}.to_v`, a.channels, a.channels),
    ...dense(`${a.prefix}.to_out.0`, a.channels, a.channels),
  ];
}

/** A block's parameters in module order: attentions and resnets (nn.ModuleLists), then the resampler. */
function blockParams(b: BlockLayout, embDim: number, c: number): ParamSpec[] {
  return [...b.attentions.flatMap(attnParams), ...b.resnets.flatMap((r) => resnetParams(r, embDim)), ...(b.resample ? conv(`${b.resample}.conv`, c, c, 3) : [])];
}

export function unetParams(c: UNetConfig): ParamSpec[] {
  const lay = unetLayout(c);
  const ch = c.blockOutChannels;
  return [
    ...conv('conv_in', c.inChannels, ch[0], 3),
    ...dense('time_embedding.linear_1', lay.timeDim, lay.embDim),
    ...dense('time_embedding.linear_2', lay.embDim, lay.embDim),
    ...lay.down.flatMap((b, i) => blockParams(b, lay.embDim, ch[i])),
    ...lay.up.flatMap((b) => blockParams(b, lay.embDim, b.resnets[0].outC)),
    ...lay.mid.attentions.flatMap(attnParams),
    ...lay.mid.resnets.flatMap((r) => resnetParams(r, lay.embDim)),
    ...groupNorm('conv_norm_out', ch[0]),
    ...conv('conv_out', ch[0], c.outChannels, 3),
  ];
}

/** diffusers' config.json for the unet (the keys UNet2DModel's from_pretrained reads). */
export function unetConfigJson(c: UNetConfig, diffusersVersion = '0.27.2'): Record<string, unknown> {
  return {
    _class_name: 'UNet2DModel',
    _diffusers_version: diffusersVersion,
    sample_size: c.sampleSize,
    in_channels: c.inChannels,
    out_channels: c.outChannels,
    center_input_sample: false,
    time_embedding_type: 'positional',
    freq_shift: 0,
    flip_sin_to_cos: true,
    down_block_types: c.downBlockTypes,
    up_block_types: c.upBlockTypes,
    block_out_channels: c.blockOutChannels,
    layers_per_block: c.layersPerBlock,
    mid_block_scale_factor: 1,
    downsample_padding: 1,
    downsample_type: 'conv',
    upsample_type: 'conv',
    dropout: 0.0,
    act_fn: 'silu',
    attention_head_dim: c.attentionHeadDim,
    norm_num_groups: c.normNumGroups,
    attn_norm_num_groups: null,
    norm_eps: c.normEps,
    resnet_time_scale_shift: 'default',
    add_attention: true,
    class_embed_type: null,
    num_class_embeds: null,
    num_train_timesteps: null,
  };
}

/**
 * The sinusoidal timestep embedding (diffusers' Timesteps with flip_sin_to_cos, shift 0):
 * [cos(t·f_0..f_{h-1}), sin(t·f_0..f_{h-1})], f_i = exp(−ln(10000)·i/h), h = dim/2. Row-major
 * [timesteps.length, dim]; float64 arithmetic, rounded once.
 */
export function timestepEmbedding(timesteps: ArrayLike<number>, dim: number): Float32Array {
  const half = dim / 2;
  const out = new Float32Array(timesteps.length * dim);
  for (let b = 0; b < timesteps.length; b++) {
    for (let i = 0; i < half; i++) {
      const a = timesteps[b] * Math.exp((-Math.log(10000) * i) / half);
      out[b * dim + i] = Math.cos(a);
      out[b * dim + half + i] = Math.sin(a);
    }
  }
  return out;
}

type Vars = Map<string, tf.Tensor>;

const silu = <T extends tf.Tensor>(x: T): T => tf.mul(x, tf.sigmoid(x));

/** GroupNorm over NHWC: statistics per sample and group of channels (biased variance, as torch). */
function groupNormNhwc(x: tf.Tensor4D, vars: Vars, name: string, groups: number, eps: number): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  const xg = tf.reshape(x, [b, h * w, groups, c / groups]);
  const { mean, variance } = tf.moments(xg, [1, 3], true);
  const normed = tf.reshape(tf.mul(tf.sub(xg, mean), tf.rsqrt(tf.add(variance, eps))), [b, h, w, c]);
  return tf.add(tf.mul(normed, vars.get(`${name}.weight`)!), vars.get(`${name}.bias`)!) as tf.Tensor4D;
}

export interface UNet {
  config: UNetConfig;
  layout: UNetLayout;
  params: ParamSpec[];
  describe(): Record<string, unknown>;
  /**
   * The predicted noise [n, S, S, outChannels] for noisy samples `x` [n, S, S, inChannels]
   * (input data: no gradient is taken with respect to it) and their timestep embeddings
   * `tEmb` [n, timeDim] (timestepEmbedding).
   */
  forward(vars: Vars, x: tf.Tensor4D, tEmb: tf.Tensor2D): tf.Tensor4D;
}

export function createUNet(config: UNetConfig): UNet {
  validateUNetConfig(config);
  const layout = unetLayout(config);
  const params = unetParams(config);
  const G = config.normNumGroups;
  const eps = config.normEps;
  const w4 = (v: Vars, n: string) => v.get(`${n}.weight`) as tf.Tensor4D;
  const b1 = (v: Vars, n: string) => v.get(`${n}.bias`) as tf.Tensor1D;
  const conv3 = (v: Vars, n: string, x: tf.Tensor4D, stride = 1) => conv2d(x, w4(v, n), b1(v, n), stride, 1);
  const dense2 = (v: Vars, n: string, x: tf.Tensor2D) => linear(x, v.get(`${n}.weight`) as tf.Tensor2D, b1(v, n));

  const resnet = (v: Vars, r: ResnetLayout, x: tf.Tensor4D, embAct: tf.Tensor2D): tf.Tensor4D => {
    let h = conv3(v, `${r.prefix}.conv1`, silu(groupNormNhwc(x, v, `${r.prefix}.norm1`, G, eps)));
    const t = dense2(v, `${r.prefix}.time_emb_proj`, embAct);
    h = tf.add(h, tf.reshape(t, [t.shape[0], 1, 1, r.outC])) as tf.Tensor4D;
    h = conv3(v, `${r.prefix}.conv2`, silu(groupNormNhwc(h, v, `${r.prefix}.norm2`, G, eps)));
    const skip = r.inC !== r.outC ? conv2d(x, w4(v, `${r.prefix}.conv_shortcut`), b1(v, `${r.prefix}.conv_shortcut`), 1, 0) : x;
    return tf.add(skip, h) as tf.Tensor4D;
  };

  const attention = (v: Vars, a: AttnLayout, x: tf.Tensor4D): tf.Tensor4D => {
    const [n, hh, ww, c] = x.shape;
    const tokens = hh * ww;
    const d = c / a.heads;
    const flat = tf.reshape(groupNormNhwc(x, v, `${a.prefix}.group_norm`, G, eps), [n * tokens, c]) as tf.Tensor2D;
    // [n·tokens, c] → [n·heads, tokens, d]
    const split = (t: tf.Tensor2D) => tf.reshape(tf.transpose(tf.reshape(t, [n, tokens, a.heads, d]), [0, 2, 1, 3]), [n * a.heads, tokens, d]) as tf.Tensor3D;
    const q = split(tf.mul(dense2(v, `${a.prefix}.to_q`, flat), 1 / Math.sqrt(d)));
    const k = split(dense2(v, `${a.prefix}.to_k`, flat));
    const val = split(dense2(v, `${a.prefix}.to_v`, flat));
    const probs = tf.softmax(matMul(q, transposeLast(k))) as tf.Tensor3D;
    const mixed = tf.reshape(tf.transpose(tf.reshape(matMul(probs, val), [n, a.heads, tokens, d]), [0, 2, 1, 3]), [n * tokens, c]) as tf.Tensor2D;
    const out = tf.reshape(dense2(v, `${a.prefix}.to_out.0`, mixed), [n, hh, ww, c]);
    return tf.add(out, x) as tf.Tensor4D;
  };

  /** Nearest-neighbour ×2 (F.interpolate's 'nearest'): each pixel repeated into a 2×2 square. */
  const upsample2 = (x: tf.Tensor4D): tf.Tensor4D => {
    const [n, h, w, c] = x.shape;
    return tf.reshape(tf.mul(tf.reshape(x, [n, h, 1, w, 1, c]), tf.ones([1, 1, 2, 1, 2, 1])), [n, 2 * h, 2 * w, c]) as tf.Tensor4D;
  };

  return {
    config,
    layout,
    params,
    describe: () => ({
      name: `unet2d-${config.blockOutChannels.join('-')}-s${config.sampleSize}`,
      type: 'diffusers UNet2DModel (DDPM ε-prediction)',
      diffusers: unetConfigJson(config),
    }),
    forward(v, x, tEmb) {
      const emb = dense2(v, 'time_embedding.linear_2', silu(dense2(v, 'time_embedding.linear_1', tEmb)));
      // Every resnet applies SiLU to the embedding before its projection: computed once.
      const embAct = silu(emb);
      let h = conv2dOnData(x, w4(v, 'conv_in'), b1(v, 'conv_in'), 1, 1);
      const skips: tf.Tensor4D[] = [h];
      for (const b of layout.down) {
        b.resnets.forEach((r, j) => {
          h = resnet(v, r, h, embAct);
          if (b.attentions.length) h = attention(v, b.attentions[j], h);
          skips.push(h);
        });
        if (b.resample) {
          h = conv3(v, `${b.resample}.conv`, h, 2);
          skips.push(h);
        }
      }
      h = resnet(v, layout.mid.resnets[0], h, embAct);
      h = attention(v, layout.mid.attentions[0], h);
      h = resnet(v, layout.mid.resnets[1], h, embAct);
      for (const b of layout.up) {
        b.resnets.forEach((r, j) => {
          h = resnet(v, r, tf.concat([h, skips.pop()!], 3) as tf.Tensor4D, embAct);
          if (b.attentions.length) h = attention(v, b.attentions[j], h);
        });
        if (b.resample) h = conv3(v, `${b.resample}.conv`, upsample2(h));
      }
      h = silu(groupNormNhwc(h, v, 'conv_norm_out', G, eps));
      return conv3(v, 'conv_out', h);
    },
  };
}
