/**
 * Non-float tensors and step counters, on real safetensors files written here byte by byte:
 * integer tensors are left out of the statistics by default with a note in the detection's
 * warnings and refused under strictDtypes; BatchNorm's int64 num_batches_tracked is read
 * (validated, one small read each) and orders parent before child; NaN or infinite weights
 * are a DtypeError naming the tensor.
 */
import * as fs from 'fs';
import * as path from 'path';
import { alignmentReport } from '../../lib/cli/commands/scan';
import { detect } from '../../lib/detect';
import { DtypeError, FormatError, InvalidArgumentError } from '../../lib/errors';
import { openModels } from '../../lib/io/discover';
import { counterSignal, decodeCounter, readCounters } from '../../lib/scan/counters';
import { mergeScans, validateScan } from '../../lib/scan/result-io';
import { scanModelSet } from '../../lib/scan/scan';
import { rng, tmpDir } from '../helpers/models';

interface RawTensor {
  name: string;
  dtype: 'F32' | 'I64' | 'I32' | 'U8';
  shape: number[];
  data: Buffer;
}

/** A safetensors file from raw tensors (header padded to 8 bytes, as the reference writes). */
function writeRaw(file: string, tensors: RawTensor[]): void {
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const t of tensors) {
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.data.length] };
    offset += t.data.length;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  fs.writeFileSync(file, Buffer.concat([len, Buffer.from(json), ...tensors.map((t) => t.data)]));
}

const f32 = (xs: Float32Array): Buffer => Buffer.from(xs.buffer, xs.byteOffset, xs.byteLength);
function i64(v: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigInt64LE(v);
  return b;
}

/**
 * A tiny BatchNorm net's state dict. Children are made the way weight decay makes them: they
 * shrink towards zero (θ_child = 0.98·θ_parent + noise), so norm, fake-init distance and the
 * direction score all fall from parent to child and point the wrong way.
 */
function bnModel(weights: Map<string, Float32Array>, counter: bigint | null, extra: RawTensor[] = []): RawTensor[] {
  const out: RawTensor[] = [];
  for (const [name, w] of weights) out.push({ name, dtype: 'F32', shape: name.endsWith('weight') && name.startsWith('fc') ? [32, 24] : [w.length], data: f32(w) });
  if (counter !== null) out.push({ name: 'bn.num_batches_tracked', dtype: 'I64', shape: [], data: i64(counter) });
  return [...out, ...extra];
}

function shrink(w: Map<string, Float32Array>, seed: number): Map<string, Float32Array> {
  const r = rng(seed);
  return new Map([...w].map(([k, v]) => [k, Float32Array.from(v, (x) => 0.98 * x + 0.03 * r.normal())]));
}

function family(dir: string, counters: [bigint | null, bigint | null, bigint | null, bigint | null]): void {
  const r = rng(1);
  const parent = new Map<string, Float32Array>([
    ['fc.weight', Float32Array.from({ length: 32 * 24 }, () => 0.3 * r.normal())],
    ['fc.bias', Float32Array.from({ length: 32 }, () => 0.1 * r.normal())],
    ['bn.weight', Float32Array.from({ length: 32 }, () => 1 + 0.1 * r.normal())],
    ['bn.bias', Float32Array.from({ length: 32 }, () => 0.1 * r.normal())],
    ['bn.running_mean', Float32Array.from({ length: 32 }, () => 0.2 * r.normal())],
    ['bn.running_var', Float32Array.from({ length: 32 }, () => 1 + 0.2 * Math.abs(r.normal()))],
  ]);
  const c1 = shrink(parent, 2);
  const c2 = shrink(parent, 3);
  const g = shrink(c1, 4);
  fs.mkdirSync(dir, { recursive: true });
  writeRaw(path.join(dir, 'parent.safetensors'), bnModel(parent, counters[0]));
  writeRaw(path.join(dir, 'child1.safetensors'), bnModel(c1, counters[1]));
  writeRaw(path.join(dir, 'child2.safetensors'), bnModel(c2, counters[2]));
  writeRaw(path.join(dir, 'grandchild.safetensors'), bnModel(g, counters[3]));
}

const TRUE_EDGES = ['child1->grandchild', 'parent->child1', 'parent->child2'];
const edges = (r: ReturnType<typeof detect>): string[] => r.edges.map((e) => `${e.parent}->${e.child}`).sort();

let root: string;
beforeAll(() => {
  root = tmpDir('np-counters-');
  family(path.join(root, 'with'), [1000n, 1400n, 1250n, 1800n]);
  family(path.join(root, 'without'), [null, null, null, null]);
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe('non-float tensors', () => {
  test('are left out of the statistics by default, listed in skipped and noted in the warnings', async () => {
    const set = await openModels([path.join(root, 'with')]);
    const scan = await scanModelSet(set, { device: 'cpu' });
    expect(scan.tensors.map((t) => t.name)).not.toContain('bn.num_batches_tracked');
    expect(scan.skipped).toEqual(
      ['child1', 'child2', 'grandchild', 'parent'].map((model) => ({ model, tensor: 'bn.num_batches_tracked', reason: 'dtype I64 is not a float type' })),
    );
    const r = detect(scan);
    expect(r.warnings.join('\n')).toMatch(/left out of the statistics: 4 tensor\(s\), dtype I64 is not a float type \(bn\.num_batches_tracked\); step counters/);
    // The CLI's scan notes say the same: left out, and read as counters.
    expect(alignmentReport(scan)).toEqual(['left out 4 tensor(s): dtype I64 is not a float type', 'read 1 step counter(s) as direction evidence: bn.num_batches_tracked']);
    const without = await scanModelSet(await openModels([path.join(root, 'without')]), { device: 'cpu' });
    expect(alignmentReport(without).some((l) => l.startsWith('read '))).toBe(false);
  });

  test('are refused under strictDtypes, naming file and tensor; strictDtypes with skipNonFloat is an argument error', async () => {
    const set = await openModels([path.join(root, 'with')]);
    const err = await scanModelSet(set, { device: 'cpu', strictDtypes: true }).catch((e) => e);
    expect(err).toBeInstanceOf(DtypeError);
    expect(err.message).toMatch(/child1\.safetensors: tensor 'bn\.num_batches_tracked' has dtype I64/);
    expect(err.tensor).toBe('bn.num_batches_tracked');
    await expect(scanModelSet(set, { device: 'cpu', strictDtypes: true, skipNonFloat: true })).rejects.toThrow(InvalidArgumentError);
    // skipNonFloat alone is still accepted and means the default.
    const a = await scanModelSet(set, { device: 'cpu', skipNonFloat: true });
    const b = await scanModelSet(set, { device: 'cpu' });
    expect(a.tensors).toEqual(b.tensors);
  });
});

describe('NaN and infinite weights', () => {
  test.each([
    ['NaN', NaN],
    ['+Inf', Infinity],
    ['-Inf', -Infinity],
  ])('a %s anywhere in a tensor is a DtypeError naming the tensor, model and file', async (_, bad) => {
    const dir = path.join(root, `bad-${String(bad)}`);
    fs.mkdirSync(dir);
    const r = rng(9);
    const ok = Float32Array.from({ length: 1000 }, () => r.normal());
    const broken = ok.slice();
    broken[777] = bad;
    writeRaw(path.join(dir, 'a.safetensors'), [{ name: 'w', dtype: 'F32', shape: [1000], data: f32(ok) }]);
    writeRaw(path.join(dir, 'b.safetensors'), [{ name: 'w', dtype: 'F32', shape: [1000], data: f32(broken) }]);
    const err = await scanModelSet(await openModels([dir]), { device: 'cpu' }).catch((e) => e);
    expect(err).toBeInstanceOf(DtypeError);
    expect(err.message).toContain(path.join(dir, 'b.safetensors'));
    expect(err.message).toMatch(/tensor 'w' of model 'b' holds NaN or infinite values/);
  });
});

describe('step counters', () => {
  test('are read exactly from the files, and validated', async () => {
    const set = await openModels([path.join(root, 'with')]);
    expect(readCounters(set.models)).toEqual([{ name: 'bn.num_batches_tracked', values: [1400, 1250, 1800, 1000] }]);
    const scan = await scanModelSet(set, { device: 'cpu' });
    expect(scan.counters).toEqual([{ name: 'bn.num_batches_tracked', values: [1400, 1250, 1800, 1000] }]);
    expect(counterSignal(scan.counters!, 4)).toEqual(Float64Array.from([1400, 1250, 1800, 1000]));

    // Not counters: a vector, a float, a negative value, one beyond 2^53; a U8 and an I32 are.
    const dir = path.join(root, 'odd');
    fs.mkdirSync(dir);
    writeRaw(path.join(dir, 'm.safetensors'), [
      { name: 'a.num_batches_tracked', dtype: 'I64', shape: [2], data: Buffer.concat([i64(1n), i64(2n)]) },
      { name: 'b.num_batches_tracked', dtype: 'I64', shape: [1], data: i64(-5n) },
      { name: 'c.num_batches_tracked', dtype: 'I64', shape: [], data: i64(1n << 60n) },
      { name: 'd.num_batches_tracked', dtype: 'U8', shape: [1, 1], data: Buffer.from([200]) },
      { name: 'e.num_batches_tracked', dtype: 'I32', shape: [], data: Buffer.from([1, 2, 0, 0]) },
      { name: 'f.num_batches_tracked', dtype: 'F32', shape: [], data: f32(Float32Array.of(3)) },
      { name: 'steps', dtype: 'I64', shape: [], data: i64(7n) },
    ]);
    const odd = await openModels([dir]);
    expect(readCounters(odd.models)).toEqual([
      { name: 'd.num_batches_tracked', values: [200] },
      { name: 'e.num_batches_tracked', values: [513] },
    ]);
    expect(decodeCounter(i64(-1n), 'I64')).toBeNull();
    expect(decodeCounter(i64(BigInt(Number.MAX_SAFE_INTEGER)), 'I64')).toBe(Number.MAX_SAFE_INTEGER);
    expect(decodeCounter(i64(3n), 'F64')).toBeNull();
  });

  test('order parent before child where the weights point the wrong way', async () => {
    const without = detect(await scanModelSet(await openModels([path.join(root, 'without')]), { device: 'cpu' }));
    const withScan = await scanModelSet(await openModels([path.join(root, 'with')]), { device: 'cpu' });
    const withCounters = detect(withScan);
    // Shrinking children (as under weight decay): the weights alone root the family wrongly.
    expect(edges(without)).not.toEqual(TRUE_EDGES);
    expect(edges(withCounters)).toEqual(TRUE_EDGES);
    expect((withCounters.options as Record<string, unknown>).directionWeights).toHaveProperty('step-counter');
    // Under score-only evidence the counter still votes (its error rate is known, not estimated).
    expect(edges(detect(withScan, { directionEvidence: 'score' }))).toEqual(TRUE_EDGES);
  });

  test('rule out trees in which a parent holds a larger counter than its child', async () => {
    // The grandchild half-way between the parent and its own parent (a fine-tune that undoes
    // part of the one before it), so the weights' tree is parent - grandchild - child1.
    const r = rng(7);
    const dir = path.join(root, 'between');
    fs.mkdirSync(dir, { recursive: true });
    const names = ['fc.weight', 'fc.bias', 'bn.weight', 'bn.bias'];
    const size = (n: string) => (n === 'fc.weight' ? 32 * 24 : 32);
    const base = new Map(names.map((n) => [n, Float32Array.from({ length: size(n) }, () => 0.3 * r.normal())]));
    const step = (w: Map<string, Float32Array>, scale: number, seed: number) => {
      const q = rng(seed);
      return new Map([...w].map(([k, v]) => [k, Float32Array.from(v, (x) => x + scale * q.normal())]));
    };
    const c1 = step(base, 0.1, 11);
    const c2 = step(base, 0.1, 12);
    const half = new Map([...base].map(([k, v]) => [k, Float32Array.from(v, (x, i) => 0.5 * (x + c1.get(k)![i]))]));
    // (Closer to the midpoint, 0.01 instead of 0.05, the grandchild is typed as a merge of the two.)
    const g = step(half, 0.05, 13);
    for (const [name, w, c] of [['parent', base, 1000n], ['child1', c1, 1400n], ['child2', c2, 1250n], ['grandchild', g, 1800n]] as const) {
      writeRaw(path.join(dir, `${name}.safetensors`), bnModel(w, c));
    }
    const scan = await scanModelSet(await openModels([dir]), { device: 'cpu' });
    const result = detect(scan);
    const counter = new Map([['parent', 1000], ['child1', 1400], ['child2', 1250], ['grandchild', 1800]]);
    for (const e of result.edges) expect(counter.get(e.parent)!).toBeLessThanOrEqual(counter.get(e.child)!);
    const parentOf = new Map(result.edges.map((e) => [e.child, e.parent]));
    expect(result.edges).toHaveLength(3);
    // Without the repair: grandchild → child1, which no counter allows.
    expect(parentOf.get('child1')).toBe('parent');
    expect(parentOf.get('child2')).toBe('parent');
    expect(result.roots).toContain('parent');
  });

  test('travel through scan.json: validated on load, kept by a merge of shards', async () => {
    const set = await openModels([path.join(root, 'with')]);
    const p1 = await scanModelSet(set, { device: 'cpu', shard: '1/2' });
    const p2 = await scanModelSet(set, { device: 'cpu', shard: '2/2' });
    const merged = mergeScans([{ path: 'p1', scan: p1 }, { path: 'p2', scan: p2 }]);
    expect(merged.counters).toEqual(p1.counters);
    const text = JSON.parse(JSON.stringify(merged));
    expect(validateScan(text, 'x.json').counters).toEqual(p1.counters);
    text.counters[0].values[1] = -3;
    expect(() => validateScan(text, 'x.json')).toThrow(FormatError);
    text.counters[0].values = [1];
    expect(() => validateScan(text, 'x.json')).toThrow(/counter 0: needs a name and 4 values/);
  });
});
