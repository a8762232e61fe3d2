/**
 * End to end on a real (small) zoo: a small learned detector trains in well under 5 minutes
 * on 2 cores, beats chance on held-out children by a wide margin, and detectLearned turns a
 * scan into a valid forest that eval scores. The zoo is built once and cached (ensureZoo).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { evaluate } from '../../lib/eval/metrics';
import { openModels } from '../../lib/io/discover';
import { detectLearned, trainDetector } from '../../lib/learned';
import { scanModelSet } from '../../lib/scan/scan';
import { ensureZoo } from '../../lib/zoo';

jest.setTimeout(15 * 60 * 1000);

describe('learned detector on a small mnist-fc zoo', () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'np-learned-'));
  afterAll(() => fs.rmSync(out, { recursive: true, force: true }));
  let zooDir = '';

  beforeAll(async () => {
    zooDir = (await ensureZoo({ preset: 'mnist-fc', seed: 0, families: 3 })).outDir;
  });

  it('trains in under 5 minutes and beats chance on held-out children by a wide margin', async () => {
    const t0 = Date.now();
    // 40% of the children held out for test (the paper's 20% of 15 children would be 3).
    const opts = { zoos: [zooDir], epochs: 40, patience: 15, seed: 0, split: [0.5, 0.1, 0.4] as [number, number, number] };
    const r = await trainDetector({ ...opts, out: path.join(out, 'det'), config: { cropRows: 8, cropCols: 16 } });
    const seconds = (Date.now() - t0) / 1000;
    // The network alone (no additive-tree prior): what training itself learns, on the same split.
    const alone = await trainDetector({ ...opts, out: path.join(out, 'det-alone'), config: { cropRows: 8, cropCols: 16, treePrior: 0 } });
    const total = (Date.now() - t0) / 1000;
    // The measured numbers, for docs/learned.md and for judging the margins below.
    console.log(`learned detector: ${r.epochs} epochs (best ${r.bestEpoch}) in ${seconds.toFixed(0)} s; test accuracy ${r.testAccuracy} over ${r.testChildren} children; chance ${r.chance.toFixed(3)}; network alone ${alone.testAccuracy} (${alone.epochs} epochs); both in ${total.toFixed(0)} s`);
    expect(total).toBeLessThan(300);
    expect(r.testChildren).toBeGreaterThanOrEqual(5);
    // Measured (docs/learned.md): 66.7% (4 of 6) with the additive-tree prior, 83.3% for the
    // network alone, chance ≈ 17% (~6 choices per child): both asserted 30 points over chance.
    // The prior alone would pass the first check untrained; the second one needs training.
    expect(r.testAccuracy).toBeGreaterThanOrEqual(r.chance + 0.3);
    expect(alone.testAccuracy).toBeGreaterThanOrEqual(alone.chance + 0.3);
    expect(fs.existsSync(path.join(out, 'det', 'detector.json'))).toBe(true);
  });

  it('detectLearned gives a valid forest that eval scores', async () => {
    const set = await openModels([zooDir]);
    const scan = await scanModelSet(set);
    const result = await detectLearned(scan, set, { detector: path.join(out, 'det') });
    expect(result.method).toBe('learned');
    const seen = new Set<string>();
    for (const e of result.edges) {
      expect(seen.has(e.child)).toBe(false);
      seen.add(e.child);
      expect(e.confidence).toBeGreaterThan(0);
      expect(e.confidence).toBeLessThanOrEqual(1);
    }
    expect(result.roots.length + result.edges.length).toBe(set.models.length);
    const m = evaluate(result, set.lineage!);
    // Every child, trained-on ones included: far above picking one of ~6 choices at random.
    expect(m.edgeAccuracy).toBeGreaterThan(0.5);
  });

  it('the native and the tfjs encoder engines give the same detection', async () => {
    const set = await openModels([zooDir]);
    const scan = await scanModelSet(set);
    const a = await detectLearned(scan, set, { detector: path.join(out, 'det'), engine: 'native' });
    const b = await detectLearned(scan, set, { detector: path.join(out, 'det'), engine: 'tfjs' });
    expect(b.edges.map((e) => [e.parent, e.child])).toEqual(a.edges.map((e) => [e.parent, e.child]));
    a.edges.forEach((e, i) => expect(Math.abs(e.confidence - b.edges[i].confidence)).toBeLessThan(1e-3));
  });
});
