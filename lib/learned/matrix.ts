/**
 * How the edge encoder sees a tensor: as a matrix [rows, cols], rows = the first dimension
 * (output channels / features) and cols = the product of the rest, so a conv kernel
 * [out, in, kh, kw] is [out, in*kh*kw] and a vector [n] is one row.
 */
export function matrixShape(shape: readonly number[]): [number, number] {
  if (shape.length === 0) return [1, 1];
  if (shape.length === 1) return [1, shape[0]];
  return [shape[0], shape.slice(1).reduce((a, b) => a * b, 1)];
}

/**
 * Tensor types the detector tells apart through a learned embedding. Coarse on purpose:
 * they must mean the same thing across architectures (an MLP's and a LLaMA's linear layers).
 */
export const TENSOR_TYPES = ['linear', 'conv', 'embedding', 'attention', 'mlp', 'vector', 'other'] as const;
export type TensorType = (typeof TENSOR_TYPES)[number];

export function tensorType(name: string, shape: readonly number[]): number {
  const n = name.toLowerCase();
  let t: TensorType;
  if (shape.length <= 1) t = 'vector';
  else if (/embed|wte|wpe|lm_head|tok_/.test(n)) t = 'embedding';
  else if (shape.length >= 3) t = 'conv';
  else if (/attn|attention|q_proj|k_proj|v_proj|o_proj|query|key|value/.test(n)) t = 'attention';
  else if (/mlp|gate_proj|up_proj|down_proj|ffn|fc\d/.test(n)) t = 'mlp';
  else if (shape.length === 2) t = 'linear';
  else t = 'other';
  return TENSOR_TYPES.indexOf(t);
}
