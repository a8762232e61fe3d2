/** The fingerprint index for hub-scale sets (docs/index.md): add, query, detect, merge. */
export { addToIndex, addToOpenIndex, parseTask, indexRecord } from './add';
export type { AddOptions, AddProgress, AddSummary, Task } from './add';
export { queryIndex } from './query';
export type { QueryOptions, QueryResult, Relative, LineageLink } from './query';
export { detectIndex, confirmEdges } from './detect-index';
export type { IndexDetectOptions } from './detect-index';
export { mergeIndexes } from './merge';
export type { MergeSummary } from './merge';
export { FingerprintIndex, INDEX_FILE } from './store';
export { fingerprintModel } from './fingerprint';
export type { Fingerprint, FingerprintTensor } from './fingerprint';
export { estimateScan } from './estimate';
export { DEFAULT_FINGERPRINT_CONFIG } from './sample';
export type { FingerprintConfig } from './sample';
export { encodeFingerprint, decodeFingerprint } from './codec';
