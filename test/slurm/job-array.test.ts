/**
 * Real Slurm job arrays (scripts/slurm/submit.sh) on a private single-node cluster:
 * - the exact scan: N tasks each scan part i/N with `--shard auto`, a dependent job merges
 *   them, and the result equals the scan of the same models on one machine;
 * - the fingerprint index: N tasks each index every N-th model with `--task auto` into a
 *   partial index, a dependent job merges them, and the merged index holds the same
 *   fingerprints and answers detection exactly as an index built on one machine;
 * - a failing task leaves no merged result behind.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { addToIndex, detectIndex, FingerprintIndex } from '../../lib/hub';
import { openModels } from '../../lib/io/discover';
import { loadScan } from '../../lib/scan/result-io';
import { scanModelSet } from '../../lib/scan/scan';
import { RandomTensor, tmpDir, writeRandomModel } from '../helpers/models';
import { builtCli, Cluster, REPO, REQUIRE_SLURM, slurmUnavailable, startCluster } from './helpers';

const why = slurmUnavailable();
if (why && REQUIRE_SLURM) throw new Error(`NP_REQUIRE_SLURM=1 but ${why}`);
const maybe = why ? describe.skip : describe;
if (why) console.warn(`Slurm tests skipped: ${why}`);

const LAYOUT: RandomTensor[] = [
  { name: 'embed.weight', shape: [97, 24], dtype: 'BF16' },
  { name: 'fc1.weight', shape: [64, 24], dtype: 'F32' },
  { name: 'fc1.bias', shape: [64], dtype: 'F32' },
  { name: 'fc2.weight', shape: [33, 64], dtype: 'F16' },
  { name: 'fc2.bias', shape: [33], dtype: 'F32' },
  { name: 'head.weight', shape: [10, 33], dtype: 'F32' },
];

maybe('Slurm job arrays', () => {
  const dir = tmpDir('np-slurm-');
  const models = path.join(dir, 'models');
  let cluster: Cluster;
  let cli: string;

  beforeAll(() => {
    fs.mkdirSync(models);
    const root = writeRandomModel(path.join(models, 'root.safetensors'), LAYOUT, 1);
    const a = writeRandomModel(path.join(models, 'a.safetensors'), LAYOUT.map((t) => ({ ...t, scale: 0.02 })), 2, root);
    writeRandomModel(path.join(models, 'b.safetensors'), LAYOUT.map((t) => ({ ...t, scale: 0.02 })), 3, root);
    writeRandomModel(path.join(models, 'a1.safetensors'), LAYOUT.map((t) => ({ ...t, scale: 0.01 })), 4, a);
    writeRandomModel(path.join(models, 'other.safetensors'), LAYOUT, 5);
    cli = builtCli();
    cluster = startCluster(path.join(dir, 'cluster'));
  }, 180_000);

  afterAll(() => cluster?.stop());

  function submit(out: string, n: number, extra: string[] = [], kind = 'scan'): { status: number | null; stdout: string; stderr: string } {
    return spawnSync('bash', [path.join(REPO, 'scripts/slurm/submit.sh'), kind, models, out, String(n), '--wait', ...extra], {
      env: { ...cluster.env, NP_PHYLOGENY: cli },
      encoding: 'utf8',
      timeout: 240_000,
    });
  }

  it('merges the array tasks into exactly the one-machine scan', async () => {
    const out = path.join(dir, 'out');
    const r = submit(out, 4, ['--', '--seed', '7']);
    expect(r.stderr).toMatch(/submitted array job \d+ \(4 tasks\)/);
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe(path.join(out, 'scan.json'));
    for (let i = 1; i <= 4; i++) expect(loadScan(path.join(out, `part-${i}.json`)).shard).toEqual({ index: i - 1, count: 4 });

    const merged = loadScan(path.join(out, 'scan.json'));
    const local = await scanModelSet(await openModels([models]), { seed: 7 });
    expect(merged.shard).toBeUndefined();
    expect(merged.models.map((m) => m.id)).toEqual(local.models.map((m) => m.id));
    expect(merged.tensors).toEqual(local.tensors);
    expect(merged.tensors).toHaveLength(LAYOUT.length);
  }, 240_000);

  it('indexes one share of the models per task and merges them into exactly the one-machine index', async () => {
    const out = path.join(dir, 'index-out');
    const r = submit(out, 3, [], 'index');
    expect(r.stderr).toMatch(/submitted array job \d+ \(3 tasks\)/);
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe(path.join(out, 'index'));
    const single = path.join(dir, 'single-index');
    await addToIndex(single, [models]);
    const counts: number[] = [];
    for (let i = 1; i <= 3; i++) {
      const part = await FingerprintIndex.open(path.join(out, `part-${i}`));
      counts.push(await part.count());
      part.close();
    }
    expect(counts.reduce((a, b) => a + b, 0)).toBe(5);
    expect(Math.max(...counts)).toBe(2);
    const a = await FingerprintIndex.open(single);
    const b = await FingerprintIndex.open(path.join(out, 'index'));
    const rows = await a.models();
    expect(rows).toHaveLength(5);
    expect(await b.models()).toEqual(rows);
    const hashes = rows.map((row) => row.hash);
    expect([...(await b.fingerprints(hashes))]).toEqual([...(await a.fingerprints(hashes))]);
    a.close();
    b.close();
    const noTimings = <T extends { timings?: unknown }>(x: T) => ({ ...x, timings: undefined });
    expect(noTimings(await detectIndex(path.join(out, 'index')))).toEqual(noTimings(await detectIndex(single)));
  }, 240_000);

  it('leaves no merged scan when a task fails, and says so', () => {
    const out = path.join(dir, 'bad');
    const r = submit(out, 2, ['--', '--fake-init', 'no-such-init']);
    expect(r.status).not.toBe(0);
    expect(fs.existsSync(path.join(out, 'scan.json'))).toBe(false);
    const logs = fs.readdirSync(out).filter((f) => f.startsWith('phylogeny-scan-')).map((f) => fs.readFileSync(path.join(out, f), 'utf8'));
    expect(logs.join('\n')).toMatch(/no-such-init/);
  }, 240_000);
});
