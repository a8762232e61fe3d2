/**
 * The hub preset's plan and its typed lineage.json, without training: every kind of edge is
 * planned, siblings learn different domains, the mislabels are really wrong, and models.json
 * records turn into typed, multi-parent lineage that the lineage reader accepts.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { DUPLICATES, MERGES, MISLABELS, NO_CARD, QUANTIZED, TRAINED } from '../../lib/zoo/presets/hub-plan';
import { lineageOf } from '../../lib/zoo/manifest';
import { readLineage } from '../../lib/io/lineage';
import type { ZooModelRecord } from '../../lib/zoo/types';

const parentOf = new Map(TRAINED.map((e) => [e.key, e.parentKey]));
const keys = new Set([...TRAINED.map((e) => e.key), ...MERGES.map((m) => m.key), ...QUANTIZED.map((q) => q.key), ...DUPLICATES.map((d) => d.key)]);

describe('hub plan', () => {
  it('plans every kind: two bases and an unrelated root, adapters (one over a fine-tune), merged LoRAs, merges of siblings and cousins, both GGUF kinds, a duplicate', () => {
    expect(TRAINED.filter((e) => e.parentKey === null).map((e) => e.key)).toEqual(['a', 'b', 'x']);
    expect(TRAINED.some((e) => e.key.startsWith('x/') || e.parentKey === 'x')).toBe(false);
    const peft = TRAINED.filter((e) => e.as === 'peft');
    expect(peft.some((e) => parentOf.get(e.parentKey!) !== null)).toBe(true);
    expect(TRAINED.filter((e) => e.as === 'lora-merged').length).toBeGreaterThanOrEqual(1);
    for (const kind of ['linear', 'slerp', 'ties'] as const) expect(MERGES.filter((m) => m.kind === kind).map((m) => m.relation).sort()).toEqual(['cousins', 'siblings']);
    expect(QUANTIZED.map((q) => q.kind).sort()).toEqual(['gguf-q4_k', 'gguf-q8_0', 'gptq-4bit']);
    expect(DUPLICATES.length).toBe(1);
  });

  it('merges join what they say: siblings share a parent, cousins have sibling parents', () => {
    for (const m of MERGES) {
      const [pa, pb] = [parentOf.get(m.a)!, parentOf.get(m.b)!];
      if (m.relation === 'siblings') expect(pa).toBe(pb);
      else expect([pa !== pb, parentOf.get(pa), parentOf.get(pb)]).toEqual([true, m.base, m.base]);
    }
  });

  it('children of one parent learn different domains (same-task siblings drift alike)', () => {
    const byParent = new Map<string, string[]>();
    for (const e of TRAINED) if (e.parentKey && e.as !== 'peft') byParent.set(e.parentKey, [...(byParent.get(e.parentKey) ?? []), e.domain]);
    for (const [, ds] of byParent) expect(new Set(ds).size).toBe(ds.length);
  });

  it('every mislabel names a planned model that is not the true parent, on a model that has a card', () => {
    for (const [model, names] of MISLABELS) {
      expect(keys.has(model) && keys.has(names)).toBe(true);
      expect(NO_CARD.has(model)).toBe(false);
      const merge = MERGES.find((m) => m.key === model);
      expect(merge ? [merge.a, merge.b] : [parentOf.get(model)]).not.toContain(names);
    }
  });
});

describe('typed lineage from models.json records', () => {
  const rec = (id: string, parent: string | null, origin?: ZooModelRecord['origin']) => ({ id, parent, origin }) as ZooModelRecord;
  it('writes one merge edge per parent with its weight, types and ranks, and families through the first parent', async () => {
    const models = [
      rec('b', null),
      rec('c1', 'b'),
      rec('c2', 'b'),
      rec('m', 'c1', { type: 'merge', parents: [{ id: 'c1', weight: 0.6 }, { id: 'c2', weight: 0.4 }] }),
      rec('l', 'b', { type: 'finetune', rank: 4 }),
      rec('q', 'c2', { type: 'quantized' }),
      rec('p', 'c1', { type: 'peft', rank: 4 }),
      rec('d', 'c1', { type: 'duplicate' }),
    ];
    const lin = lineageOf(models);
    expect(lin.edges).toEqual([
      { parent: 'b', child: 'c1' },
      { parent: 'b', child: 'c2' },
      { parent: 'c1', child: 'd', type: 'duplicate' },
      { parent: 'b', child: 'l', type: 'finetune', rank: 4 },
      { parent: 'c1', child: 'm', type: 'merge', weight: 0.6 },
      { parent: 'c2', child: 'm', type: 'merge', weight: 0.4 },
      { parent: 'c1', child: 'p', type: 'peft', rank: 4 },
      { parent: 'c2', child: 'q', type: 'quantized' },
    ]);
    expect(lin.families).toEqual([['b', 'c1', 'c2', 'd', 'l', 'm', 'p', 'q']]);
    // The lineage reader (which refuses malformed truth) takes it as written.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'np-hub-lineage-'));
    try {
      fs.writeFileSync(path.join(dir, 'lineage.json'), JSON.stringify(lin));
      expect((await readLineage(path.join(dir, 'lineage.json'))).edges).toEqual(lin.edges);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a merge parent that is not in the zoo', () => {
    expect(() => lineageOf([rec('b', null), rec('m', 'b', { type: 'merge', parents: [{ id: 'b', weight: 0.5 }, { id: 'zz', weight: 0.5 }] })])).toThrow(/parent zz is not in the zoo/);
  });
});
