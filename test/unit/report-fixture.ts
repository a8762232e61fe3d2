/**
 * A hand-made multi-generation result and its ground truth, shared by the report tests.
 * The truth is chosen so that every mark occurs: right (✓), reversed (↔), wrong (✗), missed.
 */
import type { DetectionResult } from '../../lib/detect/types';
import type { Lineage } from '../../lib/io/types';

export function sampleResult(): DetectionResult {
  return {
    models: [
      { id: 'base', path: '/zoo/base.safetensors', params: 1000, score: 0.1, declared: { bases: [], verdict: 'none' } },
      { id: 'ft-a', path: '/zoo/ft-a.safetensors', params: 1000, score: 0.2, declared: { bases: [], verdict: 'none' } },
      { id: 'ft-a-1', path: '/zoo/ft-a-1.safetensors', params: 1000, score: 0.3, declared: { bases: [], verdict: 'none' } },
      { id: 'ft-b', path: '/zoo/ft-b.safetensors', params: 1000, score: 0.25, declared: { bases: [], verdict: 'none' } },
      { id: 'ft-b-copy', path: '/zoo/ft-b-copy.safetensors', params: 1000, score: 0.25, declared: { bases: [], verdict: 'none' } },
      { id: 'other', path: '/zoo/other.safetensors', params: 1000, score: 0.15, declared: { bases: [], verdict: 'none' } },
      { id: 'other-ft', path: '/zoo/other-ft.safetensors', params: 1000, score: 0.18, declared: { bases: [], verdict: 'none' } },
      { id: 'lone', path: '/zoo/lone.safetensors', params: 500, score: 0.5, declared: { bases: [], verdict: 'none' } },
    ],
    edges: [
      { parent: 'base', child: 'ft-a', type: 'finetune', confidence: 0.91, distance: 1.5 },
      { parent: 'base', child: 'ft-b', type: 'finetune', confidence: 0.4, distance: 2 },
      { parent: 'ft-a', child: 'ft-a-1', type: 'finetune', confidence: 0.8, distance: 0.5 },
      { parent: 'ft-b', child: 'ft-b-copy', type: 'duplicate', confidence: 0.5, distance: 0 },
      { parent: 'other', child: 'other-ft', type: 'finetune', confidence: 0.55, distance: 3 },
    ],
    roots: ['base', 'other', 'lone'],
    families: [['base', 'ft-a', 'ft-a-1', 'ft-b', 'ft-b-copy'], ['other', 'other-ft'], ['lone']],
    duplicates: [['ft-b', 'ft-b-copy']],
    distances: {
      ids: ['base', 'ft-a', 'ft-a-1', 'ft-b', 'ft-b-copy', 'other', 'other-ft', 'lone'],
      matrix: [
        [0, 1.5, 2, 2, 2, 9, 9, 12],
        [1.5, 0, 0.5, 3, 3, 9, 9, 12],
        [2, 0.5, 0, 3.5, 3.5, 9, 9, 12],
        [2, 3, 3.5, 0, 0, 9, 9, 12],
        [2, 3, 3.5, 0, 0, 9, 9, 12],
        [9, 9, 9, 9, 9, 0, 3, 12],
        [9, 9, 9, 9, 9, 3, 0, 12],
        [12, 12, 12, 12, 12, 12, 12, 0],
      ],
    },
    method: 'arborescence',
    options: { k: 'auto', seed: 0 },
    timings: { scan: 812, detect: 3 },
    warnings: ['2 models share no tensor with the others'],
  };
}

export function sampleTruth(): Lineage {
  return {
    edges: [
      { parent: 'base', child: 'ft-a' },
      { parent: 'ft-b', child: 'base' },
      { parent: 'ft-a', child: 'ft-a-1' },
      { parent: 'ft-b', child: 'ft-b-copy' },
      { parent: 'lone', child: 'other-ft' },
      { parent: 'base', child: 'other' },
    ],
    families: [['base', 'ft-a', 'ft-a-1', 'ft-b', 'ft-b-copy', 'other', 'other-ft', 'lone']],
  };
}
