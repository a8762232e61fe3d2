/**
 * Quantized children of real trained models, with typed ground truth: copies of one fine-tuned
 * model per family stored as BF16 and as F16 (the float formats safetensors holds), written
 * beside the zoo's models with `quantized` edges in lineage.json. Used by `npm run eval:merges`
 * to check the quantized typer (lib/detect/typing/quantized.ts) on trained weights.
 */
import * as fs from 'fs';
import * as path from 'path';
import { createHash } from 'crypto';
import { writeSafetensors } from '../io/safetensors-writer';
import type { Lineage, LineageEdge } from '../io/types';
import { readFloatModel } from './merge';
import { deriveSeed, Rng } from './rng';

export const QUANTIZED_DTYPES = ['BF16', 'F16'] as const;

/** Writes the zoo plus, per family, a BF16 and an F16 copy of one child of the root. */
export function writeQuantizedSet(o: { zooDir: string; lineage: Lineage; outDir: string; seed: number }): { dir: string; lineage: Lineage; copies: { id: string; source: string; dtype: string }[] } {
  fs.mkdirSync(o.outDir, { recursive: true });
  const ids = new Set(o.lineage.edges.flatMap((e) => [e.parent, e.child]));
  for (const id of ids) fs.copyFileSync(path.join(o.zooDir, `${id}.safetensors`), path.join(o.outDir, `${id}.safetensors`));
  const hasParent = new Set(o.lineage.edges.map((e) => e.child));
  const edges: LineageEdge[] = [...o.lineage.edges];
  const copies: { id: string; source: string; dtype: string }[] = [];
  for (const root of [...ids].filter((id) => !hasParent.has(id)).sort()) {
    const kids = o.lineage.edges.filter((e) => e.parent === root).map((e) => e.child).sort();
    if (kids.length === 0) continue;
    const source = kids[Math.floor(new Rng(deriveSeed(o.seed, 'quantize', root)).next() * kids.length)];
    const model = readFloatModel(path.join(o.zooDir, `${source}.safetensors`));
    for (const dtype of QUANTIZED_DTYPES) {
      const id = `fc-${createHash('sha256').update(`quantize|${dtype}|${o.seed}|${source}`).digest('hex').slice(0, 10)}`;
      writeSafetensors(path.join(o.outDir, `${id}.safetensors`), [...model].map(([name, t]) => ({ name, dtype, shape: t.shape, data: t.data })));
      edges.push({ parent: source, child: id, type: 'quantized' });
      copies.push({ id, source, dtype });
    }
  }
  const families = o.lineage.families.map((f) => [...f, ...copies.filter((c) => f.includes(c.source)).map((c) => c.id)]);
  const lineage = { edges, families };
  fs.writeFileSync(path.join(o.outDir, 'lineage.json'), JSON.stringify(lineage, null, 2) + '\n');
  return { dir: o.outDir, lineage, copies };
}
