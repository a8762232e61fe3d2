/** Model zoo: genuinely trained (or clearly synthetic) model families with known lineage. */
export { buildZoo, ensureZoo, zooCacheRoot, zooIsCurrent } from './zoo';
export type { ZooOptions, ZooSummary, ZooManifest, ZooModelRecord, ZooProgress, ZooPreset, ZooScale, SyntheticSize } from './types';
export { ZOO_PRESETS } from './types';
export { ZOO_CODE_VERSION, MODELS_JSON, LINEAGE_JSON, lineageOf, readManifest } from './manifest';
export { selectBackend, describeBackend } from './backend';
export type { BackendReport, BackendAttempt, BackendPreference } from './backend';
export { SYNTHETIC_SIZES } from './presets/synthetic-large';
export { RESIZED_VOCAB } from './presets/tiny-llama';
export { planShards, writeHfCheckpoint, HF_INDEX_FILE } from './hf-writer';
export { hfConfigJson, llamaTensorSpecs, llamaParamCount } from './llama/config';
export type { LlamaConfig } from './llama/config';
