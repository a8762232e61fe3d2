/**
 * CUDA scan benchmark, run beside its ceilings in the same process on the same GPU:
 *   - weights in host memory (page cache), M = 8 and 32: the streaming scan in GB/s of model
 *     bytes against the pinned host-to-device copy bandwidth (target: >= 0.8x);
 *   - weights already on the GPU (resident mode, GPU time from CUDA events), M = 8, 32, 64:
 *     GB/s of model bytes (target: M = 8 >= 1000 GB/s) against the device-to-device copy
 *     bandwidth and a plain PyTorch scan of the same sizes (bench/torch_scan_baseline.py, run
 *     only where `import torch` works and sees a GPU).
 * BF16 models written once under NP_BENCH_DIR (default .cache/bench).
 *
 *   npm run build:ts && node dist/bench/cuda-scan.js [--quick] [--gib N] [--json out.json]
 *     [--resident-only [--models 8,32]]   (only the on-GPU rows: for profilers)
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { openModels } from '../lib/io/discover';
import { native, NativeCudaBandwidth, NativeCudaScanOptions, NativeScanOutput, NativeScanPlan } from '../lib/native';
import { alignModels } from '../lib/scan/align';
import { buildPlan } from '../lib/scan/plan';
import { runNativePlan } from '../lib/scan/scan';
import { benchModelFast } from './fixtures';
import { machineDescription } from './machine';
import { handleUsage } from '../scripts/usage';

handleUsage(__filename, ['quick', 'gib', 'json', 'resident-only', 'models']);

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const flag = (name: string): string | undefined => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const gib = Number(flag('--gib') ?? (quick ? 1 : 4));
const totalBytes = Math.round(gib * 2 ** 30);
const reps = quick ? 2 : 4;

interface Row {
  kind: 'host' | 'device';
  M: number;
  init: string;
  bytes: number;
  /** GB/s of model bytes (best run; host: wall time of the whole scan, device: GPU time of one pass). */
  gbs: number;
  /** median over the runs */
  gbsMedian: number;
  ceiling: number;
  torch?: { full: number; gram: number };
}

const GB = 1e9;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function planOf(M: number, fakeInit: string): Promise<{ plan: NativeScanPlan; bytes: number; params: number }> {
  const params = Math.floor(totalBytes / 2 / M);
  const files = Array.from({ length: M }, (_, i) => benchModelFast(params, 500 + i, 4096));
  const set = await openModels(files);
  const { groups } = alignModels(set.models);
  const plan = buildPlan(groups, { seed: 0, fakeInit }).plan;
  return { plan, bytes: set.models.reduce((s, m) => s + m.bytes, 0), params };
}

const cuda = (plan: NativeScanPlan): Promise<NativeScanOutput> => runNativePlan(plan, undefined, undefined, { device: 'cuda' });

/** Streaming scans of host-resident weights: the defaults, and more readers with larger
 * buffers (to tell whether pread or PCIe sets the pace). */
async function hostResident(M: number, bw: NativeCudaBandwidth): Promise<Row[]> {
  const { plan, bytes } = await planOf(M, 'auto');
  const rows: Row[] = [];
  for (const [label, opts] of [
    ['defaults', undefined],
    ['4 readers', { readers: 4 }],
    ['16 readers', { readers: 16 }],
    ['16 readers, 64 MiB', { readers: 16, stageBytes: 64 << 20 }],
  ] as [string, NativeCudaScanOptions | undefined][]) {
    const p = opts ? { ...plan, cuda: opts } : plan;
    await cuda(p); // page cache, CUDA context and pinned buffers warm
    const runs: number[] = [];
    for (let i = 0; i < reps; i++) {
      const out = await cuda(p);
      runs.push(bytes / out.seconds / GB);
      const t = out.timings;
      if (t) process.stderr.write(`  M=${M} ${label}: ${out.seconds.toFixed(4)} s (setup ${t.setup.toFixed(4)}, pipeline ${t.pipeline.toFixed(4)})\n`);
    }
    rows.push({ kind: 'host', M, init: `auto, ${label}`, bytes, gbs: Math.max(...runs), gbsMedian: median(runs), ceiling: bw.h2dPinned });
  }
  return rows;
}

/** The PyTorch scan of the same sizes, per model count (one python3 process: importing torch
 * takes seconds); empty where torch or its GPU is missing (the reason goes to stderr). */
function torchBaselines(models: number[]): Map<number, { full: number; gram: number }> {
  const out = new Map<number, { full: number; gram: number }>();
  const script = path.join(__dirname, '..', '..', 'bench', 'torch_scan_baseline.py');
  if (!fs.existsSync(script)) return out;
  const r = spawnSync('python3', [script, '--models', models.join(','), '--bytes', String(totalBytes), '--reps', String(reps)], {
    encoding: 'utf8',
    timeout: 120000,
  });
  if (r.error || r.status !== 0) {
    process.stderr.write(`torch baseline unavailable: ${r.error?.message ?? (r.stderr ?? '').trim().split('\n').pop()}\n`);
    return out;
  }
  for (const line of (r.stdout ?? '').trim().split('\n')) {
    try {
      const j = JSON.parse(line) as { models?: number; full_gbs?: number; gram_gbs?: number; error?: string };
      if (j.error) process.stderr.write(`torch baseline unavailable: ${j.error}\n`);
      else if (j.models !== undefined && j.full_gbs !== undefined && j.gram_gbs !== undefined) out.set(j.models, { full: j.full_gbs, gram: j.gram_gbs });
    } catch {
      process.stderr.write(`torch baseline: unreadable line ${line.slice(0, 200)}\n`);
    }
  }
  return out;
}

async function deviceResident(M: number, fakeInit: string, bw: NativeCudaBandwidth, torch?: { full: number; gram: number }): Promise<Row> {
  const { plan, bytes } = await planOf(M, fakeInit);
  const resident = { ...plan, cuda: { resident: true, repeat: reps + 1, stageBytes: 64 << 20 } };
  const out = await cuda(resident);
  const t = out.timings!;
  // Sanity: the resident pass gives the streaming pass's numbers.
  const streamed = await cuda(plan);
  let worst = 0;
  for (let i = 0; i < out.values.length; i++) {
    const d = Math.abs(out.values[i] - streamed.values[i]) / Math.max(Math.abs(streamed.values[i]), 1e-300);
    if (d > worst && Math.abs(streamed.values[i]) > 1e-200) worst = d;
  }
  if (worst > 1e-9) process.stderr.write(`warning: resident and streaming scans differ by ${worst.toExponential(2)} (M=${M})\n`);
  return {
    kind: 'device',
    M,
    init: fakeInit,
    bytes,
    gbs: bytes / t.computeMin / GB,
    gbsMedian: bytes / t.compute / GB,
    ceiling: bw.d2d,
    torch,
  };
}

async function main(): Promise<number> {
  const addon = native();
  const st = addon.cudaStatus();
  if (!st.usable || !addon.startScanCuda || !addon.cudaBandwidth) {
    process.stdout.write(`cuda-scan bench skipped: ${st.usable ? 'this build has no CUDA scan kernels' : st.reason}\n`);
    return 2;
  }
  if (!process.env.NP_BENCH_DIR) process.stderr.write('fixtures in .cache/bench (set NP_BENCH_DIR to change)\n');
  const bw = await addon.cudaBandwidth(0, 1 << 30);
  process.stderr.write(`ceilings: pinned H2D ${bw.h2dPinned.toFixed(1)} GB/s, pageable H2D ${bw.h2dPageable.toFixed(1)} GB/s, D2D ${bw.d2d.toFixed(0)} GB/s (read+write)\n`);
  const rows: Row[] = [];
  // Each row also goes to stderr as it is measured, so a run cut short by a time limit keeps it.
  const log = (r: Row[]) => r.forEach((x) => process.stderr.write(`row ${JSON.stringify(x)}\n`));
  // --resident-only [--models 8,32]: just the on-GPU rows, no PyTorch (for profilers).
  const residentOnly = argv.includes('--resident-only');
  const only = flag('--models')?.split(',').map(Number);
  for (const M of residentOnly ? [] : [8, 32]) {
    process.stderr.write(`host-resident M=${M} ...\n`);
    const r = await hostResident(M, bw);
    log(r);
    rows.push(...r);
  }
  process.stderr.write('PyTorch baseline ...\n');
  const torch = residentOnly ? new Map<number, { full: number; gram: number }>() : torchBaselines([8, 32, 64]);
  const deviceRows = ([[8, 'auto'], [8, 'hf'], [32, 'auto'], [64, 'auto']] as [number, string][]).filter(([M]) => !only || only.includes(M));
  for (const [M, init] of deviceRows) {
    process.stderr.write(`device-resident M=${M} (${init}) ...\n`);
    const r = await deviceResident(M, init, bw, torch.get(M));
    log([r]);
    rows.push(r);
  }
  const dev = st.devices[0];
  const f1 = (x: number) => x.toFixed(1);
  const lines = [
    `CUDA scan, GB/s of model bytes (BF16, ${gib} GiB of models per row), ${new Date().toISOString().slice(0, 10)}`,
    `GPU: ${dev.name} (sm ${dev.computeCapability}, ${(dev.totalMemory / 2 ** 30).toFixed(0)} GiB), driver ${st.driverVersion}; host: ${machineDescription()}`,
    `Ceilings measured in this run: pinned H2D ${f1(bw.h2dPinned)} GB/s, pageable H2D ${f1(bw.h2dPageable)} GB/s, D2D copy ${bw.d2d.toFixed(0)} GB/s (read+write)`,
    '',
    '| weights | M | fake init | scan GB/s (best) | median | ceiling GB/s | scan / ceiling | target | PyTorch scan GB/s | scan / PyTorch | PyTorch Gram-only GB/s |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map((r) => {
      const ratio = r.gbs / r.ceiling;
      const target =
        r.kind === 'host' ? `>= 0.80 (${ratio >= 0.8 ? 'met' : 'NOT met'})` : r.M === 8 ? `>= 1000 GB/s (${r.gbs >= 1000 ? 'met' : 'NOT met'})` : 'report';
      return (
        `| ${r.kind === 'host' ? 'host memory' : 'on GPU'} | ${r.M} | ${r.init} | ${f1(r.gbs)} | ${f1(r.gbsMedian)} | ${f1(r.ceiling)} | ${ratio.toFixed(2)} | ${target} | ` +
        `${r.torch ? f1(r.torch.full) : '-'} | ${r.torch ? `${(r.gbs / r.torch.full).toFixed(1)}x` : '-'} | ${r.torch ? f1(r.torch.gram) : '-'} |`
      );
    }),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  const json = flag('--json');
  if (json) fs.writeFileSync(json, JSON.stringify({ device: dev, bandwidth: bw, gib, rows }, null, 2));
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`cuda-scan bench failed: ${String(e?.stack ?? e)}\n`);
    process.exitCode = 1;
  },
);
