/**
 * Edge-encoder forward throughput: pairs × parameters per second of the native streaming
 * pass (every kernel set this CPU runs), beside the tfjs forward of the same function on the
 * same matrices, and beside an estimate of the CPU's float32 arithmetic peak.
 *
 *   npm run build:ts && node dist/bench/edge-encoder.js [--rows 1024] [--cols 2752] [--pairs 4]
 *     [--dtype BF16] [--channels 4] [--llama]   (--llama: one 4096 × 11008 matrix)
 *
 * Work per element and pair: 2c multiply-adds (1×1 conv) + 9·c·32 (3×3 conv), c = channels.
 * Peak estimate: cores × GHz × lanes × 2 FMA ports × 2 flops (an upper bound; turbo and
 * AVX-512 down-clocking make the real one lower).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { openModels } from '../lib/io/discover';
import { FloatDtype } from '../lib/io/dtype';
import { writeSafetensors } from '../lib/io/safetensors-writer';
import { createRng } from '../lib/graph/rng';
import { createEncoder, encodeMatrixTf, foldEncoder } from '../lib/learned/encoder';
import { encodeEdgesNative, EdgeEncodeRequest } from '../lib/learned/native-encoder';
import { native } from '../lib/native';
import { selectBackend } from '../lib/zoo/backend';
import { machineDescription } from './machine';
import { handleUsage } from '../scripts/usage';

handleUsage(__filename, ['rows', 'cols', 'pairs', 'dtype', 'channels', 'llama']);

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

function cpuGhz(): number {
  try {
    const mhz = [...fs.readFileSync('/proc/cpuinfo', 'utf8').matchAll(/cpu MHz\s*:\s*([\d.]+)/g)].map((m) => Number(m[1]));
    if (mhz.length) return Math.max(...mhz) / 1000;
  } catch {
    /* not Linux */
  }
  return 2.5;
}

async function main(): Promise<void> {
  const llama = process.argv.includes('--llama');
  const rows = Number(arg('rows', llama ? '4096' : '1024'));
  const cols = Number(arg('cols', llama ? '11008' : '2752'));
  const nPairs = Number(arg('pairs', '4'));
  const dtype = arg('dtype', 'BF16') as FloatDtype;
  const channels = Number(arg('channels', '4'));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'np-bench-edge-'));
  try {
    const rng = createRng(1);
    const base = Float32Array.from({ length: rows * cols }, () => (rng.next() - 0.5) * 0.04);
    const models = Math.max(2, Math.ceil(Math.sqrt(nPairs)) + 1);
    for (let m = 0; m < models; m++) {
      const data = m === 0 ? base : Float32Array.from(base, (x) => x + (rng.next() - 0.5) * 0.002);
      writeSafetensors(path.join(dir, `m${m}.safetensors`), [{ name: 'mlp.down_proj.weight', dtype, shape: [rows, cols], data }]);
    }
    const set = await openModels([dir]);
    const reqs: EdgeEncodeRequest[] = [];
    for (let a = 0; a < models && reqs.length < nPairs; a++) for (let b = 0; b < models && reqs.length < nPairs; b++) if (a !== b) reqs.push({ tensor: 'mlp.down_proj.weight', a, b, scale: 0.01 });
    const encRng = createRng(2);
    const weights = foldEncoder(createEncoder(channels, () => encRng.next(), 'bench'));
    const work = reqs.length * rows * cols;
    const flopsPerElem = 2 * (2 * channels + 9 * channels * 32);
    const cores = os.cpus().length;
    const ghz = cpuGhz();
    console.log(`edge encoder: ${reqs.length} pairs sharing one ${rows} × ${cols} ${dtype} matrix, c = ${channels} (${flopsPerElem} flops per element and pair)`);
    console.log(`machine: ${machineDescription()}`);
    const rowsOut: string[] = [];
    let best = 0;
    for (const isa of native().cpuInfo().supportedIsas) {
      await encodeEdgesNative(set, reqs.slice(0, 1), weights, { isa: isa as 'scalar' }); // warm the page cache
      const t0 = process.hrtime.bigint();
      const out = await encodeEdgesNative(set, reqs, weights, { isa: isa as 'scalar' });
      const s = Number(process.hrtime.bigint() - t0) / 1e9;
      const rate = work / s;
      const lanes = isa === 'avx512' ? 16 : isa === 'avx2' ? 8 : 1;
      const peak = cores * ghz * 1e9 * lanes * 2 * 2;
      best = Math.max(best, rate);
      rowsOut.push(`  native ${isa.padEnd(7)} ${out.run.threads} threads: ${(s * 1000).toFixed(0).padStart(7)} ms, ${(rate / 1e6).toFixed(1).padStart(8)} M pair·params/s, ${((rate * flopsPerElem) / 1e9).toFixed(1).padStart(6)} GFLOP/s = ${((100 * rate * flopsPerElem) / peak).toFixed(1)}% of the ${isa} peak at the nominal clock (${(peak / 1e9).toFixed(0)} GFLOP/s: ${cores} cores × ${ghz.toFixed(2)} GHz × ${lanes} lanes × 2 FMA × 2; boost clocks raise the true peak, so this can exceed 100%)`);
    }
    const backend = await selectBackend('auto');
    // tfjs materialises [rows, cols, 32]: time it on at most 2^21 elements of the matrix.
    const tRows = Math.max(1, Math.min(rows, Math.floor(2 ** 21 / cols)));
    const a = base.subarray(0, tRows * cols);
    const b = Float32Array.from(a, (x, i) => x + Math.sin(i) * 0.001);
    encodeMatrixTf(weights, a.subarray(0, Math.min(a.length, cols * 2)), b.subarray(0, Math.min(b.length, cols * 2)), Math.min(2, tRows), cols, 0.01);
    const t1 = process.hrtime.bigint();
    encodeMatrixTf(weights, a, b, tRows, cols, 0.01);
    const ts = Number(process.hrtime.bigint() - t1) / 1e9;
    const tfRate = (tRows * cols) / ts;
    rowsOut.push(`  tfjs ${backend.name.padEnd(9)} (1 pair, ${tRows} × ${cols}): ${(ts * 1000).toFixed(0).padStart(7)} ms, ${(tfRate / 1e6).toFixed(1).padStart(8)} M pair·params/s`);
    for (const r of rowsOut) console.log(r);
    console.log(`native (best) / tfjs ${backend.name}: ${(best / tfRate).toFixed(1)}×`);
    const llamaPair = 4096 * 11008;
    console.log(`one LLaMA-7B MLP matrix pair (4096 × 11008) at the best rate: ${((llamaPair / best) * 1000).toFixed(0)} ms`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
