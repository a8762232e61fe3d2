/** Learning-based detection: edge encoder + transformer, trained with tfjs, run natively. */
export { detectLearned } from './detect-learned';
export type { DetectLearnedOptions } from './detect-learned';
export { trainDetector, testAccuracy, TRAIN_OPTIONS } from './train';
export type { TrainOptions, TrainReport, TestResult } from './train';
export type { EpochReport } from './fit';
export { fitDetector } from './fit';
export { loadDetector, saveDetector, disposeDetector, readDetectorManifest, DetectorLoadError, DETECTOR_FORMAT, DETECTOR_FORMAT_VERSION } from './store';
export type { DetectorManifest } from './store';
export { DEFAULT_CONFIG } from './model';
export { DEFAULT_TREE_GATE, gateLogits } from './tree-gate';
export { shippedDetectorDir, SHIPPED_TRAINING } from './shipped';
export type { DetectorConfig } from './model';
export { encodeEdgesNative, buildEdgePlan } from './native-encoder';
export type { EdgeEncodeRequest, NativeEncodeOptions } from './native-encoder';
export { encodeMatrixTf, createEncoder, foldEncoder } from './encoder';
export { loadZoo, prepareSet, splitChildren } from './data';
export { matrixShape, tensorType, TENSOR_TYPES } from './matrix';
