/**
 * regimes: MLP families (784-64-10, as mnist-fc small; or, with regimeNet, a CNN with BatchNorm,
 * a small ViT in transformers' layout, or the tiny LLaMA: ./regimes-llama.ts) trained under the regimes of
 * lib/zoo/regimes.ts: SGD with and without momentum, Adam, Adam with L2, AdamW with weak and
 * strong decoupled decay, constant / cosine / warm-up schedules, five initialisations,
 * children trained under a regime other than their parent's, partial fine-tunes (last layer
 * only; rank-4 LoRA-style updates merged in) and tiny fine-tunes (lr 1e-5, 20 steps).
 * `families` is the number of families per regime; `regimes` picks a subset. Written as F32
 * safetensors in PyTorch layout, with lineage.json and models.json like the other presets;
 * models.json records each model's regime, optimizer, decay, schedule, steps and update kind.
 */
import * as path from 'path';
import { writeSafetensors } from '../../io/safetensors-writer';
import { describeBackend, selectBackend } from '../backend';
import { INIT_DESCRIPTIONS } from '../init';
import { lowRankMerge } from '../low-rank';
import { modelId } from '../ids';
import { createMlp } from '../mlp';
import { optimizerRecord } from '../optim';
import { LORA_RANK, parseRegimes, RegimePlanEntry, regimePlan, TrainRecipe } from '../regimes';
import { deriveSeed, Rng } from '../rng';
import { VisionTaskSet } from '../tasks';
import { classifierOutcome, evaluateClassifier } from '../train-classifier';
import { trainRegime } from '../train-regime';
import { ZooModelRecord, ZooOptions } from '../types';
import { initWeights, paramCount, toTorchTensors, VisionNet, Weights } from '../vision-net';
import { PresetBuilder, PresetContext, PresetResult } from './context';
import { BnBuffers, cloneBuffers, createBnCnn, isBnNet } from '../bn-cnn';
import { createVit } from '../vit';
import { InvalidArgumentError } from '../../errors';
import { buildLlamaRegimes } from './regimes-llama';
import { TEXT_DOMAINS } from '../llama/text';

const SIZES = { mnistTest: 2000, childTrain: 3000, childTest: 1000 };

/** Each network as the notes of models.json name it. */
const NET_NOTES: Record<NonNullable<ZooOptions['regimeNet']>, string> = {
  mlp: 'MLP 784-64-10',
  'cnn-bn': 'CNN c8-c16 with BatchNorm (running statistics and int64 num_batches_tracked saved)',
  vit: 'ViT (patch 7, hidden 32, 2 pre-LayerNorm layers of 2 heads, MLP 64; transformers ViTForImageClassification names and shapes)',
  llama: 'tiny LLaMA (hidden 64, 2 layers, 4 heads, SwiGLU 176, byte vocabulary; LlamaForCausalLM checkpoints, F32) trained on generated text',
};
export const REGIME_NETS = Object.keys(NET_NOTES) as NonNullable<ZooOptions['regimeNet']>[];

export const regimesPreset: PresetBuilder = {
  normalize(o: ZooOptions) {
    // The network joins the cache key only when it is not the MLP, so MLP zoos keep their key.
    const net = o.regimeNet ?? 'mlp';
    if (!REGIME_NETS.includes(net)) throw new InvalidArgumentError('E_INVALID_ARG', `regimeNet must be one of ${REGIME_NETS.map((n) => `'${n}'`).join(', ')} (got '${String(net)}')`);
    return { preset: 'regimes', scale: 'small', seed: o.seed ?? 0, families: o.families ?? 1, regimes: parseRegimes(o.regimes), ...(net === 'mlp' ? {} : { net }) };
  },
  build: buildRegimesZoo,
};

/**
 * The tensors a recipe trains. 'lora' trains the weight matrices the regime's scheme drew
 * (Linear and conv/patch-embedding weights), as LoRA adapters target them; tensors with a fixed
 * start (norm gains and shifts, a ViT's CLS token and position embeddings) stay frozen.
 */
function trainableOf(net: VisionNet, recipe: TrainRecipe): Set<string> | undefined {
  if (recipe.update === 'full') return undefined;
  if (recipe.update === 'last-layer') return new Set(net.params.slice(-2).map((p) => p.name));
  return new Set(net.params.filter((p) => p.kind === 'weight' && !p.init).map((p) => p.name));
}

/**
 * Replaces each weight's update by its best rank-r approximation (a merged LoRA). A conv
 * filter [k, k, in, out] is the matrix [k·k·in, out], as LoRA on convolutions factors it.
 */
export function mergeLowRank(net: VisionNet, start: Weights, tuned: Weights, rank: number): Weights {
  const out: Weights = new Map(tuned);
  for (const p of net.params) {
    if (p.kind !== 'weight' || p.tfShape.length < 2 || p.init) continue;
    const cols = p.tfShape[p.tfShape.length - 1];
    const rows = p.tfShape.slice(0, -1).reduce((a, b) => a * b, 1);
    out.set(p.name, lowRankMerge(start.get(p.name)!, tuned.get(p.name)!, rows, cols, rank));
  }
  return out;
}

async function buildRegimesZoo(ctx: PresetContext): Promise<PresetResult> {
  const { seed } = ctx;
  const backend = await selectBackend(ctx.options.backend ?? 'auto');
  ctx.log(`tfjs backend: ${describeBackend(backend)}`);
  const plan: RegimePlanEntry[] = regimePlan(parseRegimes(ctx.options.regimes), ctx.options.families ?? 1, seed);
  const netName = ctx.options.regimeNet ?? 'mlp';
  if (netName === 'llama') {
    return {
      models: await buildLlamaRegimes(ctx, plan, backend.name),
      backend,
      datasets: { text: 'generated by lib/zoo/llama/text.ts from seeded grammars (no downloads)', domains: TEXT_DOMAINS },
      notes: [
        `regimes: ${NET_NOTES.llama} families, one family shape per training regime (lib/zoo/regimes.ts); hyperparameters.regime names it.`,
        "Parents learn 'stories', the children 'arithmetic', 'records' and 'code', the grandchild 'recipes'; accuracy is next-token accuracy on held-out text of the model's own domain.",
        "Partial fine-tunes: 'last-layer' trains lm_head alone; LoRA-style children merge the rank-4 truncation of each attention and MLP projection's update; every other tensor stays bit-identical.",
      ],
      synthetic: false,
    };
  }
  const net = netName === 'cnn-bn' ? createBnCnn(8, 16) : netName === 'vit' ? createVit() : createMlp([64]);
  const bnNet = isBnNet(net) ? net : null;
  const buffersByKey = new Map<string, BnBuffers>();
  ctx.progress({ phase: 'data', model: 0, models: plan.length, message: 'loading datasets' });
  const tasks = new VisionTaskSet(seed, SIZES);
  const weightsByKey = new Map<string, Weights>();
  const idByKey = new Map<string, string>();
  const childrenLeft = new Map<string, number>();
  for (const e of plan) if (e.parentKey) childrenLeft.set(e.parentKey, (childrenLeft.get(e.parentKey) ?? 0) + 1);
  const arch = { ...net.describe(), params: paramCount(net) } as ZooModelRecord['architecture'];
  const models: ZooModelRecord[] = [];

  for (let i = 0; i < plan.length; i++) {
    const e = plan[i];
    const id = modelId('regimes', seed, netName === 'mlp' ? e.key : `${netName}|${e.key}`);
    idByKey.set(e.key, id);
    const task = tasks.get(e.task);
    const base = { model: i + 1, models: plan.length, modelId: id, generation: e.generation };
    ctx.progress({ ...base, phase: 'train', step: 0, steps: e.recipe.steps });
    let start: Weights;
    let initialization: Record<string, unknown>;
    let parentEval: { accuracy: number; loss: number } | null = null;
    if (e.parentKey === null) {
      const initSeed = deriveSeed(seed, 'init', e.key);
      start = initWeights(net, e.init!, new Rng(initSeed));
      initialization = { scheme: e.init, ...INIT_DESCRIPTIONS[e.init!], rngSeed: initSeed };
    } else {
      start = weightsByKey.get(e.parentKey)!;
      initialization = { fineTunedFrom: idByKey.get(e.parentKey), update: e.recipe.update };
      if (bnNet) bnNet.state.buffers = cloneBuffers(buffersByKey.get(e.parentKey)!);
      parentEval = evaluateClassifier(net, start, task.test);
    }
    // BatchNorm: a fine-tune starts from its parent's buffers and runs in train mode, so its
    // running statistics move and num_batches_tracked keeps counting (frozen layers too, as
    // in PyTorch unless a module is put in eval mode).
    if (bnNet) {
      if (e.parentKey === null) bnNet.state.buffers = bnNet.freshBuffers();
      bnNet.state.training = true;
    }
    const shuffleSeed = deriveSeed(seed, 'shuffle', e.key);
    const out = await trainRegime(net, start, task.train, {
      optimizer: e.recipe.optimizer,
      batchSize: e.recipe.batchSize,
      steps: e.recipe.steps,
      seed: shuffleSeed,
      trainable: trainableOf(net, e.recipe),
    });
    if (bnNet) bnNet.state.training = false;
    const weights = e.recipe.update === 'lora' ? mergeLowRank(net, start, out.weights, LORA_RANK) : out.weights;
    const ev = evaluateClassifier(net, weights, task.test);
    if (childrenLeft.get(e.key)) {
      weightsByKey.set(e.key, weights);
      if (bnNet) buffersByKey.set(e.key, cloneBuffers(bnNet.state.buffers));
    }
    if (e.parentKey) {
      const left = childrenLeft.get(e.parentKey)! - 1;
      childrenLeft.set(e.parentKey, left);
      if (left === 0) {
        weightsByKey.delete(e.parentKey);
        buffersByKey.delete(e.parentKey);
      }
    }
    ctx.progress({ ...base, phase: 'write' });
    const file = `${id}.safetensors`;
    writeSafetensors(path.join(ctx.outDir, file), [...toTorchTensors(net, weights), ...(bnNet ? bnNet.bufferTensors(bnNet.state.buffers) : [])], { format: 'pt' });
    const o = e.recipe.optimizer;
    ctx.log(
      `${id} ${e.regime} gen ${e.generation} ${task.name} ${o.kind} lr ${o.learningRate} wd ${o.weightDecay} ${o.schedule} ${e.recipe.update} ${out.steps} steps: ` +
        `acc ${(ev.accuracy * 100).toFixed(1)}%` + (parentEval ? ` (parent ${(parentEval.accuracy * 100).toFixed(1)}%)` : '') + `, ${out.seconds.toFixed(1)} s`,
    );
    models.push({
      id,
      path: file,
      format: 'safetensors',
      dtype: 'F32',
      architecture: arch,
      task: { name: task.name, description: task.description, ...(task.name !== e.task ? { planned: e.task } : {}), trainSamples: task.train.count, testSamples: task.test.count },
      hyperparameters: {
        regime: e.regime,
        ...optimizerRecord(o),
        batchSize: e.recipe.batchSize,
        steps: out.steps,
        update: e.recipe.update,
        ...(e.recipe.update === 'lora' ? { loraRank: LORA_RANK } : {}),
        shuffleSeed,
        loss: 'softmax cross-entropy',
      },
      initialization,
      epochs: null,
      steps: out.steps,
      ...classifierOutcome(out, ev, parentEval, backend.name),
      parent: e.parentKey ? idByKey.get(e.parentKey)! : null,
      generation: e.generation,
    });
  }
  return {
    models,
    backend,
    datasets: { ...tasks.report },
    notes: [
      `regimes: ${NET_NOTES[netName]} families, one family shape per training regime (lib/zoo/regimes.ts); hyperparameters.regime names it.`,
      'Partial fine-tunes leave the untrained tensors bit-identical; LoRA-style children merge the rank-4 truncation of their update.',
      ...tasks.report.substitutions,
    ],
    synthetic: false,
  };
}
