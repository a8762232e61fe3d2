/**
 * Seeded fuzzing of the PyTorch checkpoint reader: 1,500 mutations (zip fields, bit flips,
 * truncations, data.pkl opcodes, entry edits re-zipped) of valid checkpoints, both hand-built
 * and written by torch. Every outcome is a PhylogenyError or a tensor list that lies inside
 * the file; any other exception fails. The seed is fixed, so a failure reproduces.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { createRng } from '../../lib/graph/rng';
import * as target from '../../scripts/fuzz/torch-zip';
import { runTorchPython } from '../helpers/torch-python';

// NP_FUZZ_SEED / NP_FUZZ_CASES explore further without changing the test.
const CASES = Number(process.env.NP_FUZZ_CASES ?? 1500);
const SEED = Number(process.env.NP_FUZZ_SEED ?? 0x70c4);

let dir: string;
let seeds: Buffer[];
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'np-torch-fuzz-'));
  runTorchPython(
    `
torch.manual_seed(3)
net = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.BatchNorm1d(3))
torch.save(net.state_dict(), 'mlp.bin')
big = torch.arange(12, dtype=torch.float32)
torch.save({'a': big[2:8].view(2, 3), 'b': big, 'h': torch.randn(3).half(), 't': torch.randn(2, 3).t()}, 'views.pt')
`,
    dir,
  );
  seeds = [...target.seeds(), fs.readFileSync(path.join(dir, 'mlp.bin')), fs.readFileSync(path.join(dir, 'views.pt'))];
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

test('the seeds are valid checkpoints', () => {
  seeds.forEach((s, i) => {
    const f = path.join(dir, `seed${i}.bin`);
    fs.writeFileSync(f, s);
    expect(target.parse(f)).toBe('accepted');
  });
});

test(`${CASES} seeded mutations: each a clean PhylogenyError or a tensor list inside the file`, () => {
  const rand = createRng(SEED).next;
  const outcomes = { accepted: 0, refused: 0 };
  const f = path.join(dir, 'case.bin');
  for (let i = 0; i < CASES; i++) {
    const bytes = target.mutate(seeds[Math.floor(rand() * seeds.length)], rand);
    fs.writeFileSync(f, bytes);
    try {
      outcomes[target.parse(f)]++;
    } catch (e) {
      const keep = path.join(os.tmpdir(), `np-torch-fuzz-case-${i}.bin`);
      fs.writeFileSync(keep, bytes);
      throw new Error(`case ${i} (kept at ${keep}): ${(e as Error).stack}`);
    }
  }
  if (process.env.NP_FUZZ_CASES) console.log(outcomes);
  // Both outcomes occur: the mutations neither all break the file nor all leave it valid.
  expect(outcomes.refused).toBeGreaterThan(CASES / 4);
  expect(outcomes.accepted).toBeGreaterThan(CASES / 50);
});
