/**
 * `npm run eval:index-noise`: which estimated statistic costs a detection method accuracy on
 * the fingerprint index, and how noisy the estimated distances are. For each zoo (as
 * eval:index: one exact scan, fingerprints with the default config): directed-edge accuracy of
 * the exact scan, of the estimated scan, and of the estimated scan with one statistic put back
 * from the exact scan (fake-init distance, Gram matrix, moments), and of the estimate of Σ(x − r)²
 * from Σx² alone where the reader summed it over a tensor read whole; then, per sampled tensor, the
 * root-mean-square relative error of the estimated squared distance ‖a − b‖² over the zoo's
 * parent–child pairs, for the kept columns (each row its own) and, simulated from the full
 * weights, for the first fingerprint layout: a sample of the same size in which every row keeps
 * the same columns (the `cols` of smallest hash).
 *
 *   npm run eval:index-noise -- --dirs ~/.cache/neural-phylogeny/zoos/mnist-fc-small-seed0-1162ecae,...
 *   npm run eval:index-noise -- --dirs ... --methods kmeans-after,kmeans-along
 *
 * The estimated scan here lists the models in discovery order (eval:index in the index's),
 * which the k-means methods' seeding notices.
 */
import { ALL_METHODS, evaluateMethods } from '../lib/eval/compare';
import { fingerprintModel } from '../lib/hub/fingerprint';
import { estimateScan, IndexedModel } from '../lib/hub/estimate';
import { DEFAULT_FINGERPRINT_CONFIG, sampleKeys, shapeView, unitHash } from '../lib/hub/sample';
import { openModels } from '../lib/io/discover';
import { readTensorValues } from '../lib/io/tensor-data';
import type { ModelSet } from '../lib/io/types';
import { scanModelSet } from '../lib/scan/scan';
import type { ScanResult, ScanTensor } from '../lib/scan/types';
import { machineDescription } from '../bench/machine';
import { handleUsage } from './usage';

handleUsage(__filename, ['dirs', 'methods']);

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

/** The estimated scan with some fields of every tensor taken from the exact scan. */
function withExact(est: ScanResult, exact: ScanResult, fields: (keyof ScanTensor)[]): ScanResult {
  const byName = new Map(exact.tensors.map((t) => [t.name, t]));
  return { ...est, tensors: est.tensors.map((t) => Object.assign({ ...t }, Object.fromEntries(fields.map((f) => [f, byName.get(t.name)![f]])))) };
}

/** ‖a − b‖² of the lineage's parent–child pairs from a Gram matrix over the tensor's models. */
function pairDistances(set: ModelSet, t: ScanTensor, gram: number[][]): number[] {
  const slot = (id: string) => t.models.indexOf(set.models.findIndex((m) => m.id === id));
  return set.lineage!.edges.map(({ parent, child }) => {
    const [a, b] = [slot(parent), slot(child)];
    return gram[a][a] + gram[b][b] - 2 * gram[a][b];
  });
}

/** The Gram over the rows `rows` keeping the same `k` columns in every row (the first layout's choice). */
function sharedColumnGram(values: Float32Array[], name: string, shape: number[], rows: Uint32Array, k: number, count: number): number[][] {
  const { rowLen } = shapeView(shape);
  const { colKey } = sampleKeys(DEFAULT_FINGERPRINT_CONFIG.seed, name, shape);
  const cols = Array.from({ length: rowLen }, (_, c) => [unitHash(colKey, c), c]).sort((x, y) => x[0] - y[0]).slice(0, k).map(([, c]) => c);
  const coords: number[] = [];
  for (const r of rows) for (const c of cols) coords.push(r * rowLen + c);
  const scale = count / coords.length;
  return values.map((a) => values.map((b) => scale * coords.reduce((s, i) => s + a[i] * b[i], 0)));
}

const rms = (xs: number[]) => Math.sqrt(xs.reduce((s, x) => s + x * x, 0) / Math.max(1, xs.length));

async function main(): Promise<void> {
  const dirs = arg('dirs', '').split(',').filter(Boolean);
  if (!dirs.length) throw new Error('give --dirs: zoo folders with lineage.json');
  const methods = arg('methods', ALL_METHODS.join(',')).split(',');
  process.stdout.write(`# ${machineDescription()}\n`);
  for (const dir of dirs) {
    const set = await openModels([dir]);
    if (!set.lineage) throw new Error(`${dir}: no lineage.json`);
    const exact = await scanModelSet(set);
    const fps: IndexedModel[] = [];
    for (const m of set.models) fps.push({ id: m.id, path: m.path, fingerprint: await fingerprintModel(m, { config: DEFAULT_FINGERPRINT_CONFIG, fakeInit: exact.fakeInit }) });
    const est = estimateScan(fps);
    // The estimate as it was before the reader summed Σ(x − r)² over tensors read whole.
    const rowsOnly = estimateScan(fps.map((f) => ({ ...f, fingerprint: { ...f.fingerprint, tensors: f.fingerprint.tensors.map(({ fakeInitWholeSq: _, ...t }) => t) } })));
    const variants: [string, ScanResult][] = [
      ['exact', exact], ['estimated', est],
      ['est, Σ(x − r)² from Σx² only', rowsOnly],
      ['est+exact fakeInitSq', withExact(est, exact, ['fakeInitSq'])],
      ['est+exact gram', withExact(est, exact, ['gram'])],
      ['est+exact moments', withExact(est, exact, ['sum', 'sumSq', 'sumCube', 'sumQuad'])],
    ];
    process.stdout.write(`\n## ${dir}\n\n| method | ${variants.map(([n]) => n).join(' | ')} |\n|---|${variants.map(() => '---').join('|')}|\n`);
    const acc = variants.map(([, scan]) => evaluateMethods(scan, set.lineage!, methods));
    methods.forEach((m, i) => process.stdout.write(`| ${m} | ${acc.map((a) => (100 * a[i].metrics.edgeAccuracy).toFixed(0)).join(' | ')} |\n`));
    for (const t of exact.tensors) {
      const fp = fps[t.models[0]].fingerprint.tensors.find((x) => x.name === t.name);
      const e = est.tensors.find((x) => x.name === t.name);
      if (!fp || !e || fp.values.length === t.count) continue;
      const truth = pairDistances(set, t, t.gram);
      const rel = (g: number[][]) => rms(pairDistances(set, t, g).map((d, i) => d / truth[i] - 1));
      const values = t.models.map((m) => readTensorValues(set.models[m].tensors.find((x) => x.name === t.name)!));
      const shared = sharedColumnGram(values, t.name, t.shape, fp.rows, fp.nCols, t.count);
      process.stdout.write(`\n${t.name} [${t.shape.join(', ')}], ${fp.rows.length} rows x ${fp.nCols} columns of their own kept: ‖parent − child‖² off by ${(100 * rel(e.gram)).toFixed(1)}% (rms over ${truth.length} pairs); the same ${fp.nCols} columns in every row (the first layout, simulated): ${(100 * rel(shared)).toFixed(1)}%\n`);
      const simulated = { ...est, tensors: est.tensors.map((x) => (x.name === t.name ? { ...x, gram: shared } : x)) };
      const sim = evaluateMethods(simulated, set.lineage!, methods);
      process.stdout.write(`  detection with the first layout's Gram (simulated): ${methods.map((m, i) => `${m} ${(100 * sim[i].metrics.edgeAccuracy).toFixed(0)}`).join(', ')}\n`);
    }
  }
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
