/** One related group of indexed models: its estimated scan, then detection on it. */
import { detect } from '../detect/detect';
import type { DetectOptions } from '../detect/options';
import type { DetectionResult } from '../detect/types';
import { estimateScan, IndexedModel } from './estimate';

export function detectGroup(models: IndexedModel[], opts: DetectOptions): DetectionResult {
  return detect(estimateScan(models), opts);
}
