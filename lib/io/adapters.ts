/**
 * PEFT adapters in a model set: each adapter is matched to its base, and its tensor list
 * becomes the base's with the LoRA-changed weights marked to be formed in the scan (base +
 * scale · B·A, lib/io/types.ts LoraSource), the adapter's whole tensors replacing the base's,
 * and every other tensor the base's own entry (the scan reads those bytes once for both).
 *
 * The base is, in order: `adapterBases[adapter id]` (a model id in the set or the path of a
 * model in it), else the model whose directory name, id or config.json `_name_or_path` equals
 * the adapter's base_model_name_or_path (or its README's `base_model`), whole or by its last
 * path segment ("meta-llama/Llama-2-7b-hf" finds a folder Llama-2-7b-hf). An adapter whose
 * base is not in the set keeps its own tensors (inspect shows them) and is left out of scans
 * with a warning naming the base it needs.
 */
import * as fs from 'fs';
import * as path from 'path';
import { FormatError, InvalidArgumentError } from '../errors';
import type { AdapterTensors } from './peft';
import type { AdapterInfo, ModelSource, TensorEntry } from './types';

const MAX_SIDE_FILE = 1 << 20;

/** Each adapter's pairs and replacements, kept beside its AdapterInfo until it is resolved. */
export const adapterTensors = new WeakMap<AdapterInfo, AdapterTensors>();

function readSmall(file: string): string | undefined {
  try {
    const st = fs.statSync(file);
    if (!st.isFile() || st.size > MAX_SIDE_FILE) return undefined;
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** `base_model` from a README's YAML front matter (a scalar or the first item of a list). */
export function readmeBaseModel(text: string): string | undefined {
  const m = /^---\r?\n([\s\S]*?)\r?\n---/.exec(text);
  if (!m) return undefined;
  const lines = m[1].split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const kv = /^base_model:\s*(.*)$/.exec(lines[i]);
    if (!kv) continue;
    const v = kv[1].trim().replace(/^["']|["']$/g, '');
    if (v) return v;
    const item = /^\s*-\s*(.+)$/.exec(lines[i + 1] ?? '');
    return item ? item[1].trim().replace(/^["']|["']$/g, '') : undefined;
  }
  return undefined;
}

const lastSegment = (s: string): string => s.replace(/\/+$/, '').split('/').pop() ?? s;

/** Names a model answers to when an adapter asks for its base. */
function namesOf(m: ModelSource): string[] {
  const names = [m.id, path.basename(m.path)];
  if (m.format !== 'file') {
    const cfg = readSmall(path.join(m.path, 'config.json'));
    if (cfg) {
      try {
        const v = (JSON.parse(cfg) as Record<string, unknown>)._name_or_path;
        if (typeof v === 'string' && v) names.push(v);
      } catch {
        /* a broken config.json only loses this name */
      }
    }
  }
  return names;
}

/** Whether a model named `name` answers an adapter's request for base `wanted` (whole, or by last path segment). */
export function matchesBaseName(wanted: string, name: string): boolean {
  return wanted === name || lastSegment(wanted) === lastSegment(name);
}

/** The adapter model's tensor list over base `base`. */
function adapterOverBase(base: ModelSource, lora: AdapterTensors): TensorEntry[] {
  const byName = new Map(base.tensors.map((t) => [t.name, t]));
  const replaced = new Map(lora.replacements.map((t) => [t.name, t]));
  const formed = new Map<string, TensorEntry>();
  for (const p of lora.pairs) {
    const bt = byName.get(p.target);
    const where = { file: p.a.file, tensor: p.a.name };
    if (!bt) throw new FormatError('E_FORMAT', `${p.a.file}: tensor '${p.a.name}' changes '${p.target}', which base ${base.id} does not have`, where);
    const [rows, cols] = [bt.shape[0], bt.shape[1]];
    if (bt.shape.length !== 2 || p.a.shape[1] !== cols || p.b.shape[0] !== rows)
      throw new FormatError(
        'E_FORMAT',
        `${p.a.file}: tensor '${p.a.name}': lora_A [${p.a.shape.join(', ')}] and lora_B [${p.b.shape.join(', ')}] do not fit '${p.target}' [${bt.shape.join(', ')}] of base ${base.id}`,
        where,
      );
    formed.set(p.target, {
      name: p.target,
      dtype: 'F32',
      shape: bt.shape,
      file: p.a.file,
      offset: p.a.offset,
      byteLength: p.a.byteLength + p.b.byteLength,
      lora: { base: bt, a: p.a, b: p.b, rank: p.rank, scale: p.scale },
    });
  }
  const out = base.tensors.map((t) => formed.get(t.name) ?? replaced.get(t.name) ?? t);
  for (const t of lora.replacements) if (!byName.has(t.name)) out.push(t);
  return out;
}

export interface ResolveOptions {
  /** adapter id -> base (a model id in the set, or the path of a model in it). */
  adapterBases?: Record<string, string>;
  /** Keep adapters whose base is missing (with their own tensors) instead of leaving them out. */
  keepUnresolved?: boolean;
}

/** Matches every adapter in `models` to its base and rebuilds its tensor list; returns the models to keep. */
export function resolveAdapters(models: ModelSource[], opts: ResolveOptions, warnings: string[]): ModelSource[] {
  const adapters = models.filter((m) => m.adapter);
  const bases = models.filter((m) => !m.adapter);
  const given = opts.adapterBases ?? {};
  for (const id of Object.keys(given))
    if (!adapters.some((a) => a.id === id))
      throw new InvalidArgumentError('E_INVALID_ARG', `adapterBases (--adapter-base): '${id}' is not a PEFT adapter in the set (adapters: ${adapters.map((a) => a.id).join(', ') || 'none'})`);
  const keep = new Set<ModelSource>(bases);
  for (const a of adapters) {
    const info = a.adapter!;
    const lora = adapterTensors.get(info)!;
    let base: ModelSource | undefined;
    const asked = given[a.id];
    if (asked !== undefined) {
      const abs = path.resolve(asked);
      base = bases.find((m) => m.id === asked || m.path === abs);
      if (!base)
        throw new InvalidArgumentError('E_INVALID_ARG', `--adapter-base ${a.id}=${asked}: no model of that id or path in the set (give the base's path among the inputs too)`);
    } else if (info.wants) {
      const found = bases.filter((m) => namesOf(m).some((n) => matchesBaseName(info.wants!, n)));
      if (found.length > 1)
        throw new InvalidArgumentError('E_INVALID_ARG', `${info.configFile}: base '${info.wants}' matches ${found.map((m) => m.id).join(', ')}; pick one with --adapter-base ${a.id}=ID`);
      base = found[0];
    }
    if (!base) {
      warnings.push(
        `${a.path}: PEFT adapter of base '${info.wants ?? 'unknown (no base_model_name_or_path)'}', which is not in the set; ` +
          `${opts.keepUnresolved ? 'its own tensors are shown' : 'left out'} (add the base, or give --adapter-base ${a.id}=BASE)`,
      );
      if (opts.keepUnresolved) keep.add(a);
      continue;
    }
    a.tensors = adapterOverBase(base, lora);
    a.params = a.tensors.reduce((s, t) => s + t.shape.reduce((x, y) => x * y, 1), 0);
    info.baseId = base.id;
    keep.add(a);
  }
  return models.filter((m) => keep.has(m));
}
