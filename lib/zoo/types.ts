/** Options, records and results of the model zoo (lib/zoo). */
import type { BackendPreference, BackendReport } from './backend';
import type { EdgeType } from '../io/edge-types';

export type ZooPreset = 'mnist-fc' | 'mnist-cnn' | 'tiny-llama' | 'synthetic-large' | 'regimes' | 'hub' | 'tiny-unet';
export const ZOO_PRESETS: readonly ZooPreset[] = ['mnist-fc', 'mnist-cnn', 'tiny-llama', 'synthetic-large', 'regimes', 'hub', 'tiny-unet'];

/** 'small': minutes on 2 CPU cores (CI, demo). 'paper': the paper's grid (hours to days on CPU). */
export type ZooScale = 'small' | 'paper';

/** LLaMA shapes of the synthetic-large preset. */
export type SyntheticSize = 'tiny' | '1b' | '3b' | '7b';

export interface ZooProgress {
  preset: ZooPreset;
  phase: 'data' | 'train' | 'write' | 'done';
  /** 1-based index of the model being built, and how many the zoo has. */
  model: number;
  models: number;
  modelId?: string;
  generation?: number;
  /** Training progress of the current model (epochs, or optimizer steps for tiny-llama). */
  step?: number;
  steps?: number;
  loss?: number;
  /** Bytes written of the current model (synthetic-large). */
  bytes?: number;
  totalBytes?: number;
  message?: string;
}

export interface ZooOptions {
  preset: ZooPreset;
  /** Directory the zoo is written to (created; existing model files of the same ids are replaced). */
  outDir: string;
  /** Default 0. */
  seed?: number;
  /** Default 'small'. */
  scale?: ZooScale;
  /** Number of families (parents); default from preset and scale. */
  families?: number;
  /** synthetic-large: model shapes (default 'tiny'). */
  size?: SyntheticSize;
  /** synthetic-large: fine-tuned children per parent (default 2). */
  childrenPerFamily?: number;
  /** synthetic-large: grandchildren per family, fine-tuned from the first child (default 1). */
  grandchildrenPerFamily?: number;
  /** synthetic-large: override the number of decoder layers (e.g. 7b shapes with 18 layers ≈ 8 GB in BF16). */
  numLayers?: number;
  /** synthetic-large: largest shard in bytes (default 2 GiB; HF layouts need ≥ 2 shards, so smaller models split in two). */
  maxShardBytes?: number;
  /** tiny-llama: write each child (every model with a parent) as GGUF instead of BF16
   * safetensors, taking these types in turn ('Q8_0', 'Q4_K', ...; lib/io/gguf-from-hf.ts). */
  gguf?: string[];
  /** tiny-llama with gguf: write each child split into this many files, as llama.cpp's
   * gguf-split does (`model-00001-of-0000N.gguf`, ...; lib/io/gguf-split.ts). */
  ggufSplit?: number;
  /** tiny-llama: write each leaf child as a PEFT LoRA adapter of this rank over its parent
   * (SVD of the real fine-tune; lib/zoo/peft-children.ts). Not with gguf. */
  peftRank?: number;
  /** tiny-llama: write each child (every model with a parent) as a 4-bit GPTQ checkpoint
   * (round-to-nearest, groups of 128; lib/zoo/gptq-children.ts). Not with gguf or peftRank. */
  gptq?: boolean;
  /** regimes: which training regimes (lib/zoo/regimes.ts; default all); `families` is then per regime. */
  regimes?: string[];
  /** regimes: the network, 'mlp' (784-64-10, default), 'cnn-bn' (a CNN with BatchNorm whose
   * checkpoints carry running statistics and int64 num_batches_tracked, as PyTorch's do) or
   * 'vit' (a small pre-LayerNorm Vision Transformer written with the tensor names and shapes of
   * transformers' ViTForImageClassification; lib/zoo/vit.ts) or 'llama' (tiny-llama small's
   * decoder on generated text, Hugging Face checkpoint directories; lib/zoo/presets/regimes-llama.ts). */
  regimeNet?: 'mlp' | 'cnn-bn' | 'vit' | 'llama';
  /** tiny-unet: optimizer steps of the parents and of the fine-tunes (default 250 and 60);
   * fewer make a quick zoo for tests. */
  unetSteps?: { parent?: number; child?: number };
  /** tfjs backend; default 'auto' (tfjs-node-gpu → tfjs-node → wasm → cpu). */
  backend?: BackendPreference;
  onProgress?: (p: ZooProgress) => void;
  /** Log lines (default: none). */
  log?: (line: string) => void;
}

/** One model, as models.json records it. */
export interface ZooModelRecord {
  id: string;
  /** Relative to the zoo directory: "<id>.safetensors", or "<id>" for an HF-layout directory. */
  path: string;
  format: 'safetensors' | 'hf-dir';
  dtype: 'F32' | 'BF16';
  architecture: { name: string; params: number } & Record<string, unknown>;
  task: {
    name: string;
    description: string;
    /** The task the plan asked for, when a substitute was used (e.g. Fashion-MNIST absent). */
    planned?: string;
    trainSamples?: number;
    testSamples?: number;
  } & Record<string, unknown>;
  /** Optimizer and schedule (or, for synthetic models, the perturbation). */
  hyperparameters: Record<string, unknown>;
  /** How the starting weights were made: an init scheme for parents, the parent for fine-tunes. */
  initialization: Record<string, unknown>;
  epochs: number | null;
  steps: number | null;
  /** Mean training loss of the last epoch (or of the last logged steps). */
  finalLoss: number | null;
  lossHistory: number[];
  /** Held-out accuracy on the model's own task (next-token accuracy for language models). */
  accuracy: number | null;
  heldOutLoss: number | null;
  /** The model it was fine-tuned from (null for a parent). */
  parent: string | null;
  /** 0 parent, 1 child, 2 grandchild. */
  generation: number;
  /** The parent's held-out accuracy on this model's task before fine-tuning (children only). */
  parentAccuracyOnTask: number | null;
  parentHeldOutLossOnTask: number | null;
  /** tfjs backend that trained it ('none' for synthetic models). */
  backend: string;
  trainSeconds: number;
  synthetic: boolean;
  /** Set when the model's weights were converted to GGUF (tiny-llama with the gguf option):
   * the file in its directory (the first of `splitFiles` with ggufSplit), the type asked for,
   * and tensors per ggml type written. */
  gguf?: { file: string; type: string; tensorTypes: Record<string, number>; splitFiles?: number };
  /** Set when the model was written as a GPTQ checkpoint (gptq option): bits, group size and
   * the number of packed Linears. */
  gptq?: { bits: number; groupSize: number; packed: number };
  /** Set when the model was written as a PEFT LoRA adapter over its parent (peftRank option). */
  peft?: { rank: number };
  /** How the model came from its parent(s), when not a plain fine-tune of `parent` (hub preset):
   * the edge type for lineage.json, every parent of a merge with its weight (`parent` is then
   * the heaviest), and the rank of a low-rank update. */
  origin?: { type: EdgeType; parents?: { id: string; weight: number }[]; rank?: number; recipe?: string };
}

/** models.json. */
export interface ZooManifest {
  generator: 'neural-phylogeny zoo';
  codeVersion: string;
  preset: ZooPreset;
  scale: ZooScale;
  seed: number;
  /** The options that determine the content (cache key input). */
  options: Record<string, unknown>;
  cacheKey: string;
  synthetic: boolean;
  backend: BackendReport | null;
  datasets: Record<string, unknown>;
  notes: string[];
  buildSeconds: number;
  models: ZooModelRecord[];
}

export interface ZooSummary extends ZooManifest {
  outDir: string;
  modelsJson: string;
  lineageJson: string;
  lineage: { edges: { parent: string; child: string }[]; families: string[][] };
  /** True when ensureZoo reused an existing zoo. */
  cached: boolean;
}
