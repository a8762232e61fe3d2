/** synthetic-large at the tiny size: layout, labelling, lineage, determinism and drift structure. */
import * as fs from 'fs';
import * as path from 'path';
import { buildZoo, ZooSummary } from '../../lib/zoo';
import { parseSafetensors, tensorValues } from './helpers/safetensors';
import { tempDir } from './helpers/tmp';

let zoo: ZooSummary;
let tmp: { dir: string; cleanup: () => void };

beforeAll(async () => {
  tmp = tempDir('syn');
  zoo = await buildZoo({ preset: 'synthetic-large', outDir: tmp.dir, seed: 2, size: 'tiny', families: 2, childrenPerFamily: 2, grandchildrenPerFamily: 1 });
}, 300_000);
afterAll(() => tmp?.cleanup());

function tensor(id: string, name: string): Float32Array {
  const dir = path.join(tmp.dir, id);
  const index = JSON.parse(fs.readFileSync(path.join(dir, 'model.safetensors.index.json'), 'utf8'));
  return tensorValues(parseSafetensors(path.join(dir, index.weight_map[name])), name);
}

const dist = (a: Float32Array, b: Float32Array) => Math.sqrt(a.reduce((s, v, i) => s + (v - b[i]) ** 2, 0));

test('labelled synthetic everywhere', () => {
  expect(zoo.synthetic).toBe(true);
  expect(zoo.notes.join(' ')).toMatch(/SYNTHETIC/);
  for (const m of zoo.models) {
    expect(m.synthetic).toBe(true);
    expect(m.accuracy).toBeNull();
    const dir = path.join(tmp.dir, m.id);
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')).neural_phylogeny_synthetic).toBe(true);
    for (const f of fs.readdirSync(dir).filter((x) => x.endsWith('.safetensors'))) {
      const p = parseSafetensors(path.join(dir, f));
      expect(p.metadata.synthetic).toBe('true');
      for (const t of p.tensors.values()) expect(t.dtype).toBe('BF16');
    }
  }
});

test('families, children and grandchildren as asked, consistent with lineage.json', () => {
  expect(zoo.models).toHaveLength(8);
  const lineage = JSON.parse(fs.readFileSync(path.join(tmp.dir, 'lineage.json'), 'utf8'));
  expect(lineage.families).toHaveLength(2);
  expect(lineage.edges).toHaveLength(6);
  for (const e of lineage.edges) expect(zoo.models.find((m) => m.id === e.child)?.parent).toBe(e.parent);
});

test('children drift from their parent; grandchildren drift further', () => {
  const name = 'model.layers.1.mlp.up_proj.weight';
  for (const g of zoo.models.filter((m) => m.generation === 2)) {
    const c = zoo.models.find((m) => m.id === g.parent)!;
    const p = zoo.models.find((m) => m.id === c.parent)!;
    const [wg, wc, wp] = [g, c, p].map((m) => tensor(m.id, name));
    const norm = Math.sqrt(wp.reduce((s, v) => s + v * v, 0));
    expect(dist(wc, wp)).toBeGreaterThan(0.05 * norm);
    expect(dist(wc, wp)).toBeLessThan(0.6 * norm);
    expect(dist(wg, wp)).toBeGreaterThan(dist(wc, wp));
  }
  // Unrelated parents are far apart (independent draws): about √2·norm.
  const roots = zoo.models.filter((m) => m.generation === 0).map((m) => tensor(m.id, name));
  const norm = Math.sqrt(roots[0].reduce((s, v) => s + v * v, 0));
  expect(dist(roots[0], roots[1])).toBeGreaterThan(1.2 * norm);
});

test('the same seed writes the same bytes', async () => {
  const again = tempDir('syn-again');
  try {
    await buildZoo({ preset: 'synthetic-large', outDir: again.dir, seed: 2, size: 'tiny', families: 2, childrenPerFamily: 2, grandchildrenPerFamily: 1 });
    for (const m of zoo.models) {
      for (const f of fs.readdirSync(path.join(tmp.dir, m.id))) {
        expect(fs.readFileSync(path.join(again.dir, m.id, f)).equals(fs.readFileSync(path.join(tmp.dir, m.id, f)))).toBe(true);
      }
    }
  } finally {
    again.cleanup();
  }
});

test('rebuilding into a zoo directory removes the models of the earlier zoo, and only those', async () => {
  const d = tempDir('syn-rebuild');
  try {
    const first = await buildZoo({ preset: 'synthetic-large', outDir: d.dir, seed: 7, families: 1, childrenPerFamily: 1, grandchildrenPerFamily: 0 });
    fs.writeFileSync(path.join(d.dir, 'notes.txt'), 'mine');
    const second = await buildZoo({ preset: 'synthetic-large', outDir: d.dir, seed: 8, families: 1, childrenPerFamily: 1, grandchildrenPerFamily: 0 });
    const entries = fs.readdirSync(d.dir).sort();
    expect(entries).toEqual([...second.models.map((m) => m.id), 'lineage.json', 'models.json', 'notes.txt'].sort());
    for (const m of first.models) expect(entries).not.toContain(m.id);
  } finally {
    d.cleanup();
  }
});
