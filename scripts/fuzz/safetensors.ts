/**
 * Fuzz target: the native safetensors header reader. An accepted header is checked against
 * the format here: every tensor's byte range matches its shape and dtype and lies inside the
 * data section, and the ranges do not overlap.
 */
import * as path from 'path';
import * as fs from 'fs';
import { DTYPE_SIZES } from '../../lib/io/dtype';
import { readHeaderSync } from '../../lib/io/safetensors';
import { writeSafetensors } from '../../lib/io/safetensors-writer';
import { FuzzTarget } from './target';

function seeds(dir: string): Buffer[] {
  const p = path.join(dir, 'seed.safetensors');
  writeSafetensors(p, [
    { name: 'model.embed.weight', dtype: 'BF16', shape: [4, 3], data: Array.from({ length: 12 }, (_, i) => i / 7) },
    { name: 'model.norm.weight', dtype: 'F32', shape: [3], data: [1, 1, 1] },
    { name: 'empty', dtype: 'F16', shape: [0, 5], data: [] },
    { name: 'scalar', dtype: 'F64', shape: [], data: [0.25] },
  ], { format: 'pt' });
  return [fs.readFileSync(p)];
}

function check(file: string, bytes: Buffer): void {
  const h = readHeaderSync(file);
  const dataSize = bytes.length - h.dataStart;
  const spans: [number, number][] = [];
  for (const t of h.tensors) {
    const size = (DTYPE_SIZES as Record<string, number>)[t.dtype];
    const want = t.shape.reduce((a, b) => a * b, 1) * (size ?? NaN);
    if (!(t.end - t.begin === want && t.begin >= 0 && t.end <= dataSize))
      throw new Error(`accepted an invalid safetensors file: tensor '${t.name}'`);
    if (t.end > t.begin) spans.push([t.begin, t.end]);
  }
  spans.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < spans.length; i++) if (spans[i - 1][1] > spans[i][0]) throw new Error('accepted an invalid safetensors file: overlapping tensors');
}

export const safetensorsTarget: FuzzTarget = { name: 'safetensors', seeds, check };
