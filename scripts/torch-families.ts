/**
 * The PyTorch-trained families of scripts/torch_families.py, built once per seed into the
 * cache (next to the zoos) and reused: for `npm run eval:torch` and for the torch groups of
 * `npm run eval:regimes -- --torch-seeds ...`.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { zooCacheRoot } from '../lib/zoo/zoo';

/** The architectures scripts/torch_families.py builds by default (its first families). */
export const CLASSIC_ARCHS = ['mlp', 'cnn-bn'];
export const TORCH_ARCHS = [...CLASSIC_ARCHS, 'vit'];

/**
 * The directory holding the families of this seed and architecture set, built first when
 * missing (minutes). The classic set keeps its first directory name, so families built before
 * the ViT existed are reused as they are.
 */
export function ensureTorchFamilies(seed: number, families: number, python: string, archs: string[] = CLASSIC_ARCHS): string {
  const classic = archs.join(',') === CLASSIC_ARCHS.join(',');
  const out = path.join(path.dirname(zooCacheRoot()), 'torch-families', `seed${seed}-f${families}${classic ? '' : `-${archs.join('+')}`}`);
  if (fs.existsSync(path.join(out, 'done'))) return out;
  process.stderr.write(`building PyTorch families, seed ${seed}, into ${out} (minutes)\n`);
  const script = path.join(__dirname, '..', '..', 'scripts', 'torch_families.py');
  try {
    execFileSync(python, [script, '--out', out, '--seed', String(seed), '--families', String(families), '--archs', archs.join(',')], { stdio: ['ignore', 'inherit', 'inherit'] });
  } catch (e) {
    const status = (e as { status?: number }).status;
    throw new Error(status === 3 ? 'scripts/torch_families.py could not run here (its message above says what is missing)' : `scripts/torch_families.py failed (${(e as Error).message})`);
  }
  return out;
}

/** Model id → "arch/regime" (groups.json, written by the builder). */
export function torchGroups(dir: string): Map<string, string> {
  return new Map(Object.entries(JSON.parse(fs.readFileSync(path.join(dir, 'groups.json'), 'utf8')) as Record<string, string>));
}
