/**
 * `npm run fuzz`: seeded mutation fuzzing of every file reader in scripts/fuzz/registry.ts.
 * Each format's batch runs in a child process, so a crash of the process itself (a segfault,
 * an abort) is counted as a crash and the batch resumes after the case that caused it.
 * Prints ok / refused / crash counts per format; exits 1 if anything crashed.
 *
 *   npm run fuzz -- --n 10000 --seed 1 --target gguf
 *
 * --n       mutations per format (default 10000)
 * --seed    base seed (default 1); case i of a format is reproducible from (seed, i)
 * --target  only this format (default: all)
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { handleUsage } from './usage';
import { FUZZ_TARGETS } from './fuzz/registry';
import { Mutator } from './fuzz/mutate';
import { Counts, newCounts, record, runCase } from './fuzz/batch';

function option(name: string, fallback: string): string {
  const argv = process.argv;
  for (let i = 2; i < argv.length; i++) {
    if (argv[i] === `--${name}`) return argv[i + 1] ?? fallback;
    if (argv[i].startsWith(`--${name}=`)) return argv[i].slice(name.length + 3);
  }
  return fallback;
}

/**
 * Child mode: cases [from, to) of one target. Before each case the counts so far and the
 * case's index go to `progress`, so a parent whose child died knows both.
 */
function child(): void {
  const target = FUZZ_TARGETS.find((t) => t.name === option('child', ''))!;
  const from = Number(option('from', '0')), to = Number(option('to', '0')), seed = Number(option('seed', '1'));
  const progress = option('progress', '');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `np-fuzz-${target.name}-`));
  try {
    const mutator = new Mutator(target.seeds(dir), seed, target.mutate);
    const counts = newCounts();
    for (let i = from; i < to; i++) {
      fs.writeFileSync(progress, JSON.stringify({ at: i, counts }));
      record(counts, i, runCase(target, mutator, i, dir));
    }
    fs.writeFileSync(progress, JSON.stringify({ at: to, counts }));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function runTarget(name: string, n: number, seed: number): Counts {
  const total = newCounts();
  const progress = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'np-fuzz-')), 'progress.json');
  let from = 0;
  while (from < n) {
    fs.writeFileSync(progress, JSON.stringify({ at: from, counts: newCounts() }));
    const r = spawnSync(process.execPath, [__filename, '--child', name, '--from', `${from}`, '--to', `${n}`, '--seed', `${seed}`, '--progress', progress], { encoding: 'utf8', maxBuffer: 64 << 20 });
    const p = JSON.parse(fs.readFileSync(progress, 'utf8')) as { at: number; counts: Counts };
    total.ok += p.counts.ok;
    total.refused += p.counts.refused;
    total.crashes += p.counts.crashes;
    total.crashReports.push(...p.counts.crashReports);
    if (r.status === 0 && p.at >= n) break;
    // The process died on case p.at: a crash; resume after it.
    total.crashes++;
    total.crashReports.push(`case ${p.at}: process died (${r.signal ?? `exit ${r.status}`}): ${(r.stderr || '').trim().split('\n').slice(-3).join(' | ')}`);
    from = p.at + 1;
  }
  fs.rmSync(path.dirname(progress), { recursive: true, force: true });
  return total;
}

function main(): void {
  handleUsage(__filename, ['n', 'seed', 'target', 'child', 'from', 'to', 'progress']);
  if (option('child', '')) return child();
  const n = Number(option('n', '10000')), seed = Number(option('seed', '1')), only = option('target', '');
  const targets = FUZZ_TARGETS.filter((t) => !only || t.name === only);
  if (!targets.length) {
    process.stderr.write(`unknown target '${only}'; targets: ${FUZZ_TARGETS.map((t) => t.name).join(', ')}\n`);
    process.exit(2);
  }
  let crashed = false;
  for (const t of targets) {
    const t0 = Date.now();
    const c = runTarget(t.name, n, seed);
    process.stdout.write(`${t.name.padEnd(12)} ${n} mutations: ${c.ok} ok, ${c.refused} refused, ${c.crashes} crashes (${((Date.now() - t0) / 1000).toFixed(1)} s)\n`);
    for (const r of c.crashReports) process.stdout.write(`  ${r}\n`);
    if (c.crashes) crashed = true;
  }
  process.exit(crashed ? 1 : 0);
}

main();
