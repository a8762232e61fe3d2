/**
 * The weight formats discovery knows, in order of preference: what their files are called
 * and how their tensor lists are read. All give TensorEntry lists with absolute offsets, so
 * everything after discovery (plan, scan) is the same for every format; GGUF entries also
 * carry their row layout, and the scan dequantizes them (lib/io/gguf-tensors.ts).
 */
import { readGgufTensors } from './gguf-tensors';
import { readHeader } from './safetensors';
import { readTorchCheckpoint } from './torch-checkpoint';
import type { TensorEntry, WeightFormatName } from './types';

export interface TensorList {
  tensors: TensorEntry[];
  warnings: string[];
}

export interface WeightFormat {
  name: WeightFormatName;
  /** A file with one of these endings (lower case) is a model on its own. */
  extensions: string[];
  /** Weight file stems of a Hugging Face / diffusers directory, in order of preference;
   * `<stem><singleSuffix>` is one file, `<stem><indexSuffix>` a shard index. */
  stems: string[];
  singleSuffix: string;
  indexSuffix: string;
  readTensors(file: string): Promise<TensorList>;
}

async function readSafetensors(file: string): Promise<TensorList> {
  const h = await readHeader(file);
  const tensors = h.tensors.map((t) => ({
    name: t.name, dtype: t.dtype, shape: t.shape, file, offset: h.dataStart + t.begin, byteLength: t.end - t.begin,
  }));
  return { tensors, warnings: [] };
}

export const WEIGHT_FORMATS: readonly WeightFormat[] = [
  {
    name: 'safetensors',
    extensions: ['.safetensors'],
    stems: ['model', 'diffusion_pytorch_model'],
    singleSuffix: '.safetensors',
    indexSuffix: '.safetensors.index.json',
    readTensors: readSafetensors,
  },
  {
    name: 'pytorch',
    extensions: ['.bin', '.pt', '.pth'],
    stems: ['pytorch_model', 'diffusion_pytorch_model'],
    singleSuffix: '.bin',
    indexSuffix: '.bin.index.json',
    readTensors: readTorchCheckpoint,
  },
  {
    // llama.cpp's single-file format; a directory holds it as model.gguf. GGUF has no shard
    // index of its own, so an index in the Hugging Face form is the only one recognised.
    name: 'gguf',
    extensions: ['.gguf'],
    stems: ['model'],
    singleSuffix: '.gguf',
    indexSuffix: '.gguf.index.json',
    readTensors: readGgufTensors,
  },
];

/** The format of a weight file given on its own, by its name; undefined if none. */
export function formatOfFile(name: string): WeightFormat | undefined {
  const lower = name.toLowerCase();
  return WEIGHT_FORMATS.find((f) => f.extensions.some((e) => lower.endsWith(e) && lower.length > e.length));
}

/** The format of a shard index file, by its name; undefined if none. */
export function formatOfIndex(name: string): WeightFormat | undefined {
  return WEIGHT_FORMATS.find((f) => name.endsWith(f.indexSuffix));
}

export function weightFormat(name: WeightFormatName): WeightFormat {
  return WEIGHT_FORMATS.find((f) => f.name === name)!;
}
