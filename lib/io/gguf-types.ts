/**
 * ggml tensor types as GGUF stores them: id, elements per block and bytes per block, the same
 * table as native/core/gguf_quant.cc (a test holds the two equal through the native reader).
 * Ids missing here were removed from ggml (4, 5, 31-33, 36-38).
 */
export interface GgmlType {
  id: number;
  name: string;
  blockElems: number;
  blockBytes: number;
  /** The native dequantizer and lib/io/gguf-quant-ref.ts support it. */
  dequantizable: boolean;
}

const T = (id: number, name: string, blockElems: number, blockBytes: number, dequantizable: boolean): GgmlType => ({ id, name, blockElems, blockBytes, dequantizable });

export const GGML_TYPES: readonly GgmlType[] = [
  T(0, 'F32', 1, 4, true), T(1, 'F16', 1, 2, true), T(2, 'Q4_0', 32, 18, true), T(3, 'Q4_1', 32, 20, true),
  T(6, 'Q5_0', 32, 22, true), T(7, 'Q5_1', 32, 24, true), T(8, 'Q8_0', 32, 34, true), T(9, 'Q8_1', 32, 36, false),
  T(10, 'Q2_K', 256, 84, true), T(11, 'Q3_K', 256, 110, true), T(12, 'Q4_K', 256, 144, true),
  T(13, 'Q5_K', 256, 176, true), T(14, 'Q6_K', 256, 210, true), T(15, 'Q8_K', 256, 292, false),
  T(16, 'IQ2_XXS', 256, 66, false), T(17, 'IQ2_XS', 256, 74, false), T(18, 'IQ3_XXS', 256, 98, false),
  T(19, 'IQ1_S', 256, 50, false), T(20, 'IQ4_NL', 32, 18, false), T(21, 'IQ3_S', 256, 110, false),
  T(22, 'IQ2_S', 256, 82, false), T(23, 'IQ4_XS', 256, 136, false), T(24, 'I8', 1, 1, false),
  T(25, 'I16', 1, 2, false), T(26, 'I32', 1, 4, false), T(27, 'I64', 1, 8, false), T(28, 'F64', 1, 8, false),
  T(29, 'IQ1_M', 256, 56, false), T(30, 'BF16', 1, 2, true), T(34, 'TQ1_0', 256, 54, false),
  T(35, 'TQ2_0', 256, 66, false), T(39, 'MXFP4', 32, 17, false),
];

/** The types both dequantizers support, in the order tests iterate them. */
export const DEQUANT_TYPES = ['F32', 'F16', 'BF16', 'Q8_0', 'Q4_0', 'Q4_1', 'Q5_0', 'Q5_1', 'Q2_K', 'Q3_K', 'Q4_K', 'Q5_K', 'Q6_K'] as const;
export type DequantType = (typeof DEQUANT_TYPES)[number];

export function ggmlType(name: string): GgmlType | undefined {
  return GGML_TYPES.find((t) => t.name === name);
}

/** Bytes of `elements` elements of a type (a whole number of blocks). */
export function ggmlBytes(t: GgmlType, elements: number): number {
  return (elements / t.blockElems) * t.blockBytes;
}
