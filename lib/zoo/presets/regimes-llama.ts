/**
 * The regimes zoo on the tiny LLaMA (`regimeNet: 'llama'`): the same family plan and recipes
 * as the vision networks (lib/zoo/regimes.ts: optimizers, decays, schedules, initialisations,
 * partial and tiny fine-tunes), on tiny-llama small's decoder trained for next-token
 * prediction on generated text, saved as Hugging Face checkpoint directories.
 *
 * - Text: the parent learns 'stories'; the three children 'arithmetic', 'records' and 'code';
 *   the grandchild 'recipes' (byte tokens throughout, so every model keeps 256 rows).
 * - Initialisation: the regime's scheme draws every Linear weight by its fan-in, as
 *   `torch.nn.init` on an `nn.Linear` would; `embed_tokens` keeps transformers' N(0, 0.02²) (an
 *   embedding has no fan-in to scale by) and the RMSNorm weights start at ones.
 * - Partial fine-tunes: 'last-layer' trains `lm_head` alone; 'lora' trains the attention and
 *   MLP projections (PEFT's "all-linear" target: every Linear but the output layer) and merges
 *   the rank-4 truncation of each update; embeddings, norms and `lm_head` stay bit-identical.
 * - Written as F32, as a float32 model's `save_pretrained` writes it, so that a tiny fine-tune's
 *   steps are not rounded away by BF16 (the tiny-llama preset covers BF16 checkpoints).
 */
import { PresetContext } from './context';
import { LM_SCALES, writeLm } from './tiny-llama';
import { INIT_DESCRIPTIONS, initWeight, InitScheme } from '../init';
import { transpose2d } from '../layout';
import { lowRankMerge } from '../low-rank';
import { modelId } from '../ids';
import { optimizerRecord } from '../optim';
import { LORA_RANK, RegimePlanEntry, TrainRecipe } from '../regimes';
import { deriveSeed, Rng } from '../rng';
import { classifierOutcome } from '../train-classifier';
import { ZooModelRecord } from '../types';
import { hfConfigJson, LlamaConfig, llamaParamCount, llamaTensorSpecs } from '../llama/config';
import type { LlamaWeights } from '../llama/model';
import { generateText, TEXT_DOMAINS, TextDomain } from '../llama/text';
import { byteTokenizer } from '../llama/tokenizer';
import { evaluateLm, trainLm } from '../llama/train';

const SCALE = LM_SCALES.small;
const CHILD_DOMAINS: TextDomain[] = ['arithmetic', 'records', 'code'];
const LM_HEAD = 'lm_head.weight';

/** The text a plan entry learns, from its place in the family shape. */
export function regimeDomain(e: Pick<RegimePlanEntry, 'key' | 'generation'>): TextDomain {
  if (e.generation === 0) return 'stories';
  if (e.generation === 2) return 'recipes';
  const j = Number(/\/c(\d+)$/.exec(e.key)?.[1]);
  return CHILD_DOMAINS[j % CHILD_DOMAINS.length];
}

/** Initial weights (tfjs layout) under a regime's scheme: Linear weights by fan-in, the rest as transformers starts them. */
export function initRegimeLlama(c: LlamaConfig, scheme: InitScheme, rng: Rng): LlamaWeights {
  const w: LlamaWeights = new Map();
  for (const s of llamaTensorSpecs(c)) {
    const n = s.shape.reduce((a, b) => a * b, 1);
    if (s.kind === 'norm') w.set(s.name, new Float32Array(n).fill(1));
    else if (s.kind === 'embedding') w.set(s.name, rng.fillNormal(new Float32Array(n), c.initializerRange));
    // Drawn in PyTorch's [out, in] element order, stored as tfjs's [in, out].
    else w.set(s.name, transpose2d(initWeight(scheme, n, s.shape[1], rng), s.shape[0], s.shape[1]));
  }
  return w;
}

/** The tensors a recipe trains (undefined: all). */
export function llamaTrainable(c: LlamaConfig, recipe: TrainRecipe): Set<string> | undefined {
  if (recipe.update === 'full') return undefined;
  if (recipe.update === 'last-layer') return new Set([LM_HEAD]);
  return new Set(llamaTensorSpecs(c).filter((s) => s.kind === 'linear' && s.name !== LM_HEAD).map((s) => s.name));
}

function mergeLowRankLlama(c: LlamaConfig, start: LlamaWeights, tuned: LlamaWeights, trained: Set<string>): LlamaWeights {
  const out: LlamaWeights = new Map(tuned);
  for (const s of llamaTensorSpecs(c)) {
    if (!trained.has(s.name)) continue;
    // tfjs layout [in, out]: the rank of the update is the same either way round.
    out.set(s.name, lowRankMerge(start.get(s.name)!, tuned.get(s.name)!, s.shape[1], s.shape[0], LORA_RANK));
  }
  return out;
}

/** Trains and writes every model of the plan; returns their models.json records. */
export async function buildLlamaRegimes(ctx: PresetContext, plan: RegimePlanEntry[], backendName: string): Promise<ZooModelRecord[]> {
  const { seed } = ctx;
  const config = SCALE.config;
  const tok = byteTokenizer();
  const weightsByKey = new Map<string, LlamaWeights>();
  const idByKey = new Map<string, string>();
  const childrenLeft = new Map<string, number>();
  for (const e of plan) if (e.parentKey) childrenLeft.set(e.parentKey, (childrenLeft.get(e.parentKey) ?? 0) + 1);
  const models: ZooModelRecord[] = [];
  for (let i = 0; i < plan.length; i++) {
    const e = plan[i];
    const id = modelId('regimes', seed, `llama|${e.key}`);
    idByKey.set(e.key, id);
    const domain = regimeDomain(e);
    const base = { model: i + 1, models: plan.length, modelId: id, generation: e.generation };
    ctx.progress({ ...base, phase: 'data', message: `generating ${domain} text` });
    const trainTokens = tok.encode(generateText(domain, e.parentKey ? SCALE.trainChars.child : SCALE.trainChars.parent, new Rng(deriveSeed(seed, 'text', e.key, 'train'))));
    const testTokens = tok.encode(generateText(domain, SCALE.testChars, new Rng(deriveSeed(seed, 'text', e.key, 'test'))));
    let start: LlamaWeights;
    let initialization: Record<string, unknown>;
    let parentEval: { accuracy: number; loss: number } | null = null;
    if (e.parentKey === null) {
      const initSeed = deriveSeed(seed, 'init', e.key);
      start = initRegimeLlama(config, e.init!, new Rng(initSeed));
      initialization = { scheme: e.init, linear: INIT_DESCRIPTIONS[e.init!].weights, embedding: `N(0, ${config.initializerRange}²) (transformers)`, norms: 'ones', rngSeed: initSeed };
    } else {
      start = weightsByKey.get(e.parentKey)!;
      initialization = { fineTunedFrom: idByKey.get(e.parentKey), update: e.recipe.update };
      parentEval = evaluateLm(config, start, testTokens, SCALE.seqLen);
    }
    const trainable = llamaTrainable(config, e.recipe);
    const windowSeed = deriveSeed(seed, 'windows', e.key);
    const o = e.recipe.optimizer;
    ctx.progress({ ...base, phase: 'train', step: 0, steps: e.recipe.steps });
    const out = await trainLm(config, start, trainTokens, {
      learningRate: o.learningRate,
      optimizer: o,
      trainable,
      steps: e.recipe.steps,
      batchSize: SCALE.batchSize,
      seqLen: SCALE.seqLen,
      seed: windowSeed,
      logEvery: 10,
      onLog: (step, loss) => ctx.progress({ ...base, phase: 'train', step, steps: e.recipe.steps, loss }),
    });
    const weights = e.recipe.update === 'lora' ? mergeLowRankLlama(config, start, out.weights, trainable!) : out.weights;
    const ev = evaluateLm(config, weights, testTokens, SCALE.seqLen);
    if (childrenLeft.get(e.key)) weightsByKey.set(e.key, weights);
    if (e.parentKey) {
      const left = childrenLeft.get(e.parentKey)! - 1;
      childrenLeft.set(e.parentKey, left);
      if (left === 0) weightsByKey.delete(e.parentKey);
    }
    ctx.progress({ ...base, phase: 'write' });
    writeLm(ctx, id, config, weights, 'F32');
    ctx.log(
      `${id} ${e.regime} gen ${e.generation} ${domain} ${o.kind} lr ${o.learningRate} wd ${o.weightDecay} ${o.schedule} ${e.recipe.update} ${e.recipe.steps} steps: ` +
        `held-out acc ${(ev.accuracy * 100).toFixed(1)}%` + (parentEval ? ` (parent ${(parentEval.accuracy * 100).toFixed(1)}%)` : '') + `, ${out.seconds.toFixed(1)} s`,
    );
    models.push({
      id,
      path: id,
      format: 'hf-dir',
      dtype: 'F32',
      architecture: { name: 'llama', ...hfConfigJson(config), params: llamaParamCount(config) },
      task: { name: domain, description: `generated text: ${TEXT_DOMAINS[domain]}`, tokenizer: 'bytes (ids 0..255)', trainTokens: trainTokens.length, testTokens: testTokens.length },
      hyperparameters: {
        regime: e.regime,
        ...optimizerRecord(o),
        batchSize: SCALE.batchSize,
        seqLen: SCALE.seqLen,
        steps: e.recipe.steps,
        update: e.recipe.update,
        ...(e.recipe.update === 'lora' ? { loraRank: LORA_RANK } : {}),
        windowSeed,
        loss: 'next-token cross-entropy',
        lossHistoryEvery: 10,
      },
      initialization,
      epochs: null,
      steps: e.recipe.steps,
      // The same outcome fields as every trained preset (accuracy: next-token accuracy here).
      ...classifierOutcome(out, ev, parentEval, backendName),
      parent: e.parentKey ? idByKey.get(e.parentKey)! : null,
      generation: e.generation,
    });
  }
  return models;
}
