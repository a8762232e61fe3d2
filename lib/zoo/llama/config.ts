/**
 * LLaMA hyperparameters and the Hugging Face config.json they map to (LlamaForCausalLM), plus
 * the HF tensor names and [out, in] shapes of a checkpoint. Shared by tiny-llama (trained) and
 * synthetic-large (7B-shaped, perturbed).
 */

export interface LlamaConfig {
  vocabSize: number;
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  maxPositions: number;
  rmsNormEps: number;
  ropeTheta: number;
  initializerRange: number;
}

export interface HfTensorSpec {
  name: string;
  /** PyTorch shape ([out_features, in_features] for linear weights). */
  shape: number[];
  kind: 'embedding' | 'linear' | 'norm';
}

/** Every tensor of LlamaForCausalLM in the order HF modules list them (untied lm_head). */
export function llamaTensorSpecs(c: LlamaConfig): HfTensorSpec[] {
  const hd = c.hiddenSize / c.numHeads;
  const specs: HfTensorSpec[] = [{ name: 'model.embed_tokens.weight', shape: [c.vocabSize, c.hiddenSize], kind: 'embedding' }];
  for (let i = 0; i < c.numLayers; i++) {
    const p = `model.layers.${i}`;
    specs.push(
      { name: `${p}.self_attn.q_proj.weight`, shape: [c.numHeads * hd, c.hiddenSize], kind: 'linear' },
      { name: `${p}.self_attn.k_proj.weight`, shape: [c.numKvHeads * hd, c.hiddenSize], kind: 'linear' },
      { name: `${p}.self_attn.v_proj.weight`, shape: [c.numKvHeads * hd, c.hiddenSize], kind: 'linear' },
      { name: `${p}.self_attn.o_proj.weight`, shape: [c.hiddenSize, c.numHeads * hd], kind: 'linear' },
      { name: `${p}.mlp.gate_proj.weight`, shape: [c.intermediateSize, c.hiddenSize], kind: 'linear' },
      { name: `${p}.mlp.up_proj.weight`, shape: [c.intermediateSize, c.hiddenSize], kind: 'linear' },
      { name: `${p}.mlp.down_proj.weight`, shape: [c.hiddenSize, c.intermediateSize], kind: 'linear' },
      { name: `${p}.input_layernorm.weight`, shape: [c.hiddenSize], kind: 'norm' },
      { name: `${p}.post_attention_layernorm.weight`, shape: [c.hiddenSize], kind: 'norm' },
    );
  }
  specs.push({ name: 'model.norm.weight', shape: [c.hiddenSize], kind: 'norm' });
  specs.push({ name: 'lm_head.weight', shape: [c.vocabSize, c.hiddenSize], kind: 'linear' });
  return specs;
}

export function llamaParamCount(c: LlamaConfig): number {
  return llamaTensorSpecs(c).reduce((a, s) => a + s.shape.reduce((x, y) => x * y, 1), 0);
}

/** config.json as transformers writes it for LlamaForCausalLM. */
export function hfConfigJson(c: LlamaConfig, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    attention_bias: false,
    attention_dropout: 0.0,
    bos_token_id: 1,
    eos_token_id: 2,
    hidden_act: 'silu',
    hidden_size: c.hiddenSize,
    initializer_range: c.initializerRange,
    intermediate_size: c.intermediateSize,
    max_position_embeddings: c.maxPositions,
    mlp_bias: false,
    num_attention_heads: c.numHeads,
    num_hidden_layers: c.numLayers,
    num_key_value_heads: c.numKvHeads,
    pretraining_tp: 1,
    rms_norm_eps: c.rmsNormEps,
    rope_scaling: null,
    rope_theta: c.ropeTheta,
    tie_word_embeddings: false,
    torch_dtype: 'bfloat16',
    use_cache: true,
    vocab_size: c.vocabSize,
    ...extra,
  };
}
