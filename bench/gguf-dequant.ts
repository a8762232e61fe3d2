/**
 * GGUF dequantization throughput: GB/s of quantized bytes read (and Gelem/s written) by the
 * native scalar dequantizer, per type, beside a plain memcpy of the same bytes in the same
 * process (Uint8Array.set). One thread; the input is random blocks with finite scales (default
 * 64 MiB of output floats per type, far beyond cache). Each call allocates and zero-fills its
 * Float32Array output, which is part of the time (as it is for any caller of dequantizeGguf);
 * a scan dequantizing into a reused buffer does less.
 *
 *   npm run build:ts && node dist/bench/gguf-dequant.js [--mib 64] [--reps 5]
 */
import { dequantizeGguf } from '../lib/io/gguf';
import { floatToF16Bits } from '../lib/io/dtype';
import { DEQUANT_TYPES, ggmlType } from '../lib/io/gguf-types';
import { createRng } from '../lib/graph/rng';
import { machineDescription } from './machine';
import { handleUsage } from '../scripts/usage';

handleUsage(__filename, ['mib', 'reps']);

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

const SCALES: Record<string, number[]> = { Q4_0: [0], Q4_1: [0, 2], Q5_0: [0], Q5_1: [0, 2], Q8_0: [0], Q2_K: [80, 82], Q3_K: [108], Q4_K: [0, 2], Q5_K: [0, 2], Q6_K: [208] };

function best(reps: number, fn: () => void): number {
  let t = Infinity;
  for (let r = 0; r < reps; r++) {
    const t0 = process.hrtime.bigint();
    fn();
    t = Math.min(t, Number(process.hrtime.bigint() - t0) / 1e9);
  }
  return t;
}

function main(): void {
  const mib = option('mib', 64), reps = option('reps', 5);
  const rng = createRng(7);
  process.stdout.write(`# GGUF dequantization, 1 thread, ${mib} MiB of float32 output per type, best of ${reps}\n# ${machineDescription()}\n`);
  process.stdout.write('type     bytes/elem  quant GB/s  Gelem/s  memcpy GB/s (same bytes)\n');
  for (const type of DEQUANT_TYPES) {
    const t = ggmlType(type)!;
    const elements = Math.floor((mib * 2 ** 20) / 4 / t.blockElems) * t.blockElems;
    const bytes = new Uint8Array((elements / t.blockElems) * t.blockBytes);
    for (let i = 0; i < bytes.length; i++) bytes[i] = rng.int(256);
    if (type === 'F16') for (let i = 0; i < bytes.length; i += 2) { const h = floatToF16Bits(rng.next() - 0.5); bytes[i] = h & 0xff; bytes[i + 1] = h >> 8; }
    for (let b = 0; b < elements / t.blockElems; b++)
      for (const o of SCALES[type] ?? []) { const h = floatToF16Bits((rng.next() - 0.5) / 64); bytes[b * t.blockBytes + o] = h & 0xff; bytes[b * t.blockBytes + o + 1] = h >> 8; }
    const copy = new Uint8Array(bytes.length);
    const sDeq = best(reps, () => dequantizeGguf(type, bytes, elements));
    const sCopy = best(reps, () => copy.set(bytes));
    process.stdout.write(`${type.padEnd(8)} ${(t.blockBytes / t.blockElems).toFixed(4).padStart(10)}  ${(bytes.length / sDeq / 1e9).toFixed(2).padStart(10)}  ${(elements / sDeq / 1e9).toFixed(2).padStart(7)}  ${(bytes.length / sCopy / 1e9).toFixed(2).padStart(11)}\n`);
  }
}

main();
