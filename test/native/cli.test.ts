/**
 * The `phylogeny` CLI end to end, in process: scan in shards and merge to the full scan,
 * detect from a scan file in every format, usage errors, bad input naming the file.
 */
import * as fs from 'fs';
import * as path from 'path';
import { runCli } from '../helpers/cli';
import { parseDetectionJson } from '../../lib/report';
import { loadScan } from '../../lib/scan/result-io';
import { RandomTensor, tmpDir, writeRandomModel } from '../helpers/models';

const run = runCli;

const LAYOUT: RandomTensor[] = [
  { name: 'fc1.weight', shape: [32, 50], dtype: 'F32' },
  { name: 'fc1.bias', shape: [32], dtype: 'F32' },
  { name: 'fc2.weight', shape: [10, 32], dtype: 'BF16' },
  { name: 'fc2.bias', shape: [10], dtype: 'F32' },
];

describe('phylogeny CLI', () => {
  const dir = tmpDir('np-cli-');
  const models = path.join(dir, 'models');
  fs.mkdirSync(models);
  const p = writeRandomModel(path.join(models, 'p.safetensors'), LAYOUT, 1);
  writeRandomModel(path.join(models, 'a.safetensors'), LAYOUT.map((t) => ({ ...t, scale: 0.02 })), 2, p);
  writeRandomModel(path.join(models, 'b.safetensors'), LAYOUT.map((t) => ({ ...t, scale: 0.02 })), 3, p);
  fs.writeFileSync(path.join(models, 'lineage.json'), JSON.stringify({ edges: [{ parent: 'p', child: 'a' }, { parent: 'p', child: 'b' }], families: [['p', 'a', 'b']] }));

  it('scans in shards whose merge equals the full scan', async () => {
    const full = path.join(dir, 'full.json');
    expect((await run(['scan', models, '--out', full, '-q'])).code).toBe(0);
    const parts = [1, 2].map((i) => path.join(dir, `part${i}.json`));
    for (let i = 0; i < 2; i++) expect((await run(['scan', models, '--shard', `${i + 1}/2`, '--out', parts[i], '-q'])).code).toBe(0);
    const merged = path.join(dir, 'merged.json');
    const r = await run(['merge', ...parts, '--out', merged]);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/merged 2 parts: 4 tensors over 3 models/);
    expect(loadScan(merged).tensors).toEqual(loadScan(full).tensors);
  });

  it('detects from a scan file in every format', async () => {
    const scan = path.join(dir, 'full.json');
    const json = await run(['detect', '--scan', scan, '--format', 'json', '-q']);
    expect(json.code).toBe(0);
    const result = parseDetectionJson(json.out);
    expect(result.models.map((m) => m.id).sort()).toEqual(['a', 'b', 'p']);
    expect(result.edges).toHaveLength(2);
    const dot = await run(['detect', '--scan', scan, '--format', 'dot', '-q']);
    expect(dot.out).toMatch(/^digraph/);
    const html = path.join(dir, 'r.html');
    expect((await run(['detect', '--scan', scan, '--format', 'html', '--out', html, '-q'])).code).toBe(0);
    expect(fs.readFileSync(html, 'utf8')).toMatch(/<svg/);
    const text = await run(['detect', models, '--truth', path.join(models, 'lineage.json'), '-q']);
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/true edges recovered/);
  });

  it('evaluates every method against lineage.json', async () => {
    const r = await run(['eval', models, '--json', '-q']);
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.out) as { method: string; edgeAccuracy: number }[];
    expect(rows.length).toBeGreaterThan(5);
    expect(rows.every((x) => x.edgeAccuracy >= 0 && x.edgeAccuracy <= 1)).toBe(true);
  });

  it('usage mistakes exit 2, bad inputs exit 1 naming the file', async () => {
    expect((await run(['scan', models])).code).toBe(2); // no --out
    expect((await run(['detect', '--method', 'nope'])).code).toBe(2);
    expect((await run(['frobnicate'])).code).toBe(2);
    const bad = path.join(dir, 'bad.safetensors');
    fs.writeFileSync(bad, Buffer.from([1, 2, 3]));
    const r = await run(['detect', bad, path.join(models, 'p.safetensors'), '-q']);
    expect(r.code).toBe(1);
    expect(r.err).toContain(bad);
    const notScan = path.join(dir, 'not-a-scan.json');
    fs.writeFileSync(notScan, '{"format":"other"}');
    const s = await run(['detect', '--scan', notScan]);
    expect(s.code).toBe(1);
    expect(s.err).toContain(`${notScan}: not a valid scan result`);
  });

  it('help covers every command', async () => {
    const r = await run(['--help']);
    for (const c of ['demo', 'detect', 'eval', 'scan', 'merge', 'zoo', 'inspect', 'info']) expect(r.out).toContain(c);
    expect((await run(['scan', '--help'])).out).toMatch(/--shard i\/n/);
  });
});
