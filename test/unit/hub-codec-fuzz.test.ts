/**
 * Seeded fuzzing of the index's fingerprint record codec: 3,000 mutations (bit flips, byte
 * sets, truncations, insertions) of valid records. Every outcome is a FormatError naming the
 * source or a record that obeys the format and round-trips; any other exception fails.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { FormatError } from '../../lib/errors';
import { Mutator } from '../../scripts/fuzz/mutate';
import { fingerprintTarget } from '../../scripts/fuzz/fingerprint';
import { decodeFingerprint, encodeFingerprint } from '../../lib/hub/codec';

const CASES = Number(process.env.NP_FUZZ_CASES ?? 3000);
const SEED = Number(process.env.NP_FUZZ_SEED ?? 0xf1f0);

test('the seeds are valid records', () => {
  for (const s of fingerprintTarget.seeds(os.tmpdir())) expect(() => fingerprintTarget.check('seed', s)).not.toThrow();
});

test('a record of the first layout (version 1, shared columns) is refused, naming its version', () => {
  const [seed] = fingerprintTarget.seeds(os.tmpdir());
  const old = Buffer.from(seed);
  old.writeUInt32LE(1, 4);
  expect(() => fingerprintTarget.check('old-record', old)).toThrow(/old-record: not a valid fingerprint record: version 1, this library reads 2/);
});

test('the whole-tensor Σ(x − r)² round-trips, and is refused on a tensor whose rows were sampled', () => {
  const seeds = fingerprintTarget.seeds(os.tmpdir());
  const fp = decodeFingerprint(seeds[2], 'seed');
  expect(fp.tensors.map((t) => t.fakeInitWholeSq)).toEqual([2.5, undefined]);
  expect(decodeFingerprint(encodeFingerprint(fp), 'again').tensors[0].fakeInitWholeSq).toBe(2.5);
  const lying = { ...fp, tensors: [fp.tensors[0], { ...fp.tensors[1], fakeInitWholeSq: 1 }] };
  expect(() => decodeFingerprint(encodeFingerprint(lying), 'lying')).toThrow(/lying: not a valid fingerprint record: tensor 't1.weight': bad fakeInitWholeSq/);
  // A record without the field (written before it existed) still decodes.
  const old = { ...fp, tensors: fp.tensors.map(({ fakeInitWholeSq: _, ...t }) => t) };
  expect(decodeFingerprint(encodeFingerprint(old), 'old').tensors.map((t) => t.fakeInitWholeSq)).toEqual([undefined, undefined]);
});

test('BF16 values are stored in 16 bits and decode to the same float32 values; others in 32', () => {
  const fp = decodeFingerprint(fingerprintTarget.seeds(os.tmpdir())[0], 'seed');
  const make = (values: Float32Array) => ({ ...fp, tensors: [{ ...fp.tensors[0], values: values.slice(0, fp.tensors[0].values.length) }] });
  const n = fp.tensors[0].values.length;
  const wide = Float32Array.from({ length: n }, (_, i) => Math.cos(i) * 3.7);
  const narrow = wide.map((x) => new Float32Array(new Uint32Array([new Uint32Array(Float32Array.of(x).buffer)[0] & 0xffff0000]).buffer)[0]);
  for (const values of [wide, narrow]) {
    const back = decodeFingerprint(encodeFingerprint(make(values)), 'x').tensors[0].values;
    expect(Buffer.from(back.buffer, back.byteOffset, back.byteLength).equals(Buffer.from(values.buffer))).toBe(true);
  }
  expect(encodeFingerprint(make(wide)).length - encodeFingerprint(make(narrow)).length).toBe(4 * n - 4 * Math.ceil(n / 2) - (JSON.stringify(32).length - JSON.stringify(16).length));
});

test(`${CASES} seeded mutations: each a FormatError or a valid record`, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'np-fp-fuzz-'));
  const mutator = new Mutator(fingerprintTarget.seeds(dir), SEED);
  const outcomes = { accepted: 0, refused: 0 };
  for (let i = 0; i < CASES; i++) {
    const m = mutator.mutate(i);
    try {
      fingerprintTarget.check(`case-${i}`, m.bytes);
      outcomes.accepted++;
    } catch (e) {
      if (!(e instanceof FormatError) || !/case-\d+/.test(e.message)) throw new Error(`case ${i} (${m.steps.join(', ')}): ${(e as Error).stack}`);
      outcomes.refused++;
    }
  }
  fs.rmSync(dir, { recursive: true, force: true });
  expect(outcomes.refused).toBeGreaterThan(CASES / 4);
  expect(outcomes.accepted).toBeGreaterThan(CASES / 50);
});
