/**
 * Hugging Face llama checkpoint -> GGUF, the way llama.cpp's converter lays it out: llama.*
 * metadata from config.json, GGUF tensor names, q/k rows interleaved per head (the rotary
 * permutation the scan undoes), weights quantized to the asked type and 1-D tensors in F32.
 * Used by the zoo and tests so a GGUF child of a safetensors parent is a real conversion.
 *
 * Rows whose length is not a whole number of the asked type's blocks fall back as llama-quantize
 * does in spirit, to a type whose blocks fit: a K-quant (256-element blocks) to Q4_0 when the
 * row is a multiple of 32 (llama-quantize picks Q5_0/Q5_1/Q8_0, which this repo's test
 * quantizer does not write), else F16. The quantizers are lib/io/gguf-quantize.ts's plain
 * round-to-nearest, not llama.cpp's.
 */
import * as fs from 'fs';
import * as path from 'path';
import { FormatError, InvalidArgumentError } from '../errors';
import { hfRowToGgufRow, hfToGgufName, permutedHeads } from './gguf-names';
import { ggmlType } from './gguf-types';
import { QuantizeType } from './gguf-quantize';
import { GgufSplitOptions, GgufWriteTensor, llamaMetadata, writeGguf, writeGgufSplit } from './gguf-writer';
import { readTensorValues } from './tensor-data';
import type { ModelSource } from './types';

export interface GgufConversion {
  /** Type of each tensor written, by HF name. */
  types: Record<string, string>;
  /** The files written: `outFile`, or with `split` the split files in order. */
  files: string[];
}

/** The type a tensor with rows of `rowElems` gets when `asked` is wanted. */
export function ggufTypeFor(asked: QuantizeType, shape: number[]): QuantizeType {
  if (shape.length < 2) return 'F32';
  const rowElems = shape[shape.length - 1];
  const fits = (t: QuantizeType) => rowElems % ggmlType(t)!.blockElems === 0;
  if (fits(asked)) return asked;
  if (ggmlType(asked)!.blockElems === 256 && fits('Q4_0')) return 'Q4_0';
  return 'F16';
}

/** Reorders the rows of an HF q/k weight [rows, cols] into GGUF order. */
export function permuteRows(values: Float32Array, rows: number, cols: number, heads: number): Float32Array {
  const out = new Float32Array(values.length);
  for (let r = 0; r < rows; r++) out.set(values.subarray(r * cols, (r + 1) * cols), hfRowToGgufRow(r, rows, heads) * cols);
  return out;
}

function intField(cfg: Record<string, unknown>, key: string, file: string): number {
  const v = cfg[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new FormatError('E_FORMAT', `${file}: ${key} must be a positive integer`, { file });
  return v;
}

/**
 * Writes `model` (a llama checkpoint with config.json in its directory) to `outFile` as GGUF
 * with weights in `type`; with `split`, as gguf-split's files `<outFile without .gguf>-00001-of-0000N.gguf`, ...
 */
export function convertLlamaToGguf(model: ModelSource, outFile: string, type: QuantizeType, split?: GgufSplitOptions): GgufConversion {
  const dir = model.format === 'file' ? path.dirname(model.path) : model.path;
  const cfgFile = path.join(dir, 'config.json');
  let cfg: Record<string, unknown>;
  try {
    cfg = JSON.parse(fs.readFileSync(cfgFile, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new InvalidArgumentError('E_INVALID_ARG', `${cfgFile}: a llama config.json is needed to convert ${model.id} to GGUF (${(e as Error).message})`, { file: cfgFile });
  }
  const heads = intField(cfg, 'num_attention_heads', cfgFile);
  const kvHeads = typeof cfg.num_key_value_heads === 'number' ? intField(cfg, 'num_key_value_heads', cfgFile) : heads;
  const metadata = llamaMetadata({
    name: model.id,
    blockCount: intField(cfg, 'num_hidden_layers', cfgFile),
    embeddingLength: intField(cfg, 'hidden_size', cfgFile),
    feedForwardLength: intField(cfg, 'intermediate_size', cfgFile),
    headCount: heads,
    headCountKv: kvHeads,
    contextLength: typeof cfg.max_position_embeddings === 'number' ? cfg.max_position_embeddings : undefined,
    rmsEps: typeof cfg.rms_norm_eps === 'number' ? cfg.rms_norm_eps : undefined,
  });
  const types: Record<string, string> = {};
  const tensors: GgufWriteTensor[] = model.tensors.map((t) => {
    const name = hfToGgufName(t.name, 'llama');
    const tensorType = ggufTypeFor(type, t.shape);
    types[t.name] = tensorType;
    const permHeads = permutedHeads(name, 'llama', heads, kvHeads);
    return {
      name,
      type: tensorType,
      dims: [...t.shape].reverse(),
      // Produced when written, one tensor at a time.
      data: () => {
        const v = readTensorValues(t);
        return permHeads ? permuteRows(v, t.shape[0], t.shape[1], permHeads) : v;
      },
    };
  });
  if (split) return { types, files: writeGgufSplit(outFile.replace(/\.gguf$/i, ''), { metadata, tensors }, split) };
  writeGguf(outFile, { metadata, tensors });
  return { types, files: [outFile] };
}
