/**
 * The kinds of quantized child the hub preset writes, one entry each: how to turn a source
 * model directory into a quantized copy beside it. A new quantizer (AWQ, ...) is one
 * more entry here and one line in hub.ts's QUANTIZED list.
 */
import * as fs from 'fs';
import * as path from 'path';
import { openModels } from '../../io/discover';
import { convertLlamaToGguf } from '../../io/gguf-from-hf';
import type { QuantizeType } from '../../io/gguf-quantize';
import { writePackedModel } from '../../io/packed-quant-writer';
import { GGUF_FILE } from '../gguf-children';
import { ZOO_GPTQ_GROUP } from '../gptq-children';
import type { ZooModelRecord } from '../types';

export interface HubQuantizer {
  about: string;
  /** Writes the copy of `sourceDir` into `outDir`; returns what models.json records about it. */
  write(sourceDir: string, outDir: string): Promise<Partial<ZooModelRecord>>;
}

function gguf(type: QuantizeType): HubQuantizer {
  return {
    about: `GGUF ${type} (llama.cpp layout; rows that are not whole blocks fall back, lib/io/gguf-from-hf.ts)`,
    async write(sourceDir, outDir) {
      fs.mkdirSync(outDir, { recursive: true });
      fs.copyFileSync(path.join(sourceDir, 'config.json'), path.join(outDir, 'config.json'));
      const [model] = (await openModels([sourceDir])).models;
      const { types } = convertLlamaToGguf(model, path.join(outDir, GGUF_FILE), type);
      const tensorTypes: Record<string, number> = {};
      for (const t of Object.values(types)) tensorTypes[t] = (tensorTypes[t] ?? 0) + 1;
      return { gguf: { file: GGUF_FILE, type, tensorTypes } };
    },
  };
}

/** A 4-bit GPTQ copy (round-to-nearest per group, lib/io/packed-quant-writer.ts): a hub's GPTQ
 * upload of a fine-tune, read back by the scan as the source plus rounding error. */
const gptq4: HubQuantizer = {
  about: `GPTQ 4-bit, groups of ${ZOO_GPTQ_GROUP} (round-to-nearest writer, not the GPTQ algorithm)`,
  async write(sourceDir, outDir) {
    const [model] = (await openModels([sourceDir])).models;
    const packed = writePackedModel(model, outDir, { method: 'gptq', bits: 4, groupSize: ZOO_GPTQ_GROUP });
    return { gptq: { bits: 4, groupSize: ZOO_GPTQ_GROUP, packed: packed.length } };
  },
};

export const HUB_QUANTIZED_KINDS = {
  'gguf-q8_0': gguf('Q8_0'),
  'gguf-q4_k': gguf('Q4_K'),
  'gptq-4bit': gptq4,
} satisfies Record<string, HubQuantizer>;

export type HubQuantizedKind = keyof typeof HUB_QUANTIZED_KINDS;
