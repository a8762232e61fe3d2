/**
 * The native edge-encoder forward (every kernel set) equals the tfjs forward on the same
 * folded weights and inputs within 1e-4 relative, over shapes that are not multiples of the
 * kernels' tiles, chunkings that split matrices anywhere, and every float dtype.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { decodeToFloat32, encodeFloats, FloatDtype } from '../../lib/io/dtype';
import { openModels } from '../../lib/io/discover';
import { writeSafetensors } from '../../lib/io/safetensors-writer';
import type { ModelSet } from '../../lib/io/types';
import { createEncoder, encodeMatrixTf, foldEncoder, updateMovingStats } from '../../lib/learned/encoder';
import { encodeEdgesNative, EdgeEncodeRequest } from '../../lib/learned/native-encoder';
import { matrixShape } from '../../lib/learned/matrix';
import { native, NativeEdgeWeights } from '../../lib/native';
import { rng, tmpDir } from '../helpers/models';

const SHAPES: number[][] = [[1, 1], [7], [3, 5], [17, 33], [40, 9], [2, 3, 3, 3], [33, 70], [64, 129]];
const DTYPES: FloatDtype[] = ['F32', 'F16', 'BF16', 'F64'];

let dir: string;
let set: ModelSet;
let weights: NativeEdgeWeights;
const values = new Map<string, Float32Array>(); // `${model}/${tensor}` → what the native side reads
const refs = new Map<string, Float32Array>(); // the tfjs forward, shared by the kernel sets

beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = tmpDir('np-edge-');
  const r = rng(7);
  for (let m = 0; m < 3; m++) {
    const tensors = SHAPES.flatMap((shape, i) =>
      DTYPES.map((dtype) => {
        const n = shape.reduce((a, b) => a * b, 1);
        // Model 1 and 2 are perturbations of model 0, as fine-tunes are.
        const data = Float32Array.from({ length: n }, (_, j) => Math.sin(j * 0.37 + i) * 0.1 + (m > 0 ? 0.02 * r.normal() : 0) + 0.03 * r.normal());
        const name = `t${i}.${dtype}`;
        values.set(`${m}/${name}`, decodeToFloat32(encodeFloats(data, dtype), dtype));
        return { name, dtype, shape, data };
      }),
    );
    writeSafetensors(path.join(dir, `m${m}.safetensors`), tensors);
  }
  set = await openModels([dir]);
  const ids = set.models.map((m) => m.id);
  expect(ids).toEqual(['m0', 'm1', 'm2']);
  // Non-trivial folded weights: a few training-like updates of the running statistics.
  let seed = 3;
  const enc = createEncoder(4, () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648));
  updateMovingStats(enc, tf.fill([32], 0.3) as tf.Tensor1D, tf.fill([32], 2) as tf.Tensor1D);
  enc.b1.assign(tf.tensor1d([0.1, -0.2, 0.05, 0.3]));
  weights = foldEncoder(enc);
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function requests(): EdgeEncodeRequest[] {
  const out: EdgeEncodeRequest[] = [];
  SHAPES.forEach((_, i) =>
    DTYPES.forEach((dtype) => {
      for (const [a, b] of [[0, 1], [1, 0], [0, 2], [2, 1]]) out.push({ tensor: `t${i}.${dtype}`, a, b, scale: 0.05 + 0.01 * i });
    }),
  );
  return out;
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  let worst = 0;
  for (let o = 0; o < expected.length; o++) {
    const err = Math.abs(actual[o] - expected[o]) / Math.max(1e-3, Math.abs(expected[o]));
    worst = Math.max(worst, err);
  }
  if (!(worst <= 1e-4)) throw new Error(`${what}: relative error ${worst}`);
}

describe('native edge encoder', () => {
  it.each(native().cpuInfo().supportedIsas)('equals the tfjs forward within 1e-4 (%s kernels, all dtypes, odd shapes)', async (isa) => {
    const reqs = requests();
    const out = await encodeEdgesNative(set, reqs, weights, { isa: isa as 'scalar', threads: 2, chunkElems: 50 });
    expect(out.values.length).toBe(reqs.length * 32);
    expect(out.run.isa).toBe(isa);
    const shapeOf = (name: string) => SHAPES[Number(name.slice(1, name.indexOf('.')))];
    reqs.forEach((r, p) => {
      const [rows, cols] = matrixShape(shapeOf(r.tensor));
      const key = `${r.tensor}/${r.a}/${r.b}`;
      const ref = refs.get(key) ?? encodeMatrixTf(weights, values.get(`${r.a}/${r.tensor}`)!, values.get(`${r.b}/${r.tensor}`)!, rows, cols, r.scale);
      refs.set(key, ref);
      expectClose(out.values.subarray(p * 32, p * 32 + 32), ref, `${r.tensor} ${r.a}→${r.b}`);
    });
  });

  it('does not depend on threads or chunk size, bitwise', async () => {
    const reqs = requests();
    const a = await encodeEdgesNative(set, reqs, weights, { threads: 1, chunkElems: 1 });
    const b = await encodeEdgesNative(set, reqs, weights, { threads: 2, chunkElems: 50 });
    const c = await encodeEdgesNative(set, reqs, weights, { threads: 2 });
    // Chunking changes which rows share a float32 row sum only through the row loop, which is
    // per row: totals are the same float64 sums in the same order.
    expect(Array.from(b.values)).toEqual(Array.from(a.values));
    expect(Array.from(c.values)).toEqual(Array.from(a.values));
  });

  it('is asymmetric: swapping the pair changes the embedding', async () => {
    const out = await encodeEdgesNative(set, [{ tensor: 't6.F32', a: 0, b: 1, scale: 0.1 }, { tensor: 't6.F32', a: 1, b: 0, scale: 0.1 }], weights);
    let diff = 0;
    for (let o = 0; o < 32; o++) diff += Math.abs(out.values[o] - out.values[32 + o]);
    expect(diff).toBeGreaterThan(1e-3);
  });

  it('rejects bad plans with coded errors naming the tensor', async () => {
    await expect(encodeEdgesNative(set, [{ tensor: 'nope', a: 0, b: 1, scale: 1 }], weights)).rejects.toThrow(/nope/);
    await expect(encodeEdgesNative(set, [{ tensor: 't0.F32', a: 0, b: 1, scale: 0 }], weights)).rejects.toMatchObject({ code: 'E_INVALID_ARG' });
    const bad = { ...weights, w2: weights.w2.subarray(1) };
    await expect(encodeEdgesNative(set, [{ tensor: 't0.F32', a: 0, b: 1, scale: 1 }], bad)).rejects.toThrow(/w2/);
  });

  it('reports progress, and cancellation rejects with E_ABORTED', async () => {
    const seen: number[] = [];
    await encodeEdgesNative(set, requests(), weights, { onProgress: (d, t) => seen.push(d / t), chunkElems: 8 });
    expect(seen[seen.length - 1]).toBe(1);
    const ctl = new AbortController();
    ctl.abort();
    await expect(encodeEdgesNative(set, requests(), weights, { signal: ctl.signal })).rejects.toMatchObject({ code: 'E_ABORTED' });
  });

  it("device 'cuda' without a usable GPU is a clear error", async () => {
    if (native().cudaStatus().usable) return;
    await expect(encodeEdgesNative(set, requests().slice(0, 1), weights, { device: 'cuda' })).rejects.toMatchObject({ code: expect.stringMatching(/E_NO_CUDA|E_CUDA/) });
  });
});
