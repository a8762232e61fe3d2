/**
 * Writes a Hugging Face checkpoint directory: config.json, model.safetensors.index.json and
 * sharded safetensors files model-0000i-of-0000n.safetensors (HF's names), tensor values
 * streamed shard by shard so a model larger than memory can be written. Every model gets at
 * least two shards, so readers are always exercised on the index path.
 */
import * as fs from 'fs';
import * as path from 'path';
import { DTYPE_SIZES, FloatDtype } from '../io/dtype';
import { SafetensorsStreamWriter, TensorSpec } from '../io/safetensors-writer';
import { PhylogenyError } from '../errors';

export const HF_INDEX_FILE = 'model.safetensors.index.json';

export interface HfCheckpoint {
  dir: string;
  config: Record<string, unknown>;
  tensors: { name: string; shape: number[] }[];
  dtype: FloatDtype;
  /** Largest shard (default 2 GiB); a tensor larger than this gets a shard of its own. */
  maxShardBytes?: number;
  /** Default 2. */
  minShards?: number;
  metadata?: Record<string, string>;
}

export interface ShardPlan {
  file: string;
  tensors: { name: string; shape: number[] }[];
  bytes: number;
}

const elements = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);

/** Greedy split in tensor order, as transformers' shard_checkpoint does. */
export function planShards(tensors: { name: string; shape: number[] }[], dtype: FloatDtype, maxShardBytes = 2 ** 31, minShards = 2): ShardPlan[] {
  const size = (t: { shape: number[] }): number => elements(t.shape) * DTYPE_SIZES[dtype];
  const total = tensors.reduce((a, t) => a + size(t), 0);
  const limit = Math.max(1, Math.min(maxShardBytes, Math.ceil(total / minShards)));
  const groups: { name: string; shape: number[] }[][] = [];
  let cur: { name: string; shape: number[] }[] = [];
  let curBytes = 0;
  for (const t of tensors) {
    if (cur.length && curBytes + size(t) > limit) {
      groups.push(cur);
      cur = [];
      curBytes = 0;
    }
    cur.push(t);
    curBytes += size(t);
  }
  if (cur.length) groups.push(cur);
  // One huge tensor can swallow everything: split the largest group until there are enough.
  while (groups.length < minShards) {
    const i = groups.findIndex((g) => g.length > 1);
    if (i < 0) break;
    const g = groups[i];
    groups.splice(i, 1, g.slice(0, Math.ceil(g.length / 2)), g.slice(Math.ceil(g.length / 2)));
  }
  const n = groups.length;
  const pad = (k: number): string => String(k).padStart(5, '0');
  return groups.map((g, i) => ({ file: `model-${pad(i + 1)}-of-${pad(n)}.safetensors`, tensors: g, bytes: g.reduce((a, t) => a + size(t), 0) }));
}

/**
 * Writes the checkpoint. `produce(name, shape, write)` must pass the tensor's values (PyTorch
 * layout, row-major) to `write` in order, in chunks of any size.
 */
export function writeHfCheckpoint(
  ck: HfCheckpoint,
  produce: (name: string, shape: number[], write: (values: Float32Array) => void) => void,
  onBytes?: (written: number, total: number) => void,
): { files: string[]; totalBytes: number } {
  fs.mkdirSync(ck.dir, { recursive: true });
  const shards = planShards(ck.tensors, ck.dtype, ck.maxShardBytes, ck.minShards ?? 2);
  const totalBytes = shards.reduce((a, s) => a + s.bytes, 0);
  const weightMap: Record<string, string> = {};
  let written = 0;
  for (const shard of shards) {
    const specs: TensorSpec[] = shard.tensors.map((t) => ({ name: t.name, dtype: ck.dtype, shape: t.shape }));
    const w = new SafetensorsStreamWriter(path.join(ck.dir, shard.file), specs, { format: 'pt', ...(ck.metadata ?? {}) });
    try {
      for (const t of shard.tensors) {
        let got = 0;
        produce(t.name, t.shape, (values) => {
          w.write(values);
          got += values.length;
          written += values.length * DTYPE_SIZES[ck.dtype];
          onBytes?.(written, totalBytes);
        });
        if (got !== elements(t.shape)) throw new PhylogenyError('E_INTERNAL', `${t.name}: produced ${got} values for shape [${t.shape}]`);
        weightMap[t.name] = shard.file;
      }
      w.close();
    } catch (e) {
      w.abort();
      throw e;
    }
  }
  const sortedMap = Object.fromEntries(Object.keys(weightMap).sort().map((k) => [k, weightMap[k]]));
  fs.writeFileSync(path.join(ck.dir, HF_INDEX_FILE), JSON.stringify({ metadata: { total_size: totalBytes }, weight_map: sortedMap }, null, 2) + '\n');
  fs.writeFileSync(path.join(ck.dir, 'config.json'), JSON.stringify(ck.config, null, 2) + '\n');
  return { files: shards.map((s) => s.file), totalBytes };
}
