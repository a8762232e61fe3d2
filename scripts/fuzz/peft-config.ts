/**
 * Fuzz target: the PEFT adapter_config.json validator (lib/io/peft.ts). An accepted config is
 * checked here: a LoRA config with an integer rank in range, a finite alpha, and rank/alpha
 * patterns that are plain module names with values of the right kind.
 */
import * as fs from 'fs';
import { parsePeftConfig } from '../../lib/io/peft';
import { FuzzTarget } from './target';

function seeds(): Buffer[] {
  return [
    { peft_type: 'LORA', r: 8, lora_alpha: 16, base_model_name_or_path: 'org/base', target_modules: ['q_proj', 'v_proj'], bias: 'none', use_rslora: false },
    { peft_type: 'LORA', r: 4, lora_alpha: 8, use_rslora: true, rank_pattern: { up_proj: 2 }, alpha_pattern: { 'model.layers.0.mlp.up_proj': 3 }, modules_to_save: ['lm_head'], use_dora: false },
  ].map((c) => Buffer.from(JSON.stringify(c, null, 2)));
}

function check(file: string): void {
  const c = parsePeftConfig(fs.readFileSync(file, 'utf8'), file);
  const okPattern = (p: Record<string, number>, int: boolean) =>
    Object.entries(p).every(([k, v]) => k.length > 0 && !/[\\^$*+?()[\]{}|]/.test(k) && Number.isFinite(v) && (!int || (Number.isInteger(v) && v >= 1)));
  if (!(Number.isInteger(c.rank) && c.rank >= 1 && c.rank <= 1 << 16 && Number.isFinite(c.alpha) && okPattern(c.rankPattern, true) && okPattern(c.alphaPattern, false)))
    throw new Error('accepted an invalid adapter_config.json');
}

export const peftConfigTarget: FuzzTarget = { name: 'peft-config', seeds, check };
