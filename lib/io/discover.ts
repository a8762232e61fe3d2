/**
 * Model discovery: turns the paths a user gives into models, their files and their tensors
 * (headers only; no weight is read). Weight files are safetensors, PyTorch torch.save zip
 * checkpoints or GGUF (lib/io/formats.ts), preferred in that order where a directory holds
 * several. A
 * model is
 *   - a `.safetensors`, `.bin`, `.pt`, `.pth` or `.gguf` file;
 *   - a split GGUF model: the files `<prefix>-00001-of-0000N.gguf` ... `-0000N-of-0000N.gguf`
 *     that llama.cpp's gguf-split writes, found in a directory (or given, any of them) and read
 *     as one model with id `<prefix>` (lib/io/gguf-split.ts);
 *   - a directory with `model.safetensors` / `pytorch_model.bin` / `model.gguf` (or split
 *     `model-0000i-of-0000N.gguf`, or
 *     `diffusion_pytorch_model.{safetensors,bin}`, a diffusers component folder given on its
 *     own), or with the matching `*.index.json` and its shards (Hugging Face layout);
 *   - a GPTQ/AWQ checkpoint: any of the above whose directory has a quantization config
 *     (config.json quantization_config, quantize_config.json, quant_config.json); its packed
 *     Linears read as `<prefix>.weight` [out, in] (lib/io/packed-quant.ts). AutoGPTQ's
 *     `<model_file_base_name>.safetensors` is found through quantize_config.json;
 *   - a PEFT LoRA adapter: a directory with `adapter_config.json` and `adapter_model.safetensors`
 *     (or `.bin`), read as base + scale · B·A over its base in the set (lib/io/adapters.ts);
 *   - a diffusers pipeline: a directory with `model_index.json`, or with component folders of
 *     the usual names (unet/, vae/, text_encoder/, ...), each holding one of the above;
 *     tensor names get the component prefix ("unet/conv_in.weight").
 * A directory of models is a model set; its lineage.json becomes ModelSet.lineage.
 */
import * as fs from 'fs';
import * as path from 'path';
import { AbortError, InvalidArgumentError, IoError } from '../errors';
import { adapterTensors, readmeBaseModel, resolveAdapters } from './adapters';
import { LINEAGE_FILE, readLineage, renameLineage } from './lineage';
import { ADAPTER_CONFIG, ADAPTER_WEIGHTS, pairAdapterTensors, readPeftConfig } from './peft';
import { createLimiter, Limiter } from './limiter';
import { baseModelId, uniqueModelIds } from './model-ids';
import { formatOfFile, formatOfIndex, TensorList, WEIGHT_FORMATS, weightFormat } from './formats';
import { elementCount } from './safetensors';
import { unpackQuantizedTensors } from './packed-quant';
import { readQuantConfig } from './quant-config';
import { loadShardedModel } from './shard-index';
import { AdapterInfo, Lineage, ModelFormat, ModelSet, ModelSource, TensorEntry, WeightFormatName } from './types';

export interface OpenModelsOptions {
  signal?: AbortSignal;
  /** Headers read at once (default 8): bounds open files and memory on huge sets. */
  concurrency?: number;
  /** PEFT adapter id -> its base (a model id in the set, or the path of a model in it); see lib/io/adapters.ts. */
  adapterBases?: Record<string, string>;
  /** Keep adapters whose base is not in the set, with their own tensors (inspect); default: left out with a warning. */
  keepUnresolvedAdapters?: boolean;
}

/** Without model_index.json, only folders with these names make a directory a pipeline;
 * otherwise a folder of fine-tuned unets would be read as one model instead of a set. */
const DIFFUSERS_COMPONENT = /^(unet|vae|transformer|prior|decoder|controlnet|image_encoder|safety_checker|movq|vqvae|text_encoder(_\d+)?)$/;
/** Other weight formats, skipped with a warning so users know why a model is missing. */
const OTHER_WEIGHTS = /\.(ckpt|h5|onnx|msgpack|npz)$/i;

/** Files the Hugging Face Trainer saves beside the weights with torch.save: training state,
 * not a model, and pickles of arbitrary classes that the checkpoint reader would refuse. */
const TRAINING_STATE = /^(training_args\.bin|optimizer\.pt|scheduler\.pt|scaler\.pt|rng_state(_\d+)?\.pth)$/;

/** Where a model's tensors come from: one file, one shard index, or the files of a split
 * model (`split`, in order; `file` is the first), with a name prefix. */
type Part = { prefix: string; file: string; sharded: boolean; format: WeightFormatName; split?: string[] };

interface ModelPlan {
  baseId: string;
  path: string;
  format: ModelFormat;
  parts: Part[];
  /** The model-set directory it was found in, whose lineage.json names it by baseId. */
  setDir?: string;
}

function checkAbort(signal?: AbortSignal): void {
  if (signal?.aborted) throw new AbortError('E_ABORTED', 'model discovery was aborted');
}

async function statOrNull(p: string): Promise<fs.Stats | null> {
  try {
    return await fs.promises.stat(p);
  } catch {
    return null;
  }
}

async function isFile(p: string): Promise<boolean> {
  return (await statOrNull(p))?.isFile() ?? false;
}

/** The split files of a format named `<stem>-0000i-of-0000N.<ext>` in `dir`, in order, or null. */
async function splitWeightsIn(dir: string, format: (typeof WEIGHT_FORMATS)[number], stem: string): Promise<Part | null> {
  if (!format.split) return null;
  let names: string[];
  try {
    names = await fs.promises.readdir(dir);
  } catch {
    return null;
  }
  const files: string[] = [];
  for (const n of names) if (format.split.parse(n)?.prefix === stem && (await isFile(path.join(dir, n)))) files.push(n);
  if (!files.length) return null;
  const [group] = format.split.group(dir, files, stem);
  return { prefix: '', file: group.files[0], sharded: false, format: format.name, split: group.files };
}

/** The weights of a single-model directory in one format: a file, an index (the file wins
 * if both), or split files. */
async function weightsInFormat(dir: string, format: (typeof WEIGHT_FORMATS)[number], warnings: string[]): Promise<Part | null> {
  for (const stem of format.stems) {
    const single = path.join(dir, stem + format.singleSuffix);
    const index = path.join(dir, stem + format.indexSuffix);
    const [hasSingle, hasIndex] = await Promise.all([isFile(single), isFile(index)]);
    if (hasSingle) {
      if (hasIndex) warnings.push(`${dir}: both ${stem + format.singleSuffix} and ${stem + format.indexSuffix}; read ${stem + format.singleSuffix}`);
      return { prefix: '', file: single, sharded: false, format: format.name };
    }
    if (hasIndex) return { prefix: '', file: index, sharded: true, format: format.name };
    const split = await splitWeightsIn(dir, format, stem);
    if (split) return split;
  }
  return null;
}

/** The weights of a single-model directory, in the first format (by preference) it holds. */
async function weightsIn(dir: string, warnings: string[]): Promise<Part | null> {
  const found: Part[] = [];
  for (const format of WEIGHT_FORMATS) {
    const part = await weightsInFormat(dir, format, found.length ? [] : warnings);
    if (part) found.push(part);
  }
  if (found.length > 1)
    warnings.push(`${dir}: holds ${found.map((p) => path.basename(p.file)).join(' and ')}; read ${path.basename(found[0].file)} (${found[0].format})`);
  return found[0] ?? null;
}

async function subdirectories(dir: string): Promise<string[]> {
  const names = (await fs.promises.readdir(dir)).sort();
  const out: string[] = [];
  for (const name of names) if ((await statOrNull(path.join(dir, name)))?.isDirectory()) out.push(name);
  return out;
}

/** A PEFT adapter directory's weights (adapter_config.json beside adapter_model.*), or null. */
async function adapterIn(dir: string): Promise<Part | null> {
  if (!(await isFile(path.join(dir, ADAPTER_CONFIG)))) return null;
  for (const name of ADAPTER_WEIGHTS) {
    const file = path.join(dir, name);
    if (await isFile(file)) return { prefix: '', file, sharded: false, format: formatOfFile(name)!.name };
  }
  return null;
}

/** AutoGPTQ names its weights `<model_file_base_name>.safetensors` (e.g.
 * gptq_model-4bit-128g.safetensors) in quantize_config.json; null when there is no such file. */
async function autoGptqWeightsIn(dir: string): Promise<Part | null> {
  const config = path.join(dir, 'quantize_config.json');
  const st = await statOrNull(config);
  if (!st?.isFile() || st.size > 1 << 20) return null;
  let base: unknown;
  try {
    base = (JSON.parse(await fs.promises.readFile(config, 'utf8')) as Record<string, unknown>)?.model_file_base_name;
  } catch {
    return null; // the config itself is validated when the model is read
  }
  // A plain file name only: the config may not point outside the directory.
  if (typeof base !== 'string' || !/^[\w][\w.-]*$/.test(base) || base.includes('..')) return null;
  const file = path.join(dir, `${base}.safetensors`);
  return (await isFile(file)) ? { prefix: '', file, sharded: false, format: 'safetensors' } : null;
}

/** A directory as one model, or null when it is not one (it may be a model set). */
async function modelInDirectory(dir: string, warnings: string[]): Promise<ModelPlan | null> {
  const own = (await weightsIn(dir, warnings)) ?? (await autoGptqWeightsIn(dir));
  const adapter = await adapterIn(dir);
  if (own && adapter) warnings.push(`${dir}: holds model weights and a PEFT adapter; read ${path.basename(own.file)}`);
  if (own) return { baseId: baseModelId(dir, false), path: dir, format: own.sharded || own.split ? 'hf-sharded' : 'hf', parts: [own] };
  if (adapter) return { baseId: baseModelId(dir, false), path: dir, format: 'peft', parts: [adapter] };
  const hasModelIndex = await isFile(path.join(dir, 'model_index.json'));
  const parts: Part[] = [];
  for (const sub of await subdirectories(dir)) {
    if (!hasModelIndex && !DIFFUSERS_COMPONENT.test(sub)) continue;
    const w = await weightsIn(path.join(dir, sub), warnings);
    if (w) parts.push({ ...w, prefix: `${sub}/` });
  }
  if (parts.length) return { baseId: baseModelId(dir, false), path: dir, format: 'diffusers', parts };
  if (hasModelIndex)
    throw new InvalidArgumentError(
      'E_INVALID_ARG',
      `${dir}: has model_index.json but no component folder holds weights ` +
        '(diffusion_pytorch_model.safetensors or .bin, model.safetensors, pytorch_model.bin, or their .index.json)',
      { file: dir },
    );
  return null;
}

interface Found {
  models: ModelPlan[];
  lineageFiles: { setDir: string; file: string }[];
}

/** A split model found by its files (`files` in order): one model with id `prefix`, at its first file. */
function splitModel(prefix: string, files: string[], format: WeightFormatName): ModelPlan {
  return { baseId: prefix, path: files[0], format: 'file', parts: [{ prefix: '', file: files[0], sharded: false, format, split: files }] };
}

/** A directory of models: its weight files and model subdirectories. */
async function modelSet(dir: string, warnings: string[]): Promise<Found> {
  const found: Found = { models: [], lineageFiles: [] };
  const entries: { name: string; st: fs.Stats }[] = [];
  for (const name of (await fs.promises.readdir(dir)).sort()) {
    const st = await statOrNull(path.join(dir, name));
    if (st) entries.push({ name, st });
  }
  // Split models first: their files are one model each, not one model per file.
  const inSplit = new Set<string>();
  for (const format of WEIGHT_FORMATS) {
    const split = format.split;
    if (!split) continue;
    const names = entries.filter((e) => e.st.isFile() && formatOfFile(e.name) === format && split.parse(e.name)).map((e) => e.name);
    for (const g of split.group(dir, names)) {
      found.models.push({ ...splitModel(g.prefix, g.files, format.name), setDir: dir });
      for (const f of g.files) inSplit.add(path.basename(f));
    }
  }
  for (const { name, st } of entries) {
    const p = path.join(dir, name);
    if (inSplit.has(name)) continue;
    if (st.isFile()) {
      if (name === LINEAGE_FILE) found.lineageFiles.push({ setDir: dir, file: p });
      else if (TRAINING_STATE.test(name)) warnings.push(`${p}: skipped (training state saved by the Trainer, not model weights)`);
      else if (formatOfFile(name))
        found.models.push({ baseId: baseModelId(p, true), path: p, format: 'file', parts: [{ prefix: '', file: p, sharded: false, format: formatOfFile(name)!.name }], setDir: dir });
      else if (OTHER_WEIGHTS.test(name)) warnings.push(`${p}: skipped (only safetensors, PyTorch .bin/.pt/.pth and GGUF files are read)`);
    } else if (st.isDirectory()) {
      const m = await modelInDirectory(p, warnings);
      if (m) found.models.push({ ...m, setDir: dir });
      else warnings.push(`${p}: skipped (no model in it: no model.safetensors, pytorch_model.bin or shard index)`);
    }
  }
  if (!found.models.length)
    throw new InvalidArgumentError(
      'E_INVALID_ARG',
      `${dir}: no model found (expected .safetensors/.bin/.pt/.pth/.gguf files, model.safetensors, pytorch_model.bin, model.gguf, ` +
        'their .index.json, diffusers component folders, or subfolders holding them)',
      { file: dir },
    );
  return found;
}

async function discoverPath(input: string, warnings: string[]): Promise<Found> {
  const abs = path.resolve(input);
  let st: fs.Stats;
  try {
    st = await fs.promises.stat(abs);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file or directory' : (e as Error).message;
    throw new IoError('E_IO', `${abs}: ${why}`, { file: abs, cause: e });
  }
  if (st.isFile()) {
    const name = path.basename(abs);
    const index = formatOfIndex(name);
    if (index) {
      const dir = path.dirname(abs);
      return { models: [{ baseId: baseModelId(dir, false), path: dir, format: 'hf-sharded', parts: [{ prefix: '', file: abs, sharded: true, format: index.name }] }], lineageFiles: [] };
    }
    const format = formatOfFile(name);
    if (!format)
      throw new InvalidArgumentError('E_INVALID_ARG', `${abs}: not a model (expected a .safetensors, .bin, .pt, .pth or .gguf file, or a directory)`, { file: abs });
    // One file of a split model stands for the whole model, found beside it.
    const split = format.split?.parse(name);
    if (split && format.split) {
      let names: string[];
      try {
        names = await fs.promises.readdir(path.dirname(abs));
      } catch (e) {
        throw new IoError('E_IO', `${path.dirname(abs)}: cannot list the files of the split model '${split.prefix}': ${(e as Error).message}`, { file: abs, cause: e });
      }
      const [group] = format.split.group(path.dirname(abs), names, split.prefix);
      return { models: [splitModel(split.prefix, group.files, format.name)], lineageFiles: [] };
    }
    return { models: [{ baseId: baseModelId(abs, true), path: abs, format: 'file', parts: [{ prefix: '', file: abs, sharded: false, format: format.name }] }], lineageFiles: [] };
  }
  if (!st.isDirectory()) throw new InvalidArgumentError('E_INVALID_ARG', `${abs}: not a file or directory`, { file: abs });
  const single = await modelInDirectory(abs, warnings);
  if (single) return { models: [single], lineageFiles: [] };
  return modelSet(abs, warnings);
}

async function loadModel(plan: ModelPlan, run: Limiter, signal: AbortSignal | undefined, warnings: string[]): Promise<Omit<ModelSource, 'id'>> {
  const files: string[] = [];
  let tensors: TensorEntry[] = [];
  const loaded = await Promise.all(
    plan.parts.map(async (part) => {
      const format = weightFormat(part.format);
      const read = (file: string): Promise<TensorList> =>
        run(async () => {
          checkAbort(signal);
          return format.readTensors(file);
        });
      if (part.sharded) return { part, model: await loadShardedModel(part.file, read) };
      if (part.split) {
        checkAbort(signal);
        const list = await format.split!.readTensors(part.split, run);
        return { part, model: { files: part.split, tensors: list.tensors, warnings: list.warnings } };
      }
      const list = await read(part.file);
      return { part, model: { files: [part.file], tensors: list.tensors, warnings: list.warnings } };
    }),
  );
  for (const { part, model } of loaded) {
    files.push(...model.files);
    warnings.push(...model.warnings);
    for (const t of model.tensors) tensors.push({ ...t, name: part.prefix + t.name });
  }
  // GPTQ/AWQ Linears become one unpacked weight each; bitsandbytes weights are refused.
  if (plan.format !== 'peft') {
    const quantConfig = plan.format === 'hf' || plan.format === 'hf-sharded' ? await readQuantConfig(plan.path) : undefined;
    tensors = unpackQuantizedTensors(tensors, quantConfig, plan.path);
  }
  let bytes = 0;
  let params = 0;
  for (const t of tensors) {
    bytes += t.byteLength;
    params += elementCount(t.shape);
  }
  const weightFormats = [...new Set(plan.parts.map((p) => p.format))].sort();
  const source: Omit<ModelSource, 'id'> = { path: plan.path, format: plan.format, weightFormats, files, tensors, bytes, params };
  const splitFiles = plan.parts.reduce((n, p) => n + (p.split && p.split.length > 1 ? p.split.length : 0), 0);
  if (splitFiles) source.ggufSplit = { files: splitFiles };
  if (plan.format === 'peft') source.adapter = await readAdapter(plan.path, files[0], tensors);
  return source;
}

/** An adapter's config, the base it asks for, and its LoRA pairs (kept for resolveAdapters). */
async function readAdapter(dir: string, weights: string, tensors: TensorEntry[]): Promise<AdapterInfo> {
  const cfg = await readPeftConfig(path.join(dir, ADAPTER_CONFIG));
  const pairs = pairAdapterTensors(tensors, cfg, weights);
  const info: AdapterInfo = { configFile: cfg.file, rank: cfg.rank, pairs: pairs.pairs.length };
  let readme: string | undefined;
  try {
    const f = path.join(dir, 'README.md');
    if ((await fs.promises.stat(f)).size <= 1 << 20) readme = await fs.promises.readFile(f, 'utf8');
  } catch {
    /* no README */
  }
  const wants = cfg.base ?? (readme ? readmeBaseModel(readme) : undefined);
  if (wants) info.wants = wants;
  adapterTensors.set(info, pairs);
  return info;
}

async function realpathOr(p: string): Promise<string> {
  try {
    return await fs.promises.realpath(p);
  } catch {
    return p;
  }
}

/**
 * Discovers the models at `paths` (files, model directories, model-set directories) and
 * reads their headers, concurrently but bounded. Models are sorted by id.
 */
export async function openModels(paths: string[], opts: OpenModelsOptions = {}): Promise<ModelSet> {
  if (!Array.isArray(paths) || paths.length === 0) throw new InvalidArgumentError('E_INVALID_ARG', 'openModels: no paths given');
  for (const p of paths)
    if (typeof p !== 'string' || p.length === 0) throw new InvalidArgumentError('E_INVALID_ARG', 'openModels: paths must be non-empty strings');
  const { signal } = opts;
  const concurrency = opts.concurrency ?? 8;
  checkAbort(signal);
  const warnings: string[] = [];
  const plans: ModelPlan[] = [];
  const lineageFiles: { setDir: string; file: string }[] = [];
  const seenLineage = new Set<string>();
  // Set membership survives deduplication: a model given directly and through its set is
  // still the model its set's lineage.json names.
  const members: { setDir: string; baseId: string; plan: number }[] = [];
  const seen = new Map<string, number>(); // real path -> index in plans
  for (const p of paths) {
    checkAbort(signal);
    const found = await discoverPath(p, warnings);
    for (const l of found.lineageFiles) {
      const real = await realpathOr(l.file);
      if (!seenLineage.has(real)) lineageFiles.push(l);
      seenLineage.add(real);
    }
    for (const m of found.models) {
      const real = await realpathOr(m.path);
      let index = seen.get(real);
      if (index !== undefined) {
        // The files of one split model given one by one (x-*.gguf) are that model, no mistake.
        const sameSplit = m.parts[0]?.split && m.path === plans[index].path && m.format === 'file';
        if (!sameSplit) warnings.push(`${m.path}: the same model as ${plans[index].path}; read once`);
      } else {
        index = plans.push(m) - 1;
        seen.set(real, index);
      }
      if (m.setDir !== undefined) members.push({ setDir: m.setDir, baseId: m.baseId, plan: index });
    }
  }

  // Ground truth is checked before any header is read: a bad lineage.json fails fast.
  const lineages = await Promise.all(lineageFiles.map(async (l) => ({ ...l, raw: await readLineage(l.file) })));

  // Two limiters: models in flight (each may read a shard index) and header reads. One
  // shared limiter could deadlock, a model holding a slot while waiting for its shards.
  const runHeader = createLimiter(concurrency);
  const runModel = createLimiter(concurrency);
  const perModel: string[][] = plans.map(() => []);
  const sources = await Promise.all(plans.map((plan, i) => runModel(() => loadModel(plan, runHeader, signal, perModel[i]))));
  checkAbort(signal);
  perModel.forEach((w) => warnings.push(...w));

  const ids = uniqueModelIds(plans.map((p) => ({ path: p.path, baseId: p.baseId })));
  const all: ModelSource[] = sources.map((s, i) => ({ id: ids[i], ...s }));
  const models = resolveAdapters(all, { adapterBases: opts.adapterBases, keepUnresolved: opts.keepUnresolvedAdapters }, warnings);

  let lineage: Lineage | undefined;
  for (const { setDir, file, raw } of lineages) {
    const rename = new Map<string, string>();
    const ambiguous = new Set<string>();
    for (const m of members.filter((x) => x.setDir === setDir)) {
      if (rename.has(m.baseId) && rename.get(m.baseId) !== ids[m.plan]) ambiguous.add(m.baseId);
      rename.set(m.baseId, ids[m.plan]);
    }
    const unknown = new Set<string>();
    const unclear = new Set<string>();
    const renamed = renameLineage(raw, (id) => {
      if (ambiguous.has(id)) {
        unclear.add(id);
        return id;
      }
      const to = rename.get(id);
      if (to === undefined) unknown.add(id);
      return to ?? id;
    });
    if (unknown.size)
      warnings.push(`${file}: names model(s) not found in ${setDir}: ${[...unknown].sort().join(', ')}`);
    if (unclear.size)
      warnings.push(`${file}: names model(s) that are ambiguous in ${setDir} (a file and a folder of one name): ${[...unclear].sort().join(', ')}`);
    lineage = lineage
      ? { edges: [...lineage.edges, ...renamed.edges], families: [...lineage.families, ...renamed.families] }
      : renamed;
  }

  models.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const set: ModelSet = { models, warnings };
  if (lineage) set.lineage = lineage;
  return set;
}

/**
 * The models at `paths` as openModels would find them (path and id), sorted by path, without
 * reading any header: cheap enough for each task of a job array to list a huge folder and
 * open only its own share (lib/hub, `phylogeny index add --task`).
 */
export async function listModelPaths(paths: string[]): Promise<{ path: string; id: string }[]> {
  const warnings: string[] = [];
  const out = new Map<string, string>();
  for (const p of paths) for (const m of (await discoverPath(p, warnings)).models) if (!out.has(m.path)) out.set(m.path, m.baseId);
  return [...out].map(([p, id]) => ({ path: p, id })).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
