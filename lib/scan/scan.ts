/**
 * scanModelSet: one streaming pass over all models' aligned tensors (native, off the main
 * thread) producing a ScanResult. Progress through a callback, cancellation through an
 * AbortSignal.
 */
import { CudaError } from '../errors';
import { openModels } from '../io/discover';
import type { ModelSet } from '../io/types';
import { runNativeJob } from '../native-job';
import { native, NativeCudaScanOptions, NativeScanHandle, NativeScanOutput, NativeScanPlan } from '../native';
import { alignModels, AlignOptions } from './align';
import { defaultFakeInit } from './default-init';
import { chooseDevice, DeviceRequest } from './device';
import { buildPlan, parseShard, PlannedScan, Shard } from './plan';
import { readCounters } from './counters';
import type { ScanResult, ScanTensor } from './types';
import { DtypeError } from '../errors';

export interface ScanProgress {
  bytesDone: number;
  bytesTotal: number;
  fraction: number;
}

export interface ScanOptions extends AlignOptions {
  /** Seed of the fake initialization (default 0). */
  seed?: number;
  /** Fake-init spec; see lib/scan/fake-init.ts. Default: 'hf(r)' when every model's
   * config.json has initializer_range r (Hugging Face transformers), else 'auto' (PyTorch). */
  fakeInit?: string;
  /** Worker threads (default: all cores). Results do not depend on it. */
  threads?: number;
  /** MiB read per work item, all models together (default 2). Results do not depend on it. */
  chunkMb?: number;
  /** Scan only part i of n of the tensors ("i/n", 1-based, or a Shard). */
  shard?: Shard | string;
  device?: DeviceRequest;
  /** Which GPU when the scan runs on CUDA (default 0). */
  cudaDevice?: number;
  /** CUDA scan tuning (staging buffer size, reader threads, Gram path). Results do not depend on it
   * beyond float64 rounding. */
  cuda?: NativeCudaScanOptions;
  /** CPU kernel set (default: the best this CPU runs). */
  isa?: NativeScanPlan['isa'];
  onProgress?: (p: ScanProgress) => void;
  signal?: AbortSignal;
}

export const DEFAULT_FAKE_INIT = 'auto';
/** 2 MiB per work item: read and computed while still in cache (measured: 16 MiB was 25% slower). */
export const DEFAULT_CHUNK_MB = 2;

/** Where a planned scan runs: the CPU (default) or a CUDA device. */
export interface ScanTarget {
  device: 'cpu' | 'cuda';
  cudaDevice?: number;
}

/** Runs a planned scan natively, wiring progress and cancellation. */
export async function runNativePlan(
  plan: NativeScanPlan,
  onProgress?: (p: ScanProgress) => void,
  signal?: AbortSignal,
  target: ScanTarget = { device: 'cpu' },
): Promise<NativeScanOutput> {
  const progress = onProgress
    ? (done: number, total: number) => onProgress({ bytesDone: done, bytesTotal: total, fraction: total ? done / total : 1 })
    : undefined;
  const start = (): NativeScanHandle => {
    const addon = native();
    if (target.device !== 'cuda') return addon.startScan(plan, progress);
    if (!addon.startScanCuda) throw new CudaError('E_NO_CUDA', 'this build of the addon has no CUDA scan kernels');
    return addon.startScanCuda(plan, progress, target.cudaDevice ?? 0);
  };
  return runNativeJob(start, signal, 'scan');
}

function assemble(set: ModelSet, planned: PlannedScan, out: NativeScanOutput, opts: ScanOptions, skipped: ScanResult['skipped'], shard?: Shard): ScanResult {
  const tensors: ScanTensor[] = planned.groups.map((g, gi) => {
    const k = g.members.length;
    const base = out.offsets[gi];
    const stat = (m: number, s: number) => out.values[base + m * 5 + s];
    const col = (s: number) => g.members.map((_, m) => stat(m, s));
    const gram: number[][] = [];
    for (let a = 0; a < k; a++) gram.push(Array.from(out.values.subarray(base + k * 5 + a * k, base + k * 5 + (a + 1) * k)));
    // Σx and Σx² are finite for finite weights (overflow needs |x| > 1e154); a NaN or an
    // infinity anywhere in the tensor makes them NaN or infinite. Refused, naming the tensor:
    // every statistic and distance of that model would be meaningless.
    g.members.forEach((member, m) => {
      if (Number.isFinite(stat(m, 0)) && Number.isFinite(stat(m, 1))) return;
      const file = member.tensor.file;
      throw new DtypeError('E_DTYPE', `${file}: tensor '${g.name}' of model '${set.models[member.model].id}' holds NaN or infinite values`, { file, tensor: g.name });
    });
    const t: ScanTensor = {
      name: g.name,
      shape: g.shape,
      models: g.members.map((m) => m.model),
      dtypes: g.members.map((m) => m.tensor.dtype),
      count: g.count,
      fakeInit: planned.fakeInits[gi],
      sum: col(0),
      sumSq: col(1),
      sumCube: col(2),
      sumQuad: col(3),
      fakeInitSq: col(4),
      gram,
    };
    if (g.rowPrefix) t.rowPrefix = g.rowPrefix;
    return t;
  });
  const result: ScanResult = {
    format: 'neural-phylogeny/scan',
    version: 1,
    models: set.models.map((m) => ({ id: m.id, path: m.path, params: m.params, bytes: m.bytes, ...(m.adapter?.baseId ? { adapter: { base: m.adapter.baseId, rank: m.adapter.rank } } : {}) })),
    seed: opts.seed ?? 0,
    fakeInit: opts.fakeInit ?? DEFAULT_FAKE_INIT,
    tensors,
    skipped,
    run: {
      backend: out.backend,
      device: out.backend === 'cuda' ? `${out.device} (cuda:${out.deviceIndex ?? 0})` : out.device,
      isa: out.isa,
      threads: out.threads,
      seconds: out.seconds,
      bytes: out.bytes,
    },
  };
  if (shard && shard.count > 1) result.shard = shard;
  const counters = readCounters(set.models);
  if (counters.length > 0) result.counters = counters;
  return result;
}

/** Scans an opened model set. */
export async function scanModelSet(set: ModelSet, opts: ScanOptions = {}): Promise<ScanResult> {
  if (opts.fakeInit === undefined) opts = { ...opts, fakeInit: defaultFakeInit(set).spec };
  const shard = typeof opts.shard === 'string' ? parseShard(opts.shard) : opts.shard;
  const device = chooseDevice(opts.device ?? 'auto', opts.cudaDevice ?? 0);
  const { groups, skipped } = alignModels(set.models, opts);
  const planned = buildPlan(groups, {
    seed: opts.seed ?? 0,
    fakeInit: opts.fakeInit ?? DEFAULT_FAKE_INIT,
    shard,
    threads: opts.threads,
    chunkBytes: Math.round((opts.chunkMb ?? DEFAULT_CHUNK_MB) * 1024 * 1024),
    isa: opts.isa,
  });
  const plan = opts.cuda ? { ...planned.plan, cuda: opts.cuda } : planned.plan;
  // GGUF, GPTQ/AWQ and LoRA members scan on either device: the CUDA scan forms them on the
  // host with the CPU scan's code (docs/cuda.md, "Formed members").
  const target: ScanTarget = device.device === 'cuda' ? { device: 'cuda', cudaDevice: device.cudaDevice } : { device: 'cpu' };
  // On CUDA, run.backend is 'cuda', run.device names the GPU and run.isa its architecture and Gram path.
  const out = await runNativePlan(plan, opts.onProgress, opts.signal, target);
  const result = assemble(set, planned, out, opts, skipped, shard);
  if (device.fallbackReason) result.run.fallbackReason = device.fallbackReason;
  return result;
}

/**
 * Scans models given as paths (files, model directories, or folders of models) or as an
 * already opened ModelSet.
 *
 *   const scan = await scanModels(['./checkpoints'], { onProgress: (p) => console.log(p.fraction) });
 */
export async function scanModels(input: string[] | ModelSet, opts: ScanOptions = {}): Promise<ScanResult> {
  const set = Array.isArray(input) ? await openModels(input, { signal: opts.signal }) : input;
  return scanModelSet(set, opts);
}
