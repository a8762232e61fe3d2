/**
 * Sharded models (Hugging Face `*.safetensors.index.json`, `pytorch_model.bin.index.json`):
 * the index's weight_map names, for
 * each tensor, the shard file that holds it. The index is checked against the shards' own
 * headers, and every shard path must stay inside the model directory: a downloaded model
 * must not make us read /etc/passwd or another user's files through `../`, an absolute path
 * or a symlink.
 */
import * as fs from 'fs';
import * as path from 'path';
import { FormatError, IoError } from '../errors';
import type { TensorEntry } from './types';

/** Index files larger than this are refused rather than parsed (real ones are a few MB). */
const MAX_INDEX_BYTES = 256 * 1024 * 1024;

/** A tensor of a sharded model: its file is the shard as reached through the model directory. */
export type ShardedTensor = TensorEntry;

export interface ShardedModel {
  /** Shard files, sorted by path. */
  files: string[];
  /** Tensors shard by shard (in file order), each shard in header order. */
  tensors: ShardedTensor[];
  warnings: string[];
}

function refuse(index: string, rule: string, tensor?: string): FormatError {
  return new FormatError('E_FORMAT', `${index}: ${rule}`, { file: index, tensor });
}

function inside(dir: string, target: string): boolean {
  const rel = path.relative(dir, target);
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel);
}

/** The weight_map of an index file: tensor name -> shard path as written. */
export async function readWeightMap(index: string): Promise<Map<string, string>> {
  let text: string;
  try {
    const st = await fs.promises.stat(index);
    if (st.size > MAX_INDEX_BYTES) throw refuse(index, `shard index is ${st.size} bytes, over the ${MAX_INDEX_BYTES}-byte limit`);
    text = await fs.promises.readFile(index, 'utf8');
  } catch (e) {
    if (e instanceof FormatError) throw e;
    throw new IoError('E_IO', `${index}: cannot read shard index: ${(e as Error).message}`, { file: index, cause: e });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw refuse(index, `shard index is not valid JSON (${(e as Error).message})`);
  }
  const wm = (json as { weight_map?: unknown } | null)?.weight_map;
  if (typeof json !== 'object' || json === null || Array.isArray(json) || typeof wm !== 'object' || wm === null || Array.isArray(wm))
    throw refuse(index, 'shard index has no "weight_map" object');
  const map = new Map<string, string>();
  for (const [name, shard] of Object.entries(wm as Record<string, unknown>)) {
    if (typeof shard !== 'string' || shard.length === 0)
      throw refuse(index, `weight_map entry for tensor '${name}' must be a shard file name`, name);
    map.set(name, shard);
  }
  if (map.size === 0) throw refuse(index, 'shard index has an empty weight_map');
  return map;
}

/**
 * Resolves a shard path written in an index to an absolute path inside `dir`, refusing
 * absolute paths, `..` escapes, symlinks that resolve outside and missing files.
 */
export async function resolveShard(index: string, dir: string, realDir: string, shard: string, blobDir?: string): Promise<string> {
  if (path.isAbsolute(shard) || path.win32.isAbsolute(shard))
    throw refuse(index, `shard path '${shard}' is absolute; shards must be inside the model directory ${dir}`);
  const abs = path.resolve(dir, shard);
  if (!inside(dir, abs)) throw refuse(index, `shard path '${shard}' leaves the model directory ${dir}`);
  let real: string;
  try {
    real = await fs.promises.realpath(abs);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw refuse(index, `shard '${shard}' is missing (no file ${abs})`);
    throw new IoError('E_IO', `${abs}: cannot resolve shard listed in ${index}: ${(e as Error).message}`, { file: abs, cause: e });
  }
  if (!inside(realDir, real) && !(blobDir && inside(blobDir, real)))
    throw refuse(index, `shard '${shard}' resolves to ${real}, outside the model directory ${dir} (symlink)`);
  const st = await fs.promises.stat(real);
  if (!st.isFile()) throw refuse(index, `shard '${shard}' is not a regular file`);
  return abs;
}

/**
 * The Hugging Face cache keeps a snapshot's files as symlinks into the repository's own
 * `blobs/` folder (`models--org--name/snapshots/<rev>/x -> ../../blobs/<sha>`). That folder
 * belongs to the same model, so links into it are allowed; anything else outside is not.
 */
async function huggingFaceBlobDir(realDir: string): Promise<string | undefined> {
  if (path.basename(path.dirname(realDir)) !== 'snapshots') return undefined;
  const repo = path.dirname(path.dirname(realDir));
  if (!/^(models|datasets|spaces)--/.test(path.basename(repo))) return undefined;
  try {
    const blobs = await fs.promises.realpath(path.join(repo, 'blobs'));
    return (await fs.promises.stat(blobs)).isDirectory() ? blobs : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Loads a sharded model from its index. `readTensors` reads one shard's tensor list, with
 * absolute offsets (the caller bounds how many run at once).
 */
export async function loadShardedModel(
  index: string,
  readTensors: (file: string) => Promise<{ tensors: TensorEntry[]; warnings: string[] }>,
): Promise<ShardedModel> {
  const dir = path.dirname(index);
  const realDir = await fs.promises.realpath(dir);
  const blobDir = await huggingFaceBlobDir(realDir);
  const weightMap = await readWeightMap(index);

  // Two spellings of one shard ("a.safetensors", "./a.safetensors") are one file.
  const shardName = new Map<string, string>(); // absolute path -> name as first written
  const wantedFile = new Map<string, string>(); // tensor -> absolute shard path
  const resolved = new Map<string, Promise<string>>();
  for (const [tensor, shard] of weightMap) {
    let p = resolved.get(shard);
    if (!p) {
      p = resolveShard(index, dir, realDir, shard, blobDir);
      resolved.set(shard, p);
    }
    const abs = await p;
    if (!shardName.has(abs)) shardName.set(abs, shard);
    wantedFile.set(tensor, abs);
  }
  const files = [...shardName.keys()].sort();
  const lists = await Promise.all(files.map((f) => readTensors(f)));

  const holder = new Map<string, string>(); // tensor -> absolute shard path that holds it
  const tensors: ShardedTensor[] = [];
  const warnings: string[] = [];
  files.forEach((file, i) => {
    warnings.push(...lists[i].warnings);
    const unlisted: string[] = [];
    for (const t of lists[i].tensors) {
      const other = holder.get(t.name);
      if (other !== undefined)
        throw refuse(index, `tensor '${t.name}' is present in two shards: ${shardName.get(other)} and ${shardName.get(file)}`, t.name);
      holder.set(t.name, file);
      if (!wantedFile.has(t.name)) unlisted.push(t.name);
      tensors.push({ ...t, file });
    }
    if (unlisted.length) {
      const shown = unlisted.slice(0, 5).map((n) => `'${n}'`).join(', ');
      warnings.push(
        `${index}: ${unlisted.length} tensor(s) in shard ${shardName.get(file)} are not in weight_map and were included: ` +
          `${shown}${unlisted.length > 5 ? ', ...' : ''}`,
      );
    }
  });
  for (const [tensor, file] of wantedFile) {
    const actual = holder.get(tensor);
    if (actual !== file) {
      const where = actual === undefined ? 'no shard holds it' : `it is in ${shardName.get(actual)}`;
      throw refuse(index, `weight_map puts tensor '${tensor}' in ${shardName.get(file)}, which does not contain it (${where})`, tensor);
    }
  }
  return { files, tensors, warnings };
}
