/**
 * A zoo's leaf children as PEFT LoRA adapters: for each child of a parent (that has no
 * children of its own, so every adapter's base is a full model), the fine-tune's change of
 * each 2-D decoder weight, child − parent, is cut to its best rank-r approximation by SVD
 * (B = U_r·S_r, A = V_rᵀ, lora_alpha = r so the scale is 1), and every other changed tensor
 * (embeddings, lm_head, norms) is saved whole as a modules_to_save replacement. The child's
 * directory then holds adapter_config.json (base_model_name_or_path: the parent's id) and
 * adapter_model.safetensors instead of its safetensors shards. The model the adapter stands for
 * is the parent plus a low-rank fine-tune, close to but not equal to the trained child.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Matrix, SingularValueDecomposition } from 'ml-matrix';
import { openModels } from '../io/discover';
import { ADAPTER_CONFIG } from '../io/peft';
import { TensorData, writeSafetensors } from '../io/safetensors-writer';
import { readTensorValues } from '../io/tensor-data';
import type { ZooModelRecord } from './types';

/** Rank-r factors of `delta` [rows, cols]: B [rows, r] and A [r, cols]. */
export function lowRank(delta: Float32Array, rows: number, cols: number, r: number): { a: Float32Array; b: Float32Array } {
  const m = new Matrix(rows, cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) m.set(i, j, delta[i * cols + j]);
  const svd = new SingularValueDecomposition(m, { autoTranspose: true });
  const u = svd.leftSingularVectors, v = svd.rightSingularVectors, s = svd.diagonal;
  const a = new Float32Array(r * cols), b = new Float32Array(rows * r);
  for (let k = 0; k < r && k < s.length; k++) {
    for (let i = 0; i < rows; i++) b[i * r + k] = u.get(i, k) * s[k];
    for (let j = 0; j < cols; j++) a[k * cols + j] = v.get(j, k);
  }
  return { a, b };
}

/** Rewrites the leaf children among `models` (HF directories under `outDir`) as rank-`rank` adapters. */
export async function writeLeafChildrenAsAdapters(outDir: string, models: ZooModelRecord[], rank: number): Promise<string[]> {
  const parents = new Set(models.map((m) => m.parent));
  const written: string[] = [];
  for (const rec of models) {
    if (rec.parent === null || parents.has(rec.id)) continue;
    await rewriteAsAdapter(outDir, rec.path, rec.parent, rank);
    written.push(rec.id);
  }
  return written;
}

/** Rewrites the HF directory `outDir/childPath` as a rank-`rank` adapter over `outDir/parentId`. */
export async function rewriteAsAdapter(outDir: string, childPath: string, parentId: string, rank: number): Promise<void> {
  const dir = path.join(outDir, childPath);
  const [child] = (await openModels([dir])).models;
  const [base] = (await openModels([path.join(outDir, parentId)])).models;
  const baseByName = new Map(base.tensors.map((t) => [t.name, t]));
  const tensors: TensorData[] = [];
  for (const t of child.tensors) {
    const bt = baseByName.get(t.name);
    const v = readTensorValues(t);
    const module = t.name.replace(/\.weight$/, '');
    if (bt && t.shape.length === 2 && /^model\.layers\./.test(t.name) && bt.shape.join() === t.shape.join()) {
      const w = readTensorValues(bt);
      const d = v.map((x, i) => x - w[i]);
      const { a, b } = lowRank(d, t.shape[0], t.shape[1], rank);
      tensors.push({ name: `base_model.model.${module}.lora_A.weight`, dtype: 'F32', shape: [rank, t.shape[1]], data: a });
      tensors.push({ name: `base_model.model.${module}.lora_B.weight`, dtype: 'F32', shape: [t.shape[0], rank], data: b });
    } else {
      tensors.push({ name: `base_model.model.${module}.modules_to_save.default.weight`, dtype: 'F32', shape: t.shape, data: v });
    }
  }
  for (const f of fs.readdirSync(dir)) if (/\.safetensors(\.index\.json)?$/.test(f)) fs.rmSync(path.join(dir, f));
  writeSafetensors(path.join(dir, 'adapter_model.safetensors'), tensors);
  fs.writeFileSync(path.join(dir, ADAPTER_CONFIG), JSON.stringify({ peft_type: 'LORA', r: rank, lora_alpha: rank, base_model_name_or_path: parentId, bias: 'none', task_type: 'CAUSAL_LM' }, null, 2) + '\n');
}
