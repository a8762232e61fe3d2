/** Learning-free detection: public surface of lib/detect. */
export { detect } from './detect';
export { resolveOptions } from './resolve-options';
export { METHODS, METHOD_CHOICES, registerMethod, methodSpec, methodSpecs } from './methods/registry';
export type { MethodSpec, MethodContext, MethodRun } from './methods/spec';
export type {
  DetectOptions,
  ResolvedOptions,
  MethodName,
  ScoreKind,
  ScoreNormalize,
  Combine,
  DistanceMetric,
  DistanceNormalize,
  TauRule,
  Within,
  AutoKRule,
  Linkage,
  ScoreSign,
} from './options';
export type { DetectionResult, DetectedEdge, DetectedModel } from './types';
export { computeScores, tensorKurtosis, initSecondMoment } from './scores';
export { computeDistances } from './distances';
export { weightCorrelation } from './relatedness';
export { minimumArborescence } from '../graph/edmonds';
export { kernelKMeans, kernelFromDistances, kmeansAfter } from './kmeans';
export { kmeansAlong } from './kmeans-along';
export { agglomerative } from './agglomerative';
export { spectral } from './spectral';
export { dbscan } from './dbscan';
export { chooseK, silhouette } from './autok';
export { chooseTau, tauFromGap } from './tau';
