/**
 * The exact scan as a real Slurm job array (scripts/slurm/submit.sh): N tasks each scan part
 * i/N with `--shard auto`, a dependent job merges them, and the result equals the scan of
 * the same models on one machine. A failing task leaves no merged scan behind.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
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

maybe('scan as a Slurm job array', () => {
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

  function submit(out: string, n: number, extra: string[] = []): { status: number | null; stdout: string; stderr: string } {
    return spawnSync('bash', [path.join(REPO, 'scripts/slurm/submit.sh'), 'scan', models, out, String(n), '--wait', ...extra], {
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

  it('leaves no merged scan when a task fails, and says so', () => {
    const out = path.join(dir, 'bad');
    const r = submit(out, 2, ['--', '--fake-init', 'no-such-init']);
    expect(r.status).not.toBe(0);
    expect(fs.existsSync(path.join(out, 'scan.json'))).toBe(false);
    const logs = fs.readdirSync(out).filter((f) => f.startsWith('phylogeny-scan-')).map((f) => fs.readFileSync(path.join(out, f), 'utf8'));
    expect(logs.join('\n')).toMatch(/no-such-init/);
  }, 240_000);
});
