/**
 * Adding models to an index: list the models at the paths (no header read), keep this task's
 * share (`task` i/n: every n-th model from the i-th, 1-based, in path order, so the tasks of a
 * job array split a folder without talking to each other), skip files whose path, size and
 * mtime the index knows, fingerprint the rest, and commit them in batches (each batch one
 * transaction).
 */
import * as fs from 'fs';
import * as path from 'path';
import { InvalidArgumentError } from '../errors';
import { matchesBaseName } from '../io/adapters';
import { listModelPaths, openModels } from '../io/discover';
import type { ModelSource } from '../io/types';
import { fingerprintModel, keepRateOfModel } from './fingerprint';
import { DEFAULT_FINGERPRINT_CONFIG, FingerprintConfig, probeConfigOf } from './sample';
import { archSignature, contentHash, sketchOf, tensorSetSignature } from './signature';
import { FileStamp, FingerprintIndex, ModelPath, NewModel } from './store';

export interface Task {
  /** 0-based. */
  index: number;
  count: number;
}

/** Parses "i/n" (1-based i) into a 0-based Task. */
export function parseTask(text: string): Task {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  if (!m) throw new InvalidArgumentError('E_INVALID_ARG', `task must look like i/n (e.g. 3/100), got '${text}'`);
  const i = Number(m[1]);
  const n = Number(m[2]);
  if (n < 1 || i < 1 || i > n) throw new InvalidArgumentError('E_INVALID_ARG', `task ${text}: need 1 <= i <= n`);
  return { index: i - 1, count: n };
}

export interface AddProgress {
  done: number;
  total: number;
  added: number;
  skipped: number;
  /** The model just handled. */
  path: string;
  bytesRead: number;
}

export interface AddOptions {
  /** Created with this config when the index does not exist (default DEFAULT_FINGERPRINT_CONFIG). */
  config?: FingerprintConfig;
  task?: Task | string;
  /** Fake-init spec (default: per model, as the scan would choose for it alone). */
  fakeInit?: string;
  /** Models per transaction (default 32). */
  batch?: number;
  onProgress?: (p: AddProgress) => void;
  signal?: AbortSignal;
}

export interface AddSummary {
  index: string;
  listed: number;
  /** Models this task handled. */
  selected: number;
  added: number;
  /** Already indexed (known path stamp or known content hash). */
  skipped: number;
  bytesRead: number;
  modelBytes: number;
  seconds: number;
  warnings: string[];
}

async function stampsOf(model: ModelSource): Promise<{ path: string; size: number; mtimeMs: number }[]> {
  return Promise.all(model.files.map(async (f) => {
    const st = await fs.promises.stat(f);
    return { path: f, size: st.size, mtimeMs: st.mtimeMs };
  }));
}

/** Builds the index row of one opened model. */
export async function indexRecord(model: ModelSource, config: FingerprintConfig, fakeInit?: string, adapterBase?: string): Promise<NewModel> {
  const fingerprint = await fingerprintModel(model, { config, fakeInit });
  if (model.adapter && adapterBase) fingerprint.adapter = { basePath: adapterBase, rank: model.adapter.rank };
  // A model kept whole only because of wholeParams also gets its probe (sample.ts): a second
  // read, of a model of at most wholeParams parameters.
  const pc = probeConfigOf(config);
  const probe = keepRateOfModel(model, config) === 1 && keepRateOfModel(model, pc) < 1 ? await fingerprintModel(model, { config: pc, fakeInit: fingerprint.fakeInit }) : undefined;
  return {
    ...(probe ? { probe } : {}),
    hash: contentHash(fingerprint),
    id: model.id,
    path: model.path,
    arch: archSignature(fingerprint),
    tensorSet: tensorSetSignature(fingerprint),
    params: fingerprint.params,
    bytes: fingerprint.bytes,
    bytesRead: fingerprint.bytesRead,
    fingerprint,
    sketch: sketchOf(fingerprint),
  };
}

/** The first model of a new index, opened and fingerprinted while the index is created. */
async function firstRecord(entry: { path: string; id: string }, config: FingerprintConfig, opts: AddOptions) {
  const set = await openModels([entry.path], { signal: opts.signal });
  // Not a model on its own (an adapter needs its base): left to the ordinary path.
  if (set.models.length !== 1 || set.models[0].path !== entry.path) throw new InvalidArgumentError('E_INVALID_ARG', `${entry.path}: not one model on its own`);
  const rec = await indexRecord({ ...set.models[0], id: entry.id }, config, opts.fakeInit);
  return { set, rec };
}

export async function addToIndex(indexDir: string, paths: string[], opts: AddOptions = {}): Promise<AddSummary> {
  const started = Date.now();
  const mine = await selectModels(paths, opts);
  const config = opts.config ?? DEFAULT_FINGERPRINT_CONFIG;
  // The first model is opened and fingerprinted while DuckDB opens (or creates) the database:
  // for one 7B-shaped model each is a good part of the add (about 0.02 s to open, 0.05 s to
  // fingerprint, here). If the index turns out to know the file already, that one fingerprint
  // was read for nothing; every later model is checked before it is read.
  const opening = FingerprintIndex.open(indexDir, { create: true, config, oneThread: true });
  const early = mine.selected.length && !opts.signal?.aborted ? firstRecord(mine.selected[0], config, opts) : undefined;
  // Its failure is handled where it is awaited; until then it must not count as unhandled.
  early?.catch(() => undefined);
  let index: FingerprintIndex;
  try {
    index = await opening;
  } catch (e) {
    await early?.catch(() => undefined);
    throw e;
  }
  try {
    // (Read with the config asked for: the index's own, unless another process created it meanwhile.)
    const first = early && JSON.stringify(index.config) === JSON.stringify(config) ? early : undefined;
    return await addSelected(index, mine, opts, started, first);
  } finally {
    await early?.catch(() => undefined);
    index.close();
  }
}

/**
 * Adds models to an index the caller has opened and will close: what a long-running indexer
 * (or a script adding models one at a time) does, so that opening DuckDB and its closing
 * checkpoint are paid once, not per call. Same selection, skipping and batching as addToIndex.
 */
export async function addToOpenIndex(index: FingerprintIndex, paths: string[], opts: AddOptions = {}): Promise<AddSummary> {
  const started = Date.now();
  return addSelected(index, await selectModels(paths, opts), opts, started);
}

type Listed = Awaited<ReturnType<typeof listModelPaths>>;

async function selectModels(paths: string[], opts: AddOptions): Promise<{ listed: number; selected: Listed; all: Listed }> {
  const task = typeof opts.task === 'string' ? parseTask(opts.task) : opts.task;
  const listed = await listModelPaths(paths);
  return { listed: listed.length, selected: task ? listed.filter((_, i) => i % task.count === task.index) : listed, all: listed };
}

/**
 * The path of a PEFT adapter's base among the models of this add (all tasks' shares: a job
 * array's task may hold an adapter whose base another task indexes), for an adapter that
 * discovery opened alone and so could not resolve: the base it names (discovery's `wants`:
 * base_model_name_or_path, or its README's base_model) matched as the scan matches it, against
 * a listed model's id or folder name. Undefined when there is none, or more than one.
 */
function adapterBaseAmong(adapter: ModelSource, all: Listed): string | undefined {
  const wants = adapter.adapter?.wants;
  if (!wants) return undefined;
  const found = all.filter((e) => e.path !== adapter.path && (matchesBaseName(wants, e.id) || matchesBaseName(wants, path.basename(e.path))));
  return found.length === 1 ? found[0].path : undefined;
}

async function addSelected(
  index: FingerprintIndex,
  models: { listed: number; selected: Listed; all: Listed },
  opts: AddOptions,
  started: number,
  early?: ReturnType<typeof firstRecord>,
): Promise<AddSummary> {
  const mine = models.selected;
  const batchSize = Math.max(1, opts.batch ?? 32);
  const summary: AddSummary = { index: index.dir, listed: models.listed, selected: mine.length, added: 0, skipped: 0, bytesRead: 0, modelBytes: 0, seconds: 0, warnings: [] };
  let pending: NewModel[] = [];
  let stamps: FileStamp[] = [];
  let paths: ModelPath[] = [];
  const flush = async () => {
    if (pending.length || stamps.length || paths.length) await index.addBatch(pending, stamps, paths);
    pending = [];
    stamps = [];
    paths = [];
  };
  const seen = new Set<string>();
  for (let i = 0; i < mine.length; i++) {
    if (opts.signal?.aborted) break;
    const entry = mine[i];
    // A first model the early read could not handle goes the ordinary way: skipped if the index
    // knows it, else read again and its error reported from there.
    const first = i === 0 && early ? await early.catch(() => undefined) : undefined;
    let set = first?.set ?? (await openModels([entry.path], { signal: opts.signal, keepUnresolvedAdapters: true }));
    // An adapter alone keeps only its own tensors: it is opened again with its base (its rows
    // are formed over the base's), or left out with discovery's reason.
    const alone = set.models.find((m) => m.path === entry.path && m.adapter && m.adapter.baseId === undefined);
    if (alone) {
      const base = adapterBaseAmong(alone, models.all);
      set = await openModels(base ? [entry.path, base] : [entry.path], { signal: opts.signal });
    }
    summary.warnings.push(...set.warnings);
    const opened = set.models.find((m) => m.path === entry.path);
    if (!opened) {
      // The set's warning says why (an adapter whose base is not among the paths of this add).
      summary.warnings.push(`${entry.path}: not indexed`);
      opts.onProgress?.({ done: i + 1, total: mine.length, added: summary.added, skipped: summary.skipped, path: entry.path, bytesRead: summary.bytesRead });
      continue;
    }
    const model = { ...opened, id: entry.id };
    const fileStamps = await stampsOf(model);
    const known = await Promise.all(fileStamps.map((s) => index.knownFile(s.path, s.size, s.mtimeMs)));
    let handled = false;
    if (known.every((h) => h !== undefined) && new Set(known).size === 1 && (await index.hasModel(known[0]!))) {
      summary.skipped++;
      handled = true;
    }
    if (!handled) {
      const baseOf = opened.adapter?.baseId === undefined ? undefined : set.models.find((m) => m.id === opened.adapter!.baseId)?.path;
      const rec = first?.rec ?? (await indexRecord(model, index.config, opts.fakeInit, baseOf));
      summary.bytesRead += rec.bytesRead;
      summary.modelBytes += rec.bytes;
      if (seen.has(rec.hash) || (await index.hasModel(rec.hash))) summary.skipped++;
      else {
        pending.push(rec);
        seen.add(rec.hash);
        summary.added++;
      }
      stamps.push(...fileStamps.map((s) => ({ ...s, hash: rec.hash })));
      // Every path, so that a model found twice is reported as a duplicate (detectIndex).
      paths.push({ path: entry.path, id: entry.id, hash: rec.hash });
    }
    opts.onProgress?.({ done: i + 1, total: mine.length, added: summary.added, skipped: summary.skipped, path: entry.path, bytesRead: summary.bytesRead });
    if (pending.length >= batchSize) await flush();
  }
  await flush();
  summary.seconds = (Date.now() - started) / 1000;
  return summary;
}
