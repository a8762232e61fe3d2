/**
 * Model ids: short hashes of (preset, seed, plan key). The plan key says where a model sits in
 * its family, the hash hides it, so a detector cannot read lineage from names or their order.
 */
import { createHash } from 'crypto';

const PREFIX: Record<string, string> = { 'mnist-fc': 'fc', 'mnist-cnn': 'cnn', 'tiny-llama': 'llama', 'synthetic-large': 'syn', regimes: 'rg', hub: 'hub', 'tiny-unet': 'unet' };

export function modelId(preset: string, seed: number, planKey: string): string {
  const h = createHash('sha256').update(`${preset}|${seed}|${planKey}`).digest('hex');
  return `${PREFIX[preset] ?? 'm'}-${h.slice(0, 10)}`;
}
