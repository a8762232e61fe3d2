/**
 * GPTQ/AWQ in the scan: the same two llama-shaped models (a parent and a child, random
 * weights) scanned as BF16 safetensors and as GPTQ / AWQ checkpoints written from them
 * (lib/io/packed-quant-writer.ts: every decoder Linear packed, embeddings, lm_head and norms
 * kept in BF16, as real GPTQ checkpoints keep them). The rate is parameters per second (the
 * bytes of parameters of the BF16 files per second, whatever is stored), so a ratio of 1 means
 * unpacking costs nothing beside reading BF16; the target is ≥ 0.5 for GPTQ 4-bit. Files are
 * in the page cache (written just before); all cores; best of --reps runs, all in one process.
 *
 *   npm run bench:gptq [-- --hidden 1024 --layers 4 --reps 5]
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { openModels } from '../lib/io/discover';
import { PackOptions, writePackedModel } from '../lib/io/packed-quant-writer';
import type { ModelSet } from '../lib/io/types';
import { writeLlama } from './llama-fixture';
import { machineDescription } from './machine';
import { numberOption, writeRateTable } from './scan-timing';
import { handleUsage } from '../scripts/usage';

handleUsage(__filename, ['hidden', 'layers', 'reps']);

const VARIANTS: [string, PackOptions][] = [
  ['GPTQ 4-bit, group 128', { method: 'gptq', bits: 4, groupSize: 128 }],
  ['GPTQ 4-bit, group 128, act order', { method: 'gptq', bits: 4, groupSize: 128, actOrder: true }],
  ['GPTQ 8-bit, group 128', { method: 'gptq', bits: 8, groupSize: 128 }],
  ['AWQ 4-bit, group 128', { method: 'awq', bits: 4, groupSize: 128 }],
];

async function main(): Promise<void> {
  const hidden = numberOption(process.argv, 'hidden', 1024), layers = numberOption(process.argv, 'layers', 4), reps = numberOption(process.argv, 'reps', 5);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'np-bench-gptq-'));
  try {
    const p = writeLlama(path.join(root, 'bf16', 'parent'), hidden, layers, 1);
    writeLlama(path.join(root, 'bf16', 'child'), hidden, layers, 2, p);
    const bf16 = await openModels([path.join(root, 'bf16')]);
    const params = bf16.models.reduce((s, m) => s + m.params, 0);
    const rows: [string, ModelSet][] = [['BF16 safetensors', bf16]];
    for (const [k, [name, o]] of VARIANTS.entries()) {
      for (const m of bf16.models) writePackedModel(m, path.join(root, `v${k}`, m.id), o);
      rows.push([name, await openModels([path.join(root, `v${k}`)])]);
    }
    await writeRateTable(`GPTQ/AWQ scan vs BF16 scan: 2 llama models, hidden ${hidden}, ${layers} layers, ${(params / 1e6).toFixed(1)}M parameters in all`, rows, params, reps, machineDescription());
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
