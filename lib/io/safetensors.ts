/**
 * Safetensors headers, read and validated by the native reader (native/core/safetensors.cc):
 * only the header is read; the data section is checked against the offsets by size. Errors
 * come back as FormatError / IoError naming the file (and the tensor where there is one).
 */
import { fromNative } from '../errors';
import { native, NativeSafetensorsHeader, NativeSafetensorsTensor } from '../native';

export type SafetensorsHeader = NativeSafetensorsHeader;
export type SafetensorsTensor = NativeSafetensorsTensor;

/** The format's header length limit, as in the reference implementation (bytes, not MiB). */
export const MAX_HEADER_BYTES = 100 * 1000 * 1000;

/** Reads and validates a header off the main thread. */
export async function readHeader(path: string): Promise<SafetensorsHeader> {
  const addon = native();
  try {
    return await addon.readSafetensorsHeader(path);
  } catch (err) {
    throw fromNative(err);
  }
}

/** The same, on the calling thread (small files, tests, synchronous callers). */
export function readHeaderSync(path: string): SafetensorsHeader {
  const addon = native();
  try {
    return addon.readSafetensorsHeaderSync(path);
  } catch (err) {
    throw fromNative(err);
  }
}

/** Elements of a shape (1 for a scalar, shape []). */
export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}
