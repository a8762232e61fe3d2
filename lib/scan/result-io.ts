/**
 * ScanResult files: save, load (validated, with errors naming the file) and merge of partial
 * scans over disjoint tensor shards (`phylogeny scan --shard i/n`, then `phylogeny merge`).
 * Each tensor's numbers depend only on that tensor's bytes, so a merge equals the full scan.
 */
import * as fs from 'fs';
import { FormatError, InvalidArgumentError, IoError } from '../errors';
import { compareGroupKeys } from './align';
import type { ScanBackend, ScanResult } from './types';

/** The backend of a run recorded before `run.backend` existed: those files name it in
 * `device` ('cpu', 'cuda', or both joined by '+' after a merge). */
export function backendOf(run: { backend?: unknown; device?: unknown }): ScanBackend {
  if (run.backend === 'cpu' || run.backend === 'cuda' || run.backend === 'cpu+cuda') return run.backend;
  const parts = String(run.device ?? 'cpu').split('+');
  return joinBackends(parts.map((d): ScanBackend => (d === 'cuda' ? 'cuda' : 'cpu')));
}

/** One backend for several runs: the single one, or 'cpu+cuda' when they differ. */
function joinBackends(backends: ScanBackend[]): ScanBackend {
  const set = new Set(backends.flatMap((b) => b.split('+')));
  return set.size > 1 ? 'cpu+cuda' : set.has('cuda') ? 'cuda' : 'cpu';
}

export function saveScan(path: string, result: ScanResult): void {
  const tmp = `${path}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(result));
  fs.renameSync(tmp, path);
}

function fail(path: string, why: string): never {
  throw new FormatError('E_FORMAT', `${path}: not a valid scan result: ${why}`, { file: path });
}

/** Checks the structure of a parsed scan result (throws FormatError naming `path`). */
export function validateScan(obj: unknown, path: string): ScanResult {
  const r = obj as ScanResult;
  if (!r || typeof r !== 'object') fail(path, 'not a JSON object');
  if (r.format !== 'neural-phylogeny/scan') fail(path, `"format" must be "neural-phylogeny/scan"`);
  if (r.version !== 1) fail(path, `unsupported version ${String(r.version)}`);
  if (!Array.isArray(r.models)) fail(path, '"models" must be an array');
  if (!Array.isArray(r.tensors)) fail(path, '"tensors" must be an array');
  const M = r.models.length;
  r.models.forEach((m, i) => {
    const a = m?.adapter;
    if (a === undefined) return;
    if (!a || typeof a.base !== 'string' || !r.models.some((o) => o?.id === a.base) || !(Number.isInteger(a.rank) && a.rank >= 1)) {
      fail(path, `model ${i} (${String(m?.id)}): "adapter" must name a base among the models and a positive integer rank`);
    }
  });
  r.tensors.forEach((t, i) => {
    const where = `tensor ${i} (${String(t?.name)})`;
    if (!t || typeof t.name !== 'string' || !Array.isArray(t.models)) fail(path, `${where}: missing name or models`);
    const k = t.models.length;
    if (t.models.some((m) => !Number.isInteger(m) || m < 0 || m >= M)) fail(path, `${where}: model index out of range`);
    for (const key of ['sum', 'sumSq', 'sumCube', 'sumQuad', 'fakeInitSq'] as const) {
      if (!Array.isArray(t[key]) || t[key].length !== k) fail(path, `${where}: "${key}" must have ${k} numbers`);
    }
    if (!Array.isArray(t.gram) || t.gram.length !== k || t.gram.some((row) => !Array.isArray(row) || row.length !== k)) {
      fail(path, `${where}: "gram" must be ${k}×${k}`);
    }
  });
  if (r.counters !== undefined) {
    if (!Array.isArray(r.counters)) fail(path, '"counters" must be an array');
    r.counters.forEach((c, i) => {
      if (!c || typeof c.name !== 'string' || !Array.isArray(c.values) || c.values.length !== M) fail(path, `counter ${i}: needs a name and ${M} values`);
      if (c.values.some((v) => v !== null && !(Number.isSafeInteger(v) && v >= 0))) fail(path, `counter ${i} (${c.name}): values must be non-negative integers or null`);
    });
  }
  if (r.run && typeof r.run === 'object') r.run.backend = backendOf(r.run);
  return r;
}

export function loadScan(path: string): ScanResult {
  let text: string;
  try {
    text = fs.readFileSync(path, 'utf8');
  } catch (e) {
    throw new IoError('E_IO', `${path}: cannot read scan result: ${(e as Error).message}`, { file: path });
  }
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch (e) {
    fail(path, `invalid JSON (${(e as Error).message})`);
  }
  return validateScan(obj, path);
}

/** Merges partial scans of the same models, seed and fake init over disjoint tensors. */
export function mergeScans(parts: { path: string; scan: ScanResult }[]): ScanResult {
  if (parts.length === 0) throw new InvalidArgumentError('E_INVALID_ARG', 'merge: no scan results given');
  const first = parts[0];
  const sameModels = (a: ScanResult, b: ScanResult) =>
    a.models.length === b.models.length && a.models.every((m, i) => m.id === b.models[i].id && m.path === b.models[i].path);
  const seen = new Map<string, string>();
  const tensors: ScanResult['tensors'] = [];
  const skipped = new Map<string, ScanResult['skipped'][number]>();
  for (const { path, scan } of parts) {
    if (!sameModels(first.scan, scan)) fail(path, `its models differ from those of ${first.path}`);
    if (scan.seed !== first.scan.seed) fail(path, `seed ${scan.seed} differs from ${first.scan.seed} in ${first.path}`);
    if (scan.fakeInit !== first.scan.fakeInit) fail(path, `fake-init '${scan.fakeInit}' differs from '${first.scan.fakeInit}'`);
    for (const t of scan.tensors) {
      const key = `${t.name}\u0000${t.shape.join('x')}`;
      const other = seen.get(key);
      if (other !== undefined) fail(path, `tensor '${t.name}' ${JSON.stringify(t.shape)} is also in ${other}: parts must be disjoint`);
      seen.set(key, path);
      tensors.push(t);
    }
    for (const s of scan.skipped ?? []) skipped.set(`${s.model}\u0000${s.tensor}`, s);
  }
  tensors.sort(compareGroupKeys);
  const counts = parts.map((p) => p.scan.shard?.count).filter((c): c is number => c !== undefined);
  const indices = new Set(parts.map((p) => p.scan.shard?.index));
  const merged: ScanResult = {
    format: 'neural-phylogeny/scan',
    version: 1,
    models: first.scan.models,
    seed: first.scan.seed,
    fakeInit: first.scan.fakeInit,
    tensors,
    skipped: [...skipped.values()],
    run: {
      backend: joinBackends(parts.map((p) => p.scan.run.backend)),
      device: [...new Set(parts.map((p) => p.scan.run.device))].join('+'),
      isa: [...new Set(parts.map((p) => p.scan.run.isa))].join('+'),
      threads: Math.max(...parts.map((p) => p.scan.run.threads)),
      seconds: parts.reduce((s, p) => s + p.scan.run.seconds, 0),
      bytes: parts.reduce((s, p) => s + p.scan.run.bytes, 0),
    },
  };
  // Every shard reads every counter (they are not sharded), so the first part's stand.
  const withCounters = parts.find((p) => p.scan.counters);
  if (withCounters) merged.counters = withCounters.scan.counters;
  // A complete set of shards gives a full scan; an incomplete one stays marked partial.
  if (counts.length && (indices.size !== counts[0] || counts.some((c) => c !== counts[0]))) {
    merged.shard = { index: -1, count: counts[0] };
  }
  return merged;
}
