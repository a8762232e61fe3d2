/**
 * llama-family name mapping (GGUF <-> Hugging Face) and the q/k row permutation of llama.cpp's
 * HF converter: the row map is checked against a direct re-implementation of the converter's
 * reshape(n_head, 2, rows / n_head / 2, cols).swapaxes(1, 2).reshape(rows, cols).
 */
import { ggufRowToHfRow, ggufToHfName, hfRowToGgufRow, hfToGgufName, permutedHeads } from '../../lib/io/gguf-names';
import { InvalidArgumentError } from '../../lib/errors';

/** The converter's permutation on a row-major [rows, cols] matrix, by explicit 4-D indexing. */
function converterPermute(w: Float64Array, rows: number, cols: number, heads: number): Float64Array {
  const half = rows / heads / 2;
  // view as [heads][2][half][cols], swap axes 1 and 2 -> [heads][half][2][cols], flatten.
  const out = new Float64Array(rows * cols);
  let k = 0;
  for (let h = 0; h < heads; h++)
    for (let i = 0; i < half; i++)
      for (let s = 0; s < 2; s++)
        for (let c = 0; c < cols; c++) out[k++] = w[((h * 2 + s) * half + i) * cols + c];
  return out;
}

describe('q/k row permutation', () => {
  it.each([[8, 1], [8, 2], [8, 4], [24, 3], [64, 8]])('%i rows, %i heads: matches the converter, and the two maps are inverses', (rows, heads) => {
    const cols = 3;
    const hf = Float64Array.from({ length: rows * cols }, (_, i) => i * 1.5 + 0.25);
    const gguf = converterPermute(hf, rows, cols, heads);
    for (let g = 0; g < rows; g++) {
      const r = ggufRowToHfRow(g, rows, heads);
      for (let c = 0; c < cols; c++) expect(gguf[g * cols + c]).toBe(hf[r * cols + c]);
      expect(hfRowToGgufRow(r, rows, heads)).toBe(g);
      expect(ggufRowToHfRow(hfRowToGgufRow(g, rows, heads), rows, heads)).toBe(g);
    }
    // A permutation: every HF row used once.
    expect(new Set(Array.from({ length: rows }, (_, g) => ggufRowToHfRow(g, rows, heads))).size).toBe(rows);
  });
  it('a concrete case: 1 head of 4 rows interleaves the halves [0, 2, 1, 3]', () => {
    expect([0, 1, 2, 3].map((g) => ggufRowToHfRow(g, 4, 1))).toEqual([0, 2, 1, 3]);
  });
  it('rows that do not split into heads of two halves are refused', () => {
    expect(() => ggufRowToHfRow(0, 10, 4)).toThrow(InvalidArgumentError);
    expect(() => hfRowToGgufRow(0, 8, 0)).toThrow(InvalidArgumentError);
  });
  it('attn_q uses n_head, attn_k n_head_kv, the rest are not permuted', () => {
    expect(permutedHeads('blk.3.attn_q.weight', 'llama', 32, 8)).toBe(32);
    expect(permutedHeads('blk.3.attn_k.weight', 'llama', 32, 8)).toBe(8);
    expect(permutedHeads('blk.3.attn_v.weight', 'llama', 32, 8)).toBe(0);
    expect(permutedHeads('blk.3.attn_q.weight', 'gpt2', 32, 8)).toBe(0);
  });
});

describe('llama-family tensor names', () => {
  const pairs: [string, string][] = [
    ['blk.0.attn_q.weight', 'model.layers.0.self_attn.q_proj.weight'],
    ['blk.1.attn_k.weight', 'model.layers.1.self_attn.k_proj.weight'],
    ['blk.12.attn_v.weight', 'model.layers.12.self_attn.v_proj.weight'],
    ['blk.2.attn_output.weight', 'model.layers.2.self_attn.o_proj.weight'],
    ['blk.2.ffn_gate.weight', 'model.layers.2.mlp.gate_proj.weight'],
    ['blk.2.ffn_up.weight', 'model.layers.2.mlp.up_proj.weight'],
    ['blk.2.ffn_down.weight', 'model.layers.2.mlp.down_proj.weight'],
    ['blk.7.attn_norm.weight', 'model.layers.7.input_layernorm.weight'],
    ['blk.7.ffn_norm.weight', 'model.layers.7.post_attention_layernorm.weight'],
    ['token_embd.weight', 'model.embed_tokens.weight'],
    ['output_norm.weight', 'model.norm.weight'],
    ['output.weight', 'lm_head.weight'],
  ];
  it.each(pairs)('%s <-> %s', (g, h) => {
    expect(ggufToHfName(g, 'llama')).toBe(h);
    expect(hfToGgufName(h, 'llama')).toBe(g);
  });
  it('unknown names and other architectures keep their names', () => {
    expect(ggufToHfName('blk.0.attn_qkv.weight', 'llama')).toBe('blk.0.attn_qkv.weight');
    expect(ggufToHfName('rope_freqs.weight', 'llama')).toBe('rope_freqs.weight');
    expect(ggufToHfName('blk.0.attn_q.weight', 'gpt2')).toBe('blk.0.attn_q.weight');
    expect(hfToGgufName('model.layers.0.self_attn.q_proj.weight', 'qwen2')).toBe('model.layers.0.self_attn.q_proj.weight');
  });
});
