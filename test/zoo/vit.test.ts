/**
 * The regimes zoo's ViT (lib/zoo/vit.ts): its forward pass on the training backend against a
 * float64 reference written from transformers' ViTForImageClassification definition and fed the
 * PyTorch-layout tensors (so the tfjs → torch layout mapping is checked with it), gradients
 * reaching every tensor, and the state-dict names and shapes HF uses.
 */
import { selectBackend } from '../../lib/zoo/backend';
import { ImageSet, IMAGE_PIXELS } from '../../lib/zoo/data';
import { Rng } from '../../lib/zoo/rng';
import { trainRegime } from '../../lib/zoo/train-regime';
import { initWeights, toTorchTensors, Weights } from '../../lib/zoo/vision-net';
import { createVit } from '../../lib/zoo/vit';
import * as tf from '@tensorflow/tfjs';

const D = 32;
const T = 17;
const M = 64;
const LAYERS = 2;
const HEADS = 2;

beforeAll(async () => {
  await selectBackend('auto');
});

/** erf in float64: its Maclaurin series near 0, a continued fraction for erfc in the tails. */
function erf(x: number): number {
  const a = Math.abs(x);
  if (a < 2.5) {
    let term = x;
    let sum = x;
    for (let n = 1; n < 80; n++) {
      term *= (-x * x) / n;
      sum += term / (2 * n + 1);
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  let t = 0;
  for (let n = 60; n >= 1; n--) t = n / 2 / (a + t);
  const erfc = Math.exp(-a * a) / Math.sqrt(Math.PI) / (a + t);
  return Math.sign(x) * (1 - erfc);
}

/** The logits of ViTForImageClassification (eval mode) in float64, from PyTorch-layout tensors. */
function reference(t: Map<string, Float32Array>, images: Float32Array, count: number): Float64Array[] {
  const g = (n: string) => t.get(n)!;
  /** y = x Wᵀ + b for an nn.Linear weight [out, in]. */
  const linear = (x: Float64Array, name: string, fin: number, fout: number): Float64Array => {
    const w = g(`${name}.weight`);
    const b = g(`${name}.bias`);
    const y = new Float64Array(fout);
    for (let o = 0; o < fout; o++) {
      let s = b[o];
      for (let i = 0; i < fin; i++) s += w[o * fin + i] * x[i];
      y[o] = s;
    }
    return y;
  };
  const layerNorm = (x: Float64Array, name: string): Float64Array => {
    const mean = x.reduce((a, v) => a + v, 0) / x.length;
    const variance = x.reduce((a, v) => a + (v - mean) ** 2, 0) / x.length;
    const w = g(`${name}.weight`);
    const b = g(`${name}.bias`);
    return x.map((v, i) => ((v - mean) / Math.sqrt(variance + 1e-12)) * w[i] + b[i]);
  };
  const out: Float64Array[] = [];
  for (let n = 0; n < count; n++) {
    const img = images.subarray(n * IMAGE_PIXELS, (n + 1) * IMAGE_PIXELS);
    const cls = g('vit.embeddings.cls_token');
    const pos = g('vit.embeddings.position_embeddings');
    const conv = g('vit.embeddings.patch_embeddings.projection.weight'); // [D, 1, 7, 7]
    const convB = g('vit.embeddings.patch_embeddings.projection.bias');
    let h: Float64Array[] = [Float64Array.from(cls, (v, d) => v + pos[d])];
    for (let py = 0; py < 4; py++) {
      for (let px = 0; px < 4; px++) {
        const e = new Float64Array(D);
        const p = 1 + py * 4 + px;
        for (let d = 0; d < D; d++) {
          let s = convB[d] + pos[p * D + d];
          for (let ky = 0; ky < 7; ky++) for (let kx = 0; kx < 7; kx++) s += conv[d * 49 + ky * 7 + kx] * img[(py * 7 + ky) * 28 + px * 7 + kx];
          e[d] = s;
        }
        h.push(e);
      }
    }
    const hd = D / HEADS;
    for (let l = 0; l < LAYERS; l++) {
      const p = `vit.encoder.layer.${l}`;
      const a = h.map((x) => layerNorm(x, `${p}.layernorm_before`));
      const q = a.map((x) => linear(x, `${p}.attention.attention.query`, D, D));
      const k = a.map((x) => linear(x, `${p}.attention.attention.key`, D, D));
      const v = a.map((x) => linear(x, `${p}.attention.attention.value`, D, D));
      const ctx = h.map(() => new Float64Array(D));
      for (let head = 0; head < HEADS; head++) {
        for (let i = 0; i < T; i++) {
          const s = new Float64Array(T);
          for (let j = 0; j < T; j++) {
            for (let e = 0; e < hd; e++) s[j] += q[i][head * hd + e] * k[j][head * hd + e];
            s[j] /= Math.sqrt(hd);
          }
          const mx = Math.max(...s);
          const ex = s.map((x) => Math.exp(x - mx));
          const z = ex.reduce((x, y) => x + y, 0);
          for (let j = 0; j < T; j++) for (let e = 0; e < hd; e++) ctx[i][head * hd + e] += (ex[j] / z) * v[j][head * hd + e];
        }
      }
      h = h.map((x, i) => {
        const attn = linear(ctx[i], `${p}.attention.output.dense`, D, D);
        const r = x.map((y, d) => y + attn[d]);
        const mid = linear(layerNorm(r, `${p}.layernorm_after`), `${p}.intermediate.dense`, D, M).map((y) => 0.5 * y * (1 + erf(y / Math.SQRT2)));
        const mlp = linear(mid, `${p}.output.dense`, M, D);
        return r.map((y, d) => y + mlp[d]);
      });
    }
    out.push(linear(layerNorm(h[0], 'vit.layernorm'), 'classifier', D, 10));
  }
  return out;
}

/** Fresh weights with every tensor perturbed, so LayerNorm gains and shifts are not 1 and 0. */
function randomWeights(seed: number): Weights {
  const net = createVit();
  const rng = new Rng(seed);
  const w = initWeights(net, 'kaiming-uniform', rng);
  for (const v of w.values()) for (let i = 0; i < v.length; i++) v[i] += 0.2 * rng.normal();
  return w;
}

test('forward pass matches a float64 reference of ViTForImageClassification', () => {
  const net = createVit();
  const w = randomWeights(5);
  const count = 6;
  const images = new Rng(6).fillUniform(new Float32Array(count * IMAGE_PIXELS), 0, 1);
  const vars = new Map(net.params.map((p) => [p.name, tf.tensor(w.get(p.name)!, p.tfShape)] as [string, tf.Tensor]));
  const input = net.makeInput(images, count);
  const logits = net.forward(vars, input);
  expect(logits.shape).toEqual([count, 10]);
  const got = logits.dataSync();
  tf.dispose([logits, ...vars.values(), ...input.tensors]);
  const torch = new Map(toTorchTensors(net, w).map((t) => [t.name, t.data as Float32Array]));
  const want = reference(torch, images, count);
  let scale = 0;
  let err = 0;
  want.forEach((row, n) =>
    row.forEach((v, c) => {
      scale = Math.max(scale, Math.abs(v));
      err = Math.max(err, Math.abs(got[n * 10 + c] - v));
    }),
  );
  expect(scale).toBeGreaterThan(0.1);
  expect(err / scale).toBeLessThan(1e-4);
});

test('one training step changes every tensor', async () => {
  const net = createVit();
  const start = randomWeights(7);
  const count = 32;
  const rng = new Rng(8);
  const data: ImageSet = { images: rng.fillUniform(new Float32Array(count * IMAGE_PIXELS), 0, 1), labels: Int32Array.from({ length: count }, (_, i) => i % 10), count };
  const out = await trainRegime(net, start, data, { optimizer: { kind: 'adam', learningRate: 1e-3, weightDecay: 0, schedule: 'constant' }, batchSize: count, steps: 1, seed: 9 });
  for (const p of net.params) {
    const a = start.get(p.name)!;
    const b = out.weights.get(p.name)!;
    let changed = 0;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) changed++;
    // Adam's first step moves every element with a non-zero gradient by about the learning rate.
    expect([p.name, changed]).toEqual([p.name, a.length]);
  }
});

test('PyTorch tensors carry the names and shapes of ViTForImageClassification', () => {
  const net = createVit();
  const layer = (i: number): [string, number[]][] => {
    const p = `vit.encoder.layer.${i}`;
    return [
      [`${p}.attention.attention.query.weight`, [D, D]],
      [`${p}.attention.attention.query.bias`, [D]],
      [`${p}.attention.attention.key.weight`, [D, D]],
      [`${p}.attention.attention.key.bias`, [D]],
      [`${p}.attention.attention.value.weight`, [D, D]],
      [`${p}.attention.attention.value.bias`, [D]],
      [`${p}.attention.output.dense.weight`, [D, D]],
      [`${p}.attention.output.dense.bias`, [D]],
      [`${p}.intermediate.dense.weight`, [M, D]],
      [`${p}.intermediate.dense.bias`, [M]],
      [`${p}.output.dense.weight`, [D, M]],
      [`${p}.output.dense.bias`, [D]],
      [`${p}.layernorm_before.weight`, [D]],
      [`${p}.layernorm_before.bias`, [D]],
      [`${p}.layernorm_after.weight`, [D]],
      [`${p}.layernorm_after.bias`, [D]],
    ];
  };
  const expected: [string, number[]][] = [
    ['vit.embeddings.cls_token', [1, 1, D]],
    ['vit.embeddings.position_embeddings', [1, T, D]],
    ['vit.embeddings.patch_embeddings.projection.weight', [D, 1, 7, 7]],
    ['vit.embeddings.patch_embeddings.projection.bias', [D]],
    ...layer(0),
    ...layer(1),
    ['vit.layernorm.weight', [D]],
    ['vit.layernorm.bias', [D]],
    ['classifier.weight', [10, D]],
    ['classifier.bias', [10]],
  ];
  const w = initWeights(net, 'xavier-uniform', new Rng(1));
  const tensors = toTorchTensors(net, w);
  expect(tensors.map((t) => [t.name, t.shape])).toEqual(expected);
  for (const t of tensors) {
    expect(t.dtype).toBe('F32');
    expect((t.data as Float32Array).length).toBe(t.shape.reduce((a, b) => a * b, 1));
  }
  // LayerNorms start at γ = 1, β = 0; the embeddings at std 0.02 whatever the regime's scheme.
  expect([...w.get('vit.layernorm.weight')!].every((v) => v === 1)).toBe(true);
  expect([...w.get('vit.encoder.layer.1.layernorm_after.bias')!].every((v) => v === 0)).toBe(true);
  const pos = w.get('vit.embeddings.position_embeddings')!;
  expect(Math.max(...pos.map(Math.abs))).toBeLessThanOrEqual(0.04);
  expect(Math.sqrt(pos.reduce((a, v) => a + v * v, 0) / pos.length)).toBeGreaterThan(0.01);
});
