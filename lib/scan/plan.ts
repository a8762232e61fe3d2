/**
 * From aligned tensor groups to the native scan plan: files, byte offsets, dtypes, the
 * fake-init distribution and Philox key of each group, and the selection of one shard.
 */
import { InvalidArgumentError } from '../errors';
import { DTYPE_SIZES } from '../io/dtype';
import { packedMember } from '../io/packed-quant';
import { needsDequantization } from '../io/tensor-data';
import type { TensorEntry } from '../io/types';
import type { NativeScanGroup, NativeScanMember, NativeScanPlan } from '../native';
import type { AlignedGroup } from './align';
import { fakeInitParams, parseFakeInitSpec, resolveFakeInit } from './fake-init';
import type { TensorFakeInit } from './types';

export interface Shard {
  /** 0-based index of this part. */
  index: number;
  count: number;
}

/** Parses "i/n" (1-based i, as the CLI takes it) into a 0-based Shard. */
export function parseShard(text: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  if (!m) throw new InvalidArgumentError('E_INVALID_ARG', `shard must look like i/n (e.g. 1/4), got '${text}'`);
  const i = Number(m[1]);
  const n = Number(m[2]);
  if (n < 1 || i < 1 || i > n) throw new InvalidArgumentError('E_INVALID_ARG', `shard ${text}: need 1 <= i <= n`);
  return { index: i - 1, count: n };
}

/** File bytes per element: fractional for GGUF block types and packed GPTQ/AWQ weights. */
function bytesPerElement(t: TensorEntry): number {
  if (t.packed) return t.byteLength / (t.packed.in * t.packed.out);
  return t.gguf ? t.byteLength / (t.gguf.rows * t.gguf.rowElems) : DTYPE_SIZES[t.dtype];
}

function groupBytes(g: AlignedGroup): number {
  return g.members.reduce((s, m) => s + bytesPerElement(m.tensor) * g.count, 0);
}

/**
 * Assigns groups to `count` shards, balancing bytes: largest first, each to the least loaded
 * shard (ties to the lowest index). Depends only on the group list, so every part agrees.
 */
export function shardAssignment(groups: AlignedGroup[], count: number): number[] {
  const order = groups.map((g, i) => ({ i, bytes: groupBytes(g) }));
  order.sort((a, b) => b.bytes - a.bytes || a.i - b.i);
  const load = new Array<number>(count).fill(0);
  const assign = new Array<number>(groups.length).fill(0);
  for (const { i, bytes } of order) {
    let best = 0;
    for (let s = 1; s < count; s++) if (load[s] < load[best]) best = s;
    assign[i] = best;
    load[best] += bytes;
  }
  return assign;
}

export interface PlannedScan {
  plan: NativeScanPlan;
  /** The groups in the plan (after shard selection), in plan order. */
  groups: AlignedGroup[];
  fakeInits: TensorFakeInit[];
}

export interface PlanOptions {
  seed: number;
  fakeInit: string;
  shard?: Shard;
  threads?: number;
  chunkBytes?: number;
  isa?: NativeScanPlan['isa'];
  mode?: NativeScanPlan['mode'];
}

export function buildPlan(all: AlignedGroup[], opts: PlanOptions): PlannedScan {
  const rules = parseFakeInitSpec(opts.fakeInit);
  let groups = all;
  if (opts.shard && opts.shard.count > 1) {
    const assign = shardAssignment(all, opts.shard.count);
    groups = all.filter((_, i) => assign[i] === opts.shard!.index);
  }
  const files: string[] = [];
  const fileIndex = new Map<string, number>();
  const fileOf = (f: string) => {
    let i = fileIndex.get(f);
    if (i === undefined) {
      i = files.length;
      files.push(f);
      fileIndex.set(f, i);
    }
    return i;
  };
  const fakeInits: TensorFakeInit[] = [];
  const nativeGroups: NativeScanGroup[] = groups.map((g) => {
    const fi = resolveFakeInit(rules, g.name, { shape: g.fullShape, siblingWeightShape: g.siblingWeightShape });
    fakeInits.push(fi);
    return {
      name: g.name,
      count: g.count,
      fake: fakeInitParams(fi, opts.seed, g.name),
      members: g.members.map((m) => {
        const member: NativeScanMember = { file: fileOf(m.tensor.file), offset: m.tensor.offset, dtype: m.tensor.dtype };
        // GGUF block types (and llama q/k rows to reorder) go through the scan's dequantizer;
        // plain GGUF F32/F16/BF16 rows are read like safetensors.
        if (needsDequantization(m.tensor)) member.gguf = { ...m.tensor.gguf! };
        // GPTQ/AWQ: the member reads qweight and unpacks it with the scales and zeros.
        if (m.tensor.packed) member.packed = packedMember(m.tensor, fileOf).packed;
        const l = m.tensor.lora;
        if (l) {
          // A PEFT adapter's weight: formed from its base's member of this group (read once).
          const base = g.members.findIndex((x) => x.tensor === l.base);
          if (base < 0) throw new InvalidArgumentError('E_INVALID_ARG', `${l.a.file}: tensor '${g.name}': the adapter's base tensor is not in the scan`, { file: l.a.file, tensor: g.name });
          const src = (t: TensorEntry) => ({ file: fileOf(t.file), offset: t.offset, dtype: t.dtype });
          member.lora = { base, rank: l.rank, cols: l.a.shape[1], scale: l.scale, a: src(l.a), b: src(l.b) };
        }
        return member;
      }),
    };
  });
  return {
    plan: {
      files,
      groups: nativeGroups,
      threads: opts.threads,
      chunkBytes: opts.chunkBytes,
      isa: opts.isa,
      mode: opts.mode,
    },
    groups,
    fakeInits,
  };
}
