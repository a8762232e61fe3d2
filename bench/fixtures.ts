/**
 * Benchmark fixtures: BF16 safetensors models of a given size, written fast (random bits
 * with a bounded exponent: realistic magnitudes, no NaN, no subnormals) and cached on disk
 * under .cache/bench so repeated runs read the same files.
 */
import * as fs from 'fs';
import * as path from 'path';
import { buildHeader, TensorSpec } from '../lib/io/safetensors-writer';
import { packageRoot } from '../lib/native';

export function benchCacheDir(): string {
  const dir = process.env.NP_BENCH_DIR ?? path.join(packageRoot(), '.cache', 'bench');
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

/** Tensor layout of a model with about `params` parameters: square matrices, a norm vector. */
export function benchLayout(params: number, dim = 2048): TensorSpec[] {
  const specs: TensorSpec[] = [];
  let left = params;
  let i = 0;
  while (left >= dim * dim) {
    specs.push({ name: `layers.${i}.weight`, dtype: 'BF16', shape: [dim, dim] });
    left -= dim * dim;
    i++;
  }
  if (left > dim) specs.push({ name: `layers.${i}.weight`, dtype: 'BF16', shape: [Math.floor(left / dim), dim] });
  specs.push({ name: 'norm.weight', dtype: 'BF16', shape: [dim] });
  return specs;
}

/**
 * Writes (once) a large BF16 model fast: one 4 MiB random block (seeded) repeated with a
 * per-chunk xor of the sign bits, so the disk, not JavaScript, sets the pace. For memory and
 * I/O benchmarks where values need only be realistic, not independent.
 */
export function benchModelFast(params: number, seed: number, dim = 4096): string {
  const file = path.join(benchCacheDir(), `bf16fast-${params}-${dim}-${seed}.safetensors`);
  if (fs.existsSync(file)) return file;
  const specs = benchLayout(params, dim);
  const { header, dataBytes } = buildHeader(specs);
  const block = Buffer.allocUnsafe(4 << 20);
  let s = (seed * 2654435761 + 777) >>> 0 || 1;
  for (let i = 0; i < block.length / 2; i++) {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    block.writeUInt16LE(((s & 1) << 15) | ((117 + ((s >>> 1) & 7)) << 7) | ((s >>> 4) & 0x7f), i * 2);
  }
  const tmp = `${file}.tmp`;
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, header);
    let written = 0;
    let chunk = 0;
    while (written < dataBytes) {
      const n = Math.min(block.length, dataBytes - written);
      const flip = chunk++ & 0xff;
      for (let i = 1; i < n; i += 4096) block[i] ^= flip & 0x80; // vary the data between chunks
      fs.writeSync(fd, block, 0, n);
      written += n;
    }
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  return file;
}

/** Writes (once) a BF16 model; returns its path. Same `seed` gives the same bytes. */
export function benchModel(params: number, seed: number, dim = 2048): string {
  const file = path.join(benchCacheDir(), `bf16-${params}-${dim}-${seed}.safetensors`);
  if (fs.existsSync(file)) return file;
  const specs = benchLayout(params, dim);
  const { header, dataBytes } = buildHeader(specs);
  const tmp = `${file}.tmp`;
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, header);
    const CHUNK = 1 << 22; // elements
    const buf = Buffer.allocUnsafe(CHUNK * 2);
    let s = (seed * 2654435761 + 12345) >>> 0 || 1;
    for (let done = 0; done < dataBytes / 2; done += CHUNK) {
      const n = Math.min(CHUNK, dataBytes / 2 - done);
      for (let i = 0; i < n; i++) {
        s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
        // sign, exponent 117..124 (|x| ~ 2^-10 .. 2^-3), 7-bit mantissa
        const bits = ((s & 1) << 15) | ((117 + ((s >>> 1) & 7)) << 7) | ((s >>> 4) & 0x7f);
        buf.writeUInt16LE(bits, i * 2);
      }
      fs.writeSync(fd, buf, 0, n * 2);
    }
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  return file;
}
