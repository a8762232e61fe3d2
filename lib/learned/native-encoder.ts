/**
 * Runs the edge encoder natively over whole matrices: builds the plan (one entry per tensor,
 * with every model's bytes, so pairs that share a tensor share its reads) and awaits the
 * worker, wiring progress and cancellation as the scan does.
 */
import { InvalidArgumentError } from '../errors';
import { needsDequantization } from '../io/tensor-data';
import type { ModelSet, TensorEntry } from '../io/types';
import { runNativeJob } from '../native-job';
import { native, NativeBackend, NativeEdgePlan, NativeEdgeTensor, NativeEdgeWeights } from '../native';
import { matrixShape } from './matrix';

export interface EdgeEncodeRequest {
  /** Tensor name, as in both models. */
  tensor: string;
  /** Indices into set.models: the candidate parent and child. */
  a: number;
  b: number;
  /** Both matrices are divided by it (see lib/learned/features.ts for the choice). */
  scale: number;
}

export interface NativeEncodeOptions {
  threads?: number;
  isa?: NativeEdgePlan['isa'];
  device?: 'cpu' | 'cuda';
  /** Which GPU when device is 'cuda' (default 0). */
  cudaDevice?: number;
  chunkElems?: number;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

export interface NativeEncodeResult {
  /** requests.length × 32 */
  values: Float64Array;
  /** backend: 'cpu' or 'cuda'; device: 'cpu' or the GPU's name (as the scan reports them). */
  run: { backend: NativeBackend; device: string; isa: string; threads: number; seconds: number; bytes: number };
}

const FLOAT = new Set(['F32', 'F16', 'BF16', 'F64']);

export function buildEdgePlan(set: ModelSet, requests: EdgeEncodeRequest[], weights: NativeEdgeWeights): NativeEdgePlan {
  const files: string[] = [];
  const fileIndex = new Map<string, number>();
  const fileOf = (f: string) => {
    let i = fileIndex.get(f);
    if (i === undefined) fileIndex.set(f, (i = files.push(f) - 1));
    return i;
  };
  const tensors: NativeEdgeTensor[] = [];
  const tensorIndex = new Map<string, { index: number; slots: Map<number, number> }>();
  const entryCache = set.models.map((m) => new Map(m.tensors.map((t) => [t.name, t])));
  const slotOf = (name: string, model: number, entry: TensorEntry) => {
    const key = `${name}\u0000${entry.shape.join(',')}`;
    let t = tensorIndex.get(key);
    if (!t) {
      const [rows, cols] = matrixShape(entry.shape);
      t = { index: tensors.push({ name, rows, cols, sources: [] }) - 1, slots: new Map() };
      tensorIndex.set(key, t);
    }
    let s = t.slots.get(model);
    if (s === undefined) {
      s = tensors[t.index].sources.push({ file: fileOf(entry.file), offset: entry.offset, dtype: entry.dtype as 'F32' }) - 1;
      t.slots.set(model, s);
    }
    return { tensor: t.index, slot: s };
  };
  const pairs = requests.map((r) => {
    const ea = entryCache[r.a]?.get(r.tensor);
    const eb = entryCache[r.b]?.get(r.tensor);
    if (!ea || !eb) throw new InvalidArgumentError('E_INVALID_ARG', `edge encoder: tensor '${r.tensor}' is missing in model ${set.models[ea ? r.b : r.a]?.id ?? '?'}`);
    if (ea.shape.join(',') !== eb.shape.join(',')) throw new InvalidArgumentError('E_INVALID_ARG', `edge encoder: tensor '${r.tensor}' has different shapes in ${set.models[r.a].id} and ${set.models[r.b].id}`);
    // GGUF block types and reordered q/k rows need the scan's dequantizer, which the encoder lacks.
    for (const e of [ea, eb]) if (!FLOAT.has(e.dtype) || needsDequantization(e)) throw new InvalidArgumentError('E_INVALID_ARG', `edge encoder: tensor '${r.tensor}' has dtype ${e.dtype}`);
    const A = slotOf(r.tensor, r.a, ea);
    const B = slotOf(r.tensor, r.b, eb);
    return { tensor: A.tensor, a: A.slot, b: B.slot, scale: r.scale };
  });
  return { files, tensors, pairs, weights };
}

export async function encodeEdgesNative(set: ModelSet, requests: EdgeEncodeRequest[], weights: NativeEdgeWeights, opts: NativeEncodeOptions = {}): Promise<NativeEncodeResult> {
  const plan = buildEdgePlan(set, requests, weights);
  plan.threads = opts.threads;
  plan.isa = opts.isa;
  plan.device = opts.device ?? 'cpu';
  if (opts.cudaDevice !== undefined) plan.cudaDevice = opts.cudaDevice;
  if (opts.chunkElems !== undefined) plan.chunkElems = opts.chunkElems;
  const out = await runNativeJob(() => native().startEdgeEncode(plan, opts.onProgress), opts.signal, 'edge encoding');
  return { values: out.values, run: { backend: out.backend, device: out.device, isa: out.isa, threads: out.threads, seconds: out.seconds, bytes: out.bytes } };
}
