/**
 * A detector directory: detector.json (format, versions, options, training record) and
 * weights.safetensors (every variable by name, plus the folded encoder the native forward
 * runs). Loading checks the format version and the package's major.minor version and names
 * the directory in any refusal.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { decodeToFloat32 } from '../io/dtype';
import { readHeaderSync } from '../io/safetensors';
import { writeSafetensors } from '../io/safetensors-writer';
import { VERSION } from '../version';
import { createRng } from '../graph';
import { foldEncoder } from './encoder';
import { resolveOptions } from '../detect/resolve-options';
import { EDGE_FEATURES, NODE_FEATURES } from './features';
import { isTreeGate } from './tree-gate';
import { createDetector, DEFAULT_CONFIG, DetectorConfig, DetectorVars, LEGACY_TREE_OPTIONS, namedVars, type TreeRootOptions } from './model';
import { treeDetectOptions } from './tree-features';

export const DETECTOR_FORMAT = 'neural-phylogeny/detector';
export const DETECTOR_FORMAT_VERSION = 1;
export const DETECTOR_JSON = 'detector.json';
export const DETECTOR_WEIGHTS = 'weights.safetensors';

export interface DetectorManifest {
  format: typeof DETECTOR_FORMAT;
  formatVersion: number;
  packageVersion: string;
  config: DetectorConfig;
  edgeFeatures: string[];
  nodeFeatures: string[];
  /** How it was trained: zoos, seed, epochs, split, history, test accuracy. */
  training: Record<string, unknown>;
  createdAt: string;
}

export class DetectorLoadError extends Error {
  constructor(readonly dir: string, message: string) {
    super(`detector ${dir}: ${message}`);
    this.name = 'DetectorLoadError';
  }
}

const majorMinor = (v: string) => v.split('.').slice(0, 2).join('.');

export function saveDetector(dir: string, model: DetectorVars, training: Record<string, unknown>): void {
  fs.mkdirSync(dir, { recursive: true });
  const tensors = [...namedVars(model)].map(([name, v]) => ({ name, dtype: 'F32' as const, shape: v.shape, data: v.dataSync() as Float32Array }));
  const folded = foldEncoder(model.encoder);
  for (const [k, shape] of [['w1', [2, folded.channels]], ['b1', [folded.channels]], ['w2', [3, 3, folded.channels, 32]], ['b2', [32]]] as const) {
    tensors.push({ name: `folded/${k}`, dtype: 'F32', shape: [...shape], data: folded[k] });
  }
  writeSafetensors(path.join(dir, DETECTOR_WEIGHTS), tensors, { format: DETECTOR_FORMAT, formatVersion: String(DETECTOR_FORMAT_VERSION) });
  const manifest: DetectorManifest = {
    format: DETECTOR_FORMAT,
    formatVersion: DETECTOR_FORMAT_VERSION,
    packageVersion: VERSION,
    config: model.config,
    edgeFeatures: [...EDGE_FEATURES],
    nodeFeatures: [...NODE_FEATURES],
    training,
    createdAt: new Date().toISOString(),
  };
  fs.writeFileSync(path.join(dir, DETECTOR_JSON), JSON.stringify(manifest, null, 2) + '\n');
}

/** Why `x` is not a TreeRootOptions, or null: both keys present, and values detect accepts
 * (resolveOptions holds the rules, so they are written once). */
function treeOptionsProblem(x: unknown): string | null {
  if (typeof x !== 'object' || x === null || !('familyFlip' in x) || !('familyNoise' in x)) return 'not an object with familyFlip and familyNoise';
  try {
    resolveOptions(treeDetectOptions(x as TreeRootOptions));
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

export function readDetectorManifest(dir: string): DetectorManifest {
  const file = path.join(dir, DETECTOR_JSON);
  if (!fs.existsSync(file)) throw new DetectorLoadError(dir, `no ${DETECTOR_JSON} (not a detector directory; make one with \`phylogeny train\`)`);
  let m: DetectorManifest;
  try {
    m = JSON.parse(fs.readFileSync(file, 'utf8')) as DetectorManifest;
  } catch (e) {
    throw new DetectorLoadError(dir, `${DETECTOR_JSON} is not valid JSON (${(e as Error).message})`);
  }
  if (m.format !== DETECTOR_FORMAT) throw new DetectorLoadError(dir, `format is ${JSON.stringify(m.format)}, expected ${DETECTOR_FORMAT}`);
  if (m.formatVersion !== DETECTOR_FORMAT_VERSION) throw new DetectorLoadError(dir, `format version ${m.formatVersion}; this neural-phylogeny ${VERSION} reads version ${DETECTOR_FORMAT_VERSION} (retrain it)`);
  if (typeof m.packageVersion !== 'string' || majorMinor(m.packageVersion) !== majorMinor(VERSION)) {
    throw new DetectorLoadError(dir, `trained with neural-phylogeny ${m.packageVersion}, this is ${VERSION} (features may differ: retrain it)`);
  }
  if (JSON.stringify(m.edgeFeatures) !== JSON.stringify(EDGE_FEATURES) || JSON.stringify(m.nodeFeatures) !== JSON.stringify(NODE_FEATURES)) {
    throw new DetectorLoadError(dir, 'its features differ from this version\'s (retrain it)');
  }
  const to = (m.config as Partial<DetectorConfig> | undefined)?.treeOptions as unknown;
  const problem = to === undefined ? null : treeOptionsProblem(to);
  if (problem !== null) throw new DetectorLoadError(dir, `config.treeOptions must be additive-tree options { familyFlip, familyNoise[, evidenceTemper, fakeInitAbstain, treeModel, tinyStep, unchangedTensors, nearTwins, forgetting, tensorMajority] }, got ${JSON.stringify(to)} (${problem})`);
  const gate = (m.config as Partial<DetectorConfig> | undefined)?.treeGate as unknown;
  if (gate !== undefined && !isTreeGate(gate)) {
    throw new DetectorLoadError(dir, `config.treeGate must be a finite number >= 0, got ${JSON.stringify(gate)}`);
  }
  return m;
}

export function loadDetector(dir: string): { model: DetectorVars; manifest: DetectorManifest } {
  const manifest = readDetectorManifest(dir);
  const file = path.join(dir, DETECTOR_WEIGHTS);
  if (!fs.existsSync(file)) throw new DetectorLoadError(dir, `no ${DETECTOR_WEIGHTS}`);
  const header = readHeaderSync(file);
  const fd = fs.openSync(file, 'r');
  // A detector saved without its tree options was trained with the legacy ones, not with
  // whatever the defaults are now; one saved without a tree gate decoded without one.
  const config: DetectorConfig = { ...DEFAULT_CONFIG, ...manifest.config, treeOptions: manifest.config.treeOptions ?? LEGACY_TREE_OPTIONS, treeGate: manifest.config.treeGate ?? 0 };
  const model = createDetector(config, createRng(0).next);
  try {
    const byName = new Map(header.tensors.map((t) => [t.name, t]));
    for (const [name, v] of namedVars(model)) {
      const t = byName.get(name);
      if (!t) throw new DetectorLoadError(dir, `weights lack ${name}`);
      if (t.dtype !== 'F32' || t.shape.join(',') !== v.shape.join(',')) throw new DetectorLoadError(dir, `${name} has ${t.dtype} [${t.shape}], expected F32 [${v.shape}]`);
      const buf = Buffer.alloc(t.end - t.begin);
      fs.readSync(fd, buf, 0, buf.length, header.dataStart + t.begin);
      v.assign(tf.tensor(decodeToFloat32(buf, 'F32'), v.shape));
    }
  } finally {
    fs.closeSync(fd);
  }
  return { model, manifest };
}

export function disposeDetector(model: DetectorVars): void {
  for (const v of namedVars(model).values()) v.dispose();
}
