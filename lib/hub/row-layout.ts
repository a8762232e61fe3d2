/**
 * How a tensor's rows lie in its file, per format: the fingerprint reader reads rows, so a
 * format joins the index by saying how one of its tensors maps to a row layout of the native
 * reader (native/core/fingerprint.h). Dense row-major float elements from one offset cover
 * safetensors and PyTorch zip checkpoints; block-quantized and packed layouts (GGUF, GPTQ/AWQ) are not readable
 * by rows yet, so their tensors are left out of fingerprints with that reason.
 */
import { isFloatDtype } from '../io/dtype';
import type { TensorEntry } from '../io/types';

export type RowLayoutName = 'dense';

export function rowLayoutOf(t: TensorEntry): RowLayoutName | undefined {
  return isFloatDtype(t.dtype) ? 'dense' : undefined;
}
