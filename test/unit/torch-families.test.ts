/**
 * scripts/torch_families.py, the builder of the PyTorch families that `npm run eval:torch`
 * scores, run for real (python3-torch) at toy size on a small IDX data set written here, so
 * that it does not need Fashion-MNIST installed: the architectures no design step saw (GRU,
 * ResNet) and the opt-in RMSprop regime come out as real state dicts that the readers open,
 * with the lineage and groups the evaluation reads, and bad options are refused.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as zlib from 'zlib';
import { openModels } from '../../lib/io/discover';
import { checkTorchRegimes, torchArchSets } from '../../scripts/torch-families';
import { PYTHON } from '../helpers/torch-python';

const SCRIPT = path.resolve(__dirname, '..', '..', 'scripts', 'torch_families.py');

/** A gzipped IDX file: magic, big-endian dimensions, then the bytes. */
function idx(magic: number, dims: number[], data: Uint8Array): Buffer {
  const head = Buffer.alloc(4 + 4 * dims.length);
  head.writeUInt32BE(magic, 0);
  dims.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
  return zlib.gzipSync(Buffer.concat([head, Buffer.from(data)]));
}

function build(args: string[]): { status: number | null; stderr: string } {
  const r = spawnSync(PYTHON, [SCRIPT, ...args], { encoding: 'utf8', timeout: 300_000 });
  if (r.error) throw new Error(`cannot run ${PYTHON} (install python3 and python3-torch): ${r.error.message}`);
  return { status: r.status, stderr: r.stderr };
}

let dir: string;
let data: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'np-torch-families-'));
  data = path.join(dir, 'data');
  fs.mkdirSync(data);
  const n = 96;
  const images = new Uint8Array(n * 28 * 28);
  const labels = new Uint8Array(n);
  // Images that carry their label (a bright band at a label-dependent row), so training learns.
  for (let i = 0; i < n; i++) {
    labels[i] = i % 10;
    for (let p = 0; p < 28 * 28; p++) images[i * 784 + p] = ((p * 37 + i * 11) % 64) + (Math.floor(p / 28) === 2 * labels[i] + 4 ? 180 : 0);
  }
  fs.writeFileSync(path.join(data, 'train-images-idx3-ubyte.gz'), idx(0x803, [n, 28, 28], images));
  fs.writeFileSync(path.join(data, 'train-labels-idx1-ubyte.gz'), idx(0x801, [n], labels));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('the evaluations\' PyTorch sets (scripts/torch-families.ts)', () => {
  it('keeps the MLP and CNN as one set, every other architecture alone, and refuses unknown names', () => {
    expect(torchArchSets(['cnn-bn', 'vit', 'mlp'])).toEqual([['mlp', 'cnn-bn'], ['vit']]);
    expect(torchArchSets(['gru', 'mlp', 'resnet', 'gru'])).toEqual([['mlp'], ['gru'], ['resnet']]);
    expect(() => torchArchSets(['mlp', 'vitt'])).toThrow('unknown PyTorch architecture vitt (known: mlp, cnn-bn, vit, gru, resnet)');
    expect(checkTorchRegimes(['adam', 'rmsprop'])).toEqual(['adam', 'rmsprop']);
    expect(() => checkTorchRegimes(['adam', 'lion'])).toThrow('unknown PyTorch training regime lion');
  });
});

describe('scripts/torch_families.py', () => {
  it('builds GRU and ResNet families under RMSprop as real state dicts with their lineage', async () => {
    const out = path.join(dir, 'out');
    const r = build(['--out', out, '--seed', '3', '--families', '1', '--samples', '96', '--data', data, '--archs', 'gru,resnet', '--regimes', 'rmsprop']);
    expect([r.status, r.stderr]).toEqual([0, expect.stringContaining('training accuracy root')]);
    expect(fs.existsSync(path.join(out, 'done'))).toBe(true);
    const groups = JSON.parse(fs.readFileSync(path.join(out, 'groups.json'), 'utf8')) as Record<string, string>;
    expect(new Set(Object.values(groups))).toEqual(new Set(['gru/rmsprop', 'resnet/rmsprop']));

    const set = await openModels([out]);
    expect(set.models).toHaveLength(10);
    expect(set.lineage!.edges).toHaveLength(8);
    const tensors = (id: string) => new Map(set.models.find((m) => m.id === id)!.tensors.map((t) => [t.name, t]));
    const gru = tensors('pt-gru-rmsprop-s3f0-root');
    expect(gru.get('rnn.weight_ih_l0')!.shape).toEqual([192, 28]);
    expect(gru.get('rnn.weight_hh_l1')!.shape).toEqual([192, 64]);
    const resnet = tensors('pt-resnet-rmsprop-s3f0-g1');
    expect(resnet.get('layer2.0.downsample.0.weight')!.shape).toEqual([32, 16, 1, 1]);
    expect(resnet.get('layer1.0.bn1.num_batches_tracked')!.dtype).toBe('I64');
    expect(resnet.has('conv1.bias')).toBe(false);
    // Every child was trained: its bytes differ from its parent's.
    for (const e of set.lineage!.edges) {
      const a = fs.readFileSync(path.join(out, `${e.parent}.safetensors`));
      const b = fs.readFileSync(path.join(out, `${e.child}.safetensors`));
      expect([e.child, a.equals(b)]).toEqual([e.child, false]);
    }
  });

  it('refuses an unknown architecture or regime, naming the known ones, and writes nothing', () => {
    const out = path.join(dir, 'bad');
    const a = build(['--out', out, '--data', data, '--archs', 'lstm']);
    expect([a.status, a.stderr]).toEqual([2, expect.stringContaining("unknown architecture 'lstm' (known: mlp, cnn-bn, vit, gru, resnet)")]);
    const b = build(['--out', out, '--data', data, '--regimes', 'adagrad']);
    expect([b.status, b.stderr]).toEqual([2, expect.stringContaining("unknown regime 'adagrad' (known: adam, sgd-wd, adamw-cosine, tiny, rmsprop)")]);
    expect(fs.existsSync(out)).toBe(false);
  });
});
