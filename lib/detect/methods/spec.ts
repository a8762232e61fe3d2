/**
 * What a detection method is: a name, a one-line description (CLI help, `phylogeny methods`),
 * the defaults it sets differently from the shared ones, and how it runs. Every method is one
 * file in this folder and one line in registry.ts; nothing else names methods.
 */
import type { ModelSet } from '../../io/types';
import type { ScanResult } from '../../scan/types';
import type { MethodDefaults, ResolvedOptions } from '../options';
import type { DirectionSignal } from '../root-posterior';
import type { DetectionResult } from '../types';

/**
 * The reduced problem a method solves (one representative per duplicate group): linking
 * distances D (Infinity = never linked), oriented scores (lower = earlier) and τ.
 */
export interface MethodContext {
  options: ResolvedOptions;
  D: number[][];
  score: number[];
  tau: number;
  /** Groups linked by distances below τ: the least K for the clustering methods. */
  tauComponents: number;
  /** Groups that anything links at all (any finite distance). */
  relatedComponents: number;
  /** Squared distances among a group of models (indices as in D), row-major. */
  squaredOf(models: number[]): Float64Array;
  /** Per pair of a group of models (indices as in D, row-major): how many tensors that some
   * of them hold bit-identical differ (unchanged-tensors.ts); null when none is. */
  tensorChangesOf(models: number[]): Float64Array | null;
  /** Per tensor all of a group of models have: their squared distances on it (distances.ts
   * perTensorSquaredDistances). */
  tensorDistancesOf(models: number[]): Float64Array[];
  /** Per-tensor direction signals; computed on first call, so methods that never ask pay nothing. */
  signals(): DirectionSignal[];
  /** With `tinyStep`: pairs (indices as in D) whose relative step is below it (tiny-step.ts). */
  tinyStep?: (u: number, v: number) => boolean;
}

export interface MethodRun {
  parent: Int32Array;
  /** τ as the "become a root" rival in pairing confidences (Infinity when the method has none). */
  rivalTau: number;
  /** How directions were decided: per edge by the score, or per family as a whole. */
  orientation: 'edge' | 'family';
  /** Values the method chose, recorded in DetectionResult.options. */
  chosen: Record<string, unknown>;
  /** Per node with a parent: a direction confidence the method computed itself. */
  direction?: Float64Array;
  /** Added to DetectionResult.warnings. */
  warnings: string[];
}

/** For methods that read the weights themselves, beyond the scan (the learned detector). */
export interface ModelFilesRun {
  /** Why `detect(scan)` cannot run it, and what to call instead. */
  why: string;
  /** Extra options this method takes (the detector directory; default: the detector shipped in the package). */
  run(scan: ScanResult, set: ModelSet, opts: { detector?: string }): Promise<DetectionResult>;
}

export interface MethodSpec {
  name: string;
  description: string;
  /** Overrides of DEFAULTS (options.ts) when the caller does not set them. */
  defaults?: MethodDefaults;
  /** Rejects option combinations the method cannot use (throws InvalidArgumentError). */
  validate?(o: ResolvedOptions): void;
  /** Learning-free methods run on the scan alone. */
  run?(ctx: MethodContext): MethodRun;
  /** Set for methods that need the model files (and `run` is absent). */
  modelFiles?: ModelFilesRun;
}
