/**
 * Building blocks for the safetensors reader tests: a valid file written by the library's
 * writer, split into header JSON and data, and reassembled after a corruption.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { writeSafetensors, TensorData } from '../../lib/io/safetensors-writer';

export function tmpDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export interface SplitFile {
  json: string;
  data: Buffer;
}

export function splitFile(buf: Buffer): SplitFile {
  const n = Number(buf.readBigUInt64LE(0));
  return { json: buf.subarray(8, 8 + n).toString('utf8'), data: Buffer.from(buf.subarray(8 + n)) };
}

/** A file from header bytes and data; `declared` overrides the length prefix. */
export function assemble(header: string | Buffer, data: Buffer, declared?: bigint): Buffer {
  const body = typeof header === 'string' ? Buffer.from(header, 'utf8') : header;
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(declared ?? BigInt(body.length), 0);
  return Buffer.concat([prefix, body, data]);
}

/** The valid model every corruption starts from: three tensors, 24 + 6 + 4 data bytes. */
export const BASE_TENSORS: TensorData[] = [
  { name: 'w', dtype: 'F32', shape: [2, 3], data: [1, 2, 3, 4, 5, 6] },
  { name: 'b', dtype: 'F16', shape: [3], data: [0.5, -1, 2] },
  { name: 'e', dtype: 'BF16', shape: [2], data: [3, -4] },
];

export function writeBase(dir: string, metadata?: Record<string, string>): Buffer {
  const p = path.join(dir, 'base.safetensors');
  writeSafetensors(p, BASE_TENSORS, metadata);
  return fs.readFileSync(p);
}

/** Seeded PRNG (mulberry32): the same seed gives the same mutations on every run. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
