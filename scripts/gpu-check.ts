/**
 * GPU-vs-CPU checks of the CUDA scan, without jest (the lent GPU machine has Node but no
 * node_modules): random model sets with M = 1..64 (and 70, past one launch's 64 rows), tensor
 * sizes off every tile, every dtype mixed within a tensor, the three fake-init kinds; each
 * CUDA scan variant (DMMA, FP64 FMA, small staging buffers, resident) against the CPU scan:
 * moments and Gram within 1e-6 of their natural magnitude, fake-init distances within 1e-6
 * relative; the device fake init bitwise equal to the CPU's; determinism. Then a set with
 * members the scan forms on the host (scripts/formed-set.ts: GGUF Q8_0 and Q4_K, GPTQ 4-bit,
 * a LoRA adapter beside BF16 models): each variant (and Q8_0 dequantized on the host rather
 * than the GPU) against the CPU scan, and the CUDA scan bitwise equal to that of the set's
 * float32 copy (the formed values reach the GPU exactly).
 *
 *   node dist/scripts/gpu-check.js [--quick | --formed-only] [--json out.json]
 *
 * test/gpu/scan-cuda.test.ts runs the same checks under jest. Exit code 0: all passed; 1: a
 * check failed; 2: no usable GPU (the reason is printed).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { openModels } from '../lib/io/discover';
import { FloatDtype } from '../lib/io/dtype';
import { writeSafetensors } from '../lib/io/safetensors-writer';
import { native, NativeCudaScanOptions, NativeFakeInit, NativeScanOutput, NativeScanPlan } from '../lib/native';
import { alignModels } from '../lib/scan/align';
import { buildPlan } from '../lib/scan/plan';
import { runNativePlan } from '../lib/scan/scan';
import { writeFormedSet } from './formed-set';
import { handleUsage } from './usage';

// Only as a program: test/gpu imports the checks, under jest's own argv (e.g. --maxWorkers).
if (require.main === module) handleUsage(__filename, ['quick', 'formed-only', 'json']);

export const TOLERANCE = 1e-6;
const DTYPES: FloatDtype[] = ['BF16', 'F32', 'F16', 'F64'];

/** Tensor sizes straddle the 64-element fake-init groups, the 8-element vectors, every tile
 * size (64..4096 elements) and the 4096-element items. */
export const LAYOUT: { name: string; shape: number[] }[] = [
  { name: 'a.scalar', shape: [] },
  { name: 'b.bias', shape: [15] },
  { name: 'c.weight', shape: [2049] },
  { name: 'd.weight', shape: [3, 4099] },
  { name: 'embed_tokens.weight', shape: [101, 33] },
  { name: 'norm.weight', shape: [33] },
  { name: 'e.weight', shape: [64, 100] },
  { name: 'f.weight', shape: [257, 1031] },
];
/** auto: kaiming-uniform weights, uniform biases, constant norms; normal for the embedding. */
export const FAKE_INIT = 'auto;*embed*=normal(0.02)';

export const CASES = [1, 2, 3, 8, 9, 17, 33, 64, 70];
export const QUICK_CASES = [1, 3, 9, 64];

export const VARIANTS: { label: string; cuda: NativeCudaScanOptions }[] = [
  { label: 'dmma', cuda: { gram: 'auto' } },
  { label: 'fp64-fma', cuda: { gram: 'fma' } },
  { label: '64KiB-batches', cuda: { stageBytes: 65536, slots: 2, readers: 3 } },
  { label: 'resident', cuda: { resident: true, repeat: 2 } },
];

/** Deterministic xorshift normals (no dependency on test helpers). */
function normals(seed: number): () => number {
  let s = (seed * 2654435761) >>> 0 || 1;
  const next = () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(next() + 1e-12)) * Math.cos(2 * Math.PI * next());
}

/** M models: a parent and children drifting from it, tensor t of model i stored as
 * DTYPES[(i + t) % 4], so every group mixes dtypes once M > 1. */
export function writeModelSet(dir: string, M: number, seed = 1): string[] {
  const files: string[] = [];
  const parent = new Map<string, Float32Array>();
  for (let i = 0; i < M; i++) {
    const r = normals(seed * 1000 + i);
    const file = path.join(dir, `m${String(i).padStart(2, '0')}.safetensors`);
    writeSafetensors(
      file,
      LAYOUT.map((t, ti) => {
        const n = t.shape.reduce((a, b) => a * b, 1);
        const data = new Float32Array(n);
        const base = parent.get(t.name);
        const scale = i === 0 ? 0.1 : 0.01 * (1 + (i % 5));
        for (let j = 0; j < n; j++) data[j] = (base ? base[j] : 0) + scale * r();
        if (i === 0) parent.set(t.name, data);
        return { name: t.name, dtype: DTYPES[(i + ti) % DTYPES.length], shape: t.shape, data };
      }),
    );
    files.push(file);
  }
  return files;
}

export async function planFor(files: string[]): Promise<NativeScanPlan> {
  const set = await openModels(files);
  const { groups } = alignModels(set.models);
  return buildPlan(groups, { seed: 11, fakeInit: FAKE_INIT }).plan;
}

export interface Errors {
  moments: number;
  fakeInit: number;
  gram: number;
  where: string;
}

/** Largest relative errors of `got` against `want`: moments against sqrt(count·Σx²) + Σx²,
 * Gram entries against sqrt(G_aa·G_bb) (the natural magnitudes, as the CPU tests use), the
 * fake-init distances against themselves. */
export function compareScans(plan: NativeScanPlan, want: NativeScanOutput, got: NativeScanOutput): Errors {
  const e: Errors = { moments: 0, fakeInit: 0, gram: 0, where: '' };
  if (got.values.length !== want.values.length) throw new Error(`output sizes differ: ${got.values.length} vs ${want.values.length}`);
  plan.groups.forEach((g, gi) => {
    const k = g.members.length;
    const b = want.offsets[gi];
    if (got.offsets[gi] !== b) throw new Error(`group ${g.name}: offsets differ`);
    const w = (i: number) => want.values[b + i];
    // NaN (a NaN or infinite value on either side) counts as an infinite error.
    const rel = (i: number, scale: number) => {
      const r = Math.abs(got.values[b + i] - w(i)) / Math.max(scale, 1e-300);
      return Number.isNaN(r) ? Infinity : r;
    };
    for (let m = 0; m < k; m++) {
      const sq = w(m * 5 + 1);
      for (let s = 0; s < 4; s++) {
        const r = rel(m * 5 + s, Math.sqrt(g.count * sq) + sq);
        if (r > e.moments) {
          e.moments = r;
          e.where = `${g.name} model ${m} stat ${s}`;
        }
      }
      const rf = rel(m * 5 + 4, Math.abs(w(m * 5 + 4)));
      if (rf > e.fakeInit) e.fakeInit = rf;
    }
    for (let a = 0; a < k; a++)
      for (let c = 0; c < k; c++) {
        const r = rel(k * 5 + a * k + c, Math.sqrt(w(k * 5 + a * k + a) * w(k * 5 + c * k + c)));
        if (r > e.gram) e.gram = r;
      }
  });
  return e;
}

export function errorsOk(e: Errors): boolean {
  return e.moments <= TOLERANCE && e.fakeInit <= TOLERANCE && e.gram <= TOLERANCE;
}

/** Mismatches of the device fake init against the CPU's, bitwise, over kinds, starts, counts. */
export function fakeInitMismatches(): string[] {
  const addon = native();
  if (!addon.fakeInitCuda) return ['this build has no fakeInitCuda'];
  const bad: string[] = [];
  const params: NativeFakeInit[] = [
    { kind: 0, a: 1, b: 0, key0: 1, key1: 2 },
    { kind: 1, a: -0.0625, b: 0.0625, key0: 0x12345678, key1: 0x9abcdef0 },
    { kind: 2, a: 0, b: 0.02, key0: 0xdeadbeef, key1: 7 },
    { kind: 2, a: 1, b: 3, key0: 0, key1: 0 },
  ];
  for (const p of params)
    for (const start of [0, 1, 63, 64, 1000, 4095, 2 ** 33 + 5])
      for (const count of [1, 17, 5000]) {
        const cpu = addon.fakeInit(p, start, count);
        const gpu = addon.fakeInitCuda(p, start, count);
        if (!Buffer.from(cpu.buffer, cpu.byteOffset, cpu.byteLength).equals(Buffer.from(gpu.buffer, gpu.byteOffset, gpu.byteLength))) {
          const i = cpu.findIndex((v, j) => !Object.is(v, gpu[j]));
          bad.push(`kind ${p.kind} start ${start} count ${count}: first difference at ${start + i} (cpu ${cpu[i]}, gpu ${gpu[i]})`);
        }
      }
  return bad;
}

export interface CaseResult {
  M: number;
  variant: string;
  errors: Errors;
  ok: boolean;
  isa: string;
}

/** One model set of M models: every variant against the CPU scan, plus determinism. */
export async function runCase(M: number, dir: string): Promise<{ results: CaseResult[]; deterministic: boolean }> {
  const files = writeModelSet(dir, M, M);
  const plan = await planFor(files);
  const cpu = await runNativePlan(plan);
  const results: CaseResult[] = [];
  let first: NativeScanOutput | undefined;
  let deterministic = true;
  for (const v of VARIANTS) {
    const out = await runNativePlan({ ...plan, cuda: v.cuda }, undefined, undefined, { device: 'cuda' });
    const errors = compareScans(plan, cpu, out);
    results.push({ M, variant: v.label, errors, ok: errorsOk(errors) && out.backend === 'cuda', isa: `${out.device} ${out.isa}` });
    if (v.label === 'dmma') {
      first = out;
      const again = await runNativePlan({ ...plan, cuda: v.cuda }, undefined, undefined, { device: 'cuda' });
      deterministic = Buffer.from(again.values.buffer).equals(Buffer.from(first.values.buffer));
    }
  }
  return { results, deterministic };
}

/** The formed set: every variant against the CPU scan; bitwise against its float32 copy. */
export async function runFormedCase(dir: string): Promise<{ results: CaseResult[]; bitwise: boolean }> {
  const { formed, dense } = await writeFormedSet(dir, { dense: true });
  const cpu = await runNativePlan(formed);
  const results: CaseResult[] = [];
  const M = formed.groups[0].members.length;
  // Q8_0 members are expanded on the GPU by default; once more with them formed on the host.
  for (const v of [...VARIANTS, { label: 'host-dequant', cuda: { deviceDequant: false } }]) {
    const out = await runNativePlan({ ...formed, cuda: v.cuda }, undefined, undefined, { device: 'cuda' });
    const errors = compareScans(formed, cpu, out);
    results.push({ M, variant: `formed ${v.label}`, errors, ok: errorsOk(errors) && out.backend === 'cuda' && out.bytes === cpu.bytes, isa: `${out.device} ${out.isa}` });
  }
  let bitwise = true;
  for (const cuda of [{}, { stageBytes: 65536 }, { deviceDequant: false }]) {
    const a = await runNativePlan({ ...formed, cuda }, undefined, undefined, { device: 'cuda' });
    const b = await runNativePlan({ ...dense!, cuda }, undefined, undefined, { device: 'cuda' });
    bitwise &&= Buffer.from(a.values.buffer, a.values.byteOffset, a.values.byteLength).equals(Buffer.from(b.values.buffer, b.values.byteOffset, b.values.byteLength));
  }
  return { results, bitwise };
}

function usableReason(): string | undefined {
  const addon = native();
  const st = addon.cudaStatus();
  if (!st.usable) return st.reason;
  if (!addon.startScanCuda) return 'this build has no CUDA scan kernels (built without nvcc?)';
  return undefined;
}

async function main(): Promise<number> {
  const quick = process.argv.includes('--quick'), formedOnly = process.argv.includes('--formed-only');
  const jsonAt = process.argv.indexOf('--json');
  const reason = usableReason();
  if (reason) {
    console.log(`gpu-check: no usable GPU: ${reason}`);
    return 2;
  }
  const st = native().cudaStatus();
  console.log(`gpu-check: ${st.devices.map((d) => `${d.name} (sm ${d.computeCapability})`).join(', ')}, driver ${st.driverVersion}, runtime ${st.runtimeVersion}`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'np-gpu-check-'));
  const lines: string[] = [];
  let failed = 0;
  const fi = formedOnly ? [] : fakeInitMismatches();
  if (!formedOnly) lines.push(`fake init bitwise: ${fi.length ? `FAIL (${fi.length})` : 'ok'}`);
  for (const f of fi.slice(0, 5)) lines.push(`  ${f}`);
  failed += fi.length ? 1 : 0;
  const all: CaseResult[] = [];
  for (const M of formedOnly ? [] : quick ? QUICK_CASES : CASES) {
    const sub = fs.mkdtempSync(path.join(dir, `M${M}-`));
    const { results, deterministic } = await runCase(M, sub);
    fs.rmSync(sub, { recursive: true, force: true });
    for (const r of results) {
      all.push(r);
      if (!r.ok) failed++;
      lines.push(
        `M=${String(M).padStart(2)} ${r.variant.padEnd(14)} moments ${r.errors.moments.toExponential(1)} fake ${r.errors.fakeInit.toExponential(1)} ` +
          `gram ${r.errors.gram.toExponential(1)} ${r.ok ? 'ok' : `FAIL (${r.errors.where})`}`,
      );
    }
    lines.push(`M=${String(M).padStart(2)} deterministic  ${deterministic ? 'ok' : 'FAIL'}`);
    if (!deterministic) failed++;
  }
  const formedDir = fs.mkdtempSync(path.join(dir, 'formed-'));
  const formed = await runFormedCase(formedDir);
  for (const r of formed.results) {
    all.push(r);
    if (!r.ok) failed++;
    lines.push(
      `${r.variant.padEnd(23)} moments ${r.errors.moments.toExponential(1)} fake ${r.errors.fakeInit.toExponential(1)} ` +
        `gram ${r.errors.gram.toExponential(1)} ${r.ok ? 'ok' : `FAIL (${r.errors.where})`}`,
    );
  }
  lines.push(`formed = float32 copy bitwise ${formed.bitwise ? 'ok' : 'FAIL'}`);
  if (!formed.bitwise) failed++;
  fs.rmSync(dir, { recursive: true, force: true });
  for (const l of lines) console.log(l);
  console.log(`gpu-check: ${failed ? `FAILED (${failed})` : 'all passed'} (tolerance ${TOLERANCE}; ${all[0]?.isa ?? ''})`);
  if (jsonAt > 0 && process.argv[jsonAt + 1]) {
    fs.writeFileSync(process.argv[jsonAt + 1], JSON.stringify({ device: st.devices[0], failed, fakeInit: fi, cases: all }, null, 2));
  }
  return failed ? 1 : 0;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
