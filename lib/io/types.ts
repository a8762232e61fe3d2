/** What discovery (lib/io/discover.ts) finds: models, their files and their tensors. */
import type { EdgeType } from './edge-types';

/** One tensor of one model, located in one file. */
export interface TensorEntry {
  /** Tensor name; in diffusers pipelines prefixed by the component folder ("unet/..."). */
  name: string;
  /** safetensors dtype string (F32, F16, BF16, F64, I64, ...). */
  dtype: string;
  shape: number[];
  /** The file that holds it. */
  file: string;
  /** Absolute byte offset of its first element in `file`. */
  offset: number;
  byteLength: number;
  /** Set when the scan cannot read the tensor in place, with the reason (e.g. a torch tensor
   * saved as a non-contiguous view); such tensors are refused or skipped like non-float ones. */
  unreadable?: string;
}

/** How the model is laid out (a weight file, an HF directory, ...); see WeightFormatName for
 * what its weight files are. */
export type ModelFormat = 'file' | 'hf' | 'hf-sharded' | 'diffusers';

/** The format of weight files: safetensors, or PyTorch's torch.save zip checkpoints. */
export type WeightFormatName = 'safetensors' | 'pytorch';

export interface ModelSource {
  /** File stem or directory name; unique within a set (disambiguated by parent folders). */
  id: string;
  /** The path the model was found at (file or directory), absolute. */
  path: string;
  format: ModelFormat;
  /** The formats of its weight files (two only for a diffusers pipeline that mixes them). */
  weightFormats?: WeightFormatName[];
  /** Every weight file of the model. */
  files: string[];
  tensors: TensorEntry[];
  /** Bytes of tensor data (all dtypes). */
  bytes: number;
  /** Parameters (elements of all tensors). */
  params: number;
}

/** One true edge; `type` absent means a fine-tune (lib/io/edge-types.ts, lib/io/lineage.ts). */
export interface LineageEdge {
  parent: string;
  child: string;
  type?: EdgeType;
  /** merge edges: the parent's weight in the combination. */
  weight?: number;
  /** finetune/peft edges: the update had this rank (a low-rank fine-tune or an adapter). */
  rank?: number;
}

/** Ground truth written by the zoo and read by `phylogeny eval`. */
export interface Lineage {
  edges: LineageEdge[];
  families: string[][];
}

export interface ModelSet {
  models: ModelSource[];
  /** lineage.json found in a model-set directory, if any. */
  lineage?: Lineage;
  /** Things that were skipped or odd, in words (not errors). */
  warnings: string[];
}
