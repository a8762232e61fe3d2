/**
 * Model discovery over real files in a temporary directory: every layout a model can have,
 * model sets with lineage.json, id disambiguation, and every refusal of a shard index.
 * (Headers are read by the native reader, so the addon must be built.)
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { decodeToFloat32 } from '../../lib/io/dtype';
import { openModels } from '../../lib/io/discover';
import { formatInspect, inspectModel } from '../../lib/io/inspect';
import { createLimiter } from '../../lib/io/limiter';
import { uniqueModelIds } from '../../lib/io/model-ids';
import { writeSafetensors, TensorData } from '../../lib/io/safetensors-writer';
import { AbortError, FormatError, InvalidArgumentError, IoError } from '../../lib/errors';
import { ModelSource } from '../../lib/io/types';

let root: string;
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'np-discover-'));
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

function mkdir(...parts: string[]): string {
  const p = path.join(root, ...parts);
  fs.mkdirSync(p, { recursive: true });
  return p;
}

function tensors(prefix: string, n = 2, start = 0): TensorData[] {
  return Array.from({ length: n }, (_, i) => ({
    name: `${prefix}.${i}.weight`,
    dtype: i % 2 ? 'BF16' : 'F32',
    shape: [2, i + 1],
    data: Array.from({ length: 2 * (i + 1) }, (_, j) => start + i * 10 + j),
  }));
}

function write(file: string, ts: TensorData[]): string {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  writeSafetensors(file, ts);
  return file;
}

function writeIndex(file: string, weightMap: Record<string, unknown>, extra: Record<string, unknown> = {}): string {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify({ metadata: { total_size: 0 }, weight_map: weightMap, ...extra }));
  return file;
}

/** A sharded HF model: shard 1 holds a.*, shard 2 holds b.*; returns the index path. */
function shardedModel(dir: string): string {
  write(path.join(dir, 'model-00001-of-00002.safetensors'), tensors('a'));
  write(path.join(dir, 'model-00002-of-00002.safetensors'), tensors('b', 3));
  const map: Record<string, string> = {};
  for (const t of tensors('a')) map[t.name] = 'model-00001-of-00002.safetensors';
  for (const t of tensors('b', 3)) map[t.name] = 'model-00002-of-00002.safetensors';
  return writeIndex(path.join(dir, 'model.safetensors.index.json'), map);
}

/** The values a TensorEntry points at, read from its file: proves offsets are absolute. */
function valuesAt(t: { file: string; offset: number; byteLength: number; dtype: string }): number[] {
  const fd = fs.openSync(t.file, 'r');
  try {
    const buf = Buffer.alloc(t.byteLength);
    fs.readSync(fd, buf, 0, t.byteLength, t.offset);
    return Array.from(decodeToFloat32(buf, t.dtype as 'F32'));
  } finally {
    fs.closeSync(fd);
  }
}

function names(m: ModelSource): string[] {
  return m.tensors.map((t) => t.name);
}

async function refusal(p: Promise<unknown>): Promise<Error & { code?: string; file?: string; tensor?: string }> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a refusal');
}

describe('openModels: one model', () => {
  it('a .safetensors file', async () => {
    const file = write(path.join(root, 'base.safetensors'), tensors('l', 3));
    const set = await openModels([file]);
    expect(set.models).toHaveLength(1);
    const m = set.models[0];
    expect(m).toMatchObject({ id: 'base', path: file, format: 'file', files: [file] });
    expect(names(m)).toEqual(['l.0.weight', 'l.1.weight', 'l.2.weight']);
    expect(m.params).toBe(2 + 4 + 6);
    expect(m.bytes).toBe(2 * 4 + 4 * 2 + 6 * 4);
    for (const [i, t] of m.tensors.entries()) expect(valuesAt(t)).toEqual(tensors('l', 3)[i].data);
    expect(set.lineage).toBeUndefined();
    expect(set.warnings).toEqual([]);
  });

  it('a relative path is made absolute', async () => {
    write(path.join(root, 'rel.safetensors'), tensors('l'));
    const cwd = process.cwd();
    process.chdir(root);
    try {
      const set = await openModels(['rel.safetensors']);
      expect(set.models[0].path).toBe(path.join(fs.realpathSync(root), 'rel.safetensors'));
    } finally {
      process.chdir(cwd);
    }
  });

  it('a Hugging Face directory with model.safetensors', async () => {
    const dir = mkdir('llama-tiny');
    write(path.join(dir, 'model.safetensors'), tensors('layers', 2));
    fs.writeFileSync(path.join(dir, 'config.json'), '{}');
    const { models } = await openModels([dir]);
    expect(models).toHaveLength(1);
    expect(models[0]).toMatchObject({ id: 'llama-tiny', path: dir, format: 'hf', files: [path.join(dir, 'model.safetensors')] });
    expect(names(models[0])).toEqual(['layers.0.weight', 'layers.1.weight']);
  });

  it('a sharded Hugging Face directory', async () => {
    const dir = mkdir('big');
    shardedModel(dir);
    const { models, warnings } = await openModels([dir]);
    const m = models[0];
    expect(m.format).toBe('hf-sharded');
    expect(m.id).toBe('big');
    expect(m.files).toEqual([path.join(dir, 'model-00001-of-00002.safetensors'), path.join(dir, 'model-00002-of-00002.safetensors')]);
    expect(names(m)).toEqual(['a.0.weight', 'a.1.weight', 'b.0.weight', 'b.1.weight', 'b.2.weight']);
    expect(m.tensors[3].file).toBe(m.files[1]);
    const expected = [...tensors('a'), ...tensors('b', 3)];
    for (const [i, t] of m.tensors.entries()) expect(valuesAt(t)).toEqual(expected[i].data);
    expect(warnings).toEqual([]);
  });

  it('the index file itself names the sharded model', async () => {
    const dir = mkdir('big');
    const index = shardedModel(dir);
    const { models } = await openModels([index]);
    expect(models[0]).toMatchObject({ id: 'big', path: dir, format: 'hf-sharded' });
  });

  it('shards in a subfolder of the model directory, and a symlink that stays inside', async () => {
    const dir = mkdir('nested');
    write(path.join(dir, 'blobs', 'aaa'), tensors('a'));
    fs.symlinkSync(path.join(dir, 'blobs', 'aaa'), path.join(dir, 'shard-1.safetensors'));
    write(path.join(dir, 'parts', 'shard-2.safetensors'), tensors('b'));
    const map: Record<string, string> = {};
    for (const t of tensors('a')) map[t.name] = 'shard-1.safetensors';
    for (const t of tensors('b')) map[t.name] = './parts/shard-2.safetensors';
    writeIndex(path.join(dir, 'model.safetensors.index.json'), map);
    const { models } = await openModels([dir]);
    expect(models[0].files).toEqual([path.join(dir, 'parts', 'shard-2.safetensors'), path.join(dir, 'shard-1.safetensors')]);
    expect(names(models[0])).toEqual(['b.0.weight', 'b.1.weight', 'a.0.weight', 'a.1.weight']);
  });

  it('a Hugging Face cache snapshot: shards linked into the repository blobs/ are allowed', async () => {
    const repo = mkdir('hub', 'models--org--tiny');
    const snap = mkdir('hub', 'models--org--tiny', 'snapshots', 'abc123');
    write(path.join(repo, 'blobs', 'sha-1'), tensors('a'));
    write(path.join(repo, 'blobs', 'sha-2'), tensors('b', 3));
    fs.symlinkSync('../../blobs/sha-1', path.join(snap, 'model-00001-of-00002.safetensors'));
    fs.symlinkSync('../../blobs/sha-2', path.join(snap, 'model-00002-of-00002.safetensors'));
    const map: Record<string, string> = {};
    for (const t of tensors('a')) map[t.name] = 'model-00001-of-00002.safetensors';
    for (const t of tensors('b', 3)) map[t.name] = 'model-00002-of-00002.safetensors';
    writeIndex(path.join(snap, 'model.safetensors.index.json'), map);
    const { models } = await openModels([snap]);
    expect(models[0].tensors).toHaveLength(5);
    // ...but a link from the snapshot to another repository's blobs is still refused.
    const other = mkdir('hub', 'models--org--other', 'blobs');
    write(path.join(other, 'sha-9'), tensors('b', 3));
    fs.rmSync(path.join(snap, 'model-00002-of-00002.safetensors'));
    fs.symlinkSync(path.join(other, 'sha-9'), path.join(snap, 'model-00002-of-00002.safetensors'));
    await expect(openModels([snap])).rejects.toThrow(/outside the model directory/);
  });

  it('a diffusers pipeline: components prefixed, sharded and not, config folders ignored', async () => {
    const dir = mkdir('sd-tiny');
    fs.writeFileSync(path.join(dir, 'model_index.json'), JSON.stringify({ _class_name: 'StableDiffusionPipeline' }));
    write(path.join(dir, 'unet', 'diffusion_pytorch_model.safetensors'), tensors('conv'));
    write(path.join(dir, 'text_encoder', 'model.safetensors'), tensors('enc'));
    write(path.join(dir, 'vae', 'diffusion_pytorch_model-00001-of-00002.safetensors'), tensors('dec'));
    write(path.join(dir, 'vae', 'diffusion_pytorch_model-00002-of-00002.safetensors'), tensors('post', 1));
    writeIndex(path.join(dir, 'vae', 'diffusion_pytorch_model.safetensors.index.json'), {
      'dec.0.weight': 'diffusion_pytorch_model-00001-of-00002.safetensors',
      'dec.1.weight': 'diffusion_pytorch_model-00001-of-00002.safetensors',
      'post.0.weight': 'diffusion_pytorch_model-00002-of-00002.safetensors',
    });
    mkdir('sd-tiny', 'scheduler');
    fs.writeFileSync(path.join(dir, 'scheduler', 'scheduler_config.json'), '{}');
    mkdir('sd-tiny', 'tokenizer');
    const { models } = await openModels([dir]);
    expect(models).toHaveLength(1);
    const m = models[0];
    expect(m).toMatchObject({ id: 'sd-tiny', format: 'diffusers' });
    expect(names(m)).toEqual([
      'text_encoder/enc.0.weight', 'text_encoder/enc.1.weight',
      'unet/conv.0.weight', 'unet/conv.1.weight',
      'vae/dec.0.weight', 'vae/dec.1.weight', 'vae/post.0.weight',
    ]);
    expect(m.files.map((f) => path.relative(dir, f))).toEqual([
      'text_encoder/model.safetensors',
      'unet/diffusion_pytorch_model.safetensors',
      'vae/diffusion_pytorch_model-00001-of-00002.safetensors',
      'vae/diffusion_pytorch_model-00002-of-00002.safetensors',
    ]);
    expect(valuesAt(m.tensors[6])).toEqual(tensors('post', 1)[0].data);
  });

  it('a diffusers pipeline without model_index.json, from its component folder names', async () => {
    const dir = mkdir('sdxl');
    write(path.join(dir, 'unet', 'diffusion_pytorch_model.safetensors'), tensors('u'));
    write(path.join(dir, 'text_encoder_2', 'model.safetensors'), tensors('t'));
    const { models } = await openModels([dir]);
    expect(models).toHaveLength(1);
    expect(models[0].format).toBe('diffusers');
    expect(names(models[0])).toEqual(['text_encoder_2/t.0.weight', 'text_encoder_2/t.1.weight', 'unet/u.0.weight', 'unet/u.1.weight']);
  });

  it('a diffusers component folder given on its own is one model, unprefixed', async () => {
    const dir = mkdir('unet');
    write(path.join(dir, 'diffusion_pytorch_model.safetensors'), tensors('u'));
    const { models } = await openModels([dir]);
    expect(models[0]).toMatchObject({ id: 'unet', format: 'hf' });
    expect(names(models[0])).toEqual(['u.0.weight', 'u.1.weight']);
  });
});

describe('openModels: model sets', () => {
  function zoo(): string {
    const dir = mkdir('zoo');
    write(path.join(dir, 'root.safetensors'), tensors('l', 2, 0));
    write(path.join(dir, 'child-b.safetensors'), tensors('l', 2, 1));
    write(path.join(dir, 'child-a', 'model.safetensors'), tensors('l', 2, 2));
    shardedModel(mkdir('zoo', 'grandchild'));
    fs.writeFileSync(path.join(dir, 'README.md'), '# zoo');
    fs.writeFileSync(path.join(dir, 'old.onnx'), 'x');
    mkdir('zoo', 'logs');
    return dir;
  }

  it('a directory of models, sorted by id, with its lineage.json', async () => {
    const dir = zoo();
    const lineage = {
      edges: [{ parent: 'root', child: 'child-a' }, { parent: 'root', child: 'child-b' }, { parent: 'child-a', child: 'grandchild' }],
      families: [['root', 'child-a', 'child-b', 'grandchild']],
    };
    fs.writeFileSync(path.join(dir, 'lineage.json'), JSON.stringify(lineage));
    const set = await openModels([dir]);
    expect(set.models.map((m) => [m.id, m.format])).toEqual([
      ['child-a', 'hf'], ['child-b', 'file'], ['grandchild', 'hf-sharded'], ['root', 'file'],
    ]);
    expect(set.lineage).toEqual(lineage);
    expect(set.warnings).toEqual([
      `${path.join(dir, 'logs')}: skipped (no model in it: no model.safetensors, pytorch_model.bin or shard index)`,
      `${path.join(dir, 'old.onnx')}: skipped (only safetensors, PyTorch .bin/.pt/.pth and GGUF files are read)`,
    ]);
  });

  it('folders of fine-tuned unets with their own names are a set, not one pipeline', async () => {
    const dir = mkdir('unets');
    write(path.join(dir, 'ft-a', 'diffusion_pytorch_model.safetensors'), tensors('u'));
    write(path.join(dir, 'ft-b', 'diffusion_pytorch_model.safetensors'), tensors('u'));
    const { models } = await openModels([dir]);
    expect(models.map((m) => [m.id, m.format])).toEqual([['ft-a', 'hf'], ['ft-b', 'hf']]);
  });

  it('a set of diffusers pipelines', async () => {
    for (const name of ['sd-base', 'sd-ft']) {
      fs.mkdirSync(path.join(root, 'sets', name), { recursive: true });
      fs.writeFileSync(path.join(root, 'sets', name, 'model_index.json'), '{}');
      write(path.join(root, 'sets', name, 'unet', 'diffusion_pytorch_model.safetensors'), tensors('u'));
    }
    const { models } = await openModels([path.join(root, 'sets')]);
    expect(models.map((m) => [m.id, m.format, m.tensors[0].name])).toEqual([
      ['sd-base', 'diffusers', 'unet/u.0.weight'], ['sd-ft', 'diffusers', 'unet/u.0.weight'],
    ]);
  });

  it('lineage.json without families, and naming a model that is not there', async () => {
    const dir = zoo();
    fs.writeFileSync(path.join(dir, 'lineage.json'), JSON.stringify({ edges: [{ parent: 'root', child: 'ghost' }] }));
    const set = await openModels([dir]);
    expect(set.lineage).toEqual({ edges: [{ parent: 'root', child: 'ghost' }], families: [] });
    expect(set.warnings).toContain(`${path.join(dir, 'lineage.json')}: names model(s) not found in ${dir}: ghost`);
  });

  it.each([
    ['not JSON', '{"edges": [', /lineage is not valid JSON/],
    ['an array', '[]', /lineage must be a JSON object/],
    ['edges missing', '{"families": []}', /lineage "edges" must be an array/],
    ['an edge without child', '{"edges": [{"parent": "root"}]}', /lineage edge 0 must be an object with string "parent" and "child"/],
    ['a self edge', '{"edges": [{"parent": "root", "child": "root"}]}', /lineage edge 0 makes 'root' its own parent/],
    ['families not arrays of ids', '{"edges": [], "families": [["root", 3]]}', /lineage family 0 must be an array of model ids/],
  ])('a bad lineage.json (%s) is a FormatError naming it', async (_name, text, rule) => {
    const dir = zoo();
    const file = path.join(dir, 'lineage.json');
    fs.writeFileSync(file, text);
    const err = await refusal(openModels([dir]));
    expect(err).toBeInstanceOf(FormatError);
    expect(err.message).toMatch(rule);
    expect(err.message.startsWith(`${file}: `)).toBe(true);
    expect(err.file).toBe(file);
  });

  it('the same model given twice is read once', async () => {
    const file = write(path.join(root, 'm.safetensors'), tensors('l'));
    const set = await openModels([file, path.join(root, '.', 'm.safetensors'), root]);
    expect(set.models).toHaveLength(1);
    expect(set.warnings.filter((w) => w.includes('read once'))).toHaveLength(2);
  });

  it('many models with a concurrency of 2', async () => {
    for (let i = 0; i < 24; i++) write(path.join(root, 'many', `m${String(i).padStart(2, '0')}.safetensors`), tensors('l', 2, i));
    const { models } = await openModels([path.join(root, 'many')], { concurrency: 2 });
    expect(models.map((m) => m.id)).toEqual(Array.from({ length: 24 }, (_, i) => `m${String(i).padStart(2, '0')}`));
    expect(valuesAt(models[23].tensors[0])).toEqual(tensors('l', 2, 23)[0].data);
  });
});

describe('openModels: ids', () => {
  it('two models with one name get their parent folder, whatever the order given', async () => {
    const a = write(path.join(root, 'runA', 'model.safetensors'), tensors('l'));
    const b = write(path.join(root, 'runB', 'model.safetensors'), tensors('l'));
    const one = await openModels([a, b]);
    const two = await openModels([b, a]);
    expect(one.models.map((m) => m.id)).toEqual(['runA/model', 'runB/model']);
    expect(two.models.map((m) => [m.id, m.path])).toEqual(one.models.map((m) => [m.id, m.path]));
  });

  it('as many parent folders as it takes, and only for the models that collide', async () => {
    const a = write(path.join(root, 'x', 'seed1', 'ft.safetensors'), tensors('l'));
    const b = write(path.join(root, 'y', 'seed1', 'ft.safetensors'), tensors('l'));
    const c = write(path.join(root, 'y', 'other.safetensors'), tensors('l'));
    const { models } = await openModels([a, b, c]);
    expect(models.map((m) => m.id)).toEqual(['other', 'x/seed1/ft', 'y/seed1/ft']);
  });

  it('a file and a folder of one name in one set, with lineage ids renamed to match', async () => {
    const dir = mkdir('set');
    write(path.join(dir, 'base.safetensors'), tensors('l'));
    write(path.join(dir, 'base', 'model.safetensors'), tensors('l'));
    write(path.join(dir, 'child.safetensors'), tensors('l'));
    fs.writeFileSync(path.join(dir, 'lineage.json'), JSON.stringify({ edges: [{ parent: 'base', child: 'child' }], families: [] }));
    const set = await openModels([dir]);
    expect(set.models.map((m) => m.id)).toEqual(['child', 'set/base', 'set/base.safetensors']);
    // 'base' could be either model: kept as written, and said so.
    expect(set.lineage?.edges).toEqual([{ parent: 'base', child: 'child' }]);
    expect(set.warnings).toEqual([`${path.join(dir, 'lineage.json')}: names model(s) that are ambiguous in ${dir} (a file and a folder of one name): base`]);
  });

  it('lineage ids follow disambiguation when two sets share model names', async () => {
    for (const run of ['run1', 'run2']) {
      write(path.join(root, run, 'parent.safetensors'), tensors('l'));
      write(path.join(root, run, 'child.safetensors'), tensors('l'));
      fs.writeFileSync(path.join(root, run, 'lineage.json'), JSON.stringify({ edges: [{ parent: 'parent', child: 'child' }], families: [['parent', 'child']] }));
    }
    const set = await openModels([path.join(root, 'run2'), path.join(root, 'run1')]);
    expect(set.models.map((m) => m.id)).toEqual(['run1/child', 'run1/parent', 'run2/child', 'run2/parent']);
    expect(set.lineage?.edges).toEqual([
      { parent: 'run2/parent', child: 'run2/child' },
      { parent: 'run1/parent', child: 'run1/child' },
    ]);
    expect(set.lineage?.families).toEqual([['run2/parent', 'run2/child'], ['run1/parent', 'run1/child']]);
  });

  it('a model given both directly and through its set keeps its lineage name; a set given twice is read once', async () => {
    for (const run of ['run1', 'run2']) {
      write(path.join(root, run, 'parent.safetensors'), tensors('l'));
      write(path.join(root, run, 'child.safetensors'), tensors('l'));
    }
    fs.writeFileSync(path.join(root, 'run1', 'lineage.json'), JSON.stringify({ edges: [{ parent: 'parent', child: 'child' }], families: [] }));
    const set = await openModels([path.join(root, 'run1', 'child.safetensors'), path.join(root, 'run1'), path.join(root, 'run2'), path.join(root, 'run1')]);
    expect(set.models.map((m) => m.id)).toEqual(['run1/child', 'run1/parent', 'run2/child', 'run2/parent']);
    expect(set.lineage?.edges).toEqual([{ parent: 'run1/parent', child: 'run1/child' }]);
  });

  it('uniqueModelIds is a pure function of the paths', () => {
    const models = [
      { path: '/m/a/x/model.safetensors', baseId: 'model' },
      { path: '/m/b/x/model.safetensors', baseId: 'model' },
      { path: '/m/b/y', baseId: 'y' },
    ];
    expect(uniqueModelIds(models)).toEqual(['a/x/model', 'b/x/model', 'y']);
    expect(uniqueModelIds([...models].reverse())).toEqual(['y', 'b/x/model', 'a/x/model']);
  });
});

describe('openModels: refusals', () => {
  it('a path that does not exist is an IoError naming it', async () => {
    const p = path.join(root, 'nope');
    const err = await refusal(openModels([p]));
    expect(err).toBeInstanceOf(IoError);
    expect(err.message).toBe(`${p}: no such file or directory`);
    expect(err.file).toBe(p);
  });

  it('a directory with nothing loadable', async () => {
    const dir = mkdir('empty');
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'x');
    mkdir('empty', 'sub');
    const err = await refusal(openModels([dir]));
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect(err.message).toMatch(new RegExp(`^${dir}: no model found`));
  });

  it('a file that is not a weight file', async () => {
    const file = path.join(root, 'weights.onnx');
    fs.writeFileSync(file, 'x');
    await expect(openModels([file])).rejects.toThrow(/not a model \(expected a \.safetensors, \.bin, \.pt, \.pth or \.gguf file, or a directory\)/);
  });

  it('model_index.json with no component weights', async () => {
    const dir = mkdir('pipe');
    fs.writeFileSync(path.join(dir, 'model_index.json'), '{}');
    mkdir('pipe', 'scheduler');
    await expect(openModels([dir])).rejects.toThrow(/has model_index.json but no component folder holds weights/);
  });

  it('no paths at all', async () => {
    await expect(openModels([])).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it('a malformed model file is the reader\'s FormatError naming that file', async () => {
    const file = path.join(root, 'bad.safetensors');
    fs.writeFileSync(file, Buffer.alloc(4));
    const err = await refusal(openModels([file]));
    expect(err).toBeInstanceOf(FormatError);
    expect(err.file).toBe(file);
  });

  it('an aborted signal stops discovery', async () => {
    const file = write(path.join(root, 'm.safetensors'), tensors('l'));
    const ac = new AbortController();
    ac.abort();
    await expect(openModels([file], { signal: ac.signal })).rejects.toBeInstanceOf(AbortError);
  });
});

describe('openModels: shard index refusals', () => {
  let dir: string;
  let index: string;
  beforeEach(() => {
    dir = mkdir('sharded');
    index = shardedModel(dir);
  });

  async function expectIndexRefusal(rule: RegExp, tensor?: string): Promise<void> {
    const err = await refusal(openModels([dir]));
    expect(err).toBeInstanceOf(FormatError);
    expect(err.code).toBe('E_FORMAT');
    expect(err.message).toMatch(rule);
    expect(err.message.startsWith(`${index}: `)).toBe(true);
    expect(err.file).toBe(index);
    if (tensor !== undefined) expect(err.tensor).toBe(tensor);
  }
  function editMap(edit: (map: Record<string, unknown>) => void): void {
    const json = JSON.parse(fs.readFileSync(index, 'utf8'));
    edit(json.weight_map);
    fs.writeFileSync(index, JSON.stringify(json));
  }

  it('an index that is not JSON', async () => {
    fs.writeFileSync(index, '{"weight_map": {');
    await expectIndexRefusal(/shard index is not valid JSON/);
  });

  it.each([
    ['no weight_map', '{"metadata": {}}'],
    ['weight_map an array', '{"weight_map": []}'],
    ['weight_map null', '{"weight_map": null}'],
    ['the index an array', '[]'],
  ])('an index with %s', async (_name, text) => {
    fs.writeFileSync(index, text);
    await expectIndexRefusal(/shard index has no "weight_map" object/);
  });

  it('an empty weight_map', async () => {
    fs.writeFileSync(index, '{"weight_map": {}}');
    await expectIndexRefusal(/empty weight_map/);
  });

  it('a weight_map entry that is not a file name', async () => {
    editMap((m) => (m['a.0.weight'] = 3));
    await expectIndexRefusal(/weight_map entry for tensor 'a.0.weight' must be a shard file name/, 'a.0.weight');
  });

  it('a shard file missing', async () => {
    fs.rmSync(path.join(dir, 'model-00002-of-00002.safetensors'));
    await expectIndexRefusal(/shard 'model-00002-of-00002.safetensors' is missing/);
  });

  it('a tensor present in two shards', async () => {
    write(path.join(dir, 'model-00002-of-00002.safetensors'), [...tensors('b', 3), tensors('a')[1]]);
    await expectIndexRefusal(/tensor 'a.1.weight' is present in two shards: model-00001-of-00002.safetensors and model-00002-of-00002.safetensors/, 'a.1.weight');
  });

  it('a shard path with ../ that leaves the model directory', async () => {
    write(path.join(root, 'outside.safetensors'), tensors('b', 3));
    editMap((m) => {
      for (const k of Object.keys(m)) if (k.startsWith('b.')) m[k] = '../outside.safetensors';
    });
    await expectIndexRefusal(/shard path '\.\.\/outside\.safetensors' leaves the model directory/);
  });

  it('a shard path that goes out and back in is fine only if it ends inside', async () => {
    editMap((m) => {
      for (const k of Object.keys(m)) if (k.startsWith('b.')) m[k] = '../sharded/model-00002-of-00002.safetensors';
    });
    const { models } = await openModels([dir]);
    expect(models[0].tensors).toHaveLength(5);
  });

  it('an absolute shard path', async () => {
    const outside = write(path.join(root, 'outside.safetensors'), tensors('b', 3));
    editMap((m) => {
      for (const k of Object.keys(m)) if (k.startsWith('b.')) m[k] = outside;
    });
    await expectIndexRefusal(/is absolute; shards must be inside the model directory/);
  });

  it('an absolute path to a shard inside the directory is refused too', async () => {
    editMap((m) => {
      for (const k of Object.keys(m)) if (k.startsWith('b.')) m[k] = path.join(dir, 'model-00002-of-00002.safetensors');
    });
    await expectIndexRefusal(/is absolute/);
  });

  it('a shard that is a symlink pointing outside', async () => {
    const outside = write(path.join(root, 'elsewhere', 'secret.safetensors'), tensors('b', 3));
    fs.rmSync(path.join(dir, 'model-00002-of-00002.safetensors'));
    fs.symlinkSync(outside, path.join(dir, 'model-00002-of-00002.safetensors'));
    await expectIndexRefusal(/shard 'model-00002-of-00002.safetensors' resolves to .*secret\.safetensors, outside the model directory/);
  });

  it('a shard reached through a symlinked folder pointing outside', async () => {
    write(path.join(root, 'elsewhere', 'model-00002-of-00002.safetensors'), tensors('b', 3));
    fs.symlinkSync(path.join(root, 'elsewhere'), path.join(dir, 'linked'));
    editMap((m) => {
      for (const k of Object.keys(m)) if (k.startsWith('b.')) m[k] = 'linked/model-00002-of-00002.safetensors';
    });
    await expectIndexRefusal(/resolves to .* outside the model directory/);
  });

  it('a weight_map entry naming a shard that does not contain the tensor', async () => {
    editMap((m) => (m['a.0.weight'] = 'model-00002-of-00002.safetensors'));
    await expectIndexRefusal(
      /weight_map puts tensor 'a.0.weight' in model-00002-of-00002.safetensors, which does not contain it \(it is in model-00001-of-00002.safetensors\)/,
      'a.0.weight',
    );
  });

  it('a weight_map entry for a tensor no shard holds', async () => {
    editMap((m) => (m['ghost'] = 'model-00001-of-00002.safetensors'));
    await expectIndexRefusal(/weight_map puts tensor 'ghost' in model-00001-of-00002.safetensors, which does not contain it \(no shard holds it\)/, 'ghost');
  });

  it('tensors in a shard but not in weight_map are included, with a warning', async () => {
    editMap((m) => delete m['b.2.weight']);
    const { models, warnings } = await openModels([dir]);
    expect(names(models[0])).toContain('b.2.weight');
    expect(warnings).toEqual([
      `${index}: 1 tensor(s) in shard model-00002-of-00002.safetensors are not in weight_map and were included: 'b.2.weight'`,
    ]);
  });

  it('a malformed shard is refused naming the shard', async () => {
    const shard = path.join(dir, 'model-00002-of-00002.safetensors');
    const bytes = fs.readFileSync(shard);
    fs.writeFileSync(shard, bytes.subarray(0, bytes.length - 1));
    const err = await refusal(openModels([dir]));
    expect(err).toBeInstanceOf(FormatError);
    expect(err.file).toBe(shard);
    expect(err.message).toMatch(/truncated data/);
  });

  it('the refusals apply to diffusers components too', async () => {
    const pipe = mkdir('pipe');
    fs.writeFileSync(path.join(pipe, 'model_index.json'), '{}');
    write(path.join(pipe, 'unet', 'diffusion_pytorch_model-00001-of-00001.safetensors'), tensors('u'));
    const idx = writeIndex(path.join(pipe, 'unet', 'diffusion_pytorch_model.safetensors.index.json'), {
      'u.0.weight': '../../sharded/model-00001-of-00002.safetensors',
    });
    const err = await refusal(openModels([pipe]));
    expect(err).toBeInstanceOf(FormatError);
    expect(err.file).toBe(idx);
    expect(err.message).toMatch(/leaves the model directory/);
  });
});

describe('inspectModel', () => {
  it('tabulates a sharded model with totals per dtype', async () => {
    const dir = mkdir('big');
    shardedModel(dir);
    const report = await inspectModel(dir);
    expect(report.id).toBe('big');
    expect(report.tensors[0]).toEqual({ name: 'a.0.weight', dtype: 'F32', shape: [2, 1], bytes: 8, file: path.join(dir, 'model-00001-of-00002.safetensors') });
    expect(report.totals).toEqual({
      tensors: 5,
      params: 2 + 4 + 2 + 4 + 6,
      bytes: 8 + 8 + 8 + 8 + 24,
      byDtype: { F32: { tensors: 3, params: 10, bytes: 40 }, BF16: { tensors: 2, params: 8, bytes: 16 } },
    });
    const text = formatInspect(report);
    const lines = text.split('\n');
    expect(lines[0]).toBe(`model big (hf-sharded) at ${dir}`);
    const header = lines.find((l) => l.startsWith('name'));
    const row = lines.find((l) => l.startsWith('b.2.weight'));
    expect(header).toBeDefined();
    expect(row).toMatch(/^b\.2\.weight\s+F32\s+\[2, 3\]\s+24\s+model-00002-of-00002\.safetensors$/);
    // Columns line up: every row's dtype starts where the header's does.
    const dtypeColumn = header!.indexOf('dtype');
    for (const l of lines.filter((x) => /^[ab]\.\d\.weight/.test(x))) expect(l.search(/ (F32|BF16) /) + 1).toBe(dtypeColumn);
    expect(text).toMatch(/total: 5 tensors, 18 parameters, 56 bytes \(56 B\)/);
    expect(text).toMatch(/^BF16\s+2\s+8\s+16\s+16 B$/m);
  });

  it('refuses a path that holds several models', async () => {
    write(path.join(root, 'set', 'a.safetensors'), tensors('l'));
    write(path.join(root, 'set', 'b.safetensors'), tensors('l'));
    await expect(inspectModel(path.join(root, 'set'))).rejects.toThrow(/holds 2 models \(a, b\); inspect one of them/);
  });

  it('shows control characters in names escaped, so rows stay one line each', async () => {
    const file = write(path.join(root, 'odd.safetensors'), [{ name: 'a\nb', dtype: 'F32', shape: [1], data: [1] }]);
    const text = formatInspect(await inspectModel(file));
    expect(text).toContain('"a\\nb"  F32');
    expect(text).not.toContain('files:');
  });
});

describe('createLimiter', () => {
  it('never runs more than its limit at once, and runs everything', async () => {
    const run = createLimiter(3);
    let active = 0;
    let peak = 0;
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        run(async () => {
          active++;
          peak = Math.max(peak, active);
          await new Promise((r) => setTimeout(r, (i * 7) % 5));
          active--;
          if (i === 13) throw new Error('task 13');
          return i;
        }).catch((e: Error) => e.message),
      ),
    );
    expect(peak).toBe(3);
    expect(results[13]).toBe('task 13');
    expect(results.filter((r) => typeof r === 'number')).toHaveLength(19);
    // A slot freed by a failure is reused: the limiter still works afterwards.
    expect(await run(async () => 'after')).toBe('after');
  });

  it('treats a nonsensical limit as 1 instead of blocking forever', async () => {
    expect(await createLimiter(NaN)(async () => 1)).toBe(1);
    expect(await createLimiter(0)(async () => 2)).toBe(2);
  });
});
