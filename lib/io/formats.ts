/**
 * The weight formats discovery knows, in order of preference: what their files are called
 * and how their tensor lists are read. All give TensorEntry lists with absolute offsets, so
 * everything after discovery (plan, scan) is the same for every format; GGUF entries also
 * carry their row layout, and the scan dequantizes them (lib/io/gguf-tensors.ts).
 */
import { readGgufHeader } from './gguf';
import { groupSplitNames, parseSplitName, SplitName } from './gguf-split';
import { readGgufModel, readGgufTensors } from './gguf-tensors';
import type { Limiter } from './limiter';
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
  /** Set for formats whose tools split one model into several files found by their names
   * (llama.cpp's gguf-split): a model is then the group of files, read together. */
  split?: SplitLayout;
}

export interface SplitLayout {
  /** What a file name says about its place in a split model; undefined if it is not a split file. */
  parse(fileName: string): SplitName | undefined;
  /** The split models among a directory's file names (only the one with prefix `only` if given), checked by name. */
  group(dir: string, names: string[], only?: string): { prefix: string; files: string[] }[];
  /** One model's tensor list from its files in order; `run` bounds the reads at once. */
  readTensors(files: string[], run: Limiter): Promise<TensorList>;
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
    // llama.cpp's format; a directory holds it as model.gguf. GGUF has no shard index of its
    // own (an index in the Hugging Face form is recognised); gguf-split's files
    // (`<prefix>-00001-of-0000N.gguf`, ...) are found by name and read as one model.
    name: 'gguf',
    extensions: ['.gguf'],
    stems: ['model'],
    singleSuffix: '.gguf',
    indexSuffix: '.gguf.index.json',
    readTensors: readGgufTensors,
    split: {
      parse: parseSplitName,
      group: groupSplitNames,
      readTensors: (files, run) => readGgufModel(files, (f) => run(() => readGgufHeader(f))),
    },
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
