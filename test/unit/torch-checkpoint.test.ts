/**
 * The torch checkpoint reader on real files written by PyTorch (python3-torch): names,
 * dtypes, shapes, and the bytes at each tensor's offset equal to what torch holds; storage
 * offsets, shared storages, nested state dicts, parameters, non-contiguous tensors, legacy
 * files, ZIP64 records. And the writer, read back by torch.load.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { FormatError } from '../../lib/errors';
import { encodeFloats, type FloatDtype } from '../../lib/io/dtype';
import { readTorchCheckpointSync } from '../../lib/io/torch-checkpoint';
import { writeTorchCheckpoint } from '../../lib/io/torch-writer';
import type { TensorData } from '../../lib/io/safetensors-writer';
import type { TensorEntry } from '../../lib/io/types';
import { DUMP_PY, runTorchPython } from '../helpers/torch-python';

type Dump = Record<string, { dtype: string; shape: number[]; stride: number[]; bytes: string }>;

let dir: string;
let dumps: { mlp: Dump; mixed: Dump };

const FIXTURES_PY = `${DUMP_PY}
import collections, json
torch.manual_seed(0)
mlp = torch.nn.Sequential(torch.nn.Linear(5, 7), torch.nn.ReLU(), torch.nn.Linear(7, 3), torch.nn.BatchNorm1d(3))
mlp[3].num_batches_tracked += 5
mlp_sd = mlp.state_dict()
torch.save(mlp_sd, 'mlp.bin')
big = torch.arange(30, dtype=torch.float32) * 0.5
w = torch.randn(3, 4)
mixed = collections.OrderedDict()
mixed['half'] = torch.randn(3, 4).half()
mixed['bf16'] = torch.randn(2, 5).bfloat16()
mixed['f64'] = torch.randn(3).double()
mixed['i32'] = torch.arange(6, dtype=torch.int32).reshape(2, 3)
mixed['u8'] = torch.arange(4, dtype=torch.uint8)
mixed['flag'] = torch.tensor([True, False, True])
mixed['big'] = big
mixed['slice'] = big[10:20]
mixed['view2d'] = big[2:12].view(2, 5)
mixed['tied_a'] = w
mixed['tied_b'] = w
mixed['wt'] = w.t()
mixed['scalar'] = torch.tensor(3.5)
mixed['empty'] = torch.zeros(0, 3)
mixed['param'] = torch.nn.Parameter(torch.randn(2, 2))
torch.save(mixed, 'mixed.pt')
torch.save({'state_dict': mlp_sd, 'epoch': 3, 'name': 'adam'}, 'nested.pth')
torch.save(mlp_sd, 'legacy.pt', _use_new_zipfile_serialization=False)
print(json.dumps({'mlp': dump(mlp_sd), 'mixed': dump(mixed)}))
`;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'np-torch-'));
  dumps = JSON.parse(runTorchPython(FIXTURES_PY, dir));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const TORCH_DTYPE: Record<string, string> = {
  'torch.float32': 'F32', 'torch.float16': 'F16', 'torch.bfloat16': 'BF16', 'torch.float64': 'F64',
  'torch.int64': 'I64', 'torch.int32': 'I32', 'torch.uint8': 'U8', 'torch.bool': 'BOOL',
};

function bytesAt(t: TensorEntry): Buffer {
  const fd = fs.openSync(t.file, 'r');
  try {
    const b = Buffer.alloc(t.byteLength);
    fs.readSync(fd, b, 0, t.byteLength, t.offset);
    return b;
  } finally {
    fs.closeSync(fd);
  }
}

/** Every contiguous tensor's bytes, read at its offset, equal torch's; names, shapes, dtypes too. */
function expectMatches(tensors: TensorEntry[], dump: Dump): void {
  expect(tensors.map((t) => t.name)).toEqual(Object.keys(dump));
  for (const t of tensors) {
    const d = dump[t.name];
    expect([t.name, t.dtype, t.shape]).toEqual([t.name, TORCH_DTYPE[d.dtype], d.shape]);
    if (t.unreadable !== undefined) continue;
    expect([t.name, bytesAt(t).toString('base64')]).toEqual([t.name, d.bytes]);
  }
}

test('an MLP with BatchNorm: every tensor, num_batches_tracked as I64, values equal to torch', () => {
  const file = path.join(dir, 'mlp.bin');
  const { tensors, warnings } = readTorchCheckpointSync(file);
  expect(warnings).toEqual([]);
  expectMatches(tensors, dumps.mlp);
  const nbt = tensors.find((t) => t.name === '3.num_batches_tracked')!;
  expect(nbt).toMatchObject({ dtype: 'I64', shape: [], byteLength: 8, file });
  expect(bytesAt(nbt).readBigInt64LE(0)).toBe(5n);
  // torch aligns tensor data to 64 bytes
  for (const t of tensors) expect(t.offset % 64).toBe(0);
});

test('fp16/bf16/f64/int/bool tensors, storage offsets, shared storages, parameters, empty and scalar tensors', () => {
  const { tensors } = readTorchCheckpointSync(path.join(dir, 'mixed.pt'));
  expectMatches(tensors, dumps.mixed);
  const by = new Map(tensors.map((t) => [t.name, t]));
  expect(by.get('slice')!.offset).toBe(by.get('big')!.offset + 10 * 4);
  expect(by.get('view2d')!.offset).toBe(by.get('big')!.offset + 2 * 4);
  expect(by.get('tied_b')!.offset).toBe(by.get('tied_a')!.offset);
  expect(by.get('empty')).toMatchObject({ shape: [0, 3], byteLength: 0 });
  expect(by.get('scalar')).toMatchObject({ shape: [], byteLength: 4 });
  expect(tensors.filter((t) => t.unreadable !== undefined).map((t) => [t.name, t.unreadable])).toEqual([
    ['wt', 'non-contiguous (strides [1, 4])'],
  ]);
});

test('a nested {"state_dict": ...} is read, other values ignored with a note', () => {
  const file = path.join(dir, 'nested.pth');
  const { tensors, warnings } = readTorchCheckpointSync(file);
  expectMatches(tensors, dumps.mlp);
  expect(warnings).toEqual([`${file}: read the tensors under 'state_dict'; ignored 'epoch', 'name'`]);
});

test('a legacy (non-zip) torch.save file is refused with how to convert it', () => {
  const file = path.join(dir, 'legacy.pt');
  expect(() => readTorchCheckpointSync(file)).toThrow(FormatError);
  expect(() => readTorchCheckpointSync(file)).toThrow(/legacy \(pre-zip\) torch\.save checkpoint.*safetensors/);
});

function writerTensors(): TensorData[] {
  const vals = (n: number, s: number): number[] => Array.from({ length: n }, (_, i) => Math.sin(i * 1.7 + s) * 3);
  return [
    { name: 'enc.weight', dtype: 'F32', shape: [3, 5], data: vals(15, 1) },
    { name: 'enc.bias', dtype: 'F16', shape: [5], data: vals(5, 2) },
    { name: 'dec.weight', dtype: 'BF16', shape: [2, 2, 3], data: vals(12, 3) },
    { name: 'scalar', dtype: 'F32', shape: [], data: [0.25] },
    { name: 'empty', dtype: 'F32', shape: [0, 4], data: [] },
  ];
}

test.each([false, true])('the writer: torch.load reads it back equal (names, dtypes, values); zip64 %s', (zip64) => {
  const file = path.join(dir, `written-${zip64}.bin`);
  const ts = writerTensors();
  writeTorchCheckpoint(file, ts, { zip64 });
  const dump: Dump = JSON.parse(
    runTorchPython(`${DUMP_PY}\nimport json, zipfile\nzipfile.ZipFile('${path.basename(file)}').testzip()\nprint(json.dumps(dump(torch.load('${path.basename(file)}'))))`, dir),
  );
  expect(Object.keys(dump)).toEqual(ts.map((t) => t.name));
  for (const t of ts) {
    expect([t.name, TORCH_DTYPE[dump[t.name].dtype], dump[t.name].shape]).toEqual([t.name, t.dtype, t.shape]);
    expect([t.name, dump[t.name].bytes]).toEqual([t.name, encodeFloats(t.data, t.dtype as FloatDtype).toString('base64')]);
  }
  // and our reader reads it, ZIP64 records included
  expectMatches(readTorchCheckpointSync(file).tensors, dump);
});

test('ZIP64 end records written by Python zipfile around a real checkpoint are read', () => {
  // Python's zipfile writes ZIP64 end records once an archive has over 65535 entries; the
  // padding entries make this small checkpoint one of those.
  const script = `${DUMP_PY}
import json, zipfile
src = zipfile.ZipFile('mlp.bin')
with zipfile.ZipFile('mlp64.bin', 'w', zipfile.ZIP_STORED) as z:
    for info in src.infolist():
        z.writestr(info, src.read(info))
    for i in range(65536):
        z.writestr('mlp/pad/%d' % i, b'')
print(json.dumps(dump(torch.load('mlp64.bin'))))
`;
  const dump: Dump = JSON.parse(runTorchPython(script, dir));
  const file = path.join(dir, 'mlp64.bin');
  const buf = fs.readFileSync(file);
  expect(buf.indexOf(Buffer.from([0x50, 0x4b, 0x06, 0x06]), buf.length - 200)).toBeGreaterThan(0); // a ZIP64 EOCD record
  expectMatches(readTorchCheckpointSync(file).tensors, dump);
});
