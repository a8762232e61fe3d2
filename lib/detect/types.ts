/**
 * The detection result: a directed forest over the models, as `phylogeny detect --format json`
 * writes it (the JSON format is in docs/report.md). Reports (lib/report) render it; eval (lib/eval) scores it.
 */
import type { EdgeType } from '../io/edge-types';

export type { EdgeType };

/** What the model's own files say its base is, and whether the weights agree (lib/io/declared.ts). */
export interface DeclaredBase {
  /** Declared base ids or names (config.json `_name_or_path`, README `base_model`, ...), resolved to model ids where one matches. */
  bases: string[];
  /** agree: a declared base is a detected parent; disagree: none is; none: nothing declared. */
  verdict: 'agree' | 'disagree' | 'none';
  /** Where each declaration came from, and for a disagreement what the weights say instead. */
  evidence?: string[];
}

export interface DetectedModel {
  id: string;
  path: string;
  /** Parameters compared (elements of the tensors the model shares with others). */
  params: number;
  /** Direction score: lower = closer to initialization = more likely an ancestor. */
  score: number;
  /** Declared bases and their verdict; absent when declarations were not read. */
  declared?: DeclaredBase;
}

export interface DetectedEdge {
  parent: string;
  child: string;
  /** In [0, 1]; what it means is documented per method in docs/confidence.md. */
  confidence: number;
  /** The distance D(parent, child) the method used. */
  distance?: number;
  /** The two factors of `confidence` (docs/confidence.md): score margin and assignment margin. */
  confidenceParts?: { direction: number; pairing: number };
  /** The kind of edge (lib/io/edge-types.ts); absent means finetune. A merge child has one edge per parent. */
  type?: EdgeType;
  /** merge edges: the parent's fitted weight in the combination. */
  weight?: number;
  /** finetune edges: the update looks low-rank, of about this rank. */
  lowRank?: boolean;
  rank?: number;
  /** Set when the edge's family was left undirected (its direction confidence is below
   * `minDirectionConfidence`): the pair is linked, the direction shown is not asserted. */
  undirected?: boolean;
}

/** Per family (same order as `families`): how sure the method is of the family's direction. */
export interface FamilyDirection {
  /** The family's root as detected. */
  root: string;
  /** Expected share of the family's edges with the right direction, from the method's own
   * direction confidences (lib/detect/family-direction.ts); null for a family without edges. */
  confidence: number | null;
  /** False when the family was left undirected (confidence below `minDirectionConfidence`). */
  directed: boolean;
}

export interface DetectionResult {
  models: DetectedModel[];
  edges: DetectedEdge[];
  /** Models without a parent. */
  roots: string[];
  /** Families (connected components of the forest), each a list of ids. */
  families: string[][];
  /** Per family, in `families` order: its direction confidence (absent in older files). */
  familyDirections?: FamilyDirection[];
  /** Groups of models with identical compared weights (distance 0). */
  duplicates: string[][];
  /** The distance matrix the method used (for heat maps), rows/cols in `ids` order. */
  distances?: { ids: string[]; matrix: number[][] };
  method: string;
  options: Record<string, unknown>;
  /** Milliseconds per stage, e.g. { scan: 812, detect: 3 }. */
  timings: Record<string, number>;
  warnings: string[];
}
