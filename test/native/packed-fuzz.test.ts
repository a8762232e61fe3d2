/**
 * Seeded fuzzing of GPTQ/AWQ checkpoints (the `npm run fuzz` packed target, in process):
 * mutations of valid packed safetensors files, config included, must each be refused with a
 * FormatError/IoError naming the file, or be accepted with parts that fit their config and a
 * native unpacking equal to the TypeScript reference. The seed is fixed, so a failure reproduces.
 */
import * as fs from 'fs';
import { newCounts, record, runCase } from '../../scripts/fuzz/batch';
import { Mutator } from '../../scripts/fuzz/mutate';
import { packedTarget } from '../../scripts/fuzz/packed';
import { tmpDir } from './safetensors-helpers';

const dir = tmpDir('np-packed-fuzz-');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

test('1,000 mutations: each is a clean refusal or an accepted file that unpacks like the reference', () => {
  const mutator = new Mutator(packedTarget.seeds(dir), 0x67707175, packedTarget.mutate);
  const counts = newCounts();
  for (let i = 0; i < 1000; i++) {
    const o = runCase(packedTarget, mutator, i, dir);
    if (o.kind === 'refused') expect(o.message).toContain(dir);
    record(counts, i, o);
  }
  expect(counts.crashReports).toEqual([]);
  expect(counts.ok).toBeGreaterThan(50);
  expect(counts.refused).toBeGreaterThan(300);
});
