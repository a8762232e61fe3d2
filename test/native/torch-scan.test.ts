/**
 * End to end on PyTorch checkpoints written by torch (python3-torch): a parent and fine-tuned
 * descendants saved as pytorch .bin files go through openModels, scanModelSet and detect,
 * and the scan is bit-identical to the scan of the same weights saved as safetensors.
 * Non-contiguous tensors are skipped (or refused) like non-float ones, never read as garbage.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { detect } from '../../lib/detect';
import { DtypeError } from '../../lib/errors';
import { decodeToFloat32, FloatDtype, isFloatDtype } from '../../lib/io/dtype';
import { openModels } from '../../lib/io/discover';
import { writeSafetensors } from '../../lib/io/safetensors-writer';
import type { ModelSource } from '../../lib/io/types';
import { scanModelSet } from '../../lib/scan/scan';
import { runTorchPython } from '../helpers/torch-python';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'np-torch-scan-'));
  fs.mkdirSync(path.join(dir, 'bin'));
  fs.mkdirSync(path.join(dir, 'nc'));
  runTorchPython(
    `
import collections
torch.manual_seed(7)
net = torch.nn.Sequential(torch.nn.Linear(48, 96), torch.nn.ReLU(), torch.nn.Linear(96, 40), torch.nn.BatchNorm1d(40), torch.nn.Linear(40, 10))
def tune(sd, s):
    return collections.OrderedDict((k, v + s * torch.randn_like(v) if v.is_floating_point() else v + 1) for k, v in sd.items())
p = net.state_dict()
c1 = tune(p, 0.02)
c2 = tune(p, 0.02)
g1 = tune(c1, 0.02)
torch.save(p, 'bin/parent.bin')
torch.save(c1, 'bin/child1.pt')
torch.save(collections.OrderedDict((k, v.half() if v.is_floating_point() else v) for k, v in c2.items()), 'bin/child2.pth')
torch.save({'state_dict': collections.OrderedDict((k, v.bfloat16() if v.is_floating_point() else v) for k, v in g1.items())}, 'bin/grandchild.bin')
w = torch.randn(6, 5)
torch.save({'w': w, 'b': torch.randn(5)}, 'nc/a.bin')
torch.save({'w': (w + 0.1).t().contiguous().t(), 'b': torch.randn(5)}, 'nc/b.bin')
`,
    dir,
  );
  fs.writeFileSync(
    path.join(dir, 'bin', 'lineage.json'),
    JSON.stringify({ edges: [{ parent: 'parent', child: 'child1' }, { parent: 'parent', child: 'child2' }, { parent: 'child1', child: 'grandchild' }] }),
  );
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** The model's float tensors, read at their offsets, written to a safetensors file. */
function copyAsSafetensors(m: ModelSource, file: string): void {
  const fd = fs.openSync(m.files[0], 'r');
  try {
    const ts = m.tensors.filter((t) => isFloatDtype(t.dtype)).map((t) => {
      const b = Buffer.alloc(t.byteLength);
      fs.readSync(fd, b, 0, t.byteLength, t.offset);
      return { name: t.name, dtype: t.dtype as FloatDtype, shape: t.shape, data: decodeToFloat32(b, t.dtype as FloatDtype) };
    });
    writeSafetensors(file, ts);
  } finally {
    fs.closeSync(fd);
  }
}

test('a .bin model set scans bit-identically to the same weights as safetensors, and detect finds the lineage', async () => {
  const bins = await openModels([path.join(dir, 'bin')]);
  expect(bins.models.map((m) => [m.id, m.weightFormats])).toEqual([
    ['child1', ['pytorch']], ['child2', ['pytorch']], ['grandchild', ['pytorch']], ['parent', ['pytorch']],
  ]);
  const stDir = path.join(dir, 'st');
  fs.mkdirSync(stDir);
  for (const m of bins.models) copyAsSafetensors(m, path.join(stDir, `${m.id}.safetensors`));
  fs.copyFileSync(path.join(dir, 'bin', 'lineage.json'), path.join(stDir, 'lineage.json'));
  const sts = await openModels([stDir]);

  const a = await scanModelSet(bins, { skipNonFloat: true, device: 'cpu' });
  const b = await scanModelSet(sts, { skipNonFloat: true, device: 'cpu' });
  expect(a.tensors.length).toBe(10); // 4 Linear/BatchNorm weights + biases, running mean and var
  expect(a.tensors).toEqual(b.tensors); // every statistic, bit for bit (toEqual compares numbers exactly)
  expect(a.tensors.find((t) => t.name === '0.weight')!.dtypes).toEqual(['F32', 'F16', 'BF16', 'F32']);
  expect(a.skipped).toEqual(
    ['child1', 'child2', 'grandchild', 'parent'].map((model) => ({ model, tensor: '3.num_batches_tracked', reason: 'dtype I64 is not a float type' })),
  );
  expect(b.skipped).toEqual([]);
  // BatchNorm's int64 counter, read from the .bin files (tune() adds 1 per generation).
  expect(a.counters).toEqual([{ name: '3.num_batches_tracked', values: [1, 1, 2, 0] }]);
  expect(b.counters).toBeUndefined();

  const edges = (r: ReturnType<typeof detect>): string[] => r.edges.map((e) => `${e.parent}->${e.child}`).sort();
  const da = detect(a);
  expect(edges(da)).toEqual(edges(detect(b)));
  expect(edges(da)).toEqual(bins.lineage!.edges.map((e) => `${e.parent}->${e.child}`).sort());
});

test('a non-contiguous tensor is skipped with its strides by default, and refused under strictDtypes', async () => {
  const set = await openModels([path.join(dir, 'nc')]);
  const w = set.models[1].tensors.find((t) => t.name === 'w')!;
  expect(w.unreadable).toBe('non-contiguous (strides [1, 6])');
  const r = await scanModelSet(set, { device: 'cpu' });
  expect(r.skipped).toEqual([{ model: 'b', tensor: 'w', reason: 'non-contiguous (strides [1, 6])' }]);
  expect(r.tensors.map((t) => [t.name, t.models])).toEqual([['b', [0, 1]], ['w', [0]]]);
  await expect(scanModelSet(set, { device: 'cpu', strictDtypes: true })).rejects.toThrow(DtypeError);
  await expect(scanModelSet(set, { device: 'cpu', strictDtypes: true })).rejects.toThrow(/tensor 'w' cannot be scanned: non-contiguous \(strides \[1, 6\]\)/);
});
