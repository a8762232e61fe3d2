/**
 * The zoo's models compute in tfjs layout but are saved in PyTorch / Hugging Face layout. Here
 * plain-JS forwards written from the PyTorch definitions (NCHW convs with [out, in, kh, kw]
 * weights; LlamaForCausalLM with [out, in] linears and rotate_half RoPE) read the saved tensors
 * and must give the logits of the tfjs models.
 */
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../lib/zoo/backend';
import { createCnn } from '../../lib/zoo/cnn';
import { LlamaConfig } from '../../lib/zoo/llama/config';
import { initLlama, llamaConstants, llamaForward, tfShape, toHfTensors } from '../../lib/zoo/llama/model';
import { llamaTensorSpecs } from '../../lib/zoo/llama/config';
import { permuteAxes } from '../../lib/zoo/layout';
import { Rng } from '../../lib/zoo/rng';
import { initWeights, toTorchTensors } from '../../lib/zoo/vision-net';

beforeAll(async () => {
  await selectBackend('auto');
});

function maxRelErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let scale = 1e-9;
  let err = 0;
  for (let i = 0; i < a.length; i++) {
    scale = Math.max(scale, Math.abs(b[i]));
    err = Math.max(err, Math.abs(a[i] - b[i]));
  }
  return err / scale;
}

test('permuteAxes moves elements as a transpose does', () => {
  const data = Float32Array.from({ length: 24 }, (_, i) => i);
  const out = permuteAxes(data, [2, 3, 4], [2, 0, 1]);
  // out[k][i][j] = data[i][j][k]
  expect(out[(3 * 2 + 1) * 3 + 2]).toBe(data[(1 * 3 + 2) * 4 + 3]);
  expect(permuteAxes(out, [4, 2, 3], [1, 2, 0])).toEqual(data);
});

test('CNN: PyTorch-layout tensors in an NCHW reference forward give the tfjs logits', () => {
  const [c1, c2] = [4, 6];
  const net = createCnn(c1, c2);
  const w = initWeights(net, 'kaiming-normal', new Rng(7));
  const torch = new Map(toTorchTensors(net, w).map((t) => [t.name, { shape: t.shape, data: t.data as Float32Array }]));
  expect(torch.get('conv1.weight')?.shape).toEqual([c1, 1, 3, 3]);
  expect(torch.get('conv2.weight')?.shape).toEqual([c2, c1, 3, 3]);
  expect(torch.get('fc.weight')?.shape).toEqual([10, c2 * 49]);
  const n = 3;
  const images = new Rng(8).fillUniform(new Float32Array(n * 784), 0, 1);
  const vars = new Map(net.params.map((p) => [p.name, tf.tensor(w.get(p.name) as Float32Array, p.tfShape)]));
  const input = net.makeInput(images, n);
  const logits = net.forward(vars, input).dataSync();

  const conv = (x: Float64Array, cin: number, side: number, wt: Float32Array, b: Float32Array, cout: number): Float64Array => {
    const so = Math.floor((side + 2 - 3) / 2) + 1;
    const y = new Float64Array(cout * so * so);
    for (let co = 0; co < cout; co++)
      for (let oy = 0; oy < so; oy++)
        for (let ox = 0; ox < so; ox++) {
          let s = b[co];
          for (let ci = 0; ci < cin; ci++)
            for (let ky = 0; ky < 3; ky++)
              for (let kx = 0; kx < 3; kx++) {
                const iy = oy * 2 - 1 + ky;
                const ix = ox * 2 - 1 + kx;
                if (iy >= 0 && iy < side && ix >= 0 && ix < side) s += wt[((co * cin + ci) * 3 + ky) * 3 + kx] * x[(ci * side + iy) * side + ix];
              }
          y[(co * so + oy) * so + ox] = Math.max(0, s);
        }
    return y;
  };
  const ref: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = Float64Array.from(images.subarray(i * 784, (i + 1) * 784));
    const h1 = conv(x, 1, 28, torch.get('conv1.weight')!.data, torch.get('conv1.bias')!.data, c1);
    const h2 = conv(h1, c1, 14, torch.get('conv2.weight')!.data, torch.get('conv2.bias')!.data, c2); // flatten = NCHW order
    const fw = torch.get('fc.weight')!.data;
    const fb = torch.get('fc.bias')!.data;
    for (let o = 0; o < 10; o++) {
      let s = fb[o];
      for (let k = 0; k < h2.length; k++) s += fw[o * h2.length + k] * h2[k];
      ref.push(s);
    }
  }
  expect(maxRelErr(logits, ref)).toBeLessThan(1e-4);
  tf.dispose([...vars.values(), ...input.tensors]);
});

test('LLaMA: HF-layout tensors in a LlamaForCausalLM reference forward give the tfjs logits', () => {
  const c: LlamaConfig = { vocabSize: 19, hiddenSize: 16, intermediateSize: 24, numLayers: 2, numHeads: 2, numKvHeads: 2, maxPositions: 16, rmsNormEps: 1e-5, ropeTheta: 10000, initializerRange: 0.3 };
  const w = initLlama(c, new Rng(9));
  // Non-trivial norm weights, so a swapped norm would show.
  for (const s of llamaTensorSpecs(c)) if (s.kind === 'norm') w.set(s.name, new Rng(s.name.length).fillUniform(new Float32Array(c.hiddenSize), 0.5, 1.5));
  const hf = new Map(toHfTensors(c, w).map((t) => [t.spec.name, t.data]));
  const T = 7;
  const ids = [3, 1, 4, 1, 5, 9, 2];
  const vars = new Map(llamaTensorSpecs(c).map((s) => [s.name, tf.tensor(w.get(s.name) as Float32Array, tfShape(s))]));
  const k = llamaConstants(c, T);
  const got = llamaForward(c, vars, tf.tensor1d(ids, 'int32'), 1, T, k).dataSync();

  const d = c.hiddenSize;
  const H = c.numHeads;
  const hd = d / H;
  const lin = (x: Float64Array, W: Float32Array, out: number): Float64Array => {
    const y = new Float64Array(out);
    for (let o = 0; o < out; o++) for (let i = 0; i < x.length; i++) y[o] += W[o * x.length + i] * x[i]; // [out, in]
    return y;
  };
  const rms = (x: Float64Array, g: Float32Array): Float64Array => {
    const ms = x.reduce((s, v) => s + v * v, 0) / x.length;
    return x.map((v, i) => (v / Math.sqrt(ms + c.rmsNormEps)) * g[i]);
  };
  const rope = (v: Float64Array, t: number): Float64Array => {
    const out = new Float64Array(v.length);
    for (let h = 0; h < H; h++)
      for (let i = 0; i < hd / 2; i++) {
        const a = t / Math.pow(c.ropeTheta, (2 * i) / hd);
        const [x1, x2] = [v[h * hd + i], v[h * hd + i + hd / 2]];
        out[h * hd + i] = x1 * Math.cos(a) - x2 * Math.sin(a);
        out[h * hd + i + hd / 2] = x2 * Math.cos(a) + x1 * Math.sin(a);
      }
    return out;
  };
  let xs = ids.map((id) => Float64Array.from(hf.get('model.embed_tokens.weight')!.subarray(id * d, (id + 1) * d)));
  for (let l = 0; l < c.numLayers; l++) {
    const p = `model.layers.${l}`;
    const hs = xs.map((x) => rms(x, hf.get(`${p}.input_layernorm.weight`)!));
    const q = hs.map((h, t) => rope(lin(h, hf.get(`${p}.self_attn.q_proj.weight`)!, d), t));
    const kk = hs.map((h, t) => rope(lin(h, hf.get(`${p}.self_attn.k_proj.weight`)!, d), t));
    const v = hs.map((h) => lin(h, hf.get(`${p}.self_attn.v_proj.weight`)!, d));
    xs = xs.map((x, t) => {
      const o = new Float64Array(d);
      for (let h = 0; h < H; h++) {
        const s = Array.from({ length: t + 1 }, (_, u) => {
          let dot = 0;
          for (let i = 0; i < hd; i++) dot += q[t][h * hd + i] * kk[u][h * hd + i];
          return dot / Math.sqrt(hd);
        });
        const m = Math.max(...s);
        const e = s.map((z) => Math.exp(z - m));
        const z = e.reduce((a, b) => a + b, 0);
        for (let u = 0; u <= t; u++) for (let i = 0; i < hd; i++) o[h * hd + i] += (e[u] / z) * v[u][h * hd + i];
      }
      const a = lin(o, hf.get(`${p}.self_attn.o_proj.weight`)!, d);
      return x.map((xv, i) => xv + a[i]);
    });
    xs = xs.map((x) => {
      const h = rms(x, hf.get(`${p}.post_attention_layernorm.weight`)!);
      const g = lin(h, hf.get(`${p}.mlp.gate_proj.weight`)!, c.intermediateSize);
      const u = lin(h, hf.get(`${p}.mlp.up_proj.weight`)!, c.intermediateSize);
      const act = g.map((gv, i) => (gv / (1 + Math.exp(-gv))) * u[i]);
      const y = lin(act, hf.get(`${p}.mlp.down_proj.weight`)!, d);
      return x.map((xv, i) => xv + y[i]);
    });
  }
  const ref = xs.flatMap((x) => Array.from(lin(rms(x, hf.get('model.norm.weight')!), hf.get('lm_head.weight')!, c.vocabSize)));
  expect(maxRelErr(got, ref)).toBeLessThan(1e-4);
  tf.dispose([...vars.values(), k.cos, k.sin, k.mask]);
});
