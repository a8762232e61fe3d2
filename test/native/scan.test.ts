import * as fs from 'fs';
import * as path from 'path';
import { AbortError, DtypeError, IoError } from '../../lib/errors';
import { native } from '../../lib/native';
import { alignModels } from '../../lib/scan/align';
import { buildPlan } from '../../lib/scan/plan';
import { referenceScan } from '../../lib/scan/reference';
import { mergeScans } from '../../lib/scan/result-io';
import { runNativePlan, scanModelSet } from '../../lib/scan/scan';
import type { ModelSet } from '../../lib/io/types';
import { writeSafetensors } from '../../lib/io/safetensors-writer';
import { bf16BitsToFloat, floatToBf16Bits } from '../../lib/io/dtype';
import { modelFromFile, RandomTensor, tmpDir, writeRandomModel } from '../helpers/models';

// Sizes straddle the 2048-element block, the 64-element fake-init group and the 16-element pad.
const LAYOUT: RandomTensor[] = [
  { name: 'a.scalar', shape: [], dtype: 'F32' },
  { name: 'b.bias', shape: [15], dtype: 'F32' },
  { name: 'b.weight', shape: [15, 137], dtype: 'BF16' },
  { name: 'c.weight', shape: [2049], dtype: 'F16' },
  { name: 'embed_tokens.weight', shape: [101, 33], dtype: 'BF16' },
  { name: 'd.weight', shape: [3, 4099], dtype: 'F32', scale: 1.5 },
  { name: 'norm.weight', shape: [33], dtype: 'F16' },
  { name: 'e.weight', shape: [64, 100], dtype: 'F64' },
];

function makeSet(dir: string): ModelSet {
  const parent = writeRandomModel(path.join(dir, 'p.safetensors'), LAYOUT, 1);
  // Children share the parent's values plus drift; one stores tensors in other dtypes, one
  // has a resized vocabulary (rows appended), one lacks a tensor.
  writeRandomModel(path.join(dir, 'c1.safetensors'), LAYOUT.map((t) => ({ ...t, scale: 0.01 })), 2, parent);
  writeRandomModel(
    path.join(dir, 'c2.safetensors'),
    LAYOUT.map((t) => ({ ...t, dtype: t.dtype === 'F32' ? 'BF16' : t.dtype === 'BF16' ? 'F16' : t.dtype, scale: 0.02 })),
    3,
    parent,
  );
  writeRandomModel(
    path.join(dir, 'c3.safetensors'),
    LAYOUT.filter((t) => t.name !== 'c.weight').map((t) => (t.name === 'embed_tokens.weight' ? { ...t, shape: [103, 33], scale: 0.03 } : { ...t, scale: 0.03 })),
    4,
    parent,
  );
  const models = ['c1', 'c2', 'c3', 'p'].map((id) => modelFromFile(path.join(dir, `${id}.safetensors`)));
  return { models, warnings: [] };
}

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, scale: (i: number) => number, tol: number) {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i] - want[i]);
    const ref = Math.max(Math.abs(want[i]), scale(i), 1e-300);
    if (!(err <= tol * ref)) throw new Error(`value ${i}: got ${got[i]}, want ${want[i]} (rel ${err / ref})`);
  }
}

describe('native scan', () => {
  const dir = tmpDir();
  const set = makeSet(dir);
  const { groups } = alignModels(set.models);
  const planned = buildPlan(groups, { seed: 7, fakeInit: 'auto;*embed*=normal(0.02)' });

  it('aligns by name and shape, with the row prefix for a resized vocabulary', () => {
    const embed = groups.find((g) => g.name === 'embed_tokens.weight')!;
    expect(embed.members).toHaveLength(4);
    expect(embed.shape).toEqual([101, 33]);
    expect(embed.rowPrefix).toEqual({ rows: 101, fullRows: [101, 101, 103, 101] });
    expect(groups.find((g) => g.name === 'c.weight')!.members.map((m) => m.model)).toEqual([0, 1, 3]);
  });

  const want = referenceScan(planned.plan);
  // Natural magnitudes: sums against sqrt(count * sumSq); Gram entries against sqrt(Gaa Gbb).
  const scaleOf = (i: number): number => {
    for (let g = planned.plan.groups.length - 1; g >= 0; g--) {
      const base = want.offsets[g];
      if (i < base) continue;
      const k = planned.plan.groups[g].members.length;
      const rel = i - base;
      if (rel < k * 5) {
        const m = Math.floor(rel / 5);
        return Math.sqrt(planned.plan.groups[g].count * want.values[base + m * 5 + 1]) + want.values[base + m * 5 + 1];
      }
      const a = Math.floor((rel - k * 5) / k);
      const b = (rel - k * 5) % k;
      const gram = base + k * 5;
      return Math.sqrt(want.values[gram + a * k + a] * want.values[gram + b * k + b]);
    }
    return 0;
  };

  it.each(native().cpuInfo().supportedIsas)('equals the float64 TypeScript reference within 1e-9 (%s kernels)', async (isa) => {
    const out = await runNativePlan({ ...planned.plan, isa: isa as 'scalar' });
    expect(out.isa).toBe(isa);
    expectClose(out.values, want.values, scaleOf, 1e-9);
  });

  it('gives bitwise the same result for any thread count and chunk size', async () => {
    const base = await runNativePlan({ ...planned.plan, threads: 1, chunkBytes: 16 << 20 });
    for (const [threads, chunkBytes] of [[2, 4096], [2, 65536], [1, 8192], [3, 1 << 20]]) {
      const out = await runNativePlan({ ...planned.plan, threads, chunkBytes });
      expect(Buffer.from(out.values.buffer).equals(Buffer.from(base.values.buffer))).toBe(true);
    }
  });

  it('merging shard scans gives exactly the full scan', async () => {
    const opts = { seed: 3, fakeInit: 'hf', threads: 2 };
    const full = await scanModelSet(set, opts);
    const parts: { path: string; scan: Awaited<ReturnType<typeof scanModelSet>> }[] = [];
    for (let i = 1; i <= 3; i++) parts.push({ path: `part${i}`, scan: await scanModelSet(set, { ...opts, shard: `${i}/3` }) });
    expect(parts.every((p) => p.scan.tensors.length < full.tensors.length)).toBe(true);
    const merged = mergeScans(parts);
    expect(merged.shard).toBeUndefined();
    expect(merged.tensors).toEqual(full.tensors);
    expect(merged.models).toEqual(full.models);
    expect(() => mergeScans([parts[0], parts[0]])).toThrow(/disjoint/);
  });

  it('reports progress up to the total and honours an AbortSignal', async () => {
    const seen: number[] = [];
    await runNativePlan({ ...planned.plan, chunkBytes: 4096, threads: 1 }, (p) => seen.push(p.fraction));
    expect(seen[seen.length - 1]).toBe(1);
    expect([...seen].sort((a, b) => a - b)).toEqual(seen);
    // A 512 MB scan (one 64 MB file as 8 models) in 4 KB items: cancelled from its first
    // progress report, it stops early. The size leaves a loaded machine's event loop time
    // to deliver the report and the abort before half of it is read.
    const big = path.join(dir, 'big.safetensors');
    writeSafetensors(big, [{ name: 'w', dtype: 'F32', shape: [1 << 24], data: new Float32Array(1 << 24) }]);
    const models = Array.from({ length: 8 }, (_, i) => modelFromFile(big, `m${i}`));
    const bigPlan = buildPlan(alignModels(models).groups, {
      seed: 0,
      fakeInit: 'auto',
    }).plan;
    const ac = new AbortController();
    let reports = 0;
    const p = runNativePlan({ ...bigPlan, chunkBytes: 4096, threads: 1 }, () => {
      reports++;
      ac.abort();
    }, ac.signal);
    const err = await p.catch((e) => e);
    expect(err).toBeInstanceOf(AbortError);
    expect(reports).toBeGreaterThan(0);
    const m = /after (\d+) of (\d+) bytes/.exec(err.message);
    expect(m).not.toBeNull();
    expect(Number(m![1])).toBeLessThan(Number(m![2]) / 2);
    await expect(runNativePlan(planned.plan, undefined, ac.signal)).rejects.toBeInstanceOf(AbortError);
  });

  it('names the file when it shrank after planning, and the process survives', async () => {
    const d2 = tmpDir();
    const s2 = makeSet(d2);
    const plan2 = buildPlan(alignModels(s2.models).groups, { seed: 0, fakeInit: 'auto' }).plan;
    const victim = path.join(d2, 'c2.safetensors');
    fs.truncateSync(victim, fs.statSync(victim).size - 100);
    const err = await runNativePlan(plan2).catch((e) => e);
    expect(err).toBeInstanceOf(IoError);
    expect(err.message).toContain(victim);
    expect(err.message).toMatch(/unexpected end of file/);
  });

  it('leaves integer tensors out by default and refuses them under strictDtypes', () => {
    const m = { ...set.models[0], tensors: [...set.models[0].tensors, { ...set.models[0].tensors[0], name: 'steps', dtype: 'I64' }] };
    expect(() => alignModels([m], { strictDtypes: true })).toThrow(DtypeError);
    for (const opts of [{}, { skipNonFloat: true }]) {
      const { skipped } = alignModels([m], opts);
      expect(skipped).toEqual([{ model: m.id, tensor: 'steps', reason: 'dtype I64 is not a float type' }]);
    }
  });

  it.each(native().cpuInfo().supportedIsas)(
    'a group sharing one dtype (fused conversion) equals the reference and, bitwise, the mixed-dtype path (%s kernels)',
    async (isa) => {
      // 'same' is stored as BF16 by all five models; 'mixed' holds the same values but one
      // model stores them as F32 (exactly, since they are BF16-rounded), which forces the
      // per-element conversion path. The fake init is constant, so the two tensors' sums must
      // agree bit for bit. 1,613 elements: three full 512-element sub-blocks and a tail.
      const d = tmpDir();
      const n = 1613;
      const files: string[] = [];
      for (let m = 0; m < 5; m++) {
        const r = Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + m) * 0.05 + Math.cos(i * (m + 1) * 0.011) * 0.01);
        const data = Float32Array.from(r, (x) => bf16BitsToFloat(floatToBf16Bits(x)));
        const file = path.join(d, `m${m}.safetensors`);
        writeSafetensors(file, [
          { name: 'same.weight', dtype: 'BF16', shape: [n], data },
          { name: 'mixed.weight', dtype: m === 2 ? 'F32' : 'BF16', shape: [n], data },
        ]);
        files.push(file);
      }
      const models = files.map((f) => modelFromFile(f));
      const plan = buildPlan(alignModels(models).groups, { seed: 1, fakeInit: 'constant(0.01)' }).plan;
      const out = await runNativePlan({ ...plan, isa: isa as 'scalar' });
      const ref = referenceScan(plan);
      const gi = (name: string) => plan.groups.findIndex((g) => g.name === name);
      const size = 5 * 5 + 5 * 5;
      const same = out.values.slice(out.offsets[gi('same.weight')], out.offsets[gi('same.weight')] + size);
      const mixed = out.values.slice(out.offsets[gi('mixed.weight')], out.offsets[gi('mixed.weight')] + size);
      expect(Buffer.from(same.buffer).equals(Buffer.from(mixed.buffer))).toBe(true);
      const want = ref.values.slice(ref.offsets[gi('same.weight')], ref.offsets[gi('same.weight')] + size);
      expectClose(same, want, () => 0, 1e-9);
      // The fused path really differs from a wrong answer: a changed element changes the sums.
      expect(same[0]).not.toBe(0);
    },
  );

  it.each(native().cpuInfo().supportedIsas)(
    'a group of 67 models (past the fused pass and off every Gram tile) equals the reference (%s kernels)',
    async (isa) => {
      const d = tmpDir();
      const n = 700; // one full 512-position sub-block and a tail
      const models = Array.from({ length: 67 }, (_, m) => {
        const data = Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.13 + m * 0.7) * 0.04 + (m % 5) * 0.001);
        const file = path.join(d, `m${m}.safetensors`);
        writeSafetensors(file, [{ name: 'w.weight', dtype: 'BF16', shape: [7, 100], data }]);
        return modelFromFile(file);
      });
      const plan = buildPlan(alignModels(models).groups, { seed: 5, fakeInit: 'auto' }).plan;
      const out = await runNativePlan({ ...plan, isa: isa as 'scalar' });
      const ref = referenceScan(plan);
      const k = 67;
      // Sums against sqrt(count * sumSq); Gram entries against sqrt(Gaa Gbb).
      const scale = (i: number): number => {
        if (i < k * 5) {
          const sq = ref.values[Math.floor(i / 5) * 5 + 1];
          return Math.sqrt(n * sq) + sq;
        }
        const a = Math.floor((i - k * 5) / k);
        const b = (i - k * 5) % k;
        return Math.sqrt(ref.values[k * 5 + a * k + a] * ref.values[k * 5 + b * k + b]);
      };
      expectClose(out.values, ref.values, scale, 1e-9);
    },
  );

  it('the read-and-sum reference reads the same bytes', async () => {
    const out = await runNativePlan({ ...planned.plan, mode: 'readsum' });
    planned.plan.groups.forEach((g, gi) => {
      for (let m = 0; m < g.members.length; m++) {
        const got = out.values[out.offsets[gi] + m * 5];
        const ref = want.values[want.offsets[gi] + m * 5];
        const mag = Math.sqrt(g.count * want.values[want.offsets[gi] + m * 5 + 1]);
        expect(Math.abs(got - ref)).toBeLessThanOrEqual(1e-5 * (mag + 1e-30));
      }
    });
  });
});
