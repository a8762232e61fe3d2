/**
 * GGUF in the scan: the same two llama-shaped models (a parent and a child, random weights)
 * scanned as BF16 safetensors, as Q8_0 GGUF and as Q4_K GGUF (converted by
 * lib/io/gguf-from-hf.ts, q/k rows permuted as llama.cpp's converter does, so the scan also
 * undoes the permutation). The rate is parameters per second (the bytes of parameters of the
 * BF16 files per second, whatever the stored type), so a ratio of 1 means dequantizing costs
 * nothing beside reading BF16. Files are in the page cache (written just before); all cores;
 * best of --reps runs, all in one process on one machine.
 *
 *   npm run bench:gguf [-- --hidden 1024 --layers 4 --reps 5]
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { openModels } from '../lib/io/discover';
import { convertLlamaToGguf } from '../lib/io/gguf-from-hf';
import type { ModelSet } from '../lib/io/types';
import { writeLlama } from './llama-fixture';
import { machineDescription } from './machine';
import { numberOption, writeRateTable } from './scan-timing';
import { handleUsage } from '../scripts/usage';

handleUsage(__filename, ['hidden', 'layers', 'reps']);

async function main(): Promise<void> {
  const hidden = numberOption(process.argv, 'hidden', 1024), layers = numberOption(process.argv, 'layers', 4), reps = numberOption(process.argv, 'reps', 5);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'np-bench-gguf-'));
  try {
    const p = writeLlama(path.join(root, 'bf16', 'parent'), hidden, layers, 1);
    writeLlama(path.join(root, 'bf16', 'child'), hidden, layers, 2, p);
    const bf16 = await openModels([path.join(root, 'bf16')]);
    const params = bf16.models.reduce((s, m) => s + m.params, 0);
    const rows: [string, ModelSet][] = [['BF16 safetensors', bf16]];
    for (const type of ['Q8_0', 'Q4_K'] as const) {
      for (const m of bf16.models) {
        fs.mkdirSync(path.join(root, type, m.id), { recursive: true });
        fs.copyFileSync(path.join(m.path, 'config.json'), path.join(root, type, m.id, 'config.json'));
        convertLlamaToGguf(m, path.join(root, type, m.id, 'model.gguf'), type);
      }
      rows.push([`${type} GGUF`, await openModels([path.join(root, type)])]);
    }
    await writeRateTable(`GGUF scan vs BF16 scan: 2 llama models, hidden ${hidden}, ${layers} layers, ${(params / 1e6).toFixed(1)}M parameters in all`, rows, params, reps, machineDescription());
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
