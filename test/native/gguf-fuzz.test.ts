/**
 * Seeded fuzzing of the GGUF reader and dequantizer (the `npm run fuzz` gguf target, in
 * process): mutations of valid files (bit flips, truncations, hostile counts, lengths and
 * types, splices) must each be refused with a FormatError/IoError naming the file, or be
 * accepted with a header that obeys the format (checked independently) and tensors that
 * dequantize as the TypeScript reference does. Mutated files of a split model are read back
 * among their unmutated siblings under the split rules. The seed is fixed, so a failure reproduces.
 */
import * as fs from 'fs';
import { readGgufHeader, readGgufHeaderSync } from '../../lib/io/gguf';
import { Mutator } from '../../scripts/fuzz/mutate';
import { ggufTarget, splitOutcomes } from '../../scripts/fuzz/gguf';
import { FUZZ_TARGETS } from '../../scripts/fuzz/registry';
import { newCounts, record, runCase } from '../../scripts/fuzz/batch';
import { tmpDir } from './safetensors-helpers';

const dir = tmpDir('np-gguf-fuzz-');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('GGUF fuzzing', () => {
  const mutator = new Mutator(ggufTarget.seeds(dir), 0x67677566, ggufTarget.mutate);

  it('every registered target accepts its own seeds', () => {
    for (const t of FUZZ_TARGETS) {
      const seeds = t.seeds(dir);
      expect(seeds.length).toBeGreaterThan(0);
      seeds.forEach((s, i) => {
        const p = `${dir}/seed-${t.name}-${i}`;
        fs.writeFileSync(p, s);
        expect(() => t.check(p, s)).not.toThrow();
      });
    }
  });

  it('1,200 mutations: each is a clean refusal or a valid parse', () => {
    const counts = newCounts();
    for (let i = 0; i < 1200; i++) {
      const o = runCase(ggufTarget, mutator, i, dir);
      if (o.kind === 'refused') expect(o.message).toContain(dir);
      record(counts, i, o);
    }
    expect(counts.crashReports).toEqual([]);
    // Both outcomes are exercised, so the mutations neither all break nor all miss the header.
    expect(counts.ok).toBeGreaterThan(50);
    expect(counts.refused).toBeGreaterThan(500);
    // Split models were put together from mutated files and both accepted and refused.
    process.stdout.write(`gguf fuzz, 1,200 cases: ${counts.ok} ok, ${counts.refused} refused; split models ${splitOutcomes.accepted} accepted, ${splitOutcomes.refused} refused\n`);
    expect(splitOutcomes.accepted).toBeGreaterThan(50);
    expect(splitOutcomes.refused).toBeGreaterThan(50);
  });

  it('the async reader agrees with the sync one on 150 mutations', async () => {
    for (let i = 5000; i < 5150; i++) {
      const file = `${dir}/async-${i}.gguf`;
      fs.writeFileSync(file, mutator.mutate(i).bytes);
      let sync: unknown, syncErr: unknown, asyncVal: unknown, asyncErr: unknown;
      try { sync = readGgufHeaderSync(file); } catch (e) { syncErr = e; }
      try { asyncVal = await readGgufHeader(file); } catch (e) { asyncErr = e; }
      expect(asyncVal).toEqual(sync);
      expect((asyncErr as Error | undefined)?.message).toBe((syncErr as Error | undefined)?.message);
    }
  });
});
