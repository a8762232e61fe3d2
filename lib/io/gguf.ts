/**
 * GGUF headers (llama.cpp's format, v2 and v3), read and validated by the native reader
 * (native/core/gguf.cc), and native dequantization of tensor bytes. Errors come back as
 * FormatError / IoError / DtypeError naming the file (and the tensor where there is one).
 */
import { fromNative } from '../errors';
import { native, NativeGgufHeader, NativeGgufTensor, NativeGgufValue, NativeGgufArray } from '../native';

export type GgufHeader = NativeGgufHeader;
export type GgufTensor = NativeGgufTensor;
export type GgufValue = NativeGgufValue;
export type GgufArray = NativeGgufArray;

/** Reads and validates a header off the main thread. */
export async function readGgufHeader(path: string): Promise<GgufHeader> {
  const addon = native();
  try {
    return await addon.readGgufHeader(path);
  } catch (err) {
    throw fromNative(err);
  }
}

/** The same, on the calling thread (small files, tests). */
export function readGgufHeaderSync(path: string): GgufHeader {
  const addon = native();
  try {
    return addon.readGgufHeaderSync(path);
  } catch (err) {
    throw fromNative(err);
  }
}

/** Native dequantization of `elements` elements (whole blocks) of ggml type `type`. */
export function dequantizeGguf(type: string, bytes: Uint8Array, elements: number): Float32Array {
  const addon = native();
  try {
    return addon.dequantizeGguf(type, bytes, elements);
  } catch (err) {
    throw fromNative(err);
  }
}
