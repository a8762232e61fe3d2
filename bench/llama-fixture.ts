/** A llama-shaped Hugging Face checkpoint with random weights, for the format benchmarks. */
import * as fs from 'fs';
import * as path from 'path';
import { createRng } from '../lib/graph/rng';
import { writeSafetensors } from '../lib/io/safetensors-writer';

/** A llama checkpoint directory (config.json + BF16 model.safetensors) with random weights. */
export function writeLlama(dir: string, hidden: number, layers: number, seed: number, base?: Map<string, Float32Array>): Map<string, Float32Array> {
  const inter = hidden * 2, vocab = 4096, heads = hidden / 64;
  const cfg = { model_type: 'llama', hidden_size: hidden, intermediate_size: inter, num_hidden_layers: layers, num_attention_heads: heads, num_key_value_heads: heads, vocab_size: vocab, rms_norm_eps: 1e-5, initializer_range: 0.02 };
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(cfg));
  const shapes: [string, number[]][] = [['model.embed_tokens.weight', [vocab, hidden]]];
  for (let l = 0; l < layers; l++) {
    const p = `model.layers.${l}`;
    for (const n of ['q_proj', 'k_proj', 'v_proj', 'o_proj']) shapes.push([`${p}.self_attn.${n}.weight`, [hidden, hidden]]);
    shapes.push([`${p}.mlp.gate_proj.weight`, [inter, hidden]], [`${p}.mlp.up_proj.weight`, [inter, hidden]], [`${p}.mlp.down_proj.weight`, [hidden, inter]]);
    shapes.push([`${p}.input_layernorm.weight`, [hidden]], [`${p}.post_attention_layernorm.weight`, [hidden]]);
  }
  shapes.push(['model.norm.weight', [hidden]], ['lm_head.weight', [vocab, hidden]]);
  const rng = createRng(seed);
  const values = new Map<string, Float32Array>();
  writeSafetensors(path.join(dir, 'model.safetensors'), shapes.map(([name, shape]) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const v = new Float32Array(n);
    const b = base?.get(name);
    for (let i = 0; i < n; i++) v[i] = (b ? b[i] : 0) + (b ? 0.002 : 0.02) * (rng.next() - 0.5);
    values.set(name, v);
    return { name, dtype: 'BF16' as const, shape, data: v };
  }));
  return values;
}

