/**
 * Seeded fuzzing of the model-card front-matter reader (the `npm run fuzz` front-matter
 * target, in process): every mutation of a valid card is a clean refusal naming the file or a
 * map of strings and string lists. The seed is fixed, so a failure reproduces.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Mutator } from '../../scripts/fuzz/mutate';
import { frontMatterTarget } from '../../scripts/fuzz/front-matter';
import { newCounts, record, runCase } from '../../scripts/fuzz/batch';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'np-fm-fuzz-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

test('2,000 mutations of model cards: each is a clean refusal or a valid parse', () => {
  const mutator = new Mutator(frontMatterTarget.seeds(dir), 0x66726f6e);
  const counts = newCounts();
  for (let i = 0; i < 2000; i++) {
    const o = runCase(frontMatterTarget, mutator, i, dir);
    if (o.kind === 'refused') expect(o.message).toContain(dir);
    record(counts, i, o);
  }
  expect(counts.crashReports).toEqual([]);
  expect(counts.ok).toBeGreaterThan(100);
  expect(counts.refused).toBeGreaterThan(100);
});

test('the checker accepts a quoted value that starts with an anchor character and flags a kept plain one', () => {
  // Found by `npm run fuzz` (front-matter, seed 20261207, case 79921): "&rg/..." in double
  // quotes is a string, and the reader was right to keep it.
  const quoted = Buffer.from('---\nbase_model: "&rg/model"\ntags: [\'*x\', y]\n---\n', 'utf8');
  expect(() => frontMatterTarget.check(path.join(dir, 'q.md'), quoted)).not.toThrow();
  // The reader refuses a plain anchor with a clean error naming the file.
  const plain = Buffer.from('---\nbase_model: &rg/model\n---\n', 'utf8');
  expect(() => frontMatterTarget.check(path.join(dir, 'p.md'), plain)).toThrow(new RegExp(`${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}.*anchor`));
});
