/**
 * buildZoo: builds one preset into a directory (model files, then lineage.json and models.json).
 * ensureZoo: the same, but reuses a directory whose models.json was built by this code version
 * with the same options (the demo and eval call it; cache under $XDG_CACHE_HOME or ~/.cache).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { cacheKeyOf, LINEAGE_JSON, MODELS_JSON, readLineage, readManifest, writeManifest, ZOO_CODE_VERSION } from './manifest';
import { PresetBuilder } from './presets/context';
import { mnistCnnPreset } from './presets/mnist-cnn';
import { mnistFcPreset } from './presets/mnist-fc';
import { syntheticLargePreset } from './presets/synthetic-large';
import { tinyLlamaPreset } from './presets/tiny-llama';
import { regimesPreset } from './presets/regimes';
import { hubPreset } from './presets/hub';
import { tinyUnetPreset } from './presets/tiny-unet';
import { ZOO_PRESETS, ZooManifest, ZooOptions, ZooPreset, ZooSummary } from './types';
import { InvalidArgumentError } from '../errors';

const PRESETS: Record<ZooPreset, PresetBuilder> = {
  'mnist-fc': mnistFcPreset,
  'mnist-cnn': mnistCnnPreset,
  'tiny-llama': tinyLlamaPreset,
  'synthetic-large': syntheticLargePreset,
  regimes: regimesPreset,
  hub: hubPreset,
  'tiny-unet': tinyUnetPreset,
};

function presetOf(opts: ZooOptions): PresetBuilder {
  const p = PRESETS[opts.preset];
  if (!p) throw new InvalidArgumentError('E_INVALID_ARG', `unknown zoo preset '${opts.preset}' (known: ${ZOO_PRESETS.join(', ')})`);
  if (opts.scale !== undefined && opts.scale !== 'small' && opts.scale !== 'paper') throw new InvalidArgumentError('E_INVALID_ARG', `scale must be 'small' or 'paper' (got '${opts.scale}')`);
  if (opts.seed !== undefined && (!Number.isInteger(opts.seed) || opts.seed < 0)) throw new InvalidArgumentError('E_INVALID_ARG', `seed must be a non-negative integer (got ${opts.seed})`);
  return p;
}

function summaryOf(dir: string, manifest: ZooManifest, cached: boolean): ZooSummary {
  return {
    ...manifest,
    outDir: dir,
    modelsJson: path.join(dir, MODELS_JSON),
    lineageJson: path.join(dir, LINEAGE_JSON),
    lineage: readLineage(dir),
    cached,
  };
}

/**
 * Removes the models an earlier zoo in `dir` listed (and its JSON files): stale models would be
 * discovered beside the new ones. Files the zoo did not write are left alone.
 */
function removePreviousZoo(dir: string): void {
  const old = readManifest(dir);
  fs.rmSync(path.join(dir, MODELS_JSON), { force: true });
  fs.rmSync(path.join(dir, LINEAGE_JSON), { force: true });
  for (const m of old?.models ?? []) {
    const p = path.resolve(dir, m.path);
    if (path.dirname(p) === dir) fs.rmSync(p, { recursive: true, force: true });
  }
}

export async function buildZoo(opts: ZooOptions): Promise<ZooSummary> {
  const preset = presetOf(opts);
  const t0 = Date.now();
  const outDir = path.resolve(opts.outDir);
  fs.mkdirSync(outDir, { recursive: true });
  removePreviousZoo(outDir);
  const options = preset.normalize(opts);
  const log = opts.log ?? (() => undefined);
  const result = await preset.build({
    outDir,
    seed: opts.seed ?? 0,
    scale: opts.scale ?? 'small',
    options: opts,
    progress: (p) => opts.onProgress?.({ preset: opts.preset, ...p }),
    log,
  });
  const manifest: ZooManifest = {
    generator: 'neural-phylogeny zoo',
    codeVersion: ZOO_CODE_VERSION,
    preset: opts.preset,
    scale: opts.scale ?? 'small',
    seed: opts.seed ?? 0,
    options,
    cacheKey: cacheKeyOf(options),
    synthetic: result.synthetic,
    backend: result.backend,
    datasets: result.datasets,
    notes: result.notes,
    buildSeconds: (Date.now() - t0) / 1000,
    models: result.models,
  };
  writeManifest(outDir, manifest);
  opts.onProgress?.({ preset: opts.preset, phase: 'done', model: result.models.length, models: result.models.length });
  log(`zoo ${opts.preset} (${manifest.scale}, seed ${manifest.seed}): ${result.models.length} models in ${manifest.buildSeconds.toFixed(1)} s → ${outDir}`);
  return summaryOf(outDir, readManifest(outDir) as ZooManifest, false);
}

/** Root of cached zoos: $NEURAL_PHYLOGENY_CACHE, else $XDG_CACHE_HOME/neural-phylogeny, else ~/.cache/neural-phylogeny. */
export function zooCacheRoot(): string {
  if (process.env.NEURAL_PHYLOGENY_CACHE) return path.join(process.env.NEURAL_PHYLOGENY_CACHE, 'zoos');
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'neural-phylogeny', 'zoos');
}

/** True when `dir` holds a complete zoo built by this code version with these options. */
export function zooIsCurrent(dir: string, opts: Omit<ZooOptions, 'outDir'>): boolean {
  const preset = presetOf({ ...opts, outDir: dir });
  const m = readManifest(dir);
  if (!m || m.codeVersion !== ZOO_CODE_VERSION || m.cacheKey !== cacheKeyOf(preset.normalize({ ...opts, outDir: dir }))) return false;
  if (!fs.existsSync(path.join(dir, LINEAGE_JSON))) return false;
  return m.models.every((r) => fs.existsSync(path.join(dir, r.path)));
}

/**
 * Returns the zoo for these options, building it only when no current one exists. Without
 * `outDir` it lives in zooCacheRoot()/<preset>-<scale>-seed<seed>-<key>.
 */
export async function ensureZoo(opts: Omit<ZooOptions, 'outDir'> & { outDir?: string }): Promise<ZooSummary> {
  const preset = presetOf({ ...opts, outDir: opts.outDir ?? '.' });
  const key = cacheKeyOf(preset.normalize({ ...opts, outDir: '.' }));
  const dir = path.resolve(opts.outDir ?? path.join(zooCacheRoot(), `${opts.preset}-${opts.scale ?? 'small'}-seed${opts.seed ?? 0}-${key.slice(0, 8)}`));
  if (zooIsCurrent(dir, opts)) {
    opts.log?.(`reusing cached zoo ${dir}`);
    return summaryOf(dir, readManifest(dir) as ZooManifest, true);
  }
  if (!opts.outDir) fs.rmSync(dir, { recursive: true, force: true }); // our own cache entry: start clean
  return buildZoo({ ...opts, outDir: dir });
}
