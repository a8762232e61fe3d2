/**
 * Discovery of PyTorch checkpoints (written by lib/io/torch-writer.ts, which torch.load reads:
 * see torch-checkpoint.test.ts): single files, Hugging Face directories (pytorch_model.bin,
 * sharded with pytorch_model.bin.index.json), diffusers components, model sets, safetensors
 * preferred when a directory holds both, and `inspect` naming the format.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { FormatError } from '../../lib/errors';
import { openModels } from '../../lib/io/discover';
import { formatInspect, inspectModel } from '../../lib/io/inspect';
import { writeSafetensors, TensorData } from '../../lib/io/safetensors-writer';
import { readTorchCheckpointSync } from '../../lib/io/torch-checkpoint';
import { writeTorchCheckpoint } from '../../lib/io/torch-writer';

let root: string;
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'np-discover-torch-'));
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

function tensors(prefix: string, n = 2, start = 0): TensorData[] {
  return Array.from({ length: n }, (_, i) => ({
    name: `${prefix}.${i}.weight`,
    dtype: i % 2 ? 'BF16' : 'F32',
    shape: [2, i + 1],
    data: Array.from({ length: 2 * (i + 1) }, (_, j) => start + i * 10 + j),
  }));
}

function writeBin(file: string, ts: TensorData[]): string {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  writeTorchCheckpoint(file, ts);
  return file;
}

it('a .pt file is a model: its tensors are the reader\'s, with absolute offsets', async () => {
  const file = writeBin(path.join(root, 'base.pt'), tensors('l', 3));
  const { models } = await openModels([file]);
  expect(models).toHaveLength(1);
  expect(models[0]).toMatchObject({ id: 'base', path: file, format: 'file', weightFormats: ['pytorch'], files: [file] });
  expect(models[0].tensors).toEqual(readTorchCheckpointSync(file).tensors);
  expect(models[0].tensors.map((t) => [t.name, t.dtype, t.shape])).toEqual([
    ['l.0.weight', 'F32', [2, 1]], ['l.1.weight', 'BF16', [2, 2]], ['l.2.weight', 'F32', [2, 3]],
  ]);
  expect(models[0].params).toBe(2 + 4 + 6);
  expect(models[0].bytes).toBe(8 + 8 + 24);
});

it('a Hugging Face directory with pytorch_model.bin; `inspect` names the format', async () => {
  const dir = path.join(root, 'llama-tiny');
  writeBin(path.join(dir, 'pytorch_model.bin'), tensors('l'));
  const { models } = await openModels([dir]);
  expect(models[0]).toMatchObject({ id: 'llama-tiny', format: 'hf', weightFormats: ['pytorch'], files: [path.join(dir, 'pytorch_model.bin')] });
  const report = await inspectModel(dir);
  expect(report.weightFormats).toEqual(['pytorch']);
  expect(formatInspect(report).split('\n')[0]).toBe(`model llama-tiny (hf, pytorch) at ${dir}`);
});

it('safetensors is preferred when a directory holds both, with a note', async () => {
  const dir = path.join(root, 'both');
  writeBin(path.join(dir, 'pytorch_model.bin'), tensors('old'));
  fs.mkdirSync(dir, { recursive: true });
  writeSafetensors(path.join(dir, 'model.safetensors'), tensors('new'));
  const set = await openModels([dir]);
  expect(set.models[0]).toMatchObject({ format: 'hf', weightFormats: ['safetensors'] });
  expect(set.models[0].tensors[0].name).toBe('new.0.weight');
  expect(set.warnings).toEqual([`${dir}: holds model.safetensors and pytorch_model.bin; read model.safetensors (safetensors)`]);
});

function shardedBin(dir: string, shardA = 'pytorch_model-00001-of-00002.bin'): string {
  writeBin(path.join(dir, 'pytorch_model-00001-of-00002.bin'), tensors('a'));
  writeBin(path.join(dir, 'pytorch_model-00002-of-00002.bin'), tensors('b', 3));
  const map: Record<string, string> = {};
  for (const t of tensors('a')) map[t.name] = shardA;
  for (const t of tensors('b', 3)) map[t.name] = 'pytorch_model-00002-of-00002.bin';
  const index = path.join(dir, 'pytorch_model.bin.index.json');
  fs.writeFileSync(index, JSON.stringify({ metadata: {}, weight_map: map }));
  return index;
}

it('a sharded directory with pytorch_model.bin.index.json, and the index file itself', async () => {
  const dir = path.join(root, 'big');
  const index = shardedBin(dir);
  for (const p of [dir, index]) {
    const { models } = await openModels([p]);
    expect(models[0]).toMatchObject({ id: 'big', format: 'hf-sharded', weightFormats: ['pytorch'] });
    expect(models[0].files).toEqual([path.join(dir, 'pytorch_model-00001-of-00002.bin'), path.join(dir, 'pytorch_model-00002-of-00002.bin')]);
    expect(models[0].tensors.map((t) => t.name)).toEqual([...tensors('a'), ...tensors('b', 3)].map((t) => t.name));
  }
});

it('a .bin shard index may not reach outside the model directory', async () => {
  const dir = path.join(root, 'escape');
  writeBin(path.join(root, 'outside.bin'), tensors('a'));
  shardedBin(dir, '../outside.bin');
  await expect(openModels([dir])).rejects.toThrow(FormatError);
  await expect(openModels([dir])).rejects.toThrow(/shard path '\.\.\/outside\.bin' leaves the model directory/);
});

it('a diffusers pipeline mixing diffusion_pytorch_model.bin and .safetensors components', async () => {
  const pipe = path.join(root, 'sd');
  fs.mkdirSync(pipe, { recursive: true });
  fs.writeFileSync(path.join(pipe, 'model_index.json'), '{}');
  writeBin(path.join(pipe, 'unet', 'diffusion_pytorch_model.bin'), tensors('conv'));
  fs.mkdirSync(path.join(pipe, 'vae'));
  writeSafetensors(path.join(pipe, 'vae', 'diffusion_pytorch_model.safetensors'), tensors('dec'));
  const { models } = await openModels([pipe]);
  expect(models[0]).toMatchObject({ format: 'diffusers', weightFormats: ['pytorch', 'safetensors'] });
  expect(models[0].tensors.map((t) => t.name)).toEqual(['unet/conv.0.weight', 'unet/conv.1.weight', 'vae/dec.0.weight', 'vae/dec.1.weight']);
});

it('a model set of .bin files and pytorch_model.bin folders, with its lineage', async () => {
  const set = path.join(root, 'zoo');
  writeBin(path.join(set, 'root.bin'), tensors('l', 2, 0));
  writeBin(path.join(set, 'child-a.pth'), tensors('l', 2, 1));
  writeBin(path.join(set, 'child-b', 'pytorch_model.bin'), tensors('l', 2, 2));
  const lineage = { edges: [{ parent: 'root', child: 'child-a' }, { parent: 'root', child: 'child-b' }], families: [['root', 'child-a', 'child-b']] };
  fs.writeFileSync(path.join(set, 'lineage.json'), JSON.stringify(lineage));
  const found = await openModels([set]);
  expect(found.models.map((m) => [m.id, m.format, m.weightFormats])).toEqual([
    ['child-a', 'file', ['pytorch']], ['child-b', 'hf', ['pytorch']], ['root', 'file', ['pytorch']],
  ]);
  expect(found.lineage).toEqual(lineage);
});

it('a corrupt .bin in a set is a FormatError naming that file', async () => {
  const set = path.join(root, 'zoo');
  writeBin(path.join(set, 'good.bin'), tensors('l'));
  fs.writeFileSync(path.join(set, 'bad.bin'), 'not a checkpoint');
  await expect(openModels([set])).rejects.toMatchObject({ name: 'FormatError', file: path.join(set, 'bad.bin') });
});

it('Trainer state files beside the models of a set are skipped with a note, not read', async () => {
  const set = path.join(root, 'run');
  writeBin(path.join(set, 'model.bin'), tensors('l'));
  for (const f of ['training_args.bin', 'optimizer.pt', 'rng_state_0.pth']) fs.writeFileSync(path.join(set, f), 'pickled training state');
  const found = await openModels([set]);
  expect(found.models.map((m) => m.id)).toEqual(['model']);
  expect(found.warnings).toEqual(
    ['optimizer.pt', 'rng_state_0.pth', 'training_args.bin'].map((f) => `${path.join(set, f)}: skipped (training state saved by the Trainer, not model weights)`),
  );
});
