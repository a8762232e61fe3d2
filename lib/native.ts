/**
 * Loads the native addon and declares the type of every native export. The addon is built
 * by `npm ci` (cmake-js, or node-gyp without cmake) into build/Release; NEURAL_PHYLOGENY_ADDON
 * points at another build (CI uses it to test the node-gyp build beside the cmake one).
 */
import * as fs from 'fs';
import * as path from 'path';
import { PhylogenyError } from './errors';

export interface CudaDevice {
  index: number;
  name: string;
  computeCapability: string;
  totalMemory: number;
  multiprocessors: number;
}

export interface CudaStatus {
  /** The addon was built with the CUDA backend. */
  compiled: boolean;
  /** Compiled, a driver answered and a device exists. */
  usable: boolean;
  /** Why CUDA is not usable (empty when it is). */
  reason: string;
  driverVersion: number;
  runtimeVersion: number;
  devices: CudaDevice[];
}

export interface CpuInfo {
  /** The kernel set the scan uses by default: 'scalar' | 'avx2' | 'avx512'. */
  isa: string;
  features: string;
  threads: number;
  supportedIsas: string[];
}

export interface NativeFakeInit {
  /** 0 constant, 1 uniform, 2 normal. */
  kind: number;
  /** constant value, uniform low, or normal mean */
  a: number;
  /** uniform high or normal standard deviation */
  b: number;
  key0: number;
  key1: number;
}

export interface NativeScanMember {
  file: number;
  offset: number;
  /** A float dtype, or with `gguf` the ggml type the scan dequantizes ('Q4_K', 'Q8_0', 'F16', ...). */
  dtype: string;
  /** GGUF row layout (lib/io/types.ts GgufLayout); dequantized to float32 by either scan (the CUDA one on the host). */
  gguf?: { rowElems: number; rows: number; permHeads: number };
  /** A PEFT LoRA weight formed in the scan: member `base` of the group + scale · B·A (dtype 'F32'). */
  lora?: NativeLoraMember;
  /** A GPTQ/AWQ Linear weight [out, in] unpacked in the scan (dtype 'F32'); `file`/`offset`
   * are its qweight's (native/core/scan_packed.h). Either scan unpacks it (the CUDA one on the host). */
  packed?: NativePackedMember;
}

export interface NativePackedMember {
  bits: 4 | 8;
  awq: boolean;
  /** 1 for GPTQ's original checkpoint format (zeros stored minus one), else 0. */
  zeroOffset: number;
  in: number;
  out: number;
  groups: number;
  /** Group of input i is i / groupSize when there is no g_idx. */
  groupSize: number;
  zeros: { file: number; offset: number };
  scales: { file: number; offset: number; dtype: string };
  gIdx?: { file: number; offset: number };
}

export interface NativeLoraMember {
  base: number;
  rank: number;
  /** Elements per row (A's columns). */
  cols: number;
  scale: number;
  a: { file: number; offset: number; dtype: string };
  b: { file: number; offset: number; dtype: string };
}

export interface NativeScanGroup {
  name: string;
  count: number;
  fake: NativeFakeInit;
  members: NativeScanMember[];
}

export interface NativeScanPlan {
  files: string[];
  groups: NativeScanGroup[];
  threads?: number;
  chunkBytes?: number;
  isa?: 'auto' | 'scalar' | 'avx2' | 'avx512';
  mode?: 'full' | 'readsum';
  /** Options of startScanCuda (startScan ignores them). */
  cuda?: NativeCudaScanOptions;
}

export interface NativeCudaScanOptions {
  /** Model bytes per work item and per staging buffer (default 32 MiB; 64 KiB to 4 GiB).
   * Not the plan's chunkBytes, which sizes the CPU scan's work items. */
  stageBytes?: number;
  /** Pinned host and device staging buffers (default 3). */
  slots?: number;
  /** Host threads reading files into pinned memory (default min(8, cores)). */
  readers?: number;
  /** Read all weights into GPU memory first, then compute `repeat` times (benchmarks). */
  resident?: boolean;
  repeat?: number;
  /** Gram path: FP64 tensor cores ('dmma', sm_80+), FP64 FMA, or the best available. */
  gram?: 'auto' | 'dmma' | 'fma';
  /** Streaming: copy GGUF Q8_0 members as stored and dequantize them on the GPU (default
   * true); false dequantizes them on the host like the other formed members (docs/cuda.md). */
  deviceDequant?: boolean;
}

/** What every native pass reports about how it ran: the scan and the edge encoder alike. */
export interface NativeRunInfo {
  /** Which code ran it. */
  backend: NativeBackend;
  /** The device's name: 'cpu', or the GPU's (e.g. 'NVIDIA H100 80GB HBM3'). */
  device: string;
  /** CPU: the kernel set ('scalar' | 'avx2' | 'avx512'); CUDA scan: architecture and Gram
   * path ('sm_90 dmma'); CUDA edge encoder: that of the host code, which only reads. */
  isa: string;
  threads: number;
  bytes: number;
  seconds: number;
}

export interface NativeScanOutput extends NativeRunInfo {
  /** Per group g with k members, at offsets[g]: k×5 stats (sum, sumSq, sumCube, sumQuad,
   * fakeInitSq; member-major), then the k×k Gram matrix. */
  values: Float64Array;
  offsets: Float64Array;
  /** CUDA scans only. */
  deviceIndex?: number;
  computeCapability?: string;
  gram?: 'dmma' | 'fma';
  /** CUDA scans only: setup (context, buffers), pipeline (streaming: first read to last
   * result; resident: reading and copying), compute (resident: mean GPU seconds of one pass). */
  timings?: { setup: number; pipeline: number; compute: number; computeMin: number };
}

/** Which code ran a native job: the CPU kernels or the CUDA backend. */
export type NativeBackend = 'cpu' | 'cuda';

export interface NativeCudaBandwidth {
  deviceName: string;
  bytes: number;
  /** GB/s (1e9 bytes per second). */
  h2dPinned: number;
  h2dPageable: number;
  /** Device-to-device copy, bytes read plus bytes written. */
  d2d: number;
}

export interface NativeScanHandle {
  promise: Promise<NativeScanOutput>;
  cancel(): void;
}

export interface NativeSafetensorsTensor {
  name: string;
  dtype: string;
  shape: number[];
  /** Byte offsets relative to the start of the data section, as in the file. */
  begin: number;
  end: number;
}

export interface NativeSafetensorsHeader {
  path: string;
  fileSize: number;
  headerSize: number;
  /** Absolute byte offset of the data section (8 + headerSize). */
  dataStart: number;
  metadata: Record<string, string> | null;
  tensors: NativeSafetensorsTensor[];
}

/** A GGUF metadata array: element type and count; `values` only for arrays of at most 1024 elements. */
export interface NativeGgufArray {
  type: 'array';
  elementType: string;
  count: number | bigint;
  values?: NativeGgufValue[];
}
/** u64 / i64 values beyond 2^53 come back as bigint. */
export type NativeGgufValue = number | bigint | boolean | string | NativeGgufArray;

export interface NativeGgufTensor {
  name: string;
  /** ggml type name, e.g. "Q4_K". */
  type: string;
  /** GGUF order: dims[0] varies fastest (ggml's ne). */
  dims: number[];
  /** Row-major (PyTorch) order: dims reversed. */
  shape: number[];
  /** Absolute file offset of the tensor's first byte. */
  offset: number;
  bytes: number;
  elements: number;
}

export interface NativeGgufHeader {
  path: string;
  fileSize: number;
  version: number;
  alignment: number;
  /** Absolute offset of the data section (the aligned end of the header). */
  dataOffset: number;
  metadata: Record<string, NativeGgufValue>;
  /** GGUF value type of each key ("u32", "string", "array", ...). */
  metadataTypes: Record<string, string>;
  tensors: NativeGgufTensor[];
}

/** A tensor seen as a matrix [rows, cols], with its bytes in each model that has it. */
export interface NativeEdgeTensor {
  name: string;
  rows: number;
  cols: number;
  sources: { file: number; offset: number; dtype: 'F32' | 'F16' | 'BF16' | 'F64' }[];
}

/** Edge-encoder weights, batch norm folded, in tfjs HWIO order: w1 [2][c], b1 [c], w2 [3][3][c][32], b2 [32]. */
export interface NativeEdgeWeights {
  channels: number;
  w1: Float32Array;
  b1: Float32Array;
  w2: Float32Array;
  b2: Float32Array;
}

export interface NativeEdgePlan {
  files: string[];
  tensors: NativeEdgeTensor[];
  /** Ordered pairs: slots a, b of tensor `tensor`; inputs are divided by `scale`. */
  pairs: { tensor: number; a: number; b: number; scale: number }[];
  weights: NativeEdgeWeights;
  threads?: number;
  /** Elements per model per work item (whole rows; default 262144). Results do not depend on it. */
  chunkElems?: number;
  /** CUDA only: elements per model per GPU chunk (default 2^22). */
  cudaChunkElems?: number;
  isa?: 'auto' | 'scalar' | 'avx2' | 'avx512';
  device?: 'cpu' | 'cuda';
  /** Which GPU when device is 'cuda' (default 0), as for the scan. */
  cudaDevice?: number;
}

export interface NativeEdgeOutput extends NativeRunInfo {
  /** pairs × 32 encoder outputs (mean over the matrix of the ReLU'd conv). */
  values: Float64Array;
}

export interface NativeAddon {
  abiVersion: number;
  cudaStatus(): CudaStatus;
  cpuInfo(): CpuInfo;
  startScan(plan: NativeScanPlan, onProgress?: (done: number, total: number) => void): NativeScanHandle;
  /** Fake-init values of elements [start, start + count) via a kernel set (for tests). */
  fakeInit(params: NativeFakeInit, start: number, count: number, isa?: string): Float32Array;
  /** The scan on a CUDA device (default 0). Present only in builds with the CUDA backend. */
  startScanCuda?(plan: NativeScanPlan, onProgress?: (done: number, total: number) => void, device?: number): NativeScanHandle;
  /** The device's fake init (the scan kernel's own code), for tests. CUDA builds only. */
  fakeInitCuda?(params: NativeFakeInit, start: number, count: number, device?: number): Float32Array;
  /** Pinned and pageable host-to-device and device-to-device copy bandwidth. CUDA builds only. */
  cudaBandwidth?(device?: number, bytes?: number): Promise<NativeCudaBandwidth>;
  /** Reads and validates a safetensors header (off the main thread). */
  readSafetensorsHeader(path: string): Promise<NativeSafetensorsHeader>;
  /** The same, synchronously (for small files and tests). */
  readSafetensorsHeaderSync(path: string): NativeSafetensorsHeader;
  /** Reads and validates a GGUF header (off the main thread). */
  readGgufHeader(path: string): Promise<NativeGgufHeader>;
  readGgufHeaderSync(path: string): NativeGgufHeader;
  /** Dequantizes whole blocks of a ggml type to float32 (tests and benchmarks). */
  dequantizeGguf(type: string, bytes: Uint8Array, elements: number): Float32Array;
  /** Elements [start, start + length) of a GPTQ/AWQ member as the CPU scan unpacks them (tests). */
  readPackedRange(files: string[], member: NativeScanMember, tensor: string, start: number, length: number): Float32Array;
  /** The edge encoder's forward over whole matrices, off the main thread (lib/learned). */
  startEdgeEncode(plan: NativeEdgePlan, onProgress?: (done: number, total: number) => void): { promise: Promise<NativeEdgeOutput>; cancel(): void };
  /** Top singular values of child − parent (parent null: of child) by a randomized range
   * finder, off the main thread (native/core/low_rank.h); lib/detect/typing/low-rank.ts. */
  lowRankSpectrum(child: Float32Array, parent: Float32Array | null, rows: number, cols: number, options?: { k?: number; powerIters?: number; seed?: number }): Promise<{ singular: Float64Array; energy: number }>;
}

let cached: NativeAddon | undefined;
let loadedFrom: string | undefined;

/** The package root: lib/ when run from sources (ts-jest), dist/lib/ when compiled. */
export function packageRoot(): string {
  let dir = __dirname;
  for (let i = 0; i < 4; i++) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    dir = path.dirname(dir);
  }
  return path.resolve(__dirname, '..');
}

function candidates(): string[] {
  const root = packageRoot();
  const list: string[] = [];
  if (process.env.NEURAL_PHYLOGENY_ADDON) list.push(path.resolve(process.env.NEURAL_PHYLOGENY_ADDON));
  list.push(path.join(root, 'build', 'Release', 'neural_phylogeny.node'));
  list.push(path.join(root, 'build', 'Debug', 'neural_phylogeny.node'));
  return list;
}

/** The addon ABI these wrappers are written against; native/addon.cc exports the same number
 * as `abiVersion`. Bump both together whenever a native export changes shape. */
export const ADDON_ABI_VERSION = 4;

/** Rejects an addon built from other sources (a stale build/Release after a pull): its exports
 * would not match the types above and fail later in confusing ways. */
export function checkAbiVersion(addon: { abiVersion?: unknown }, file: string, expected = ADDON_ABI_VERSION): void {
  if (addon.abiVersion === expected) return;
  throw new PhylogenyError(
    'E_ADDON_ABI',
    `neural-phylogeny: the native addon at ${file} has ABI version ${String(addon.abiVersion)}, but this library needs ` +
      `version ${expected}; it is stale: rebuild it with \`npm run build:native\`.`,
    { file },
  );
}

/** The addon; throws a clear error naming where it looked if it was never built, or naming
 * the file and both versions if it is stale. */
export function native(): NativeAddon {
  if (cached) return cached;
  const tried: string[] = [];
  for (const file of candidates()) {
    tried.push(file);
    if (!fs.existsSync(file)) continue;
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const addon = require(file) as NativeAddon;
    checkAbiVersion(addon, file);
    cached = addon;
    loadedFrom = file;
    return cached;
  }
  throw new PhylogenyError(
    'E_NO_ADDON',
    `neural-phylogeny: the native addon is not built (looked in ${tried.join(', ')}). ` +
      'Run `npm run build:native` (needs cmake or node-gyp and a C++17 compiler).',
  );
}

/** Where the addon was loaded from (after the first native() call). */
export function nativePath(): string | undefined {
  return loadedFrom;
}
