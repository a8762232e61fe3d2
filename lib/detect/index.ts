/** Learning-free detection: public surface of lib/detect. */
export { detect } from './detect';
export { METHODS, resolveOptions } from './options';
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
export { minimumArborescence } from './edmonds';
export { kernelKMeans, kernelFromDistances, kmeansAfter } from './kmeans';
export { kmeansAlong } from './kmeans-along';
export { agglomerative } from './agglomerative';
export { spectral } from './spectral';
export { dbscan } from './dbscan';
export { chooseK, silhouette } from './autok';
export { chooseTau, tauFromGap } from './tau';
