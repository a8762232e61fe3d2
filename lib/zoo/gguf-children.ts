/**
 * A zoo's children as GGUF: each model with a parent is converted in place from its
 * safetensors checkpoint to model.gguf (llama.cpp's layout, q/k rows permuted, weights
 * quantized; lib/io/gguf-from-hf.ts) and its safetensors files removed, so the lineage stays
 * the same while parents and children are stored in different formats. The types are taken in
 * turn, child after child. Each child may be split into several files as llama.cpp's gguf-split
 * writes them (model-00001-of-0000N.gguf, ...).
 */
import * as fs from 'fs';
import * as path from 'path';
import { InvalidArgumentError } from '../errors';
import { openModels } from '../io/discover';
import { convertLlamaToGguf } from '../io/gguf-from-hf';
import { QUANTIZE_TYPES, QuantizeType } from '../io/gguf-quantize';
import type { ZooModelRecord } from './types';

export const GGUF_FILE = 'model.gguf';

/** Checks a list of GGUF types asked for (the zoo's gguf option). */
export function parseGgufTypes(types: string[]): QuantizeType[] {
  for (const t of types)
    if (!(QUANTIZE_TYPES as readonly string[]).includes(t))
      throw new InvalidArgumentError('E_INVALID_ARG', `gguf: type '${t}' cannot be written (choose from ${QUANTIZE_TYPES.join(', ')})`);
  if (!types.length) throw new InvalidArgumentError('E_INVALID_ARG', 'gguf: give at least one type');
  return types as QuantizeType[];
}

/** Converts the children among `models` (HF directories under `outDir`) and records it on
 * each; with `splitFiles`, each child is written split into that many files (gguf-split's layout). */
export async function writeChildrenAsGguf(outDir: string, models: ZooModelRecord[], types: string[], splitFiles?: number): Promise<void> {
  const asked = parseGgufTypes(types);
  let j = 0;
  for (const rec of models) {
    if (rec.parent === null) continue;
    const type = asked[j++ % asked.length];
    const dir = path.join(outDir, rec.path);
    const model = (await openModels([dir])).models[0];
    const split = splitFiles ? { files: splitFiles } : undefined;
    const { types: written, files } = convertLlamaToGguf(model, path.join(dir, GGUF_FILE), type, split);
    for (const f of fs.readdirSync(dir)) if (/\.safetensors(\.index\.json)?$/.test(f)) fs.rmSync(path.join(dir, f));
    const tensorTypes: Record<string, number> = {};
    for (const t of Object.values(written)) tensorTypes[t] = (tensorTypes[t] ?? 0) + 1;
    rec.gguf = { file: path.basename(files[0]), type, tensorTypes };
    if (split) rec.gguf.splitFiles = files.length;
  }
}
