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
  /** Set for GGUF tensors (dtype is then the ggml type: 'Q4_K', 'Q8_0', 'F16', ...): the scan
   * reads them row by row and dequantizes (lib/io/gguf-tensors.ts). */
  gguf?: GgufLayout;
  /** Set for a PEFT LoRA adapter model's changed weights: the scan forms base + scale · B·A
   * row by row from the base model's tensor (lib/io/adapters.ts); dtype is then 'F32'. */
  lora?: LoraSource;
  /** Set for a GPTQ/AWQ Linear weight (dtype 'GPTQ4', 'GPTQ8', 'AWQ4', ...): the scan unpacks
   * it from these parts to the torch weight [out, in] (lib/io/packed-quant.ts); `file` and
   * `offset` are the qweight's, `byteLength` all parts'. */
  packed?: PackedLayout;
}

/** A GPTQ or AWQ Linear: int32 words of `bits`-bit integers, per-group scales and zero points. */
export interface PackedLayout {
  method: 'gptq' | 'awq';
  bits: number;
  /** As configured: inputs per group, or -1 for one group over all inputs. */
  groupSize: number;
  /** Rows of scales and qzeros. */
  groups: number;
  /** Added to every stored zero point: 1 for GPTQ's original checkpoint format. */
  zeroOffset: 0 | 1;
  in: number;
  out: number;
  /** g_idx is not simply i / groupSize (GPTQ act order, desc_act). */
  actOrder: boolean;
  qweight: TensorEntry;
  qzeros: TensorEntry;
  scales: TensorEntry;
  gIdx?: TensorEntry;
}

export interface LoraSource {
  /** The base model's tensor of the same name (the same object as in the base's list). */
  base: TensorEntry;
  /** lora_A [rank, cols] and lora_B [rows, rank], in the adapter's weight file. */
  a: TensorEntry;
  b: TensorEntry;
  rank: number;
  /** lora_alpha / r, or lora_alpha / sqrt(r) for rsLoRA. */
  scale: number;
}

/** How a GGUF tensor is laid out: whole rows of ggml blocks, maybe with llama q/k rows reordered. */
export interface GgufLayout {
  /** Elements per row (ggml's ne[0], the last dimension of `shape`). */
  rowElems: number;
  /** Rows (elements / rowElems). */
  rows: number;
  /** For llama attn_q/attn_k: the heads whose rotary halves llama.cpp's converter interleaved;
   * HF row r is then stored at GGUF row hfRowToGgufRow(r) (lib/io/gguf-names.ts). 0: rows in order. */
  permHeads: number;
}

/** How the model is laid out (a weight file, an HF directory, ...); see WeightFormatName for
 * what its weight files are. */
export type ModelFormat = 'file' | 'hf' | 'hf-sharded' | 'diffusers' | 'peft';

/** The format of weight files: safetensors, PyTorch's torch.save zip checkpoints, or llama.cpp's GGUF. */
export type WeightFormatName = 'safetensors' | 'pytorch' | 'gguf';

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
  /** Set for a PEFT adapter directory (format 'peft'). */
  adapter?: AdapterInfo;
  /** Set for a GGUF model split by llama.cpp's gguf-split: the number of files (in `files`). */
  ggufSplit?: { files: number };
}

/** A PEFT LoRA adapter and the base it was matched to. */
export interface AdapterInfo {
  /** adapter_config.json. */
  configFile: string;
  /** The base it names (base_model_name_or_path, else the README's base_model), if any. */
  wants?: string;
  /** The id of its base in the set, once found; until then `tensors` are the adapter's own. */
  baseId?: string;
  /** r of adapter_config.json, and the number of LoRA pairs. */
  rank: number;
  pairs: number;
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
