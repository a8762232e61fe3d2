/**
 * GPTQ and AWQ checkpoints as tensor lists: each quantized Linear's `<prefix>.qweight`,
 * `.qzeros`, `.scales` (and GPTQ's `.g_idx`) become one entry `<prefix>.weight` of shape
 * [out, in], the torch Linear weight's, which the scan unpacks (native/core/scan_packed.h), so
 * a GPTQ child lines up tensor by tensor and element by element with its unquantized parent.
 * Every shape and dtype rule is checked here, before the scan allocates anything, with a
 * FormatError naming the file, the tensor and the rule; g_idx (a few KB per layer) is read and
 * each value checked against the group count. bitsandbytes weights are detected and refused
 * with how to convert them.
 */
import * as fs from 'fs';
import { FormatError, fromNative, IoError } from '../errors';
import { native, NativeScanMember } from '../native';
import type { OtherQuantConfig, PackedQuantConfig, QuantConfig } from './quant-config';
import type { PackedLayout, TensorEntry } from './types';

/** Tensor-name endings that only bitsandbytes writes (4-bit quant state, int8 row scales). */
const BNB_SUFFIXES = ['.absmax', '.quant_map', '.nested_absmax', '.nested_quant_map', '.SCB', '.weight_format'];
const BNB_STATE = /\.quant_state\.bitsandbytes__(nf4|fp4)$/;
const PARTS = ['qweight', 'qzeros', 'scales', 'g_idx'] as const;
type Part = (typeof PARTS)[number];
/** Bounds on in and out (the native scan's too): indices stay small and g_idx reads stay cheap. */
const MAX_FEATURES = 2 ** 31;
const SCALE_DTYPES = ['F16', 'BF16', 'F32'];

const BNB_HOW =
  'bitsandbytes-quantized weights are not supported: dequantize the model (in transformers, load it and call ' +
  'model.dequantize(), then save_pretrained(..., safe_serialization=True)) and scan the safetensors it writes';

function refuse(t: { file: string; name: string }, why: string): never {
  throw new FormatError('E_FORMAT', `${t.file}: tensor '${t.name}': ${why}`, { file: t.file, tensor: t.name });
}

function partOf(name: string): { prefix: string; part: Part } | undefined {
  for (const part of PARTS) if (name.endsWith(`.${part}`)) return { prefix: name.slice(0, -part.length - 1), part };
  return undefined;
}

/** Packed weight dtype names as the tensor list shows them: 'GPTQ4', 'AWQ4', ... */
export function packedDtype(method: string, bits: number): string {
  return `${method.toUpperCase()}${bits}`;
}

/** Reads a g_idx tensor's int32 values (small: one per input feature; read synchronously so
 * the fuzz target and discovery share one code path). */
function readGroupIndex(t: TensorEntry): Int32Array {
  const buf = Buffer.alloc(t.byteLength);
  let fd: number | undefined;
  try {
    fd = fs.openSync(t.file, 'r');
    const n = fs.readSync(fd, buf, 0, t.byteLength, t.offset);
    if (n !== t.byteLength) throw new Error(`read ${n} of ${t.byteLength} bytes of g_idx`);
  } catch (e) {
    throw new IoError('E_IO', `${t.file}: tensor '${t.name}': ${(e as Error).message}`, { file: t.file, tensor: t.name, cause: e });
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
  const out = new Int32Array(t.byteLength / 4);
  for (let i = 0; i < out.length; i++) out[i] = buf.readInt32LE(i * 4);
  return out;
}

function expectMatrix(t: TensorEntry, dtypes: string[], what: string): void {
  if (!dtypes.includes(t.dtype)) refuse(t, `${what} must be ${dtypes.join(' or ')}, not ${t.dtype}`);
  if (t.shape.length !== 2) refuse(t, `${what} must be 2-D, not [${t.shape.join(', ')}]`);
}

/** The layout of one quantized Linear from its parts, every rule checked. */
function layoutOf(prefix: string, parts: Partial<Record<Part, TensorEntry>>, cfg: PackedQuantConfig): PackedLayout {
  const qweight = parts.qweight!;
  const need = (p: Part): TensorEntry => parts[p] ?? refuse(qweight, `has no ${prefix}.${p} beside it (a ${cfg.method.toUpperCase()} weight needs qweight, qzeros and scales)`);
  const qzeros = need('qzeros'), scales = need('scales'), gIdx = parts.g_idx;
  expectMatrix(qweight, ['I32'], 'qweight');
  expectMatrix(qzeros, ['I32'], 'qzeros');
  expectMatrix(scales, SCALE_DTYPES, 'scales');
  const bits = cfg.bits, pack = Math.floor(32 / bits);
  const awq = cfg.method === 'awq';
  if (awq && gIdx) refuse(gIdx, 'an AWQ checkpoint has no g_idx');
  if (gIdx && (gIdx.dtype !== 'I32' || gIdx.shape.length !== 1)) refuse(gIdx, `g_idx must be a 1-D I32 tensor, not ${gIdx.dtype} [${gIdx.shape.join(', ')}]`);
  if (!gIdx && cfg.descAct) refuse(qweight, `desc_act is set in ${cfg.file} but there is no ${prefix}.g_idx`);
  const [qRows, qCols] = qweight.shape;
  const [groups, out] = scales.shape;
  // GPTQ packs inputs down qweight's rows (3 bits: 32 inputs per 3 words); AWQ packs outputs across its columns.
  const inFromWeight = awq ? qRows : (qRows * 32) / bits;
  if (!Number.isInteger(inFromWeight)) refuse(qweight, `${qRows} rows of ${bits}-bit words do not hold whole inputs`);
  const inFeatures = inFromWeight;
  if (inFeatures < 1 || out < 1 || inFeatures > MAX_FEATURES || out > MAX_FEATURES) refuse(qweight, `shape [out ${out}, in ${inFeatures}] is empty or too large`);
  if (gIdx && gIdx.shape[0] !== inFeatures)
    refuse(gIdx, `g_idx has ${gIdx.shape[0]} entries but qweight's ${qRows} rows × ${awq ? 1 : pack} = ${inFeatures} input features`);
  if (awq) {
    if (qCols !== Math.ceil(out / pack)) refuse(qweight, `AWQ qweight has ${qCols} columns; scales' ${out} outputs need ceil(${out}/${pack}) = ${Math.ceil(out / pack)}`);
  } else if (qCols !== out) {
    refuse(scales, `scales have ${out} columns but qweight ${qCols} output features`);
  }
  const expectGroups = cfg.groupSize === -1 ? 1 : Math.ceil(inFeatures / cfg.groupSize);
  if (groups !== expectGroups)
    refuse(scales, `scales have ${groups} rows (groups) but ${inFeatures} inputs in groups of ${cfg.groupSize === -1 ? 'all' : cfg.groupSize} make ${expectGroups}`);
  const zeroCols = Math.ceil((out * bits) / 32);
  if (qzeros.shape[0] !== groups || qzeros.shape[1] !== zeroCols)
    refuse(qzeros, `qzeros are [${qzeros.shape.join(', ')}], expected [groups ${groups}, ceil(${out} × ${bits} / 32) = ${zeroCols}]`);
  let actOrder = false;
  if (gIdx) {
    const g = readGroupIndex(gIdx);
    const size = cfg.groupSize === -1 ? inFeatures : cfg.groupSize;
    for (let i = 0; i < g.length; i++) {
      if (g[i] < 0 || g[i] >= groups) refuse(gIdx, `g_idx[${i}] = ${g[i]} is not a group (0..${groups - 1})`);
      if (g[i] !== Math.floor(i / size)) actOrder = true;
    }
  }
  const layout: PackedLayout = {
    method: cfg.method, bits, groupSize: cfg.groupSize, groups, zeroOffset: cfg.zeroOffset,
    in: inFeatures, out, actOrder, qweight, qzeros, scales,
  };
  if (gIdx) layout.gIdx = gIdx;
  return layout;
}

/** Throws the bitsandbytes refusal if any tensor (or the config) is bitsandbytes'. */
function refuseBitsandbytes(tensors: TensorEntry[], cfg: QuantConfig | undefined, where: string): void {
  const bnb = tensors.find((t) => BNB_SUFFIXES.some((s) => t.name.endsWith(s)) || BNB_STATE.test(t.name));
  if (bnb) refuse(bnb, BNB_HOW);
  if (cfg?.method === 'bitsandbytes')
    throw new FormatError('E_FORMAT', `${cfg.file}: quant_method bitsandbytes (model at ${where}): ${BNB_HOW}`, { file: cfg.file });
}

/**
 * A model's tensor list with every GPTQ/AWQ Linear turned into one `<prefix>.weight` entry.
 * `cfg` is the model directory's quantization config (lib/io/quant-config.ts), if any.
 */
export function unpackQuantizedTensors(tensors: TensorEntry[], cfg: QuantConfig | undefined, where: string): TensorEntry[] {
  refuseBitsandbytes(tensors, cfg, where);
  const byPrefix = new Map<string, Partial<Record<Part, TensorEntry>>>();
  for (const t of tensors) {
    const p = partOf(t.name);
    if (!p) continue;
    const parts = byPrefix.get(p.prefix) ?? {};
    parts[p.part] = t;
    byPrefix.set(p.prefix, parts);
  }
  for (const [prefix, parts] of byPrefix) {
    // A plain module may own a tensor called `scales` (e.g. a learned scale); qzeros and g_idx
    // are only ever parts of a packed Linear.
    const orphan = parts.qzeros ?? parts.g_idx;
    if (!parts.qweight && orphan) refuse(orphan, `has no ${prefix}.qweight beside it`);
  }
  const quantized = [...byPrefix].filter(([, parts]) => parts.qweight);
  if (!quantized.length) return tensors;
  const first = quantized[0][1].qweight!;
  if (!cfg) refuse(first, `is a packed GPTQ/AWQ weight but ${where} has no quantization config (config.json quantization_config, quantize_config.json or quant_config.json)`);
  if (cfg.method !== 'gptq' && cfg.method !== 'awq') refuse(first, `is a packed GPTQ/AWQ weight but ${cfg.file} says quant_method '${(cfg as OtherQuantConfig).name}'`);
  const packedCfg: PackedQuantConfig = cfg;
  const names = new Set(tensors.map((t) => t.name));
  const replace = new Map<TensorEntry, TensorEntry | null>();
  for (const [prefix, parts] of byPrefix) {
    if (!parts.qweight) continue;
    if (names.has(`${prefix}.weight`)) refuse(parts.qweight, `${prefix}.weight is also present: a Linear is either packed or not`);
    const layout = layoutOf(prefix, parts, packedCfg);
    const q = parts.qweight;
    const byteLength = PARTS.reduce((s, p) => s + (parts[p]?.byteLength ?? 0), 0);
    const entry: TensorEntry = {
      name: `${prefix}.weight`,
      dtype: packedDtype(packedCfg.method, packedCfg.bits),
      shape: [layout.out, layout.in],
      file: q.file,
      offset: q.offset,
      byteLength,
      packed: layout,
    };
    replace.set(q, entry);
    for (const p of PARTS) if (p !== 'qweight' && parts[p]) replace.set(parts[p]!, null);
  }
  const out: TensorEntry[] = [];
  for (const t of tensors) {
    const r = replace.get(t);
    if (r === undefined) out.push(t);
    else if (r !== null) out.push(r);
  }
  return out;
}

/** Whether the scan unpacks this packed weight (4 and 8 bits; 2- and 3-bit GPTQ is left out like other unscannable dtypes). */
export function isScannablePacked(p: PackedLayout): boolean {
  return p.bits === 4 || p.bits === 8;
}

/** A packed weight as the native scan's member; `fileOf` gives a file's index in the plan. */
export function packedMember(t: TensorEntry, fileOf: (file: string) => number): NativeScanMember {
  const p = t.packed!;
  const at = (x: TensorEntry) => ({ file: fileOf(x.file), offset: x.offset });
  const member: NativeScanMember = {
    ...at(p.qweight), dtype: t.dtype,
    packed: {
      bits: p.bits as 4 | 8, awq: p.method === 'awq', zeroOffset: p.zeroOffset, in: p.in, out: p.out, groups: p.groups,
      groupSize: p.groupSize === -1 ? p.in : p.groupSize, zeros: at(p.qzeros), scales: { ...at(p.scales), dtype: p.scales.dtype },
    },
  };
  if (p.gIdx) member.packed!.gIdx = at(p.gIdx);
  return member;
}

/** Elements [start, start + length) of a packed weight, unpacked by the native scan's code
 * (for tests and the fuzz target, which hold it to lib/io/packed-quant-ref.ts). */
export function readPackedNative(t: TensorEntry, start = 0, length = t.packed ? t.packed.in * t.packed.out : 0): Float32Array {
  const files: string[] = [];
  const member = packedMember(t, (f) => (files.includes(f) ? files.indexOf(f) : files.push(f) - 1));
  try {
    return native().readPackedRange(files, member, t.name, start, length);
  } catch (e) {
    throw fromNative(e);
  }
}
