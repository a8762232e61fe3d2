/**
 * The fake-init spec used when the caller gives none. PyTorch's defaults ('auto') fit models
 * built from torch.nn layers; Hugging Face transformers re-initialise their weights with
 * normal(0, config.initializer_range) instead. So when every model directory carries a
 * config.json with the same initializer_range, the default becomes hf(initializer_range).
 */
import * as fs from 'fs';
import * as path from 'path';
import type { ModelSet } from '../io/types';

export interface DefaultInit {
  spec: string;
  reason: string;
}

function initializerRange(modelPath: string): number | undefined {
  try {
    if (!fs.statSync(modelPath).isDirectory()) return undefined;
  } catch {
    return undefined;
  }
  for (const candidate of [path.join(modelPath, 'config.json'), path.join(modelPath, 'text_encoder', 'config.json')]) {
    try {
      const cfg = JSON.parse(fs.readFileSync(candidate, 'utf8')) as { initializer_range?: unknown };
      if (typeof cfg.initializer_range === 'number' && cfg.initializer_range > 0) return cfg.initializer_range;
    } catch {
      /* no or unreadable config: not a transformers model */
    }
  }
  return undefined;
}

export function defaultFakeInit(set: ModelSet): DefaultInit {
  const ranges = set.models.map((m) => initializerRange(m.path));
  const first = ranges[0];
  if (set.models.length && first !== undefined && ranges.every((r) => r === first)) {
    return { spec: `hf(${first})`, reason: `every model's config.json has initializer_range ${first} (Hugging Face init)` };
  }
  return { spec: 'auto', reason: 'PyTorch default initializers' };
}
