/**
 * A LLaMA decoder in tfjs ops, matching transformers' LlamaForCausalLM: RMSNorm, rotary position
 * embeddings (rotate_half convention, so q_proj/k_proj are in HF layout without permutation),
 * causal multi-head self-attention, SwiGLU MLP, untied lm_head. Weights are kept by HF name;
 * linear weights in tfjs layout [in, out] (HF's [out, in] transposed), embed_tokens as HF.
 */
import * as tf from '@tensorflow/tfjs';
import { transpose2d } from '../layout';
import { crossEntropy, embedding, linear, matMul, transposeLast } from '../ops';
import { Rng } from '../rng';
import { HfTensorSpec, LlamaConfig, llamaTensorSpecs } from './config';
import { PhylogenyError } from '../../errors';

/** Parameters by HF name, tfjs layout. */
export type LlamaWeights = Map<string, Float32Array>;

/** tfjs shape of an HF tensor. */
export function tfShape(s: HfTensorSpec): number[] {
  return s.kind === 'linear' ? [s.shape[1], s.shape[0]] : s.shape;
}

/** transformers' _init_weights: N(0, initializer_range²) for linears and embeddings, ones for norms. */
export function initLlama(c: LlamaConfig, rng: Rng): LlamaWeights {
  const w: LlamaWeights = new Map();
  for (const s of llamaTensorSpecs(c)) {
    const n = s.shape.reduce((a, b) => a * b, 1);
    if (s.kind === 'norm') w.set(s.name, new Float32Array(n).fill(1));
    else {
      const hf = rng.fillNormal(new Float32Array(n), c.initializerRange);
      w.set(s.name, s.kind === 'linear' ? transpose2d(hf, s.shape[0], s.shape[1]) : hf);
    }
  }
  return w;
}

/** HF-layout ([out, in]) values of every tensor, in llamaTensorSpecs order. */
export function toHfTensors(c: LlamaConfig, w: LlamaWeights): { spec: HfTensorSpec; data: Float32Array }[] {
  return llamaTensorSpecs(c).map((s) => {
    const d = w.get(s.name);
    if (!d) throw new PhylogenyError('E_INTERNAL', `missing tensor ${s.name}`);
    return { spec: s, data: s.kind === 'linear' ? transpose2d(d, s.shape[1], s.shape[0]) : d };
  });
}

/** Constant tensors of a sequence length: RoPE cos/sin [T, hd] and the causal mask [T, T]. */
export interface LlamaConstants {
  cos: tf.Tensor2D;
  sin: tf.Tensor2D;
  mask: tf.Tensor2D;
}

export function llamaConstants(c: LlamaConfig, seqLen: number): LlamaConstants {
  const hd = c.hiddenSize / c.numHeads;
  const cos = new Float32Array(seqLen * hd);
  const sin = new Float32Array(seqLen * hd);
  for (let t = 0; t < seqLen; t++) {
    for (let i = 0; i < hd / 2; i++) {
      const invFreq = 1 / Math.pow(c.ropeTheta, (2 * i) / hd);
      const a = t * invFreq;
      // emb = cat(freqs, freqs): the same angle for i and i + hd/2.
      cos[t * hd + i] = cos[t * hd + i + hd / 2] = Math.cos(a);
      sin[t * hd + i] = sin[t * hd + i + hd / 2] = Math.sin(a);
    }
  }
  const mask = new Float32Array(seqLen * seqLen);
  for (let i = 0; i < seqLen; i++) for (let j = i + 1; j < seqLen; j++) mask[i * seqLen + j] = -1e9;
  return { cos: tf.tensor2d(cos, [seqLen, hd]), sin: tf.tensor2d(sin, [seqLen, hd]), mask: tf.tensor2d(mask, [seqLen, seqLen]) };
}

function rmsNorm(x: tf.Tensor2D, w: tf.Tensor, eps: number): tf.Tensor2D {
  const ms = tf.mean(tf.square(x), -1, true);
  return tf.mul(tf.mul(x, tf.rsqrt(tf.add(ms, eps))), w) as tf.Tensor2D;
}

function rotateHalf(x: tf.Tensor4D): tf.Tensor4D {
  const h = x.shape[3] / 2;
  const [x1, x2] = tf.split(x, [h, h], 3);
  return tf.concat([tf.neg(x2), x1], 3) as tf.Tensor4D;
}

function rope(x: tf.Tensor4D, k: LlamaConstants): tf.Tensor4D {
  return tf.add(tf.mul(x, k.cos), tf.mul(rotateHalf(x), k.sin)) as tf.Tensor4D;
}

/** Logits [batch·seqLen, vocab] for token ids [batch·seqLen]. */
export function llamaForward(c: LlamaConfig, vars: Map<string, tf.Tensor>, ids: tf.Tensor1D, batch: number, seqLen: number, k: LlamaConstants): tf.Tensor2D {
  const v = (n: string): tf.Tensor => {
    const t = vars.get(n);
    if (!t) throw new PhylogenyError('E_INTERNAL', `missing tensor ${n}`);
    return t;
  };
  const H = c.numHeads;
  const hd = c.hiddenSize / H;
  const heads = (t: tf.Tensor2D): tf.Tensor4D => tf.transpose(tf.reshape(t, [batch, seqLen, H, hd]), [0, 2, 1, 3]) as tf.Tensor4D;
  let x = embedding(v('model.embed_tokens.weight') as tf.Tensor2D, ids);
  for (let i = 0; i < c.numLayers; i++) {
    const p = `model.layers.${i}`;
    const h = rmsNorm(x, v(`${p}.input_layernorm.weight`), c.rmsNormEps);
    const q = rope(heads(linear(h, v(`${p}.self_attn.q_proj.weight`) as tf.Tensor2D)), k);
    const kk = rope(heads(linear(h, v(`${p}.self_attn.k_proj.weight`) as tf.Tensor2D)), k);
    const vv = heads(linear(h, v(`${p}.self_attn.v_proj.weight`) as tf.Tensor2D));
    const scores = tf.add(tf.mul(matMul(q, transposeLast(kk)), 1 / Math.sqrt(hd)), k.mask);
    const att = matMul(tf.softmax(scores), vv);
    const merged = tf.reshape(tf.transpose(att, [0, 2, 1, 3]), [batch * seqLen, c.hiddenSize]) as tf.Tensor2D;
    x = tf.add(x, linear(merged, v(`${p}.self_attn.o_proj.weight`) as tf.Tensor2D));
    const h2 = rmsNorm(x, v(`${p}.post_attention_layernorm.weight`), c.rmsNormEps);
    const gate = linear(h2, v(`${p}.mlp.gate_proj.weight`) as tf.Tensor2D);
    const up = linear(h2, v(`${p}.mlp.up_proj.weight`) as tf.Tensor2D);
    const act = tf.mul(tf.mul(gate, tf.sigmoid(gate)), up) as tf.Tensor2D; // SiLU(gate) · up
    x = tf.add(x, linear(act, v(`${p}.mlp.down_proj.weight`) as tf.Tensor2D));
  }
  x = rmsNorm(x, v('model.norm.weight'), c.rmsNormEps);
  return linear(x, v('lm_head.weight') as tf.Tensor2D);
}

/** Mean next-token cross-entropy; `ids` and `targets` are [batch·seqLen]. */
export function llamaLoss(c: LlamaConfig, vars: Map<string, tf.Tensor>, ids: tf.Tensor1D, targets: tf.Tensor1D, batch: number, seqLen: number, k: LlamaConstants): tf.Scalar {
  return crossEntropy(llamaForward(c, vars, ids, batch, seqLen, k), targets);
}

/**
 * The weights with `extra` vocabulary rows appended to embed_tokens and lm_head. New rows start
 * near the mean of the old ones (as transformers' resize_token_embeddings with mean_resizing).
 */
export function resizeVocab(c: LlamaConfig, w: LlamaWeights, extra: number, rng: Rng): { config: LlamaConfig; weights: LlamaWeights } {
  const V = c.vocabSize;
  const d = c.hiddenSize;
  const NV = V + extra;
  const out: LlamaWeights = new Map([...w].map(([n, a]) => [n, a.slice()]));
  const noise = c.initializerRange * 0.1;
  // embed_tokens [V, d] (HF layout): append rows.
  const emb = w.get('model.embed_tokens.weight') as Float32Array;
  const ne = new Float32Array(NV * d);
  ne.set(emb);
  // lm_head in tfjs layout [d, V]: append columns.
  const head = w.get('lm_head.weight') as Float32Array;
  const nh = new Float32Array(d * NV);
  for (let j = 0; j < d; j++) {
    let me = 0;
    let mh = 0;
    for (let t = 0; t < V; t++) {
      me += emb[t * d + j];
      mh += head[j * V + t];
      nh[j * NV + t] = head[j * V + t];
    }
    me /= V;
    mh /= V;
    for (let t = V; t < NV; t++) {
      ne[t * d + j] = me + noise * rng.normal();
      nh[j * NV + t] = mh + noise * rng.normal();
    }
  }
  out.set('model.embed_tokens.weight', ne);
  out.set('lm_head.weight', nh);
  return { config: { ...c, vocabSize: NV }, weights: out };
}
