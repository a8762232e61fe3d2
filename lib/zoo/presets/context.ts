/** What zoo.ts hands to a preset builder, and what the builder returns. */
import type { BackendReport } from '../backend';
import { ZooModelRecord, ZooOptions, ZooProgress, ZooScale } from '../types';

export interface PresetContext {
  outDir: string;
  seed: number;
  scale: ZooScale;
  options: ZooOptions;
  progress: (p: Omit<ZooProgress, 'preset'>) => void;
  log: (line: string) => void;
}

export interface PresetResult {
  models: ZooModelRecord[];
  backend: BackendReport | null;
  datasets: Record<string, unknown>;
  notes: string[];
  synthetic: boolean;
}

export interface PresetBuilder {
  /** The options that change what is built (with defaults filled in): the cache key input. */
  normalize(options: ZooOptions): Record<string, unknown>;
  build(ctx: PresetContext): Promise<PresetResult>;
}
