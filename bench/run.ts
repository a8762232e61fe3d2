/**
 * `npm run bench`: scan throughput in GB/s of model bytes for M = 2, 8 and 32 BF16 models,
 * beside a plain read-and-sum pass over the same bytes (same reader, same threads: the
 * memory-bandwidth reference) and beside the pure-TypeScript float64 reference, run in the
 * same process and printed as ratios. Then start-up times of the compiled library and CLI
 * beside `node -e 1` (bench/startup.ts). Fixtures are cached in .cache/bench (NP_BENCH_DIR).
 *
 *   npm run bench               # ~512 MiB of models per M
 *   npm run bench -- --quick    # ~64 MiB per M (smoke run)
 *   npm run bench -- --cold     # also with a cold page cache (Linux, root: drops the
 *                               # machine's page cache before each timed run)
 */
import Benchmark from 'benchmark';
import * as fs from 'fs';
import { openModels } from '../lib/io/discover';
import type { NativeScanPlan } from '../lib/native';
import { alignModels } from '../lib/scan/align';
import { buildPlan } from '../lib/scan/plan';
import { referenceScan } from '../lib/scan/reference';
import { runNativePlan } from '../lib/scan/scan';
import { benchModel } from './fixtures';
import { machineDescription } from './machine';
import { formatStartup, measureStartup } from './startup';
import { handleUsage } from '../scripts/usage';

handleUsage(__filename, ['quick', 'cold']);

interface Row {
  M: number;
  bytes: number;
  readSum: number;
  scan: number;
  scanHf: number;
  reference: number;
  coldReadSum?: number;
  coldScan?: number;
}

/** Median GB/s of `runs` timed runs, each after dropping the page cache (models read from disk). */
async function coldRate(fn: () => Promise<unknown>, bytes: number, runs = 3): Promise<number> {
  const rates: number[] = [];
  for (let i = 0; i < runs; i++) {
    fs.writeFileSync('/proc/sys/vm/drop_caches', '3');
    const t0 = process.hrtime.bigint();
    await fn();
    rates.push(bytes / (Number(process.hrtime.bigint() - t0) / 1e9));
  }
  return rates.sort((a, b) => a - b)[Math.floor(runs / 2)];
}

const quick = process.argv.includes('--quick');
const cold = process.argv.includes('--cold');
const totalBytes = (quick ? 64 : 512) * 2 ** 20;

function run(name: string, fn: () => Promise<unknown>, seconds: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const bench = new Benchmark(name, {
      defer: true,
      minSamples: quick ? 2 : 5,
      maxTime: seconds,
      fn: (d: { resolve(): void }) => {
        fn().then(() => d.resolve(), reject);
      },
      onComplete: (ev: { target: Benchmark }) => resolve(ev.target.hz),
      onError: (ev: { target: { error: unknown } }) => reject(ev.target.error),
    } as Benchmark.Options);
    bench.run({ async: true });
  });
}

/** The plan cut to its first `elements` elements per group, for the slow TS reference. */
function slicePlan(plan: NativeScanPlan, elements: number): NativeScanPlan {
  return { ...plan, groups: plan.groups.map((g) => ({ ...g, count: Math.min(g.count, elements) })) };
}

async function measure(M: number): Promise<Row> {
  const params = Math.floor(totalBytes / 2 / M);
  const files = Array.from({ length: M }, (_, i) => benchModel(params, 100 + i, 1024));
  const set = await openModels(files);
  const { groups } = alignModels(set.models);
  const plan = buildPlan(groups, { seed: 0, fakeInit: 'auto' }).plan;
  const planHf = buildPlan(groups, { seed: 0, fakeInit: 'hf' }).plan;
  const bytes = set.models.reduce((s, m) => s + m.bytes, 0);
  await runNativePlan({ ...plan, mode: 'readsum' }); // warm the page cache
  const readSum = await run(`read-and-sum M=${M}`, () => runNativePlan({ ...plan, mode: 'readsum' }), 4);
  const scan = await run(`scan M=${M}`, () => runNativePlan(plan), 6);
  const scanHf = await run(`scan hf M=${M}`, () => runNativePlan(planHf), 6);
  const sliceElems = quick ? 1 << 16 : 1 << 18;
  const sliced = slicePlan(plan, sliceElems);
  const sliceBytes = sliced.groups.reduce((s, g) => s + g.count * 2 * g.members.length, 0);
  const refHz = await run(`TS reference M=${M}`, async () => referenceScan(sliced), 4);
  const row: Row = { M, bytes, readSum: readSum * bytes, scan: scan * bytes, scanHf: scanHf * bytes, reference: refHz * sliceBytes };
  if (cold) {
    row.coldReadSum = await coldRate(() => runNativePlan({ ...plan, mode: 'readsum' }), bytes);
    row.coldScan = await coldRate(() => runNativePlan(plan), bytes);
  }
  return row;
}

const gbs = (b: number) => (b / 1e9).toFixed(2);

async function main() {
  process.stderr.write(`machine: ${machineDescription()}\n`);
  const rows: Row[] = [];
  for (const M of [2, 8, 32]) {
    process.stderr.write(`M = ${M} ...\n`);
    rows.push(await measure(M));
  }
  const lines = [
    `Scan throughput, GB/s of model bytes (BF16, ${(totalBytes / 2 ** 20).toFixed(0)} MiB of models per row; all cores)`,
    `Machine: ${machineDescription()}`,
    '',
    '| M | read-and-sum | scan (auto init) | scan (hf: normal init) | TS reference | scan / read-and-sum | scan / TS reference |',
    '|---|---|---|---|---|---|---|',
    ...rows.map((r) =>
      `| ${r.M} | ${gbs(r.readSum)} | ${gbs(r.scan)} | ${gbs(r.scanHf)} | ${gbs(r.reference)} | ${(r.scan / r.readSum).toFixed(2)} | ${(r.scan / r.reference).toFixed(0)}x |`),
  ];
  if (cold) {
    lines.push(
      '',
      'Cold page cache (dropped before each run: the models come from disk), median of 3 runs:',
      '',
      '| M | read-and-sum | scan (auto init) | scan / read-and-sum |',
      '|---|---|---|---|',
      ...rows.map((r) => `| ${r.M} | ${gbs(r.coldReadSum!)} | ${gbs(r.coldScan!)} | ${(r.coldScan! / r.coldReadSum!).toFixed(2)} |`),
    );
  }
  process.stderr.write('start-up ...\n');
  lines.push('', formatStartup(await measureStartup(quick)));
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((e) => {
  process.stderr.write(`bench failed: ${String(e?.stack ?? e)}\n`);
  process.exitCode = 1;
});
