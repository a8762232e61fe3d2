/**
 * Writes safetensors files from TypeScript: whole models at once (`writeSafetensors`) or
 * streamed tensor by tensor (`SafetensorsStreamWriter`, for models larger than memory).
 * Files are written to `<path>.tmp` and renamed on completion, so a crash never leaves a
 * half-written model under the final name.
 */
import * as fs from 'fs';
import { DTYPE_SIZES, encodeFloats, FloatDtype } from './dtype';
import { InvalidArgumentError } from '../errors';

export interface TensorSpec {
  name: string;
  /** I64: integer tensors such as BatchNorm's num_batches_tracked (values must be safe integers);
   * I32: GPTQ/AWQ packed words and g_idx (values in -2^31..2^32-1, stored as their low 32 bits). */
  dtype: FloatDtype | 'I64' | 'I32';
  shape: number[];
}

export interface TensorData extends TensorSpec {
  data: ArrayLike<number>;
}

function elementCount(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Builds the header bytes (JSON padded with spaces to a multiple of 8, as the reference does). */
export function buildHeader(specs: TensorSpec[], metadata?: Record<string, string>): { header: Buffer; dataBytes: number } {
  const obj: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length) obj.__metadata__ = metadata;
  let offset = 0;
  const seen = new Set<string>();
  for (const s of specs) {
    if (seen.has(s.name)) throw new InvalidArgumentError('E_INVALID_ARG', `duplicate tensor name '${s.name}'`);
    seen.add(s.name);
    const bytes = elementCount(s.shape) * DTYPE_SIZES[s.dtype];
    obj[s.name] = { dtype: s.dtype, shape: s.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(obj);
  const pad = (8 - (Buffer.byteLength(json) % 8)) % 8;
  json += ' '.repeat(pad);
  const body = Buffer.from(json, 'utf8');
  const header = Buffer.alloc(8 + body.length);
  header.writeBigUInt64LE(BigInt(body.length), 0);
  body.copy(header, 8);
  return { header, dataBytes: offset };
}

/** Writes a whole model. */
export function writeSafetensors(path: string, tensors: TensorData[], metadata?: Record<string, string>): void {
  const w = new SafetensorsStreamWriter(path, tensors, metadata);
  try {
    for (const t of tensors) w.write(t.data);
    w.close();
  } catch (e) {
    w.abort();
    throw e;
  }
}

/**
 * Streams tensor data in header order: call write() with consecutive slices of each
 * tensor's values (any slice length), then close().
 */
export class SafetensorsStreamWriter {
  private fd: number;
  private readonly tmp: string;
  private tensor = 0;
  private writtenInTensor = 0;
  private closed = false;

  constructor(readonly path: string, private readonly specs: TensorSpec[], metadata?: Record<string, string>) {
    const { header } = buildHeader(specs, metadata);
    this.tmp = `${path}.tmp`;
    this.fd = fs.openSync(this.tmp, 'w');
    fs.writeSync(this.fd, header);
    this.skipEmpty();
  }

  private skipEmpty(): void {
    while (this.tensor < this.specs.length && elementCount(this.specs[this.tensor].shape) === 0) this.tensor++;
  }

  /** Appends values to the current tensor (moving to the next one when it is full). */
  write(values: ArrayLike<number>): void {
    let pos = 0;
    while (pos < values.length) {
      if (this.tensor >= this.specs.length) throw new InvalidArgumentError('E_INVALID_ARG', `${this.path}: more data than the header declares`);
      const spec = this.specs[this.tensor];
      const need = elementCount(spec.shape) - this.writtenInTensor;
      const take = Math.min(need, values.length - pos);
      const typed = values as { subarray?: (a: number, b: number) => ArrayLike<number> };
      const src = typed.subarray
        ? typed.subarray(pos, pos + take)
        : (Array.prototype.slice.call(values, pos, pos + take) as number[]);
      fs.writeSync(
        this.fd,
        spec.dtype === 'I64' ? encodeI64(src, this.path, spec.name) : spec.dtype === 'I32' ? encodeI32(src, this.path, spec.name) : encodeFloats(src, spec.dtype),
      );
      pos += take;
      this.writtenInTensor += take;
      if (this.writtenInTensor === elementCount(spec.shape)) {
        this.tensor++;
        this.writtenInTensor = 0;
        this.skipEmpty();
      }
    }
  }

  /** Finishes the file; throws if a tensor is incomplete. */
  close(): void {
    if (this.closed) return;
    if (this.tensor < this.specs.length) {
      this.abort();
      throw new InvalidArgumentError('E_INVALID_ARG', `${this.path}: tensor '${this.specs[this.tensor].name}' was not completely written`);
    }
    fs.closeSync(this.fd);
    fs.renameSync(this.tmp, this.path);
    this.closed = true;
  }

  /** Discards the partial file. */
  abort(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      fs.closeSync(this.fd);
    } catch {
      /* already closed */
    }
    fs.rmSync(this.tmp, { force: true });
  }
}

/** Little-endian int32 words: signed or unsigned 32-bit integers, written as their low 32 bits. */
function encodeI32(values: ArrayLike<number>, path: string, name: string): Buffer {
  const buf = Buffer.alloc(values.length * 4);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isInteger(v) || v < -(2 ** 31) || v >= 2 ** 32) throw new InvalidArgumentError('E_INVALID_ARG', `${path}: tensor '${name}' (I32) needs 32-bit integers, got ${v}`);
    buf.writeInt32LE(v | 0, i * 4);
  }
  return buf;
}

/** Little-endian int64 of safe integers. */
function encodeI64(values: ArrayLike<number>, path: string, name: string): Buffer {
  const buf = Buffer.alloc(values.length * 8);
  for (let i = 0; i < values.length; i++) {
    if (!Number.isSafeInteger(values[i])) throw new InvalidArgumentError('E_INVALID_ARG', `${path}: tensor '${name}' (I64) needs integers, got ${values[i]}`);
    buf.writeBigInt64LE(BigInt(values[i]), i * 8);
  }
  return buf;
}
