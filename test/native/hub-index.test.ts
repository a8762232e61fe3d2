/**
 * The fingerprint index end to end: add (incremental), query, detect on estimated statistics
 * against the exact scan, task shares merged == one machine, damaged and foreign index files,
 * a run killed midway resumed, and the CLI.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { detect } from '../../lib/detect/detect';
import { ALL_METHODS } from '../../lib/eval/compare';
import { IndexError, FormatError } from '../../lib/errors';
import { addToIndex, addToOpenIndex } from '../../lib/hub/add';
import { detectIndex } from '../../lib/hub/detect-index';
import { mergeIndexes } from '../../lib/hub/merge';
import { queryIndex } from '../../lib/hub/query';
import { FingerprintIndex, INDEX_FILE } from '../../lib/hub/store';
import { DEFAULT_FINGERPRINT_CONFIG, probeConfigOf } from '../../lib/hub/sample';
import { runCli } from '../helpers/cli';
import { scanModels } from '../../lib/scan/scan';
import { tmpDir } from '../helpers/models';
import { TEST_CONFIG, writeFamilies } from '../helpers/hub-family';

const noTimings = <T extends { timings?: unknown }>(x: T) => ({ ...x, timings: undefined });

/** `dir` holds the same model rows and fingerprints as `reference`. */
async function expectSameIndex(dir: string, reference: string): Promise<void> {
  const a = await FingerprintIndex.open(reference);
  const b = await FingerprintIndex.open(dir);
  try {
    const rows = await a.models();
    expect(await b.models()).toEqual(rows);
    const hashes = rows.map((r) => r.hash);
    expect([...(await b.fingerprints(hashes))]).toEqual([...(await a.fingerprints(hashes))]);
  } finally {
    a.close();
    b.close();
  }
}

describe('fingerprint index', () => {
  const dir = tmpDir('np-hub-');
  const models = path.join(dir, 'models');
  const edges = writeFamilies(models, 3);
  const single = path.join(dir, 'single');

  // The default config: these 11.7k-parameter models are kept whole, with probes.
  const whole = path.join(dir, 'whole');

  beforeAll(async () => {
    await addToIndex(single, [models], { config: TEST_CONFIG });
    await addToIndex(whole, [models]);
  });

  it('adds incrementally: a second run reads nothing', async () => {
    const s = await addToIndex(single, [models], { config: TEST_CONFIG });
    expect(s.added).toBe(0);
    expect(s.skipped).toBe(12);
    expect(s.bytesRead).toBe(0);
  });

  it('keeps a model already present as it is when a batch brings it again (same hash, twice in one batch too)', async () => {
    const copy = path.join(dir, 'again');
    await mergeIndexes([single], copy);
    const ix = await FingerprintIndex.open(copy);
    const [row] = await ix.models();
    const [{ fingerprint }] = await ix.rowsWithFingerprints([row.hash]);
    const rec = { ...row, id: 'renamed', fingerprint, sketch: new Float32Array(128) };
    await ix.addBatch([rec, rec], [{ path: '/nowhere/x.safetensors', size: 1, mtimeMs: 2, hash: row.hash }]);
    expect(await ix.count()).toBe(12);
    expect((await ix.models()).find((r) => r.hash === row.hash)!.id).toBe(row.id);
    expect(await ix.knownFile('/nowhere/x.safetensors', 1, 2)).toBe(row.hash);
    ix.close();
  });

  it('adds into an index the caller keeps open, one call per model, the same rows and fingerprints as one add', async () => {
    const kept = path.join(dir, 'kept-open');
    const files = fs.readdirSync(models).filter((f) => f.endsWith('.safetensors')).sort();
    const ix = await FingerprintIndex.open(kept, { create: true, config: TEST_CONFIG });
    try {
      let added = 0;
      for (const f of files) added += (await addToOpenIndex(ix, [path.join(models, f)])).added;
      expect(added).toBe(12);
      // The same file again is known by its stamp: nothing read.
      const again = await addToOpenIndex(ix, [path.join(models, files[0])]);
      expect([again.added, again.skipped, again.bytesRead]).toEqual([0, 1, 0]);
    } finally {
      ix.close();
    }
    await expectSameIndex(kept, single);
  });

  it('answers where a model comes from, with direction and confidence', async () => {
    const q = await queryIndex(single, path.join(models, 'f1-b.safetensors'));
    expect(q.model.indexed).toBe(true);
    expect(q.relatives[0].id).toBe('f1-a');
    expect(q.relatives.filter((r) => r.related).map((r) => r.id).sort()).toEqual(['f1-a', 'f1-c', 'f1-root']);
    expect(q.parents.map((p) => p.id)).toEqual(['f1-a']);
    expect(q.parents[0].confidence).toBeGreaterThan(0);
  });

  it('detects split groups on worker threads exactly as on one thread', async () => {
    // jointMax 5 splits the 12 models into their related groups (one per family).
    const preload = [path.join(__dirname, '..', 'helpers', 'ts-register.js')];
    const one = await detectIndex(single, { jointMax: 5, threads: 1 });
    const two = await detectIndex(single, { jointMax: 5, threads: 2, workerPreload: preload });
    expect(one.options.parts).toBe(3);
    expect(one.warnings.join('\n')).toMatch(/split into 3 related groups/);
    expect(noTimings(two)).toEqual(noTimings(one));
    await expect(detectIndex(single, { threads: 0 })).rejects.toThrow(/threads must be a positive integer/);
  });

  it('detects on estimated statistics what the exact scan detects', async () => {
    const est = await detectIndex(single);
    const exact = detect(await scanModels([models]));
    // The tree (undirected) is the exact scan's; directions come from moments estimated on
    // ~10% of the rows here (the test config is tiny), so one of nine may flip.
    const undirected = (r: { edges: { parent: string; child: string }[] }) => r.edges.map((e) => [e.parent, e.child].sort().join('~')).sort();
    expect(undirected(est)).toEqual(undirected(exact));
    const truth = new Set(edges.map((e) => `${e.parent}>${e.child}`));
    expect(exact.edges.filter((e) => truth.has(`${e.parent}>${e.child}`))).toHaveLength(9);
    expect(est.edges.filter((e) => truth.has(`${e.parent}>${e.child}`)).length).toBeGreaterThanOrEqual(8);
  });

  it('with every model kept whole (the default budget here), gives every method the exact scan\'s answer', async () => {
    // Fingerprints of these 11k-parameter models are the models, so the estimated statistics
    // are the scan's; detectIndex also lists the models in the scan's order (the index keeps
    // them by content hash), which the k-means methods' seeded restarts depend on.
    const scan = await scanModels([models]);
    for (const method of ALL_METHODS) {
      const est = await detectIndex(whole, { method, threads: 1 });
      const exact = detect(scan, { method });
      const edges = (r: { edges: { parent: string; child: string }[] }) => r.edges.map((e) => `${e.parent}>${e.child}`).sort();
      expect({ method, edges: edges(est), families: est.families }).toEqual({ method, edges: edges(exact), families: exact.families });
    }
  });

  it('keeps a probe beside each whole fingerprint, and queries compare probes: the answer of an index of probes', async () => {
    const ix = await FingerprintIndex.open(whole, { readOnly: true });
    const hashes = (await ix.models()).map((r) => r.hash);
    const full = await ix.rowsWithFingerprints(hashes);
    const probes = await ix.rowsWithFingerprints(hashes, { probe: true });
    ix.close();
    expect(full.every((f) => f.fingerprint.tensors.every((t) => t.colMode === 'all' && t.rows.length === t.shape[0]))).toBe(true);
    expect(probes.every((p) => p.fingerprint.tensors.some((t) => t.colMode === 'per-row' || t.rows.length < t.shape[0]))).toBe(true);
    // The same models indexed with the probe config (sampled, as before models were kept whole).
    const sampled = path.join(dir, 'probe-config');
    await addToIndex(sampled, [models], { config: probeConfigOf(DEFAULT_FINGERPRINT_CONFIG) });
    const probe = path.join(models, 'f1-a.safetensors');
    const a = await queryIndex(whole, probe);
    const b = await queryIndex(sampled, probe);
    const answer = (q: Awaited<ReturnType<typeof queryIndex>>) => ({
      relatives: q.relatives.map((r) => ({ id: r.id, distance: r.distance, correlation: r.correlation })),
      parents: q.parents.map((p) => ({ id: p.id, confidence: p.confidence })),
      children: q.children.map((p) => ({ id: p.id, confidence: p.confidence })),
      family: q.family,
    });
    expect(answer(a)).toEqual(answer(b));
    expect(a.parents.map((p) => p.id)).toEqual(['f1-root']);
  });

  it('merges task shares into an index that answers exactly as one built on one machine', async () => {
    const parts = [1, 2, 3].map((i) => path.join(dir, `part${i}`));
    for (let i = 0; i < 3; i++) await addToIndex(parts[i], [models], { config: TEST_CONFIG, task: `${i + 1}/3` });
    const counts = await Promise.all(parts.map(async (p) => {
      const ix = await FingerprintIndex.open(p);
      const n = await ix.count();
      ix.close();
      return n;
    }));
    expect(counts).toEqual([4, 4, 4]);
    const merged = path.join(dir, 'merged');
    await mergeIndexes([parts[2], parts[0], parts[1]], merged);
    await expectSameIndex(merged, single);
    const query = path.join(models, 'f2-c.safetensors');
    expect(noTimings(await queryIndex(merged, query))).toEqual(noTimings(await queryIndex(single, query)));
    expect(noTimings(await detectIndex(merged))).toEqual(noTimings(await detectIndex(single)));
  });

  it('refuses a foreign or damaged index file with an IndexError naming it, and keeps what was indexed', async () => {
    const junk = path.join(dir, 'junk');
    fs.mkdirSync(junk);
    fs.writeFileSync(path.join(junk, INDEX_FILE), Buffer.alloc(5000, 7));
    await expect(FingerprintIndex.open(junk)).rejects.toThrow(IndexError);
    await expect(FingerprintIndex.open(junk)).rejects.toThrow(/junk/);
    await expect(addToIndex(junk, [models], { config: TEST_CONFIG })).rejects.toThrow(IndexError);
    expect(fs.readFileSync(path.join(junk, INDEX_FILE)).equals(Buffer.alloc(5000, 7))).toBe(true);
    await expect(FingerprintIndex.open(path.join(dir, 'nowhere'))).rejects.toThrow(/no fingerprint index/);
    // A DuckDB database that is not an index.
    const other = path.join(dir, 'other');
    fs.mkdirSync(other);
    const duck = await import('@duckdb/node-api');
    const inst = await duck.DuckDBInstance.create(path.join(other, INDEX_FILE));
    const c = await inst.connect();
    await c.run('CREATE TABLE t (x INTEGER)');
    c.closeSync();
    inst.closeSync();
    await expect(FingerprintIndex.open(other)).rejects.toThrow(/not a fingerprint index/);
    // A damaged fingerprint record: a FormatError naming the index and model; the rest is intact.
    const damaged = path.join(dir, 'damaged');
    await mergeIndexes([single], damaged);
    const inst2 = await duck.DuckDBInstance.create(path.join(damaged, INDEX_FILE));
    const c2 = await inst2.connect();
    await c2.run("UPDATE models SET fingerprint = '\\x4E\\x50\\x46\\x50\\x01\\x00'::BLOB WHERE id = 'f0-a'");
    c2.closeSync();
    inst2.closeSync();
    await expect(detectIndex(damaged)).rejects.toThrow(FormatError);
    await expect(detectIndex(damaged)).rejects.toThrow(/index\.duckdb \(model /);
    const ix = await FingerprintIndex.open(damaged);
    expect(await ix.count()).toBe(12);
    ix.close();
  });

  it('refuses an index of the first fingerprint layout (version 1) everywhere, naming it, never mixing', async () => {
    // A version-1 index: the same tables, meta saying version 1 (its rows kept shared columns).
    const old = path.join(dir, 'v1');
    await mergeIndexes([single], old);
    const duck = await import('@duckdb/node-api');
    const inst = await duck.DuckDBInstance.create(path.join(old, INDEX_FILE));
    const c = await inst.connect();
    await c.run("UPDATE meta SET value = '1' WHERE key = 'version'");
    c.closeSync();
    inst.closeSync();
    const before = fs.readFileSync(path.join(old, INDEX_FILE));
    const named = new RegExp(`${path.join(old, INDEX_FILE).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: fingerprint index version 1, this library reads 4 \\(its fingerprints keep the same columns`);
    await expect(FingerprintIndex.open(old)).rejects.toThrow(named);
    await expect(addToIndex(old, [models], { config: TEST_CONFIG })).rejects.toThrow(IndexError);
    await expect(queryIndex(old, path.join(models, 'f0-a.safetensors'))).rejects.toThrow(named);
    await expect(detectIndex(old)).rejects.toThrow(named);
    // Merging refuses it as the first part and as a later one, and the output gets nothing of it.
    await expect(mergeIndexes([old, single], path.join(dir, 'mixed1'))).rejects.toThrow(named);
    const mixed = path.join(dir, 'mixed2');
    await expect(mergeIndexes([single, old], mixed)).rejects.toThrow(named);
    const ix = await FingerprintIndex.open(mixed);
    expect(await ix.count()).toBe(12);
    ix.close();
    expect(fs.readFileSync(path.join(old, INDEX_FILE)).equals(before)).toBe(true);
    // Version 2 (rows sampled where this version reads every row) is refused with its own reason.
    const inst2 = await duck.DuckDBInstance.create(path.join(old, INDEX_FILE));
    const c2 = await inst2.connect();
    await c2.run("UPDATE meta SET value = '2' WHERE key = 'version'");
    c2.closeSync();
    inst2.closeSync();
    await expect(FingerprintIndex.open(old)).rejects.toThrow(/fingerprint index version 2, this library reads 4 \(its fingerprints sample the rows of tensors that this version reads whole/);
    // Version 3 (small models sampled, no probes) too.
    const inst3 = await duck.DuckDBInstance.create(path.join(old, INDEX_FILE));
    const c3 = await inst3.connect();
    await c3.run("UPDATE meta SET value = '3' WHERE key = 'version'");
    c3.closeSync();
    inst3.closeSync();
    await expect(FingerprintIndex.open(old)).rejects.toThrow(/fingerprint index version 3, this library reads 4 \(it samples models that this version keeps whole/);
  });

  it('resumes after a run killed midway, with nothing half-written', async () => {
    const killed = path.join(dir, 'killed');
    const script = [
      `require(${JSON.stringify(path.join(__dirname, '..', 'helpers', 'ts-register.js'))});`,
      `const { addToIndex } = require(${JSON.stringify(path.join(__dirname, '..', '..', 'lib', 'hub', 'add.ts'))});`,
      `const cfg = ${JSON.stringify(TEST_CONFIG)};`,
      `addToIndex(${JSON.stringify(killed)}, [${JSON.stringify(models)}], { config: cfg, batch: 1, onProgress: (p) => { console.log('done', p.done); if (p.done === 5) setInterval(() => {}, 1000); } });`,
    ].join('\n');
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => {
      let out = '';
      child.stdout.on('data', (d) => {
        out += String(d);
        if (/done 4\b/.test(out)) {
          child.kill('SIGKILL');
          resolve();
        }
      });
      child.on('exit', () => resolve());
    });
    await new Promise((r) => child.on('exit', r));
    const mid = await FingerprintIndex.open(killed);
    const n = await mid.count();
    mid.close();
    expect(n).toBeGreaterThanOrEqual(3);
    expect(n).toBeLessThan(12);
    const s = await addToIndex(killed, [models], { config: TEST_CONFIG });
    expect(s.added).toBe(12 - n);
    const a = await FingerprintIndex.open(single);
    const b = await FingerprintIndex.open(killed);
    expect(await b.models()).toEqual(await a.models());
    a.close();
    b.close();
  });

  it('runs from the CLI: index add --task, index merge, index query, detect --index', async () => {
    const run = runCli;
    const cli = path.join(dir, 'cli');
    for (const t of ['1/2', '2/2']) expect((await run(['index', 'add', models, '--index', path.join(cli, t.replace('/', '-')), '--task', t, '-q'])).code).toBe(0);
    expect((await run(['index', 'merge', path.join(cli, '1-2'), path.join(cli, '2-2'), '--out', path.join(cli, 'all'), '-q'])).code).toBe(0);
    const q = await run(['index', 'query', path.join(models, 'f0-b.safetensors'), '--index', path.join(cli, 'all'), '--format', 'json']);
    expect(q.code).toBe(0);
    expect(JSON.parse(q.out).parents[0].id).toBe('f0-a');
    const text = await run(['index', 'query', path.join(models, 'f0-b.safetensors'), '--index', path.join(cli, 'all')]);
    expect(text.out).toMatch(/likely parent: f0-a/);
    const d = await run(['detect', '--index', path.join(cli, 'all'), '--format', 'json', '-q', '--confirm', '2']);
    expect(d.code).toBe(0);
    expect(JSON.parse(d.out).edges).toHaveLength(9);
    expect((await run(['index', 'add', models])).code).toBe(2);
    expect((await run(['index', 'query', models, '--index', path.join(dir, 'nowhere')])).code).toBe(1);
    expect((await run(['index', 'add', models, '--index', path.join(cli, 'x'), '--task', '3/2'])).code).toBe(2);
  });
});
