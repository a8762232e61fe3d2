/**
 * tiny-llama: LLaMA-architecture decoders trained for real (tfjs) on generated text, saved as
 * Hugging Face checkpoints (config.json, index, ≥ 2 BF16 shards, HF names, [out, in] layout).
 * Each family: a parent pre-trained on 'stories'; children fine-tuned on other domains; in the
 * first family a grandchild and a child whose vocabulary was resized (word tokens appended to
 * embed_tokens and lm_head, padded to a multiple of 64 as pad_to_multiple_of does).
 */
import * as path from 'path';
import { describeBackend, selectBackend } from '../backend';
import { writeChildrenAsGguf } from '../gguf-children';
import { writeChildrenAsGptq, ZOO_GPTQ_GROUP } from '../gptq-children';
import { writeLeafChildrenAsAdapters } from '../peft-children';
import { writeHfCheckpoint } from '../hf-writer';
import { modelId } from '../ids';
import { deriveSeed, Rng } from '../rng';
import { ADAM } from '../train-classifier';
import { ZooModelRecord, ZooOptions, ZooScale } from '../types';
import { hfConfigJson, LlamaConfig, llamaParamCount, llamaTensorSpecs } from '../llama/config';
import { initLlama, LlamaWeights, resizeVocab, toHfTensors } from '../llama/model';
import { generateText, RECIPE_WORD_TOKENS, TEXT_DOMAINS, TextDomain } from '../llama/text';
import { byteTokenizer, Tokenizer, wordTokenizer } from '../llama/tokenizer';
import { evaluateLm, trainLm } from '../llama/train';
import { PresetBuilder, PresetContext, PresetResult } from './context';

export interface LmScale {
  config: LlamaConfig;
  seqLen: number;
  batchSize: number;
  parentSteps: number;
  childSteps: number;
  parentLr: number;
  childLr: number;
  trainChars: { parent: number; child: number };
  testChars: number;
  families: number;
}

export const LM_SCALES: Record<ZooScale, LmScale> = {
  small: {
    config: { vocabSize: 256, hiddenSize: 64, intermediateSize: 176, numLayers: 2, numHeads: 4, numKvHeads: 4, maxPositions: 128, rmsNormEps: 1e-5, ropeTheta: 10000, initializerRange: 0.02 },
    seqLen: 64,
    batchSize: 8,
    parentSteps: 200,
    childSteps: 80,
    parentLr: 3e-3,
    childLr: 1e-3,
    trainChars: { parent: 120_000, child: 40_000 },
    testChars: 12_000,
    families: 2,
  },
  paper: {
    config: { vocabSize: 256, hiddenSize: 128, intermediateSize: 344, numLayers: 4, numHeads: 4, numKvHeads: 4, maxPositions: 256, rmsNormEps: 1e-5, ropeTheta: 10000, initializerRange: 0.02 },
    seqLen: 128,
    batchSize: 16,
    parentSteps: 2000,
    childSteps: 600,
    parentLr: 2e-3,
    childLr: 5e-4,
    trainChars: { parent: 1_000_000, child: 300_000 },
    testChars: 40_000,
    families: 3,
  },
};

/** Vocabulary size of the resized child: bytes + recipe words, rounded up to a multiple of 64. */
export const RESIZED_VOCAB = Math.ceil((256 + RECIPE_WORD_TOKENS.length) / 64) * 64;

export interface LmPlanEntry {
  key: string;
  generation: 0 | 1 | 2;
  parentKey: string | null;
  domain: TextDomain;
  resize: boolean;
}

const CHILD_DOMAINS: TextDomain[] = ['arithmetic', 'records', 'code'];

function lmPlan(families: number): LmPlanEntry[] {
  const out: LmPlanEntry[] = [];
  for (let f = 0; f < families; f++) out.push({ key: `f${f}`, generation: 0, parentKey: null, domain: 'stories', resize: false });
  for (let f = 0; f < families; f++) {
    if (f === 0) {
      out.push({ key: 'f0/c0', generation: 1, parentKey: 'f0', domain: 'arithmetic', resize: false });
      out.push({ key: 'f0/c1', generation: 1, parentKey: 'f0', domain: 'records', resize: false });
      out.push({ key: 'f0/c2', generation: 1, parentKey: 'f0', domain: 'recipes', resize: true });
      out.push({ key: 'f0/c0/g0', generation: 2, parentKey: 'f0/c0', domain: 'code', resize: false });
    } else {
      for (let j = 0; j < 2; j++) out.push({ key: `f${f}/c${j}`, generation: 1, parentKey: `f${f}`, domain: CHILD_DOMAINS[(f + j) % CHILD_DOMAINS.length], resize: false });
    }
  }
  return out;
}

function normalize(o: ZooOptions): Record<string, unknown> {
  const scale = o.scale ?? 'small';
  const key: Record<string, unknown> = { preset: 'tiny-llama', scale, seed: o.seed ?? 0, families: o.families ?? LM_SCALES[scale].families };
  if (o.gguf?.length) key.gguf = o.gguf; // absent by default, so existing cache keys stay
  if (o.gguf?.length && o.ggufSplit) key.ggufSplit = o.ggufSplit;
  if (o.peftRank) key.peftRank = o.peftRank;
  if (o.gptq) key.gptq = true;
  return key;
}

export interface TrainedLm {
  id: string;
  config: LlamaConfig;
  weights: LlamaWeights;
}

/** What one model is trained and tested on: its domain's generated text, tokenized. */
interface LmData {
  tok: Tokenizer;
  trainTokens: Int32Array;
  testTokens: Int32Array;
}

/** Where training starts: a fresh init, a resized parent, or the parent as it is. */
interface LmStart {
  config: LlamaConfig;
  start: LlamaWeights;
  initialization: Record<string, unknown>;
  /** The parent on this model's held-out text before fine-tuning (children only). */
  parentEval: { loss: number; accuracy: number } | null;
}

/** Phase 1: generate and tokenize the model's text (word tokens once the vocabulary was resized). */
function lmData(ctx: PresetContext, sc: LmScale, e: LmPlanEntry, parent: TrainedLm | undefined, tokenizers: { bytes: Tokenizer; words: Tokenizer }): LmData {
  const tok: Tokenizer = e.resize || (parent && parent.config.vocabSize > 256) ? tokenizers.words : tokenizers.bytes;
  const trainText = generateText(e.domain, e.parentKey ? sc.trainChars.child : sc.trainChars.parent, new Rng(deriveSeed(ctx.seed, 'text', e.key, 'train')));
  const testText = generateText(e.domain, sc.testChars, new Rng(deriveSeed(ctx.seed, 'text', e.key, 'test')));
  return { tok, trainTokens: tok.encode(trainText), testTokens: tok.encode(testText) };
}

/** Phase 2: the starting weights, and how they were made (recorded in models.json). */
function lmStart(ctx: PresetContext, sc: LmScale, e: LmPlanEntry, parent: TrainedLm | undefined, testTokens: Int32Array): LmStart {
  if (!parent) {
    const config = sc.config;
    const initSeed = deriveSeed(ctx.seed, 'init', e.key);
    return {
      config,
      start: initLlama(config, new Rng(initSeed)),
      initialization: {
        scheme: 'hf-llama',
        weights: `N(0, ${config.initializerRange}²) for embed_tokens and every linear (transformers LlamaPreTrainedModel._init_weights); ones for RMSNorm weights`,
        rngSeed: initSeed,
      },
      parentEval: null,
    };
  }
  if (e.resize) {
    const r = resizeVocab(parent.config, parent.weights, RESIZED_VOCAB - parent.config.vocabSize, new Rng(deriveSeed(ctx.seed, 'resize', e.key)));
    return {
      config: r.config,
      start: r.weights,
      initialization: {
        fineTunedFrom: parent.id,
        vocabularyResized: { from: parent.config.vocabSize, to: r.config.vocabSize, wordTokens: RECIPE_WORD_TOKENS.length, padToMultipleOf: 64 },
        newRows: 'mean of the existing rows + N(0, (0.1·initializer_range)²), for embed_tokens and lm_head (like resize_token_embeddings with mean_resizing)',
      },
      // The fair "before" point: the parent with the resize applied, not yet fine-tuned.
      parentEval: evaluateLm(r.config, r.weights, testTokens, sc.seqLen),
    };
  }
  return {
    config: parent.config,
    start: parent.weights,
    initialization: { fineTunedFrom: parent.id, note: 'all parameters fine-tuned' },
    parentEval: evaluateLm(parent.config, parent.weights, testTokens, sc.seqLen),
  };
}

/** Phase 4: the trained weights as a Hugging Face checkpoint directory named by the id
 * (BF16 as this preset's models are saved; the regimes zoo's LLaMAs are F32). */
export function writeLm(ctx: PresetContext, id: string, config: LlamaConfig, weights: LlamaWeights, dtype: 'BF16' | 'F32' = 'BF16'): void {
  const tensors = toHfTensors(config, weights);
  const data = new Map(tensors.map((t) => [t.spec.name, t.data]));
  writeHfCheckpoint(
    { dir: path.join(ctx.outDir, id), config: hfConfigJson(config), tensors: llamaTensorSpecs(config).map((s) => ({ name: s.name, shape: s.shape })), dtype, minShards: 2 },
    (name, _shape, write) => write(data.get(name) as Float32Array),
  );
}

/** The two tokenizers a plan needs (bytes; bytes + recipe words after a resize). */
export function lmTokenizers(): { bytes: Tokenizer; words: Tokenizer } {
  return { bytes: byteTokenizer(), words: wordTokenizer(RECIPE_WORD_TOKENS) };
}

/**
 * Phases 1-5 for one planned model: data, start, train, write, record. Parents are built first.
 * `preset` names the ids (modelId), so other presets built from these models (hub) get their own.
 */
export async function buildLm(ctx: PresetContext, sc: LmScale, backendName: string, plan: LmPlanEntry[], i: number, byKey: Map<string, TrainedLm>, tokenizers: { bytes: Tokenizer; words: Tokenizer }, preset = 'tiny-llama'): Promise<ZooModelRecord> {
  const e = plan[i];
  const id = modelId(preset, ctx.seed, e.key);
  const parent = e.parentKey ? byKey.get(e.parentKey) : undefined;
  const steps = e.parentKey ? sc.childSteps : sc.parentSteps;
  const lr = e.parentKey ? sc.childLr : sc.parentLr;
  const base = { model: i + 1, models: plan.length, modelId: id, generation: e.generation };
  ctx.progress({ ...base, phase: 'data', message: `generating ${e.domain} text` });
  const data = lmData(ctx, sc, e, parent, tokenizers);
  const st = lmStart(ctx, sc, e, parent, data.testTokens);
  const { config, start } = st;

  // Phase 3: train, then score on the held-out text.
  ctx.progress({ ...base, phase: 'train', step: 0, steps });
  const shuffleSeed = deriveSeed(ctx.seed, 'windows', e.key);
  const out = await trainLm(config, start, data.trainTokens, {
    learningRate: lr,
    steps,
    batchSize: sc.batchSize,
    seqLen: sc.seqLen,
    seed: shuffleSeed,
    logEvery: 10,
    onLog: (step, loss) => ctx.progress({ ...base, phase: 'train', step, steps, loss }),
  });
  const ev = evaluateLm(config, out.weights, data.testTokens, sc.seqLen);
  byKey.set(e.key, { id, config, weights: out.weights });

  ctx.progress({ ...base, phase: 'write' });
  writeLm(ctx, id, config, out.weights);

  return lmRecord({ ctx, sc, e, id, parent, steps, lr, shuffleSeed, backendName, data, start: st, out, ev, tokenizers });
}

/** Phase 5: the models.json record (and the log line) of one trained model. */
function lmRecord(r: {
  ctx: PresetContext;
  sc: LmScale;
  e: LmPlanEntry;
  id: string;
  parent: TrainedLm | undefined;
  steps: number;
  lr: number;
  shuffleSeed: number;
  backendName: string;
  data: LmData;
  start: LmStart;
  out: { lossHistory: number[]; seconds: number };
  ev: { loss: number; accuracy: number };
  tokenizers: { bytes: Tokenizer; words: Tokenizer };
}): ZooModelRecord {
  const { ctx, sc, e, id, parent, steps, lr, shuffleSeed, backendName, out, ev, tokenizers } = r;
  const { tok, trainTokens, testTokens } = r.data;
  const { config, initialization, parentEval } = r.start;
  const finalLoss = out.lossHistory[out.lossHistory.length - 1];
  ctx.log(
    `${id} gen ${e.generation} ${e.domain}${e.resize ? ' (vocab ' + config.vocabSize + ')' : ''}: train loss ${out.lossHistory[0].toFixed(3)} → ${finalLoss.toFixed(3)}, ` +
      `held-out acc ${(ev.accuracy * 100).toFixed(1)}%` +
      (parentEval ? ` (parent ${(parentEval.accuracy * 100).toFixed(1)}%)` : '') +
      `, ${out.seconds.toFixed(1)} s`,
  );
  return {
    id,
    path: id,
    format: 'hf-dir',
    dtype: 'BF16',
    architecture: { name: 'llama', ...hfConfigJson(config), params: llamaParamCount(config) },
    task: {
      name: e.domain,
      description: `generated text: ${TEXT_DOMAINS[e.domain]}`,
      tokenizer: tok === tokenizers.words ? `bytes + ${RECIPE_WORD_TOKENS.length} whole-word tokens (ids 256..${255 + RECIPE_WORD_TOKENS.length}; rows up to ${config.vocabSize - 1} unused padding)` : 'bytes (ids 0..255)',
      trainTokens: trainTokens.length,
      testTokens: testTokens.length,
    },
    hyperparameters: {
      optimizer: 'adam',
      learningRate: lr,
      steps,
      batchSize: sc.batchSize,
      seqLen: sc.seqLen,
      windowSeed: shuffleSeed,
      ...ADAM,
      loss: 'next-token cross-entropy',
      lossHistoryEvery: 10,
    },
    initialization,
    epochs: null,
    steps,
    finalLoss,
    lossHistory: out.lossHistory,
    accuracy: ev.accuracy,
    heldOutLoss: ev.loss,
    parent: parent ? parent.id : null,
    generation: e.generation,
    parentAccuracyOnTask: parentEval ? parentEval.accuracy : null,
    parentHeldOutLossOnTask: parentEval ? parentEval.loss : null,
    backend: backendName,
    trainSeconds: out.seconds,
    synthetic: false,
  };
}

async function build(ctx: PresetContext): Promise<PresetResult> {
  const sc = LM_SCALES[ctx.scale];
  const backend = await selectBackend(ctx.options.backend ?? 'auto');
  ctx.log(`tfjs backend: ${describeBackend(backend)}`);
  const plan = lmPlan(ctx.options.families ?? sc.families);
  // Parents come before their children in the plan, so each child finds its parent here.
  const byKey = new Map<string, TrainedLm>();
  const tokenizers = lmTokenizers();
  const models: ZooModelRecord[] = [];
  for (let i = 0; i < plan.length; i++) models.push(await buildLm(ctx, sc, backend.name, plan, i, byKey, tokenizers));
  const gguf = ctx.options.gguf ?? [];
  const ggufSplit = ctx.options.ggufSplit;
  if (gguf.length) await writeChildrenAsGguf(ctx.outDir, models, gguf, ggufSplit);
  const gptq = ctx.options.gptq === true;
  if (gptq) await writeChildrenAsGptq(ctx.outDir, models);
  const peftRank = ctx.options.peftRank;
  if (peftRank) for (const id of await writeLeafChildrenAsAdapters(ctx.outDir, models, peftRank)) models.find((m) => m.id === id)!.peft = { rank: peftRank };
  return {
    models,
    backend,
    datasets: { text: 'generated by lib/zoo/llama/text.ts from seeded grammars (no downloads)', domains: TEXT_DOMAINS },
    notes: [
      'tiny-llama: LlamaForCausalLM architecture (RMSNorm, rotary embeddings, SwiGLU, causal attention, untied lm_head) trained with tfjs.',
      'Saved as Hugging Face checkpoint directories: config.json, model.safetensors.index.json, ≥ 2 BF16 shards, PyTorch [out, in] layout.',
      `One child has a resized vocabulary (${RESIZED_VOCAB} rows in embed_tokens and lm_head instead of 256); its first 256 rows descend from the parent's.`,
      'Accuracy is next-token accuracy on held-out generated text of the model’s own domain.',
      'Tokenizer: one token per byte (no tokenizer files are written); config.json keeps the transformers default bos/eos ids (1, 2), which the generated text does not use.',
      ...(gguf.length
        ? [`Children converted to GGUF (${gguf.join(', ')} in turn; ${ggufSplit ? `split into ${ggufSplit} files model-00001-of-${String(ggufSplit).padStart(5, '0')}.gguf, ... as llama.cpp's gguf-split writes them` : 'model.gguf'} beside config.json, q/k rows permuted as llama.cpp's converter does); rows that are not whole blocks of the type fall back (see models.json gguf.tensorTypes).`]
        : []),
      ...(gptq
        ? [`Children written as 4-bit GPTQ checkpoints (every decoder Linear packed, groups of ${ZOO_GPTQ_GROUP}, checkpoint_format gptq): round-to-nearest per group, a format writer and not the GPTQ algorithm, so each child is the trained child plus rounding error.`]
        : []),
      ...(peftRank
        ? [`Leaf children written as PEFT LoRA adapters of rank ${peftRank} over their parent (SVD of each decoder weight's fine-tune; embeddings, lm_head and norms saved whole): the model each stands for is the parent plus that low-rank change, not the trained child exactly.`]
        : []),
    ],
    synthetic: false,
  };
}

export const tinyLlamaPreset: PresetBuilder = { normalize, build };
