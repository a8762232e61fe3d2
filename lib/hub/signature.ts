/**
 * What an index stores beside a fingerprint: its content hash (the key), the architecture
 * signatures, and the sketch the query prefilter ranks by.
 */
import { createHash } from 'crypto';
import type { Fingerprint } from './fingerprint';

const sha = (parts: (string | Uint8Array)[]): string => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex');
};

/**
 * The content hash: of the tensor table (names, dtypes, shapes) and of everything sampled
 * (kept values and the moments of the rows read). Reading the whole file to hash it would cost
 * what the fingerprint saves; two files equal on every sampled row and in every header field
 * are indistinguishable to the index anyway.
 */
export function contentHash(fp: Fingerprint): string {
  const parts: (string | Uint8Array)[] = [JSON.stringify({ config: fp.config, params: fp.params, bytes: fp.bytes })];
  for (const t of fp.tensors) {
    parts.push(JSON.stringify([t.name, t.dtype, t.shape, t.moments]));
    parts.push(new Uint8Array(t.values.buffer, t.values.byteOffset, t.values.byteLength));
  }
  return sha(parts);
}

/** Names and full shapes: models with the same arch have the same sampled coordinates. */
export function archSignature(fp: Fingerprint): string {
  return sha([JSON.stringify(fp.tensors.map((t) => [t.name, t.shape]))]).slice(0, 32);
}

/** Names and shapes without the row count: models that share tensors (a resized vocabulary too). */
export function tensorSetSignature(fp: Fingerprint): string {
  return sha([JSON.stringify(fp.tensors.map((t) => [t.name, t.shape.slice(1), t.shape.length]))]).slice(0, 32);
}

/** Sketch length: small enough for DuckDB to rank 10,000 models in well under a second. */
export const SKETCH_SIZE = 128;

/**
 * The prefilter's sketch: a fixed subset of the kept values (evenly spaced within each tensor,
 * so the same coordinates for every model of one architecture), each tensor's share scaled by
 * 1/√(its coordinates × tensors) so that the squared sketch distance estimates the mean over
 * tensors of the mean squared difference, the quantity the default distance averages.
 */
export function sketchOf(fp: Fingerprint): Float32Array {
  const tensors = fp.tensors.filter((t) => t.values.length > 0);
  const per = Math.max(1, Math.floor(SKETCH_SIZE / Math.max(1, tensors.length)));
  const out: number[] = [];
  for (const t of tensors) {
    const n = Math.min(per, t.values.length);
    const w = 1 / Math.sqrt(n * tensors.length);
    for (let i = 0; i < n; i++) out.push(t.values[Math.floor((i * t.values.length) / n)] * w);
  }
  return Float32Array.from(out);
}
