/**
 * The CUDA scan of a model set with members it forms on the host (GGUF Q8_0 and Q4_K children,
 * a GPTQ 4-bit child, a LoRA adapter: scripts/formed-set.ts) beside BF16 models, against the
 * BF16 models alone, on the GPU and on the CPU, all in one process on one machine. The rate is
 * parameters per second (what the kernels see, whatever the storage), so "formed / BF16 only"
 * on one device is what forming costs per parameter there; on the GPU the formed set runs
 * twice, Q8_0 dequantized on the GPU (the default) and on the host. Files in the page cache (written
 * just before, scanned once before timing); best of --reps. Without a usable GPU the CPU rows
 * alone are printed, with the reason.
 *
 *   npm run build:ts && node dist/bench/cuda-formed.js [--hidden 1024] [--layers 4] [--bf16 4]
 *     [--reps 3] [--json out.json]
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { openModels } from '../lib/io/discover';
import type { ModelSet } from '../lib/io/types';
import { native } from '../lib/native';
import { scanModelSet } from '../lib/scan/scan';
import { writeFormedSet } from '../scripts/formed-set';
import { writeLlama } from './llama-fixture';
import { machineDescription } from './machine';
import { numberOption } from './scan-timing';
import { handleUsage } from '../scripts/usage';

handleUsage(__filename, ['hidden', 'layers', 'bf16', 'reps', 'json']);

interface Row {
  set: string;
  device: 'cpu' | 'cuda';
  params: number;
  seconds: number;
  mparamPerSecond: number;
  /** rate / the same device's BF16-only rate */
  ratio: number;
}

async function best(set: ModelSet, device: 'cpu' | 'cuda', reps: number, deviceDequant = true): Promise<number> {
  let s = Infinity;
  for (let r = 0; r <= reps; r++) {
    const t0 = process.hrtime.bigint();
    await scanModelSet(set, { device, fakeInit: 'hf(0.02)', cuda: { deviceDequant } });
    const t = Number(process.hrtime.bigint() - t0) / 1e9;
    if (r > 0) s = Math.min(s, t); // run 0 warms the page cache and the device
  }
  return s;
}

async function main(): Promise<void> {
  const argv = process.argv;
  const hidden = numberOption(argv, 'hidden', 1024), layers = numberOption(argv, 'layers', 4);
  const bf16 = numberOption(argv, 'bf16', 4), reps = numberOption(argv, 'reps', 3);
  const jsonAt = argv.indexOf('--json');
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'np-bench-formed-'));
  try {
    const { dir } = await writeFormedSet(root, { writeHf: (d, seed, base) => writeLlama(d, hidden, layers, seed, base), bf16Children: bf16 });
    const formed = await openModels([dir]);
    const plainIds = ['parent', ...Array.from({ length: bf16 }, (_, i) => `child-bf16-${i}`)];
    const plain = await openModels(plainIds.map((id) => path.join(dir, id)));
    const params = (s: ModelSet) => s.models.reduce((a, m) => a + m.params, 0);
    const st = native().cudaStatus();
    const gpu = st.usable && typeof native().startScanCuda === 'function';
    const devices: ('cpu' | 'cuda')[] = gpu ? ['cuda', 'cpu'] : ['cpu'];
    const rows: Row[] = [];
    for (const device of devices) {
      let base = 0;
      const sets: [string, ModelSet, boolean][] = [['BF16 only', plain, true], ['BF16 + GGUF Q8_0, Q4_K + GPTQ 4-bit + LoRA', formed, true]];
      if (device === 'cuda') sets.push(['same, Q8_0 dequantized on the host', formed, false]);
      for (const [name, set, deviceDequant] of sets) {
        const s = await best(set, device, reps, deviceDequant);
        const rate = params(set) / s;
        if (!base) base = rate;
        rows.push({ set: `${name} (${set.models.length} models)`, device, params: params(set), seconds: s, mparamPerSecond: rate / 1e6, ratio: rate / base });
      }
    }
    process.stdout.write(`# CUDA scan with host-formed members: llama hidden ${hidden}, ${layers} layers, ${bf16} BF16 children; best of ${reps}\n`);
    process.stdout.write(`# ${machineDescription()}; GPU: ${gpu ? st.devices.map((d) => d.name).join(', ') : `none (${st.reason || 'no CUDA scan kernels in this build'})`}\n`);
    process.stdout.write('| set | device | Mparam | seconds | Mparam/s | rate / BF16 only (same device) |\n|---|---|---|---|---|---|\n');
    for (const r of rows)
      process.stdout.write(`| ${r.set} | ${r.device} | ${(r.params / 1e6).toFixed(1)} | ${r.seconds.toFixed(3)} | ${r.mparamPerSecond.toFixed(0)} | ${r.ratio.toFixed(2)} |\n`);
    if (gpu) {
      const at = (set: string, d: string) => rows.find((r) => r.set.startsWith(set) && r.device === d)!.mparamPerSecond;
      process.stdout.write(`cuda / cpu on the formed set: ${(at('BF16 +', 'cuda') / at('BF16 +', 'cpu')).toFixed(2)}\n`);
    }
    if (jsonAt > 0 && argv[jsonAt + 1]) fs.writeFileSync(argv[jsonAt + 1], JSON.stringify({ hidden, layers, bf16, reps, machine: machineDescription(), gpu: gpu ? st.devices[0] : null, rows }, null, 2));
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
