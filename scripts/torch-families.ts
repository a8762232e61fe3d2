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
 * Architectures and a regime that no design step saw (no default was chosen or checked on
 * them before their table was measured): built only when named.
 */
export const UNSEEN_ARCHS = ['gru', 'resnet'];
export const TORCH_REGIMES = ['adam', 'sgd-wd', 'adamw-cosine', 'tiny'];
export const UNSEEN_REGIMES = ['rmsprop'];

/** Throws on a name not in `known`, listing the known ones, so a typo is not silently dropped. */
function checkNames(what: string, names: string[], known: string[]): string[] {
  const unknown = names.filter((a) => !known.includes(a));
  if (unknown.length) throw new Error(`unknown PyTorch ${what} ${unknown.join(', ')} (known: ${known.join(', ')})`);
  return names;
}

/**
 * The model sets to build for these architectures: the MLPs and CNNs together (the classic
 * set), every other architecture on its own. Throws on a name the builder does not know.
 */
export function torchArchSets(archs: string[]): string[][] {
  checkNames('architecture', archs, [...TORCH_ARCHS, ...UNSEEN_ARCHS]);
  const others = [...new Set(archs)].filter((a) => !CLASSIC_ARCHS.includes(a)).map((a) => [a]);
  return [CLASSIC_ARCHS.filter((a) => archs.includes(a)), ...others].filter((x) => x.length);
}

/** Checks regime names against the builder's; throws listing the known ones. */
export function checkTorchRegimes(regimes: string[]): string[] {
  return checkNames('training regime', regimes, [...TORCH_REGIMES, ...UNSEEN_REGIMES]);
}

/**
 * The directory holding the families of this seed, architecture set and regime set, built
 * first when missing (minutes). The classic set with the first four regimes keeps its first
 * directory name, so families built before the ViT existed are reused as they are.
 */
export function ensureTorchFamilies(seed: number, families: number, python: string, archs: string[] = CLASSIC_ARCHS, regimes: string[] = TORCH_REGIMES): string {
  const classic = archs.join(',') === CLASSIC_ARCHS.join(',');
  const usual = regimes.join(',') === TORCH_REGIMES.join(',');
  const name = `seed${seed}-f${families}${classic ? '' : `-${archs.join('+')}`}${usual ? '' : `-r${regimes.join('+')}`}`;
  const out = path.join(path.dirname(zooCacheRoot()), 'torch-families', name);
  if (fs.existsSync(path.join(out, 'done'))) return out;
  process.stderr.write(`building PyTorch families, seed ${seed}, into ${out} (minutes)\n`);
  const script = path.join(__dirname, '..', '..', 'scripts', 'torch_families.py');
  try {
    execFileSync(python, [script, '--out', out, '--seed', String(seed), '--families', String(families), '--archs', archs.join(','), '--regimes', regimes.join(',')], { stdio: ['ignore', 'inherit', 'inherit'] });
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
