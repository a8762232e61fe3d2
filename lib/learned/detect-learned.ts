/**
 * detectLearned: a scanned model set and a trained detector in, a DetectionResult out (the
 * same shape as the learning-free methods', so reports and eval need nothing new). The
 * encoder runs natively over whole matrices unless `engine: 'tfjs'` is asked for.
 */
import * as tf from '@tensorflow/tfjs';
import { forestResult } from '../detect/result';
import type { DetectionResult } from '../detect/types';
import { InvalidArgumentError } from '../errors';
import type { ModelSet } from '../io/types';
import type { ScanResult } from '../scan/types';
import { selectBackend } from '../zoo/backend';
import { prepareSet } from './data';
import { EncoderEngine, runDetector } from './infer';
import { NativeEncodeOptions } from './native-encoder';
import { shippedDetectorDir } from './shipped';
import { disposeDetector, loadDetector } from './store';
import { isTreeGate } from './tree-gate';

export interface DetectLearnedOptions extends NativeEncodeOptions {
  /** Detector directory (from trainDetector / `phylogeny train`); default: the shipped one (detectors/default). */
  detector?: string;
  /** Encoder engine (default 'native'; 'tfjs' for small models without the addon). */
  engine?: EncoderEngine;
  /** The tree gate's β (docs/learned.md) instead of the one the detector records. */
  treeGate?: number;
}

export async function detectLearned(scan: ScanResult, set: ModelSet, opts: DetectLearnedOptions = {}): Promise<DetectionResult> {
  const t0 = Date.now();
  const ids = scan.models.map((m) => m.id);
  const setIds = set.models.map((m) => m.id);
  if (ids.join('\u0000') !== setIds.join('\u0000')) {
    throw new InvalidArgumentError('E_INVALID_ARG', `detectLearned: the scan's models (${ids.join(', ')}) are not the model set's (${setIds.join(', ')})`);
  }
  await selectBackend('auto');
  const detector = opts.detector ?? shippedDetectorDir();
  if (opts.treeGate !== undefined && !isTreeGate(opts.treeGate)) throw new InvalidArgumentError('E_INVALID_ARG', `detectLearned: treeGate must be a number >= 0, got ${opts.treeGate}`);
  const { model, manifest } = loadDetector(detector);
  try {
    const t1 = Date.now();
    const ps = prepareSet('input', set, scan, model.config);
    const t2 = Date.now();
    const { forest, encoding } = await runDetector(model, ps, opts);
    const t3 = Date.now();
    return {
      models: scan.models.map((m, i) => ({ id: m.id, path: m.path, params: m.params, score: ps.features.scores[i] })),
      ...forestResult(ids, forest.parent, (m, p) => ({ confidence: forest.confidence[m], distance: ps.features.distances[p][m] })),
      duplicates: [],
      distances: { ids, matrix: ps.features.distances },
      method: 'learned',
      options: { detector, shipped: opts.detector === undefined, engine: opts.engine ?? 'native', config: model.config, treeGate: opts.treeGate ?? model.config.treeGate ?? 0, trainedWith: manifest.packageVersion, candidatePairs: ps.features.pairs.length, encoderTensors: ps.tensors.map((t) => t.name), encoding },
      timings: { load: t1 - t0, features: t2 - t1, detector: t3 - t2, detect: Date.now() - t0 },
      warnings: tf.getBackend() === 'cpu' ? ['tfjs ran on its pure-JS cpu backend (slow)'] : [],
    };
  } finally {
    disposeDetector(model);
  }
}
