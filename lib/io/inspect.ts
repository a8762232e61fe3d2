/**
 * `phylogeny inspect <model>`: what a model holds, from its headers alone: one row per
 * tensor (name, dtype, shape, bytes, file) and totals per dtype.
 */
import * as path from 'path';
import { InvalidArgumentError } from '../errors';
import { openModels } from './discover';
import { elementCount } from './safetensors';
import { ModelFormat, WeightFormatName } from './types';

export interface InspectTensor {
  name: string;
  dtype: string;
  shape: number[];
  bytes: number;
  /** Absolute path of the file holding it. */
  file: string;
}

export interface InspectTotals {
  tensors: number;
  params: number;
  bytes: number;
  byDtype: Record<string, { tensors: number; params: number; bytes: number }>;
}

export interface InspectReport {
  id: string;
  path: string;
  format: ModelFormat;
  /** Formats of the weight files (safetensors, pytorch, gguf). */
  weightFormats: WeightFormatName[];
  files: string[];
  /** For a PEFT adapter: its rank, pairs and the base it names (inspect reads it alone, so its own tensors are listed). */
  adapter?: { rank: number; pairs: number; base?: string; config: string };
  /** GPTQ/AWQ packed Linears, one entry per method, bits and group size (the tensor list shows them unpacked). */
  packed?: { method: string; bits: number; groupSize: number; tensors: number; actOrder: number }[];
  /** A GGUF model split by llama.cpp's gguf-split: how many files (listed in `files`). */
  ggufSplit?: { files: number };
  tensors: InspectTensor[];
  totals: InspectTotals;
  warnings: string[];
}

/** Reads one model's headers; a path holding several models is refused. */
export async function inspectModel(modelPath: string, opts: { signal?: AbortSignal } = {}): Promise<InspectReport> {
  const set = await openModels([modelPath], { ...opts, keepUnresolvedAdapters: true });
  if (set.models.length !== 1)
    throw new InvalidArgumentError(
      'E_INVALID_ARG',
      `${path.resolve(modelPath)}: holds ${set.models.length} models (${set.models.map((m) => m.id).join(', ')}); inspect one of them`,
      { file: path.resolve(modelPath) },
    );
  const m = set.models[0];
  const byDtype: InspectTotals['byDtype'] = {};
  const tensors = m.tensors.map((t) => {
    const params = elementCount(t.shape);
    const d = (byDtype[t.dtype] ??= { tensors: 0, params: 0, bytes: 0 });
    d.tensors++;
    d.params += params;
    d.bytes += t.byteLength;
    return { name: t.name, dtype: t.dtype, shape: t.shape, bytes: t.byteLength, file: t.file };
  });
  const report: InspectReport = {
    id: m.id,
    path: m.path,
    format: m.format,
    weightFormats: m.weightFormats ?? ['safetensors'],
    files: m.files,
    tensors,
    totals: { tensors: tensors.length, params: m.params, bytes: m.bytes, byDtype },
    warnings: set.warnings,
  };
  const packed = new Map<string, NonNullable<InspectReport['packed']>[number]>();
  for (const t of m.tensors) {
    const p = t.packed;
    if (!p) continue;
    const key = `${p.method}/${p.bits}/${p.groupSize}`;
    const e = packed.get(key) ?? { method: p.method, bits: p.bits, groupSize: p.groupSize, tensors: 0, actOrder: 0 };
    e.tensors++;
    if (p.actOrder) e.actOrder++;
    packed.set(key, e);
  }
  if (packed.size) report.packed = [...packed.values()];
  if (m.ggufSplit) report.ggufSplit = { ...m.ggufSplit };
  if (m.adapter) report.adapter = { rank: m.adapter.rank, pairs: m.adapter.pairs, base: m.adapter.wants, config: m.adapter.configFile };
  return report;
}

/** 1234567 -> "1,234,567" (fixed grouping, not the locale's, so output is stable). */
function grouped(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** Names are arbitrary strings; a newline or tab in one would break the table. */
function printable(name: string): string {
  // eslint-disable-next-line no-control-regex
  return /[\u0000-\u001f\u007f]/.test(name) ? JSON.stringify(name) : name;
}

export function humanBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${v.toFixed(v < 10 ? 2 : 1)} ${units[u]}`;
}

function table(header: string[], rows: string[][], rightAligned: boolean[]): string[] {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (cells: string[]): string =>
    cells
      .map((cell, c) => (rightAligned[c] ? cell.padStart(widths[c]) : cell.padEnd(widths[c])))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
}

/** "Q4_K×9, F32×3": tensors per dtype, most first. */
function typeCounts(report: InspectReport): string {
  return Object.entries(report.totals.byDtype)
    .sort((a, b) => b[1].tensors - a[1].tensors || (a[0] < b[0] ? -1 : 1))
    .map(([d, x]) => `${d}×${x.tensors}`)
    .join(', ');
}

/** An aligned text table of the tensors, then totals (overall and per dtype). */
export function formatInspect(report: InspectReport): string {
  const out: string[] = [];
  // safetensors is the default and goes unsaid; other weight formats are named
  const other = report.weightFormats.filter((f) => f !== 'safetensors');
  out.push(`model ${report.id} (${[report.format, ...other].join(', ')}) at ${report.path}`);
  // GGUF mixes block types per tensor; one line says which at a glance.
  if (report.weightFormats.includes('gguf')) out.push(`weights: gguf ${typeCounts(report)}`);
  if (report.ggufSplit) out.push(`split into ${report.ggufSplit.files} files (llama.cpp gguf-split), read as one model`);
  // GPTQ/AWQ: "weights: gptq 4-bit group 128 ×7, F16×3" (the packed Linears, then the rest).
  if (report.packed) {
    const packedLines = report.packed.map(
      (p) => `${p.method} ${p.bits}-bit ${p.groupSize === -1 ? 'one group' : `group ${p.groupSize}`} ×${p.tensors}${p.actOrder ? ` (act order ×${p.actOrder})` : ''}`,
    );
    const rest = Object.entries(report.totals.byDtype)
      .filter(([d]) => !/^(GPTQ|AWQ)\d+$/.test(d))
      .sort((x, y) => y[1].tensors - x[1].tensors || (x[0] < y[0] ? -1 : 1))
      .map(([d, x]) => `${d}×${x.tensors}`);
    out.push(`weights: ${[...packedLines, ...rest].join(', ')}`);
  }
  const a = report.adapter;
  if (a) out.push(`adapter: PEFT LoRA r=${a.rank}, ${a.pairs} pairs, base ${a.base ? `'${a.base}'` : 'not named'} (the model is base + scale·B·A; scan it beside its base)`);
  const base = report.format === 'file' ? path.dirname(report.path) : report.path;
  const multiFile = report.files.length > 1;
  if (multiFile) out.push(`files: ${report.files.map((f) => path.relative(base, f)).join(', ')}`);
  out.push('');
  const header = ['name', 'dtype', 'shape', 'bytes'];
  const right = [false, false, false, true];
  if (multiFile) {
    header.push('file');
    right.push(false);
  }
  const rows = report.tensors.map((t) => {
    const row = [printable(t.name), t.dtype, `[${t.shape.join(', ')}]`, grouped(t.bytes)];
    if (multiFile) row.push(path.relative(base, t.file));
    return row;
  });
  out.push(...table(header, rows, right));
  out.push('');
  const tot = report.totals;
  out.push(`total: ${grouped(tot.tensors)} tensors, ${grouped(tot.params)} parameters, ${grouped(tot.bytes)} bytes (${humanBytes(tot.bytes)})`);
  const dtypes = Object.keys(tot.byDtype).sort();
  const dtypeRows = dtypes.map((d) => {
    const x = tot.byDtype[d];
    return [d, grouped(x.tensors), grouped(x.params), grouped(x.bytes), humanBytes(x.bytes)];
  });
  out.push(...table(['dtype', 'tensors', 'parameters', 'bytes', 'size'], dtypeRows, [false, true, true, true, true]));
  for (const w of report.warnings) out.push(`warning: ${w}`);
  return out.join('\n'); // no trailing newline: the CLI adds its own
}
