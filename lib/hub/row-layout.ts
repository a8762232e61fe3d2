/**
 * How a tensor's rows lie in its file, per format: the fingerprint reader reads rows, so a
 * format joins the index by saying how one of its tensors maps to a row layout.
 *
 * - 'dense': row-major float elements from one offset (safetensors, PyTorch zip checkpoints,
 *   GGUF float tensors in row order), read by the native reader (native/core/fingerprint.h)
 *   with positional reads of just the sampled rows.
 * - 'formed': rows that must be made before they are seen — GGUF block types dequantized (and
 *   llama q/k rows put back in Hugging Face order, also for float types), PEFT LoRA weights
 *   formed over their base row by row, GPTQ/AWQ weights unpacked — read in TypeScript by
 *   lib/hub/formed-rows.ts with the readers the reference scan uses (lib/io/tensor-data.ts).
 *
 * Anything the scan cannot read (isScannable) has no layout and is left out with the reason.
 */
import { isFloatDtype } from '../io/dtype';
import { isScannable, needsDequantization } from '../io/tensor-data';
import type { TensorEntry } from '../io/types';

export type RowLayoutName = 'dense' | 'formed';

export function rowLayoutOf(t: TensorEntry): RowLayoutName | undefined {
  if (t.lora) return isFloatDtype(t.lora.a.dtype) && isFloatDtype(t.lora.b.dtype) && isScannable(t.lora.base) ? 'formed' : undefined;
  if (!isScannable(t)) return undefined;
  if (t.packed || needsDequantization(t)) return 'formed';
  return 'dense';
}
