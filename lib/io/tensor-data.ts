/**
 * One tensor's values as float32, for any registered weight format, in plain TypeScript:
 * float dtypes are decoded as the native scan decodes them, GGUF block types are dequantized
 * with the reference dequantizers (lib/io/gguf-quant-ref.ts, bit for bit the native ones) and
 * llama q/k rows put back in Hugging Face order. Used by the float64 reference scan and by
 * callers that need a few tensors in memory (never the scan's hot path).
 */
import * as fs from 'fs';
import { DtypeError, IoError } from '../errors';
import { decodeToFloat32, DTYPE_SIZES, FloatDtype, isFloatDtype } from './dtype';
import { dequantizeRef } from './gguf-quant-ref';
import { DequantType, ggmlType } from './gguf-types';
import { isScannablePacked } from './packed-quant';
import { PackedGeometry, PackedParts, unpackPackedRef } from './packed-quant-ref';
import type { GgufLayout, PackedLayout, TensorEntry } from './types';

/** Whether the scan can read the tensor: a float dtype, a GGUF type it dequantizes, or 4/8-bit GPTQ/AWQ. */
export function isScannable(t: Pick<TensorEntry, 'dtype' | 'gguf' | 'packed'>): boolean {
  if (t.packed) return isScannablePacked(t.packed);
  if (!t.gguf) return isFloatDtype(t.dtype);
  if (t.dtype === 'F64') return t.gguf.permHeads === 0; // read as a plain float dtype
  return ggmlType(t.dtype)?.dequantizable ?? false;
}

/** Whether the scan reads it through dequantization (block types, or rows to reorder). */
export function needsDequantization(t: Pick<TensorEntry, 'dtype' | 'gguf'>): boolean {
  return t.gguf !== undefined && !(isFloatDtype(t.dtype) && t.gguf.permHeads === 0);
}

/** HF row r of a permuted llama q/k weight is GGUF row ggufRowOf(r) (see lib/io/gguf-names.ts). */
function ggufRowOf(r: number, g: GgufLayout): number {
  if (!g.permHeads) return r;
  const half = g.rows / g.permHeads / 2;
  const h = Math.floor(r / (2 * half)), q = r % (2 * half);
  return h * 2 * half + 2 * (q % half) + Math.floor(q / half);
}

/** Fills `buf` from `offset`; a file shorter than its header said (truncated or changed since) is an IoError naming it, never zeros read as weights. */
function readFully(fd: number, buf: Buffer, offset: number, file: string | undefined): void {
  const n = fs.readSync(fd, buf, 0, buf.length, offset);
  if (n !== buf.length) throw new IoError('E_IO', `${file ?? 'tensor file'}: short read of ${buf.length} bytes at ${offset} (the file is truncated or changed since it was opened)`, { file });
}

/** An open file descriptor's elements [start, start + count) of a tensor stored as `dtype` at `offset`. */
export function readValuesFd(fd: number, t: { dtype: string; offset: number; gguf?: GgufLayout; name?: string; file?: string }, start: number, count: number): Float32Array {
  if (!needsDequantization(t)) {
    if (!isFloatDtype(t.dtype))
      throw new DtypeError('E_DTYPE', `${t.file ?? 'tensor'}: '${t.name ?? ''}' has dtype ${t.dtype}, which cannot be read as floats`, { file: t.file, tensor: t.name });
    const size = DTYPE_SIZES[t.dtype];
    const buf = Buffer.alloc(count * size);
    readFully(fd, buf, t.offset + start * size, t.file);
    return decodeToFloat32(buf, t.dtype as FloatDtype);
  }
  const g = t.gguf!;
  const type = ggmlType(t.dtype);
  if (!type?.dequantizable)
    throw new DtypeError('E_DTYPE', `${t.file ?? 'tensor'}: '${t.name ?? ''}' has GGUF type ${t.dtype}, which cannot be dequantized`, { file: t.file, tensor: t.name });
  const rowBytes = (g.rowElems / type.blockElems) * type.blockBytes;
  const out = new Float32Array(count);
  const raw = Buffer.alloc(rowBytes);
  let done = 0;
  for (let r = Math.floor(start / g.rowElems); done < count; r++) {
    readFully(fd, raw, t.offset + ggufRowOf(r, g) * rowBytes, t.file);
    const row = dequantizeRef(t.dtype as DequantType, raw, g.rowElems);
    const from = done === 0 ? start - r * g.rowElems : 0;
    const n = Math.min(g.rowElems - from, count - done);
    out.set(row.subarray(from, from + n), done);
    done += n;
  }
  return out;
}

/** Where a packed weight's parts are: file (an fd) and offset of each; sizes follow from the layout. */
export interface PackedSources extends PackedGeometry {
  qweight: { fd: number; offset: number };
  qzeros: { fd: number; offset: number };
  scales: { fd: number; offset: number; dtype: string };
  gIdx?: { fd: number; offset: number };
}

function readBytes(fd: number, offset: number, bytes: number): Uint8Array {
  const b = Buffer.alloc(bytes);
  const n = fs.readSync(fd, b, 0, bytes, offset);
  if (n !== bytes) throw new RangeError(`short read: ${n} of ${bytes} bytes at ${offset}`);
  return b;
}

/** Elements [start, start + count) of a GPTQ/AWQ weight [out, in] by the reference unpacker
 * (lib/io/packed-quant-ref.ts), its parts read whole with fs. */
export function readPackedValues(p: PackedSources, start: number, count: number): Float32Array {
  if (!isFloatDtype(p.scales.dtype)) throw new DtypeError('E_DTYPE', `packed-weight scales of dtype ${p.scales.dtype} cannot be read`);
  const pack = 32 / p.bits, zeroWords = Math.ceil(p.out / pack);
  const parts: PackedParts = {
    method: p.method, bits: p.bits, in: p.in, out: p.out, groups: p.groups, groupSize: p.groupSize, zeroOffset: p.zeroOffset,
    qweight: readBytes(p.qweight.fd, p.qweight.offset, p.method === 'awq' ? p.in * zeroWords * 4 : (p.in / pack) * p.out * 4),
    qzeros: readBytes(p.qzeros.fd, p.qzeros.offset, p.groups * zeroWords * 4),
    scales: readBytes(p.scales.fd, p.scales.offset, p.groups * p.out * DTYPE_SIZES[p.scales.dtype]),
    scalesDtype: p.scales.dtype as FloatDtype,
  };
  if (p.gIdx) parts.gIdx = readBytes(p.gIdx.fd, p.gIdx.offset, p.in * 4);
  return unpackPackedRef(parts, start, count);
}

/** A TensorEntry's packed layout as PackedSources, opening each part's file with `open`. */
export function packedSources(l: PackedLayout, open: (file: string) => number): PackedSources {
  const src = (t: TensorEntry) => ({ fd: open(t.file), offset: t.offset });
  const s: PackedSources = {
    method: l.method, bits: l.bits, in: l.in, out: l.out, groups: l.groups, groupSize: l.groupSize, zeroOffset: l.zeroOffset,
    qweight: src(l.qweight), qzeros: src(l.qzeros), scales: { ...src(l.scales), dtype: l.scales.dtype },
  };
  if (l.gIdx) s.gIdx = src(l.gIdx);
  return s;
}

/** All of a tensor's values as float32 (row-major, Hugging Face order for GGUF llama q/k,
 * formed over the base for a PEFT adapter's LoRA weight, unpacked for GPTQ/AWQ). */
export function readTensorValues(t: TensorEntry): Float32Array {
  const count = t.shape.reduce((a, b) => a * b, 1);
  if (t.packed) {
    const fds = new Map<string, number>();
    try {
      return readPackedValues(packedSources(t.packed, (f) => fds.get(f) ?? fds.set(f, fs.openSync(f, 'r')).get(f)!), 0, count);
    } finally {
      for (const fd of fds.values()) fs.closeSync(fd);
    }
  }
  if (t.lora) {
    const l = t.lora;
    return formLora(readTensorValues(l.base), readTensorValues(l.a), readTensorValues(l.b), l.rank, l.a.shape[1], l.scale, 0);
  }
  const fd = fs.openSync(t.file, 'r');
  try {
    return readValuesFd(fd, t, 0, count);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Elements [start, start + n) of a LoRA-formed weight: base + scale · B·A, from the base's
 * elements over the same range, A [rank, cols] and B (its first rows at least), in the
 * native scan's arithmetic (native/core/scan_lora.h): float64 products summed over k in order,
 * rounded to float32 once.
 */
export function formLora(base: Float32Array, a: Float32Array, b: Float32Array, rank: number, cols: number, scale: number, start: number): Float32Array {
  const out = new Float32Array(base.length);
  for (let i = 0; i < base.length; i++) {
    const e = start + i, r = Math.floor(e / cols), c = e % cols;
    let acc = 0;
    for (let k = 0; k < rank; k++) acc += b[r * rank + k] * a[k * cols + c];
    out[i] = Math.fround(base[i] + scale * acc);
  }
  return out;
}
