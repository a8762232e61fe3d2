/**
 * hub: a tiny-llama model set shaped like a model hub, with every kind of typed edge
 * (lib/io/edge-types.ts) and model cards that declare bases, for `npm run eval:hub`.
 *
 * Two bases a, b (plus x, trained alone: an unrelated model) pre-trained on 'stories';
 *   full fine-tunes and grandchildren (two per base, one grandchild under each);
 *   PEFT LoRA adapters: over a, over b, and one over the fine-tune a/c0 (it must attach to the
 *     fine-tune, not to the root);
 *   merged LoRAs: a child trained in full, cut to its best rank-r change and merged back into
 *     full weights (a finetune edge with `rank`);
 *   merges (lib/zoo/merge-kinds.ts): linear, SLERP and TIES of siblings and of cousins;
 *   quantized copies as GGUF (Q8_0 and Q4_K; QUANTIZED_CHILD_KINDS);
 *   a byte-identical duplicate;
 *   README.md cards with YAML front matter declaring bases: most correct, some missing, exactly
 *     one wrong (HubCard.mislabelled), drawn by the seed among realistic mistakes.
 * lineage.json carries the true types, merge weights and ranks (ZooModelRecord.origin).
 *
 * Training is the tiny-llama small model with shorter schedules, so one seed builds in about a
 * minute on 2 CPU cores (docs/zoo.md).
 */
import * as fs from 'fs';
import * as path from 'path';
import { describeBackend, selectBackend } from '../backend';
import { modelId } from '../ids';
import { deriveSeed, Rng } from '../rng';
import { hfConfigJson, llamaTensorSpecs } from '../llama/config';
import { toHfTensors } from '../llama/model';
import { TEXT_DOMAINS, TextDomain } from '../llama/text';
import { MERGE_RECIPES } from '../merge-kinds';
import { lowRank, rewriteAsAdapter } from '../peft-children';
import { writeHfCheckpoint } from '../hf-writer';
import { openModels } from '../../io/discover';
import { readTensorValues } from '../../io/tensor-data';
import type { ZooModelRecord, ZooOptions } from '../types';
import { buildLm, LM_SCALES, LmScale, lmTokenizers, TrainedLm } from './tiny-llama';
import { PresetBuilder, PresetContext, PresetResult } from './context';
import { HUB_QUANTIZED_KINDS } from './hub-quantized';
import { DUPLICATES, HUB_LORA_RANK, MERGES, MISLABELS, NO_CARD, QUANTIZED, TRAINED } from './hub-plan';

export { HUB_LORA_RANK, MISLABELS } from './hub-plan';

/** The tiny-llama small model with shorter schedules (the hub tests typing, not training). */
const HUB_SCALE: LmScale = {
  ...LM_SCALES.small,
  seqLen: 32,
  parentSteps: 80,
  childSteps: 25,
  trainChars: { parent: 60_000, child: 20_000 },
  testChars: 6_000,
};

function normalize(o: ZooOptions): Record<string, unknown> {
  return { preset: 'hub', scale: 'small', seed: o.seed ?? 0 };
}

const idOf = (seed: number, key: string) => modelId('hub', seed, key);

async function readModelValues(dir: string): Promise<Map<string, { shape: number[]; data: Float32Array }>> {
  const [m] = (await openModels([dir])).models;
  return new Map(m.tensors.map((t) => [t.name, { shape: t.shape, data: readTensorValues(t) }]));
}

function writeBf16(dir: string, config: Record<string, unknown>, specs: { name: string; shape: number[] }[], values: Map<string, { data: Float32Array }>): void {
  writeHfCheckpoint({ dir, config, tensors: specs, dtype: 'BF16', minShards: 2 }, (name, _shape, write) => write(values.get(name)!.data));
}

/** Record of a model made from others without training. */
function derivedRecord(base: ZooModelRecord, id: string, parent: string, generation: number, origin: ZooModelRecord['origin'], note: string): ZooModelRecord {
  return {
    ...base,
    id,
    path: id,
    task: { name: 'none', description: note },
    hyperparameters: { recipe: origin?.recipe ?? origin?.type },
    initialization: { derivedFrom: origin?.parents?.map((p) => p.id) ?? [parent] },
    epochs: null,
    steps: null,
    finalLoss: null,
    lossHistory: [],
    accuracy: null,
    heldOutLoss: null,
    parent,
    generation,
    parentAccuracyOnTask: null,
    parentHeldOutLossOnTask: null,
    trainSeconds: 0,
    origin,
  };
}

async function build(ctx: PresetContext): Promise<PresetResult> {
  const sc = HUB_SCALE;
  const backend = await selectBackend(ctx.options.backend ?? 'auto');
  ctx.log(`tfjs backend: ${describeBackend(backend)}`);
  const byKey = new Map<string, TrainedLm>();
  const tokenizers = lmTokenizers();
  const models: ZooModelRecord[] = [];
  const recOf = new Map<string, ZooModelRecord>();
  const id = (key: string) => idOf(ctx.seed, key);

  for (let i = 0; i < TRAINED.length; i++) {
    const e = TRAINED[i];
    const rec = await buildLm(ctx, sc, backend.name, TRAINED, i, byKey, tokenizers, 'hub');
    const parentId = e.parentKey ? id(e.parentKey) : null;
    if (e.as === 'peft' && parentId) {
      // The adapter stands for parent + rank-r change; its base is named in adapter_config.json.
      await rewriteAsAdapter(ctx.outDir, rec.path, parentId, HUB_LORA_RANK);
      rec.peft = { rank: HUB_LORA_RANK };
      rec.origin = { type: 'peft', rank: HUB_LORA_RANK };
    } else if (e.as === 'lora-merged' && parentId) {
      mergeLoraInPlace(ctx.outDir, rec, byKey.get(e.parentKey!)!, byKey.get(e.key)!);
      rec.origin = { type: 'finetune', rank: HUB_LORA_RANK, recipe: `rank-${HUB_LORA_RANK} LoRA merged into full weights` };
    }
    models.push(rec);
    recOf.set(e.key, rec);
  }
  const template = recOf.get('a')!;
  const config = byKey.get('a')!.config;
  const specs = llamaTensorSpecs(config).map((s) => ({ name: s.name, shape: s.shape }));

  for (const m of MERGES) {
    const recipe = MERGE_RECIPES[m.kind];
    const rng = new Rng(deriveSeed(ctx.seed, 'hub-merge', m.key));
    const [A, B, base] = await Promise.all([m.a, m.b, m.base].map((k) => readModelValues(path.join(ctx.outDir, id(k)))));
    const c = recipe.draw(rng);
    const out = new Map([...A].map(([name, t]) => [name, { data: recipe.apply({ a: t.data, b: B.get(name)!.data, base: base.get(name)!.data }, c, rng) }]));
    const who = { a: id(m.a), b: id(m.b), base: id(m.base) };
    const parents = recipe.truth(c).map((p) => ({ id: who[p.who], weight: p.weight })).sort((x, y) => y.weight - x.weight);
    const mid = id(m.key);
    writeBf16(path.join(ctx.outDir, mid), hfConfigJson(config), specs, out);
    const gen = 1 + Math.max(recOf.get(m.a)!.generation, recOf.get(m.b)!.generation);
    const rec = derivedRecord(template, mid, parents[0].id, gen, { type: 'merge', parents, recipe: `${m.kind} of ${m.relation}: ${recipe.about}` }, `${m.kind} merge of ${m.relation}`);
    models.push(rec);
    recOf.set(m.key, rec);
    ctx.log(`${mid}: ${m.kind} merge of ${m.relation} (${parents.map((p) => `${p.weight.toFixed(2)}·${p.id}`).join(' + ')})`);
  }

  for (const q of QUANTIZED) {
    const qid = id(q.key);
    const written = await HUB_QUANTIZED_KINDS[q.kind].write(path.join(ctx.outDir, id(q.source)), path.join(ctx.outDir, qid));
    const src = recOf.get(q.source)!;
    const rec = derivedRecord(src, qid, src.id, src.generation + 1, { type: 'quantized', recipe: HUB_QUANTIZED_KINDS[q.kind].about }, `${q.kind} copy`);
    Object.assign(rec, written);
    models.push(rec);
    recOf.set(q.key, rec);
  }

  for (const d of DUPLICATES) {
    const did = id(d.key);
    fs.cpSync(path.join(ctx.outDir, id(d.source)), path.join(ctx.outDir, did), { recursive: true });
    const src = recOf.get(d.source)!;
    const rec = derivedRecord(src, did, src.id, src.generation + 1, { type: 'duplicate', recipe: 'byte-identical copy' }, 'byte-identical copy');
    models.push(rec);
    recOf.set(d.key, rec);
  }

  const card = writeCards(ctx, recOf);
  return {
    models,
    backend,
    datasets: { text: 'generated by lib/zoo/llama/text.ts from seeded grammars (no downloads)', domains: TEXT_DOMAINS as Record<TextDomain, string> },
    notes: [
      'hub: tiny-llama models (hidden 64, 2 layers) with every typed edge: fine-tunes, PEFT adapters, merged LoRAs, linear/SLERP/TIES merges of siblings and cousins, GGUF copies, a duplicate and an unrelated model.',
      `Schedules: bases ${sc.parentSteps} Adam steps, children ${sc.childSteps}; adapters and merged LoRAs rank ${HUB_LORA_RANK} (SVD of a trained fine-tune's decoder weights).`,
      `Model cards (README.md front matter base_model): ${card.withCard} models have one, ${card.without} none; the card of ${card.mislabelled.model} is wrong on purpose (names ${card.mislabelled.names}, true parent ${card.mislabelled.truth}).`,
    ],
    synthetic: false,
  };
}

/** The merged LoRA: parent + best rank-r approximation of the trained child's change on each
 * decoder matrix; embeddings, lm_head and norms stay the parent's (as a LoRA leaves them). */
function mergeLoraInPlace(outDir: string, rec: ZooModelRecord, parent: TrainedLm, child: TrainedLm): void {
  const dir = path.join(outDir, rec.path);
  const specs = llamaTensorSpecs(child.config);
  const pv = toValues(parent);
  const cv = toValues(child);
  const out = new Map<string, { data: Float32Array }>();
  for (const s of specs) {
    const p = pv.get(s.name)!;
    if (s.shape.length === 2 && /^model\.layers\./.test(s.name)) {
      const d = cv.get(s.name)!.map((v, i) => v - p[i]);
      const { a, b } = lowRank(d, s.shape[0], s.shape[1], HUB_LORA_RANK);
      const [rows, cols] = s.shape;
      const m = Float32Array.from(p);
      for (let i = 0; i < rows; i++) for (let k = 0; k < HUB_LORA_RANK; k++) {
        const bik = b[i * HUB_LORA_RANK + k];
        for (let j = 0; j < cols; j++) m[i * cols + j] += bik * a[k * cols + j];
      }
      out.set(s.name, { data: m });
    } else out.set(s.name, { data: p });
  }
  for (const f of fs.readdirSync(dir)) if (/\.safetensors(\.index\.json)?$/.test(f)) fs.rmSync(path.join(dir, f));
  writeBf16(dir, hfConfigJson(child.config), specs.map((s) => ({ name: s.name, shape: s.shape })), out);
}

/** The weights in the PyTorch [out, in] layout the checkpoint stores. */
function toValues(m: TrainedLm): Map<string, Float32Array> {
  return new Map(toHfTensors(m.config, m.weights).map((t) => [t.spec.name, t.data]));
}

export interface HubCard {
  withCard: number;
  without: number;
  mislabelled: { model: string; names: string; truth: string };
}

/** README.md with YAML front matter per model that has a card: base_model as lineage.json says,
 * except the one mislabelled card. Returns what was written (for models.json notes and the eval). */
function writeCards(ctx: PresetContext, recOf: Map<string, ZooModelRecord>): HubCard {
  const [badKey, badBase] = MISLABELS[Math.floor(new Rng(deriveSeed(ctx.seed, 'hub-mislabel')).next() * MISLABELS.length)];
  let withCard = 0;
  let without = 0;
  let mislabelled: HubCard['mislabelled'] | null = null;
  for (const [key, rec] of recOf) {
    if (NO_CARD.has(key) || rec.peft) {
      // Adapters declare their base in adapter_config.json already.
      if (!rec.peft) without++;
      continue;
    }
    const truth = rec.origin?.parents?.map((p) => p.id) ?? (rec.parent ? [rec.parent] : []);
    let bases = truth;
    if (key === badKey) {
      bases = [idOf(ctx.seed, badBase)];
      mislabelled = { model: rec.id, names: bases[0], truth: truth.join(', ') };
    }
    const yaml = ['---', 'library_name: transformers', bases.length === 1 ? `base_model: ${bases[0]}` : ['base_model:', ...bases.map((b) => `- ${b}`)].join('\n'), 'tags:', '- tiny-llama', '---', ''];
    fs.writeFileSync(path.join(ctx.outDir, rec.path, 'README.md'), `${yaml.join('\n')}\n# ${rec.id}\n\n${rec.task.description}\n`);
    withCard++;
  }
  return { withCard, without, mislabelled: mislabelled! };
}

export const hubPreset: PresetBuilder = { normalize, build };
