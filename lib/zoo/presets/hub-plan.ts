/**
 * What the hub preset (hub.ts) builds, as data: the trained models, merges, quantized copies,
 * the duplicate, which models have no card and the mislabels the seed draws from. Kept apart
 * from the builder so the plan can be checked without loading tfjs.
 */
import type { TextDomain } from '../llama/text';
import type { MergeKind } from '../merge-kinds';
import type { HubQuantizedKind } from './hub-quantized';

/** A model trained with tfjs (tiny-llama's plan entry) and how it is written. */
export interface HubTrained {
  key: string;
  generation: 0 | 1 | 2;
  parentKey: string | null;
  domain: TextDomain;
  resize: false;
  as: 'full' | 'peft' | 'lora-merged';
}

/** Rank of the adapters and merged LoRAs. */
export const HUB_LORA_RANK = 4;

/** Models trained with tfjs, parents first. Keys say where a model sits; ids hide them. Children
 * of one parent get different domains: two siblings tuned on one task drift alike, and the tree
 * then reads one as the other's parent (seen when a/l0 and a/c1 both learnt 'records'). */
export const TRAINED: HubTrained[] = [
  { key: 'a', generation: 0, parentKey: null, domain: 'stories', resize: false, as: 'full' },
  { key: 'b', generation: 0, parentKey: null, domain: 'stories', resize: false, as: 'full' },
  { key: 'x', generation: 0, parentKey: null, domain: 'records', resize: false, as: 'full' },
  { key: 'a/c0', generation: 1, parentKey: 'a', domain: 'arithmetic', resize: false, as: 'full' },
  { key: 'a/c1', generation: 1, parentKey: 'a', domain: 'records', resize: false, as: 'full' },
  { key: 'a/c0/g0', generation: 2, parentKey: 'a/c0', domain: 'code', resize: false, as: 'full' },
  { key: 'a/c1/g0', generation: 2, parentKey: 'a/c1', domain: 'code', resize: false, as: 'full' },
  { key: 'b/c0', generation: 1, parentKey: 'b', domain: 'code', resize: false, as: 'full' },
  { key: 'b/c1', generation: 1, parentKey: 'b', domain: 'arithmetic', resize: false, as: 'full' },
  { key: 'b/c0/g0', generation: 2, parentKey: 'b/c0', domain: 'records', resize: false, as: 'full' },
  { key: 'b/c1/g0', generation: 2, parentKey: 'b/c1', domain: 'records', resize: false, as: 'full' },
  { key: 'a/p0', generation: 1, parentKey: 'a', domain: 'code', resize: false, as: 'peft' },
  { key: 'a/c0/p0', generation: 2, parentKey: 'a/c0', domain: 'records', resize: false, as: 'peft' },
  { key: 'b/p0', generation: 1, parentKey: 'b', domain: 'records', resize: false, as: 'peft' },
  { key: 'a/l0', generation: 1, parentKey: 'a', domain: 'recipes', resize: false, as: 'lora-merged' },
  { key: 'b/l0', generation: 1, parentKey: 'b', domain: 'recipes', resize: false, as: 'lora-merged' },
];

/** Merged children: recipe, the two merged models and the base of task-vector recipes. */
export const MERGES: { key: string; kind: MergeKind; a: string; b: string; base: string; relation: 'siblings' | 'cousins' }[] = [
  { key: 'a/m-linear', kind: 'linear', a: 'a/c0', b: 'a/c1', base: 'a', relation: 'siblings' },
  { key: 'a/m-slerp', kind: 'slerp', a: 'a/c0/g0', b: 'a/c1/g0', base: 'a', relation: 'cousins' },
  { key: 'a/m-ties', kind: 'ties', a: 'a/c0', b: 'a/c1', base: 'a', relation: 'siblings' },
  { key: 'b/m-slerp', kind: 'slerp', a: 'b/c0', b: 'b/c1', base: 'b', relation: 'siblings' },
  { key: 'b/m-linear', kind: 'linear', a: 'b/c0/g0', b: 'b/c1/g0', base: 'b', relation: 'cousins' },
  { key: 'b/m-ties', kind: 'ties', a: 'b/c0/g0', b: 'b/c1/g0', base: 'b', relation: 'cousins' },
];

/** Quantized copies: one entry per child kind (a new kind is one more entry in HUB_QUANTIZED_KINDS and here). */
export const QUANTIZED: { key: string; source: string; kind: HubQuantizedKind }[] = [
  { key: 'a/c1/q8', source: 'a/c1', kind: 'gguf-q8_0' },
  { key: 'b/c0/q4k', source: 'b/c0', kind: 'gguf-q4_k' },
  { key: 'a/c0/gptq', source: 'a/c0', kind: 'gptq-4bit' },
];

export const DUPLICATES: { key: string; source: string }[] = [{ key: 'b/c1/copy', source: 'b/c1' }];

/** Models whose card is left out (a hub has many models without one). The duplicate keeps a
 * card naming its source, as a re-upload's does: nothing in identical weights can order them. */
export const NO_CARD = new Set(['a', 'b', 'x', 'a/c1/g0', 'b/c0', 'b/l0']);

/** Realistic mislabels: [model, what its card wrongly names]. The seed picks one per zoo. */
export const MISLABELS: [string, string][] = [
  ['a/c0/g0', 'a'], // a grandchild naming the family's base instead of its parent
  ['b/c1/g0', 'b'],
  ['a/c1', 'b'], // the other family's base
  ['b/m-slerp', 'b'], // a merge naming the base its parents were tuned from
];

