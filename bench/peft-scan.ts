/**
 * PEFT adapters in the scan: a BF16 llama-shaped base with 4 LoRA adapters (rank --rank on
 * every attention and MLP weight, random A and B) scanned together, beside the base alone and
 * beside the base with the 4 adapters merged and saved as BF16 safetensors (what the scan would
 * read without adapter support). Files in the page cache, all cores, best of --reps, one
 * process on one machine. `--device cuda` scans on the GPU (the adapters are then formed by
 * the host's reader threads while the GPU computes the statistics; scripts/device-check.sh
 * cuda-formed runs it there).
 *
 *   npm run bench:peft [-- --hidden 1024 --layers 4 --rank 16 --reps 5 --device cpu|cuda]
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { createRng } from '../lib/graph/rng';
import { openModels } from '../lib/io/discover';
import { writeSafetensors } from '../lib/io/safetensors-writer';
import { readTensorValues } from '../lib/io/tensor-data';
import type { ModelSet } from '../lib/io/types';
import { scanModelSet } from '../lib/scan/scan';
import { writeLlama } from './llama-fixture';
import { machineDescription } from './machine';
import { bestScanSeconds, numberOption } from './scan-timing';
import { handleUsage } from '../scripts/usage';

handleUsage(__filename, ['hidden', 'layers', 'rank', 'reps', 'device']);

function deviceOption(): 'cpu' | 'cuda' {
  const i = process.argv.indexOf('--device');
  const d = i > 0 ? process.argv[i + 1] : 'cpu';
  if (d !== 'cpu' && d !== 'cuda') throw new Error(`--device must be cpu or cuda, got '${d}'`);
  return d;
}

async function main(): Promise<void> {
  const device = deviceOption();
  const hidden = numberOption(process.argv, 'hidden', 1024), layers = numberOption(process.argv, 'layers', 4), rank = numberOption(process.argv, 'rank', 16), reps = numberOption(process.argv, 'reps', 5);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'np-bench-peft-'));
  try {
    const baseDir = path.join(root, 'with-adapters', 'base');
    writeLlama(baseDir, hidden, layers, 1);
    fs.mkdirSync(path.join(root, 'alone'));
    fs.cpSync(baseDir, path.join(root, 'alone', 'base'), { recursive: true });
    fs.cpSync(baseDir, path.join(root, 'merged', 'base'), { recursive: true });
    const base = (await openModels([baseDir])).models[0];
    const rng = createRng(7);
    for (let j = 0; j < 4; j++) {
      const d = path.join(root, 'with-adapters', `adapter${j}`);
      fs.mkdirSync(d, { recursive: true });
      fs.writeFileSync(path.join(d, 'adapter_config.json'), JSON.stringify({ peft_type: 'LORA', r: rank, lora_alpha: 2 * rank, base_model_name_or_path: 'base' }));
      const tensors = base.tensors.filter((t) => t.shape.length === 2 && /layers/.test(t.name)).flatMap((t) => {
        const m = `base_model.model.${t.name.replace(/\.weight$/, '')}`;
        const a = Float32Array.from({ length: rank * t.shape[1] }, () => (rng.next() - 0.5) * 0.02);
        const b = Float32Array.from({ length: t.shape[0] * rank }, () => (rng.next() - 0.5) * 0.02);
        return [{ name: `${m}.lora_A.weight`, dtype: 'BF16' as const, shape: [rank, t.shape[1]], data: a }, { name: `${m}.lora_B.weight`, dtype: 'BF16' as const, shape: [t.shape[0], rank], data: b }];
      });
      writeSafetensors(path.join(d, 'adapter_model.safetensors'), tensors);
    }
    const adapters = await openModels([path.join(root, 'with-adapters')]);
    for (const m of adapters.models.filter((x) => x.adapter)) {
      fs.mkdirSync(path.join(root, 'merged', m.id));
      writeSafetensors(path.join(root, 'merged', m.id, 'model.safetensors'), m.tensors.map((t) => ({ name: t.name, dtype: 'BF16', shape: t.shape, data: readTensorValues(t) })));
    }
    const rows: [string, ModelSet][] = [
      ['base alone', await openModels([path.join(root, 'alone')])],
      ['base + 4 LoRA adapters', adapters],
      ['base + 4 merged BF16 models', await openModels([path.join(root, 'merged')])],
    ];
    process.stdout.write(`# PEFT scan (${device}): llama hidden ${hidden}, ${layers} layers, ${(base.params / 1e6).toFixed(1)}M parameters, 4 adapters of rank ${rank}; best of ${reps}\n# ${machineDescription()}\n`);
    process.stdout.write('| set | models | MB read | seconds | time / base alone |\n|---|---|---|---|---|\n');
    let alone = 0;
    for (const [name, set] of rows) {
      await bestScanSeconds(set, 1, device);
      const s = await bestScanSeconds(set, reps, device);
      if (!alone) alone = s;
      const scan = await scanModelSet(set, { device, fakeInit: 'hf(0.02)' });
      process.stdout.write(`| ${name} | ${set.models.length} | ${(scan.run.bytes / 1e6).toFixed(1)} | ${s.toFixed(3)} | ${(s / alone).toFixed(2)} |\n`);
    }
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
