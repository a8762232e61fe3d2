/**
 * Fingerprint rows of tensors the native reader cannot read in place (row layout 'formed',
 * lib/hub/row-layout.ts): GGUF block types and llama q/k rows stored in GGUF order, PEFT LoRA
 * weights (base + scale · B·A), GPTQ/AWQ packed weights. Each sampled row is made as the
 * reference scan makes it (lib/io/tensor-data.ts: the reference dequantizers are bit for bit the
 * native ones, formLora is the scan's arithmetic), then summed exactly as the native reader sums
 * a dense row (RowSums of lib/hub/reference.ts: moments in eight fixed float64 lanes, Σ(x − r)²
 * over the kept values and, when every row is sampled, over every element), so a model's fingerprint and
 * content hash do not depend on which reader made its rows.
 *
 * What is read: for GGUF, only the sampled rows (a row of blocks is contiguous); for a LoRA
 * weight, the base's sampled rows, B's sampled rows and A whole (rank × columns, small); for a
 * packed weight, its parts whole (a torch row of a GPTQ qweight is a column of int32 words
 * spread over the whole tensor), so a GPTQ model's fingerprint reads its packed bytes whole.
 */
import * as fs from 'fs';
import { DTYPE_SIZES } from '../io/dtype';
import { ggmlBytes, ggmlType } from '../io/gguf-types';
import { formLora, readTensorValues, readValuesFd } from '../io/tensor-data';
import type { TensorEntry } from '../io/types';
import type { FakeInitParams } from '../scan/philox';
import { RowSums } from './reference';
import { colsOfRow, shapeView, type ColMode } from './sample';

export interface FormedSample {
  rows: Uint32Array;
  colMode: ColMode;
  nCols: number;
  cols: Uint32Array;
}

export interface FormedOutput {
  values: Float32Array;
  moments: [number, number, number, number];
  fakeSq: number;
  /** NaN unless every row was sampled and `fake` given. */
  fakeWholeSq: number;
  bytesRead: number;
}

/** Bytes a row of `t` occupies in its file (for the read accounting). */
function rowBytes(t: TensorEntry, rowLen: number): number {
  if (t.gguf) {
    const g = ggmlType(t.dtype);
    if (g) return ggmlBytes(g, rowLen);
  }
  return rowLen * (DTYPE_SIZES[t.dtype as keyof typeof DTYPE_SIZES] ?? 4);
}

/** A row source for one tensor: row r as float32, and what reading it cost. */
function rowSource(t: TensorEntry, rowLen: number, fds: Map<string, number>): { row(r: number): Float32Array; bytes: number } {
  const fd = (file: string) => fds.get(file) ?? fds.set(file, fs.openSync(file, 'r')).get(file)!;
  const src: { row(r: number): Float32Array; bytes: number } = { bytes: 0, row: () => new Float32Array(0) };
  if (t.packed) {
    // Unpacked once, whole: see above.
    const all = readTensorValues(t);
    src.bytes = t.byteLength;
    src.row = (r) => all.subarray(r * rowLen, (r + 1) * rowLen);
    return src;
  }
  if (t.lora) {
    const l = t.lora;
    const a = readTensorValues(l.a);
    src.bytes = l.a.byteLength;
    src.row = (r) => {
      const base = readValuesFd(fd(l.base.file), { ...l.base }, r * rowLen, rowLen);
      const b = readValuesFd(fd(l.b.file), { ...l.b }, r * l.rank, l.rank);
      src.bytes += rowBytes(l.base, rowLen) + l.rank * DTYPE_SIZES[l.b.dtype as keyof typeof DTYPE_SIZES];
      return formLora(base, a, b, l.rank, rowLen, l.scale, 0);
    };
    return src;
  }
  src.row = (r) => {
    src.bytes += rowBytes(t, rowLen);
    return readValuesFd(fd(t.file), t, r * rowLen, rowLen);
  };
  return src;
}

/** The fingerprint sums of one formed tensor over the sampled rows (see above). */
export function readFormedTensor(t: TensorEntry, s: FormedSample, fake: FakeInitParams | undefined): FormedOutput {
  const { rows: totalRows, rowLen } = shapeView(t.shape);
  const values = new Float32Array(s.rows.length * s.nCols);
  const sums = new RowSums(fake, rowLen, s.rows.length === totalRows);
  const fds = new Map<string, number>();
  try {
    const src = rowSource(t, rowLen, fds);
    let at = 0;
    for (let i = 0; i < s.rows.length; i++) at = sums.add(src.row(s.rows[i]), s.rows[i], colsOfRow(s, i), values, at);
    return { values, moments: sums.moments, fakeSq: sums.fakeSq, fakeWholeSq: sums.fakeWholeSq, bytesRead: src.bytes };
  } finally {
    for (const fd of fds.values()) fs.closeSync(fd);
  }
}
