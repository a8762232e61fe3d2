/**
 * Merging partial indexes: models are keyed by content hash, so the union is exact and does not
 * depend on the order of the parts. Every part must use the same fingerprint config (else the
 * sampled coordinates would differ); the output takes it from the first part when it is new.
 */
import * as path from 'path';
import { InvalidArgumentError } from '../errors';
import { FingerprintIndex } from './store';

export interface MergeSummary {
  out: string;
  parts: number;
  added: number;
  total: number;
}

export async function mergeIndexes(parts: string[], out: string): Promise<MergeSummary> {
  if (parts.length === 0) throw new InvalidArgumentError('E_INVALID_ARG', 'index merge: no indexes given');
  const outAbs = path.resolve(out);
  if (parts.some((p) => path.resolve(p) === outAbs)) throw new InvalidArgumentError('E_INVALID_ARG', `index merge: --out ${outAbs} is also an input`);
  const first = await FingerprintIndex.open(parts[0], { readOnly: true });
  const config = first.config;
  first.close();
  const index = await FingerprintIndex.open(out, { create: true, config });
  let added = 0;
  try {
    for (const p of parts) added += await index.mergeFrom(p);
    return { out: index.dir, parts: parts.length, added, total: await index.count() };
  } finally {
    index.close();
  }
}
