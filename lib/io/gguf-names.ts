/**
 * Tensor names of llama-family GGUF files mapped to Hugging Face names and back, and the row
 * order of q/k projections. llama.cpp's HF converter reorders the rows of attn_q (with
 * n_head) and attn_k (with n_head_kv): inside each head, HF keeps the two rotary halves as
 * [first half; second half] and GGUF interleaves them (row i of each half side by side). A
 * reader comparing a GGUF model with an HF one undoes it with `ggufRowToHfRow`.
 * Other architectures keep their GGUF names (their conventions differ per model).
 */
import { InvalidArgumentError } from '../errors';

/** Architectures (general.architecture) whose names and q/k rows follow llama's converter. */
export const LLAMA_FAMILY: readonly string[] = ['llama'];

const PER_LAYER: [string, string][] = [
  ['attn_q', 'self_attn.q_proj'],
  ['attn_k', 'self_attn.k_proj'],
  ['attn_v', 'self_attn.v_proj'],
  ['attn_output', 'self_attn.o_proj'],
  ['ffn_gate', 'mlp.gate_proj'],
  ['ffn_up', 'mlp.up_proj'],
  ['ffn_down', 'mlp.down_proj'],
  ['attn_norm', 'input_layernorm'],
  ['ffn_norm', 'post_attention_layernorm'],
];
const GLOBAL: [string, string][] = [
  ['token_embd', 'model.embed_tokens'],
  ['output_norm', 'model.norm'],
  ['output', 'lm_head'],
];

/** The HF name of a GGUF tensor name; names of other architectures, or unknown names, unchanged. */
export function ggufToHfName(name: string, arch: string): string {
  if (!LLAMA_FAMILY.includes(arch)) return name;
  const m = /^blk\.(\d+)\.([a-z_]+)\.(weight|bias)$/.exec(name);
  if (m) {
    const hit = PER_LAYER.find(([g]) => g === m[2]);
    return hit ? `model.layers.${m[1]}.${hit[1]}.${m[3]}` : name;
  }
  const g = /^([a-z_]+)\.(weight|bias)$/.exec(name);
  const hit = g && GLOBAL.find(([n]) => n === g[1]);
  return hit && g ? `${hit[1]}.${g[2]}` : name;
}

/** The GGUF name of an HF tensor name (inverse of ggufToHfName). */
export function hfToGgufName(name: string, arch: string): string {
  if (!LLAMA_FAMILY.includes(arch)) return name;
  const m = /^model\.layers\.(\d+)\.(.+)\.(weight|bias)$/.exec(name);
  if (m) {
    const hit = PER_LAYER.find(([, h]) => h === m[2]);
    return hit ? `blk.${m[1]}.${hit[0]}.${m[3]}` : name;
  }
  const g = /^(.+)\.(weight|bias)$/.exec(name);
  const hit = g && GLOBAL.find(([, h]) => h === g[1]);
  return hit && g ? `${hit[0]}.${g[2]}` : name;
}

/** The heads whose rows were permuted for a GGUF tensor name: n_head for attn_q, n_head_kv for attn_k, else 0. */
export function permutedHeads(name: string, arch: string, nHead: number, nHeadKv: number): number {
  if (!LLAMA_FAMILY.includes(arch)) return 0;
  if (/^blk\.\d+\.attn_q\.weight$/.test(name)) return nHead;
  if (/^blk\.\d+\.attn_k\.weight$/.test(name)) return nHeadKv;
  return 0;
}

function checkRows(rows: number, heads: number): number {
  if (!Number.isInteger(heads) || heads < 1 || rows % (2 * heads) !== 0)
    throw new InvalidArgumentError('E_INVALID_ARG', `q/k row permutation: ${rows} rows do not split into ${heads} heads of two rotary halves`);
  return rows / heads / 2;
}

/**
 * For row `g` of a permuted GGUF q/k weight with `rows` rows and `heads` heads, the row of the
 * HF weight it came from. Inside head h, GGUF row h*2*half + 2*i + s holds HF row
 * h*2*half + s*half + i (s: which rotary half, i: position inside it).
 */
export function ggufRowToHfRow(g: number, rows: number, heads: number): number {
  const half = checkRows(rows, heads);
  const h = Math.floor(g / (2 * half)), r = g % (2 * half);
  return h * 2 * half + (r & 1) * half + (r >> 1);
}

/** The inverse: where HF row `r` went in the GGUF weight. */
export function hfRowToGgufRow(r: number, rows: number, heads: number): number {
  const half = checkRows(rows, heads);
  const h = Math.floor(r / (2 * half)), q = r % (2 * half);
  return h * 2 * half + 2 * (q % half) + Math.floor(q / half);
}
