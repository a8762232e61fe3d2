/**
 * neural-phylogeny: which neural networks were fine-tuned from which, from the weights alone.
 *
 *   import { openModels, scanModels, detect, evaluate } from 'neural-phylogeny';
 *   const set = await openModels(['./checkpoints']);
 *   const scan = await scanModels(set);            // one streaming pass over all weights
 *   const result = detect(scan);                    // parent -> child edges, multi-generation
 *   if (set.lineage) console.log(evaluate(result, set.lineage));
 */
import type * as Learned from './learned';
import type * as Zoo from './zoo';

export { openModels } from './io/discover';
export type { OpenModelsOptions } from './io/discover';
export type { ModelSet, ModelSource, TensorEntry, Lineage, ModelFormat } from './io/types';
export { readLineage, parseLineage } from './io/lineage';
export type { LineageEdge } from './io/types';
export { EDGE_TYPES, type EdgeType } from './io/edge-types';
export { readDeclarations, readAllDeclarations, type Declaration } from './io/declared';
export { applyDeclared, type DeclaredUse } from './detect/typing/declared';
export { inspectModel, formatInspect } from './io/inspect';
export { readHeader, readHeaderSync } from './io/safetensors';
export { writeSafetensors, SafetensorsStreamWriter } from './io/safetensors-writer';

export { scanModels, scanModelSet } from './scan/scan';
export type { ScanOptions, ScanProgress } from './scan/scan';
export type { ScanResult, ScanTensor, ScanModel, TensorFakeInit } from './scan/types';
export { loadScan, saveScan, mergeScans } from './scan/result-io';
export { resolveFakeInit, parseFakeInitSpec } from './scan/fake-init';

export { detect, METHODS, registerMethod } from './detect';
export type { DetectOptions, MethodName, MethodSpec, MethodContext, MethodRun, DetectionResult, DetectedEdge, DetectedModel } from './detect';

export { evaluate } from './eval/metrics';
export type { EvalMetrics } from './eval/metrics';
export { typedMetrics, formatConfusion, type TypedMetrics, type TypeConfusion } from './eval/metrics';
export { evaluateMethods, formatEvalTable, formatEvalMarkdown } from './eval/compare';

// The learned detector and the zoo train with tfjs, which takes longer to load than the rest of
// the library together; these wrappers load it on the first call, so `inspect`, `scan` and the
// learning-free `detect` never pay for it. Same names and signatures as the modules' own.
export type { TrainOptions, TrainReport, DetectLearnedOptions } from './learned';
export async function trainDetector(...a: Parameters<typeof Learned.trainDetector>): ReturnType<typeof Learned.trainDetector> {
  return (await import('./learned')).trainDetector(...a);
}
export async function detectLearned(...a: Parameters<typeof Learned.detectLearned>): ReturnType<typeof Learned.detectLearned> {
  return (await import('./learned')).detectLearned(...a);
}

export { ZOO_PRESETS } from './zoo/types';
export type { ZooOptions, ZooSummary } from './zoo';
export async function buildZoo(...a: Parameters<typeof Zoo.buildZoo>): ReturnType<typeof Zoo.buildZoo> {
  return (await import('./zoo')).buildZoo(...a);
}
export async function ensureZoo(...a: Parameters<typeof Zoo.ensureZoo>): ReturnType<typeof Zoo.ensureZoo> {
  return (await import('./zoo')).ensureZoo(...a);
}

export { renderText, renderJson, renderDot, renderHtml, parseDetectionJson, screenshotHtml } from './report';

// The fingerprint index (DuckDB is loaded on its first use, not here).
export * from './hub';

export { native } from './native';
export type { CpuInfo, CudaStatus } from './native';
export * from './errors';
export { VERSION } from './version';
