/**
 * The tfjs UNet2DModel of lib/zoo/unet.ts: its forward pass against a float64 reference
 * written here from diffusers' definitions (NCHW, on the PyTorch-layout tensors the zoo
 * writes, so the layout conversion is checked too), its state-dict names and shapes for the
 * tiny-unet config, and one DDPM training step reaching every tensor.
 */
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../lib/zoo/backend';
import { TINY_UNET_CONFIG } from '../../lib/zoo/presets/tiny-unet';
import { Rng } from '../../lib/zoo/rng';
import { linearAlphasCumprod, trainDdpm } from '../../lib/zoo/train-ddpm';
import { createUNet, timestepEmbedding, UNetConfig, unetConfigJson } from '../../lib/zoo/unet';
import { initWeights, toTorchTensors } from '../../lib/zoo/vision-net';

beforeAll(async () => {
  await selectBackend('auto');
});

type T = { shape: number[]; data: Float32Array };
/** Per-sample activation [C, H, W], float64. */
type Act = { c: number; h: number; w: number; d: Float64Array };

/** The float64 reference: one sample at a time, straight from the module definitions. */
function referenceUNet(cfg: UNetConfig, P: Map<string, T>, x: Float64Array, t: number): Float64Array {
  const G = cfg.normNumGroups;
  const eps = cfg.normEps;
  const p = (n: string) => {
    const v = P.get(n);
    if (!v) throw new Error(`reference needs ${n}`);
    return v;
  };
  const conv = (a: Act, name: string, stride: number, pad: number): Act => {
    const W = p(`${name}.weight`);
    const B = p(`${name}.bias`).data;
    const [o, i, k] = W.shape;
    const ho = Math.floor((a.h + 2 * pad - k) / stride) + 1;
    const wo = Math.floor((a.w + 2 * pad - k) / stride) + 1;
    const d = new Float64Array(o * ho * wo);
    for (let oc = 0; oc < o; oc++)
      for (let y = 0; y < ho; y++)
        for (let xx = 0; xx < wo; xx++) {
          let s = B[oc];
          for (let ic = 0; ic < i; ic++)
            for (let ky = 0; ky < k; ky++)
              for (let kx = 0; kx < k; kx++) {
                const iy = y * stride + ky - pad;
                const ix = xx * stride + kx - pad;
                if (iy < 0 || ix < 0 || iy >= a.h || ix >= a.w) continue;
                s += W.data[((oc * i + ic) * k + ky) * k + kx] * a.d[(ic * a.h + iy) * a.w + ix];
              }
          d[(oc * ho + y) * wo + xx] = s;
        }
    return { c: o, h: ho, w: wo, d };
  };
  const norm = (a: Act, name: string): Act => {
    const g = p(`${name}.weight`).data;
    const b = p(`${name}.bias`).data;
    const per = a.c / G;
    const hw = a.h * a.w;
    const d = new Float64Array(a.d.length);
    for (let gi = 0; gi < G; gi++) {
      let m = 0;
      for (let j = gi * per * hw; j < (gi + 1) * per * hw; j++) m += a.d[j];
      m /= per * hw;
      let v = 0;
      for (let j = gi * per * hw; j < (gi + 1) * per * hw; j++) v += (a.d[j] - m) ** 2;
      v /= per * hw;
      for (let c = gi * per; c < (gi + 1) * per; c++) for (let j = 0; j < hw; j++) d[c * hw + j] = ((a.d[c * hw + j] - m) / Math.sqrt(v + eps)) * g[c] + b[c];
    }
    return { ...a, d };
  };
  const silu = (a: Act): Act => ({ ...a, d: a.d.map((v) => v / (1 + Math.exp(-v))) });
  const siluV = (v: Float64Array) => v.map((z) => z / (1 + Math.exp(-z)));
  const lin = (v: Float64Array, name: string): Float64Array => {
    const W = p(`${name}.weight`);
    const [o, i] = W.shape;
    const out = new Float64Array(o);
    for (let r = 0; r < o; r++) {
      let s = p(`${name}.bias`).data[r];
      for (let c = 0; c < i; c++) s += W.data[r * i + c] * v[c];
      out[r] = s;
    }
    return out;
  };
  const add = (a: Act, b: Act): Act => ({ ...a, d: a.d.map((v, i) => v + b.d[i]) });
  const resnet = (a: Act, pre: string, temb: Float64Array): Act => {
    let h = conv(silu(norm(a, `${pre}.norm1`)), `${pre}.conv1`, 1, 1);
    const tp = lin(siluV(temb), `${pre}.time_emb_proj`);
    h = { ...h, d: h.d.map((v, i) => v + tp[Math.floor(i / (h.h * h.w))]) };
    h = conv(silu(norm(h, `${pre}.norm2`)), `${pre}.conv2`, 1, 1);
    const skip = P.has(`${pre}.conv_shortcut.weight`) ? conv(a, `${pre}.conv_shortcut`, 1, 0) : a;
    return add(skip, h);
  };
  const attention = (a: Act, pre: string): Act => {
    const n = a.h * a.w;
    const C = a.c;
    const heads = C / cfg.attentionHeadDim;
    const dh = cfg.attentionHeadDim;
    const g = norm(a, `${pre}.group_norm`);
    const tok = (j: number) => Float64Array.from({ length: C }, (_, c) => g.d[c * n + j]);
    const q: Float64Array[] = [];
    const k: Float64Array[] = [];
    const v: Float64Array[] = [];
    for (let j = 0; j < n; j++) {
      q.push(lin(tok(j), `${pre}.to_q`));
      k.push(lin(tok(j), `${pre}.to_k`));
      v.push(lin(tok(j), `${pre}.to_v`));
    }
    const mixed = Array.from({ length: n }, () => new Float64Array(C));
    for (let hd = 0; hd < heads; hd++)
      for (let i = 0; i < n; i++) {
        const s = new Float64Array(n);
        for (let j = 0; j < n; j++) {
          let dot = 0;
          for (let e = 0; e < dh; e++) dot += q[i][hd * dh + e] * k[j][hd * dh + e];
          s[j] = dot / Math.sqrt(dh);
        }
        const mx = Math.max(...s);
        let z = 0;
        for (let j = 0; j < n; j++) z += (s[j] = Math.exp(s[j] - mx));
        for (let j = 0; j < n; j++) for (let e = 0; e < dh; e++) mixed[i][hd * dh + e] += (s[j] / z) * v[j][hd * dh + e];
      }
    const d = new Float64Array(a.d.length);
    for (let j = 0; j < n; j++) {
      const o = lin(mixed[j], `${pre}.to_out.0`);
      for (let c = 0; c < C; c++) d[c * n + j] = o[c] + a.d[c * n + j];
    }
    return { ...a, d };
  };
  const cat = (a: Act, b: Act): Act => ({ c: a.c + b.c, h: a.h, w: a.w, d: Float64Array.from([...a.d, ...b.d]) });
  const up2 = (a: Act): Act => {
    const d = new Float64Array(a.c * 4 * a.h * a.w);
    for (let c = 0; c < a.c; c++) for (let y = 0; y < 2 * a.h; y++) for (let xx = 0; xx < 2 * a.w; xx++) d[(c * 2 * a.h + y) * 2 * a.w + xx] = a.d[(c * a.h + (y >> 1)) * a.w + (xx >> 1)];
    return { c: a.c, h: 2 * a.h, w: 2 * a.w, d };
  };

  // Timesteps(flip_sin_to_cos=True, downscale_freq_shift=0): [cos, sin].
  const half = cfg.blockOutChannels[0] / 2;
  const te = new Float64Array(2 * half);
  for (let i = 0; i < half; i++) {
    const f = Math.exp((-Math.log(10000) * i) / half);
    te[i] = Math.cos(t * f);
    te[half + i] = Math.sin(t * f);
  }
  const temb = lin(siluV(lin(te, 'time_embedding.linear_1')), 'time_embedding.linear_2');
  let h = conv({ c: cfg.inChannels, h: cfg.sampleSize, w: cfg.sampleSize, d: x }, 'conv_in', 1, 1);
  const skips: Act[] = [h];
  const n = cfg.blockOutChannels.length;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < cfg.layersPerBlock; j++) {
      h = resnet(h, `down_blocks.${i}.resnets.${j}`, temb);
      if (cfg.downBlockTypes[i] === 'AttnDownBlock2D') h = attention(h, `down_blocks.${i}.attentions.${j}`);
      skips.push(h);
    }
    if (i < n - 1) {
      h = conv(h, `down_blocks.${i}.downsamplers.0.conv`, 2, 1);
      skips.push(h);
    }
  }
  h = resnet(h, 'mid_block.resnets.0', temb);
  h = attention(h, 'mid_block.attentions.0');
  h = resnet(h, 'mid_block.resnets.1', temb);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= cfg.layersPerBlock; j++) {
      h = resnet(cat(h, skips.pop()!), `up_blocks.${i}.resnets.${j}`, temb);
      if (cfg.upBlockTypes[i] === 'AttnUpBlock2D') h = attention(h, `up_blocks.${i}.attentions.${j}`);
    }
    if (i < n - 1) h = conv(up2(h), `up_blocks.${i}.upsamplers.0.conv`, 1, 1);
  }
  return conv(silu(norm(h, 'conv_norm_out')), 'conv_out', 1, 1).d;
}

const SMALL: UNetConfig = {
  sampleSize: 6,
  inChannels: 1,
  outChannels: 1,
  blockOutChannels: [8, 12],
  downBlockTypes: ['DownBlock2D', 'AttnDownBlock2D'],
  upBlockTypes: ['AttnUpBlock2D', 'UpBlock2D'],
  layersPerBlock: 1,
  normNumGroups: 4,
  attentionHeadDim: 4,
  normEps: 1e-5,
};
// Three blocks, two layers each, attention in the outer blocks, two input channels.
const DEEP: UNetConfig = {
  sampleSize: 4,
  inChannels: 2,
  outChannels: 2,
  blockOutChannels: [4, 8, 6],
  downBlockTypes: ['AttnDownBlock2D', 'DownBlock2D', 'AttnDownBlock2D'],
  upBlockTypes: ['AttnUpBlock2D', 'UpBlock2D', 'AttnUpBlock2D'],
  layersPerBlock: 2,
  normNumGroups: 2,
  attentionHeadDim: 2,
  normEps: 1e-5,
};

test.each([
  ['two blocks, 6×6 (not a power of two), 3 heads', SMALL, 'kaiming-uniform' as const],
  ['three blocks, two layers per block', DEEP, 'xavier-uniform' as const],
])('forward pass matches the float64 reference: %s', (_name, cfg, scheme) => {
  const net = createUNet(cfg);
  const rng = new Rng(11);
  const weights = initWeights(net, scheme, rng);
  // GroupNorm starts at 1 / 0: perturb it so that its weight and bias are exercised.
  for (const prm of net.params) if (prm.init) weights.set(prm.name, weights.get(prm.name)!.map((v) => v + 0.3 * rng.normal()));
  const torch = new Map(toTorchTensors(net, weights).map((t) => [t.name, { shape: t.shape, data: t.data as Float32Array }]));
  const batch = 3;
  const S = cfg.sampleSize;
  const C = cfg.inChannels;
  const x = rng.fillNormal(new Float32Array(batch * S * S * C), 1); // NHWC
  const ts = [0, 37, 999];
  const got = tf.tidy(() => {
    const vars = new Map(net.params.map((q) => [q.name, tf.tensor(weights.get(q.name)!, q.tfShape)] as [string, tf.Tensor]));
    return net.forward(vars, tf.tensor4d(x, [batch, S, S, C]), tf.tensor2d(timestepEmbedding(ts, cfg.blockOutChannels[0]), [batch, cfg.blockOutChannels[0]])).dataSync();
  });
  let maxErr = 0;
  let maxAbs = 0;
  for (let b = 0; b < batch; b++) {
    const nchw = new Float64Array(C * S * S);
    for (let c = 0; c < C; c++) for (let i = 0; i < S * S; i++) nchw[c * S * S + i] = x[(b * S * S + i) * C + c];
    const ref = referenceUNet(cfg, torch, nchw, ts[b]);
    const O = cfg.outChannels;
    for (let c = 0; c < O; c++)
      for (let i = 0; i < S * S; i++) {
        maxErr = Math.max(maxErr, Math.abs(ref[c * S * S + i] - got[(b * S * S + i) * O + c]));
        maxAbs = Math.max(maxAbs, Math.abs(ref[c * S * S + i]));
      }
  }
  expect(maxAbs).toBeGreaterThan(0.1);
  expect(maxErr / maxAbs).toBeLessThan(1e-4);
});

test("tensor names and PyTorch shapes are diffusers' for the tiny-unet config", () => {
  const net = createUNet(TINY_UNET_CONFIG);
  const got = new Map(net.params.map((q) => [q.name, q.torchShape]));
  const want = new Map<string, number[]>();
  const conv = (n: string, o: number, i: number, k: number) => {
    want.set(`${n}.weight`, [o, i, k, k]);
    want.set(`${n}.bias`, [o]);
  };
  const lin = (n: string, o: number, i: number) => {
    want.set(`${n}.weight`, [o, i]);
    want.set(`${n}.bias`, [o]);
  };
  const gn = (n: string, c: number) => {
    want.set(`${n}.weight`, [c]);
    want.set(`${n}.bias`, [c]);
  };
  const resnet = (n: string, i: number, o: number) => {
    gn(`${n}.norm1`, i);
    conv(`${n}.conv1`, o, i, 3);
    lin(`${n}.time_emb_proj`, o, 64);
    gn(`${n}.norm2`, o);
    conv(`${n}.conv2`, o, o, 3);
    if (i !== o) conv(`${n}.conv_shortcut`, o, i, 1);
  };
  const attn = (n: string, c: number) => {
    gn(`${n}.group_norm`, c);
    for (const q of ['to_q', 'to_k', 'to_v', 'to_out.0']) lin(`${n}.${q}`, c, c);
  };
  conv('conv_in', 16, 1, 3);
  lin('time_embedding.linear_1', 64, 16);
  lin('time_embedding.linear_2', 64, 64);
  resnet('down_blocks.0.resnets.0', 16, 16);
  conv('down_blocks.0.downsamplers.0.conv', 16, 16, 3);
  resnet('down_blocks.1.resnets.0', 16, 32);
  attn('down_blocks.1.attentions.0', 32);
  resnet('mid_block.resnets.0', 32, 32);
  attn('mid_block.attentions.0', 32);
  resnet('mid_block.resnets.1', 32, 32);
  resnet('up_blocks.0.resnets.0', 64, 32); // 32 from below + the 32-channel skip of down_blocks.1
  resnet('up_blocks.0.resnets.1', 48, 32); // + the downsampler's 16-channel skip
  attn('up_blocks.0.attentions.0', 32);
  attn('up_blocks.0.attentions.1', 32);
  conv('up_blocks.0.upsamplers.0.conv', 32, 32, 3);
  resnet('up_blocks.1.resnets.0', 48, 16);
  resnet('up_blocks.1.resnets.1', 32, 16);
  gn('conv_norm_out', 16);
  conv('conv_out', 1, 16, 3);
  expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
  for (const [n, s] of want) expect([n, got.get(n)]).toEqual([n, s]);
  expect(net.params.length).toBe(got.size); // no duplicates
  const cfg = unetConfigJson(TINY_UNET_CONFIG);
  expect(cfg).toMatchObject({
    _class_name: 'UNet2DModel',
    sample_size: 14,
    in_channels: 1,
    out_channels: 1,
    down_block_types: ['DownBlock2D', 'AttnDownBlock2D'],
    up_block_types: ['AttnUpBlock2D', 'UpBlock2D'],
    block_out_channels: [16, 32],
    layers_per_block: 1,
    norm_num_groups: 8,
    attention_head_dim: 8,
    flip_sin_to_cos: true,
    freq_shift: 0,
  });
});

test('one DDPM training step changes every tensor', async () => {
  const net = createUNet(SMALL);
  const start = initWeights(net, 'kaiming-normal', new Rng(5));
  const S = SMALL.sampleSize;
  const data = { side: S, count: 4, pixels: new Rng(6).fillUniform(new Float32Array(4 * S * S), -1, 1) };
  const out = await trainDdpm(net, start, data, {
    optimizer: { kind: 'adamw', learningRate: 1e-3, weightDecay: 1e-2, schedule: 'constant' },
    batchSize: 4,
    steps: 1,
    seed: 7,
    alphasCumprod: linearAlphasCumprod(1000),
  });
  expect(out.lossHistory).toHaveLength(1);
  expect(Number.isFinite(out.lossHistory[0])).toBe(true);
  const unchanged = net.params.filter((q) => out.weights.get(q.name)!.every((v, i) => v === start.get(q.name)![i])).map((q) => q.name);
  expect(unchanged).toEqual([]);
  // The β schedule: ᾱ_0 = 1 − 1e-4; ᾱ_999 = Π(1 − β_t) ≈ 4e-5 for the linear schedule.
  const a = linearAlphasCumprod(1000);
  expect(a[0]).toBeCloseTo(1 - 1e-4, 12);
  expect(a[999]).toBeGreaterThan(3e-5);
  expect(a[999]).toBeLessThan(5e-5);
});
