/**
 * A zoo's children as GPTQ checkpoints: each model with a parent is rewritten in place as a
 * 4-bit GPTQ Hugging Face directory (model.safetensors with every decoder Linear packed as
 * qweight/qzeros/scales/g_idx, config.json with quantization_config; lib/io/packed-quant-writer.ts)
 * and its BF16 shards removed, so parents and children are stored in different formats while
 * the lineage stays the same. The quantizer is round-to-nearest per group, a format writer and
 * not the GPTQ algorithm: the child read back is the trained child plus rounding error.
 */
import * as fs from 'fs';
import * as path from 'path';
import { InvalidArgumentError } from '../errors';
import { openModels } from '../io/discover';
import { writePackedModel } from '../io/packed-quant-writer';
import type { ZooModelRecord } from './types';

/** GPTQ's usual group size; tiny-llama's 64 inputs then make one group per row (176: two). */
export const ZOO_GPTQ_GROUP = 128;

/** Rewrites the children among `models` (HF directories under `outDir`) and records it on each. */
export async function writeChildrenAsGptq(outDir: string, models: ZooModelRecord[], groupSize = ZOO_GPTQ_GROUP): Promise<void> {
  if (!(Number.isInteger(groupSize) && groupSize >= 1)) throw new InvalidArgumentError('E_INVALID_ARG', `gptq: group size must be a positive integer, got ${groupSize}`);
  for (const rec of models) {
    if (rec.parent === null) continue;
    const dir = path.join(outDir, rec.path);
    const model = (await openModels([dir])).models[0];
    const tmp = `${dir}.gptq-tmp`;
    fs.rmSync(tmp, { recursive: true, force: true });
    const packed = writePackedModel(model, tmp, { method: 'gptq', bits: 4, groupSize });
    for (const f of fs.readdirSync(dir)) if (/\.safetensors(\.index\.json)?$/.test(f) || f === 'config.json') fs.rmSync(path.join(dir, f));
    for (const f of fs.readdirSync(tmp)) fs.renameSync(path.join(tmp, f), path.join(dir, f));
    fs.rmSync(tmp, { recursive: true, force: true });
    rec.gptq = { bits: 4, groupSize, packed: packed.length };
  }
}
