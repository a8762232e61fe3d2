/**
 * ScanResult: everything the learning-free methods need, from one pass over the weights.
 * Stored as JSON (`phylogeny scan --out scan.json`); documented in docs/scan-format.md.
 * All sums are float64 over the tensor's compared elements, each element first converted to
 * float32 (exact for F16/BF16/F32).
 */

import type { StepCounter } from './counters';

export type FakeInitKind = 'constant' | 'uniform' | 'normal';

/** The fake-initialization distribution drawn for one tensor. */
export interface TensorFakeInit {
  /** The scheme that produced it, e.g. "kaiming-uniform(a=2.23607)" or "constant(1)". */
  scheme: string;
  kind: FakeInitKind;
  /** constant: value; uniform: low; normal: mean */
  a: number;
  /** uniform: high; normal: standard deviation; constant: 0 */
  b: number;
}

export interface ScanTensor {
  name: string;
  /** The compared shape (for row-prefix alignment, the common prefix of rows). */
  shape: number[];
  /** Indices into ScanResult.models of the models that have this tensor, ascending. */
  models: number[];
  /** Per model (same order as `models`): its dtype. */
  dtypes: string[];
  /** Elements compared per model. */
  count: number;
  fakeInit: TensorFakeInit;
  /** Per model (same order as `models`). */
  sum: number[];
  sumSq: number[];
  sumCube: number[];
  sumQuad: number[];
  /** Σ (x − r)² with r the fake initialization. */
  fakeInitSq: number[];
  /** gram[i][j] = Σ x_i·x_j over the compared elements, i, j indexing `models`. */
  gram: number[][];
  /** Present when models had different row counts and the common row prefix was compared. */
  rowPrefix?: { rows: number; fullRows: number[] };
}

export interface ScanModel {
  id: string;
  path: string;
  params: number;
  bytes: number;
  /** Set for a PEFT adapter: the base in the set its weights were formed over, and its rank.
   * Its edge is then read from the file, not inferred (lib/detect/detect.ts). */
  adapter?: { base: string; rank: number };
}

/** A tensor that was left out of the scan, and why. */
export interface SkippedTensor {
  model: string;
  tensor: string;
  reason: string;
}

export type ScanBackend = 'cpu' | 'cuda' | 'cpu+cuda';

export interface ScanResult {
  format: 'neural-phylogeny/scan';
  version: 1;
  models: ScanModel[];
  seed: number;
  /** The fake-init specification the scan used (rules by name pattern; see fake-init.ts). */
  fakeInit: string;
  tensors: ScanTensor[];
  skipped: SkippedTensor[];
  /**
   * Integer step counters (BatchNorm's `num_batches_tracked`) read as direction evidence:
   * per counter tensor name, its value per model (null where the model lacks it). Absent when
   * no model has one, and in files written before the field existed (lib/scan/counters.ts).
   */
  counters?: StepCounter[];
  /** Set on partial scans (`--shard i/n`); merged results have none. */
  shard?: { index: number; count: number };
  /** How it ran: backend, device, kernel set, threads, seconds, bytes read. */
  run: {
    /** 'cpu' or 'cuda'; merged scans of both: 'cpu+cuda'. Files written before the field
     * existed get it derived from `device` on load. */
    backend: ScanBackend;
    /** The device's name: 'cpu', or the GPU's with its index ('NVIDIA H100 80GB HBM3 (cuda:0)'). */
    device: string;
    /** CPU: the kernel set ('avx512'); CUDA: architecture and Gram path ('sm_90 dmma'). */
    isa: string;
    threads: number;
    seconds: number;
    bytes: number;
    /** Why `device: 'auto'` did not use CUDA. */
    fallbackReason?: string;
  };
}
