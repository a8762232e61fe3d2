/**
 * Start-up time of the compiled library and CLI, each a fresh `node` process, beside
 * `node -e 1` (the floor: Node itself) in the same run, as mean seconds and as a ratio.
 * `npm run bench` prints this table after the scan table; alone:
 *
 *   node dist/bench/startup.js            # after `npx tsc -p tsconfig.build.json`
 *   node dist/bench/startup.js --quick    # fewer samples
 *
 * Target: `phylogeny inspect` on a small safetensors file within 0.25 s. Commands that do
 * not train (inspect, scan, detect) must not load tfjs; this row catches a regression.
 */
import Benchmark from 'benchmark';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { writeSafetensors } from '../lib/io/safetensors-writer';
import { packageRoot } from '../lib/native';
import { benchCacheDir } from './fixtures';
import { machineDescription } from './machine';
import { handleUsage } from '../scripts/usage';

export const STARTUP_TARGET_S = 0.25;

export interface StartupRow {
  name: string;
  seconds: number;
  /** seconds / seconds of `node -e 1`, measured in the same run. */
  ratio: number;
}

/** A 16-parameter F32 model: inspect's time is then all start-up. */
function smallModel(): string {
  const file = path.join(benchCacheDir(), 'startup-small.safetensors');
  if (!fs.existsSync(file)) writeSafetensors(file, [{ name: 'w', dtype: 'F32', shape: [4, 4], data: new Float32Array(16) }]);
  return file;
}

/** Mean seconds of one run of `node args`, a fresh process each time (Benchmark.js sampling). */
function timeNode(name: string, args: string[], cwd: string, maxTime: number): Promise<number> {
  const once = () => {
    const r = spawnSync(process.execPath, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    if (r.status !== 0) throw new Error(`${name} exited ${r.status}: ${r.stderr}`);
  };
  once(); // fail early, and warm the file cache
  return new Promise((resolve, reject) => {
    const bench = new Benchmark(name, {
      fn: once,
      minSamples: 5,
      maxTime,
      onComplete: (ev: { target: Benchmark }) => resolve(1 / ev.target.hz),
      onError: (ev: { target: { error: unknown } }) => reject(ev.target.error),
    } as Benchmark.Options);
    bench.run();
  });
}

export async function measureStartup(quick: boolean): Promise<StartupRow[]> {
  const root = packageRoot();
  const cli = path.join(root, 'dist', 'lib', 'cli', 'main.js');
  if (!fs.existsSync(cli)) throw new Error(`${cli} is missing: build with npx tsc -p tsconfig.build.json`);
  const maxTime = quick ? 1 : 4;
  const cases: Array<[string, string[]]> = [
    ['node -e 1', ['-e', '1']],
    ["node -e \"require('./dist/lib')\"", ['-e', "require('./dist/lib')"]],
    ['phylogeny --help', [cli, '--help']],
    ['phylogeny inspect small.safetensors', [cli, 'inspect', smallModel()]],
  ];
  const times: number[] = [];
  for (const [name, args] of cases) times.push(await timeNode(name, args, root, maxTime));
  return cases.map(([name], i) => ({ name, seconds: times[i], ratio: times[i] / times[0] }));
}

export function formatStartup(rows: StartupRow[]): string {
  return [
    `Start-up, a fresh node process per run (mean; target for inspect: ${STARTUP_TARGET_S} s)`,
    '',
    '| command | seconds | × node -e 1 |',
    '|---|---|---|',
    ...rows.map((r) => `| \`${r.name}\` | ${r.seconds.toFixed(3)} | ${r.ratio.toFixed(2)} |`),
  ].join('\n');
}

if (require.main === module) {
  handleUsage(__filename, ['quick']);
  measureStartup(process.argv.includes('--quick')).then(
    (rows) => process.stdout.write(`Machine: ${machineDescription()}\n\n${formatStartup(rows)}\n`),
    (e) => {
      process.stderr.write(`bench failed: ${String(e?.stack ?? e)}\n`);
      process.exitCode = 1;
    },
  );
}
