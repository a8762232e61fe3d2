/**
 * A one-layer llama checkpoint for GGUF tests: 256-wide rows so Q4_K applies to every weight;
 * 2 KV heads of 4 (GQA) so q and k are permuted with different head counts; 37 vocabulary rows
 * so no tensor is a multiple of the scan's block.
 */
export const CFG = { hidden_size: 256, intermediate_size: 512, num_hidden_layers: 1, num_attention_heads: 4, num_key_value_heads: 2, vocab_size: 37, rms_norm_eps: 1e-5, max_position_embeddings: 64, initializer_range: 0.02, model_type: 'llama' };
const HD = CFG.hidden_size / CFG.num_attention_heads;
export const SHAPES: [string, number[]][] = [
  ['model.embed_tokens.weight', [37, 256]],
  ['model.layers.0.self_attn.q_proj.weight', [256, 256]],
  ['model.layers.0.self_attn.k_proj.weight', [2 * HD, 256]],
  ['model.layers.0.self_attn.v_proj.weight', [2 * HD, 256]],
  ['model.layers.0.self_attn.o_proj.weight', [256, 256]],
  ['model.layers.0.mlp.gate_proj.weight', [512, 256]],
  ['model.layers.0.mlp.up_proj.weight', [512, 256]],
  ['model.layers.0.mlp.down_proj.weight', [256, 512]],
  ['model.layers.0.input_layernorm.weight', [256]],
  ['model.layers.0.post_attention_layernorm.weight', [256]],
  ['model.norm.weight', [256]],
  ['lm_head.weight', [37, 256]],
];
