/**
 * The quantization config of a Hugging Face model directory: `config.json`'s
 * `quantization_config` (what transformers reads), else AutoGPTQ's `quantize_config.json` or
 * AutoAWQ's `quant_config.json`. GPTQ and AWQ configs say how the packed weights are laid out
 * (bits, group size, act order, GPTQ checkpoint format, AWQ kernel version); bitsandbytes
 * configs only mark the model as one this reader refuses (lib/io/packed-quant.ts). Every field
 * the layout depends on is checked for type and range, with a FormatError naming the file.
 */
import * as fs from 'fs';
import * as path from 'path';
import { FormatError, IoError } from '../errors';

export type PackedMethod = 'gptq' | 'awq';

export interface PackedQuantConfig {
  method: PackedMethod;
  /** The file it was read from. */
  file: string;
  /** 2, 3, 4 or 8 (GPTQ), 4 (AWQ); only 4 and 8 are scanned. */
  bits: number;
  /** Inputs per group; -1 (GPTQ): one group over all inputs. */
  groupSize: number;
  /** GPTQ act order (desc_act): groups follow g_idx, which the checkpoint must then hold. */
  descAct: boolean;
  sym: boolean;
  /** GPTQ's original checkpoint format stores every zero point minus one (1); gptq_v2 and AWQ do not (0). */
  zeroOffset: 0 | 1;
}

export interface OtherQuantConfig {
  method: 'bitsandbytes' | 'other';
  file: string;
  /** quant_method as written (for messages). */
  name: string;
}

export type QuantConfig = PackedQuantConfig | OtherQuantConfig;

/** Config files larger than this are not configs (real ones are a few KB). */
const MAX_CONFIG_BYTES = 1 << 20;
export const GPTQ_BITS = [2, 3, 4, 8];
const MAX_GROUP = 1 << 20;

function refuse(file: string, why: string): never {
  throw new FormatError('E_FORMAT', `${file}: ${why}`, { file });
}

function optionalBool(file: string, c: Record<string, unknown>, key: string, fallback: boolean): boolean {
  const v = c[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'boolean') refuse(file, `${key} must be a boolean`);
  return v;
}

/** The first of `keys` present (transformers and AutoAWQ name some fields differently). */
function field(c: Record<string, unknown>, ...keys: string[]): [string, unknown] {
  for (const k of keys) if (c[k] !== undefined) return [k, c[k]];
  return [keys[0], undefined];
}

/**
 * Validates one quantization config object. `defaultMethod` is what a file without
 * quant_method is (AutoGPTQ's quantize_config.json is GPTQ, AutoAWQ's quant_config.json AWQ).
 */
export function parseQuantConfig(raw: unknown, file: string, defaultMethod?: PackedMethod): QuantConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) refuse(file, 'the quantization config must be a JSON object');
  const c = raw as Record<string, unknown>;
  const m = c.quant_method ?? defaultMethod;
  if (typeof m !== 'string') refuse(file, 'quant_method must be a string');
  const method = m.toLowerCase();
  if (method === 'bitsandbytes') return { method: 'bitsandbytes', file, name: m };
  if (method !== 'gptq' && method !== 'awq') return { method: 'other', file, name: m };
  const [bitsKey, bits] = field(c, 'bits', 'w_bit');
  if (typeof bits !== 'number' || !GPTQ_BITS.includes(bits)) refuse(file, `${bitsKey} must be one of ${GPTQ_BITS.join(', ')}`);
  const [groupKey, groupSize] = field(c, 'group_size', 'q_group_size');
  if (typeof groupSize !== 'number' || !Number.isInteger(groupSize) || (groupSize !== -1 && (groupSize < 1 || groupSize > MAX_GROUP)))
    refuse(file, `${groupKey} must be -1 or an integer in 1..${MAX_GROUP}`);
  const descAct = optionalBool(file, c, 'desc_act', false);
  const sym = optionalBool(file, c, 'sym', true);
  if (method === 'gptq') {
    const format = c.checkpoint_format ?? 'gptq';
    if (typeof format !== 'string') refuse(file, 'checkpoint_format must be a string');
    if (format !== 'gptq' && format !== 'gptq_v2')
      refuse(file, `checkpoint_format '${format}' is not supported (gptq and gptq_v2 are read; convert others back to gptq)`);
    return { method, file, bits, groupSize, descAct, sym, zeroOffset: format === 'gptq' ? 1 : 0 };
  }
  if (bits !== 4) refuse(file, `AWQ with ${bits} bits: AWQ checkpoints pack 4-bit weights only`);
  if (groupSize === -1) refuse(file, `${groupKey} -1: AWQ checkpoints have groups of a fixed size`);
  const version = c.version ?? 'gemm';
  if (typeof version !== 'string') refuse(file, 'version must be a string');
  if (version.toLowerCase() !== 'gemm')
    refuse(file, `AWQ version '${version}' is not supported (only the GEMM layout is read; GEMV, Marlin and ExLlama layouts pack differently)`);
  if (!optionalBool(file, c, 'zero_point', true)) refuse(file, 'AWQ without zero points (zero_point: false) is not supported');
  if (descAct) refuse(file, 'desc_act: true with AWQ (AWQ has no act order)');
  return { method, file, bits, groupSize, descAct: false, sym, zeroOffset: 0 };
}

async function readJson(file: string): Promise<unknown | undefined> {
  let st: fs.Stats;
  try {
    st = await fs.promises.stat(file);
  } catch {
    return undefined;
  }
  if (!st.isFile()) return undefined;
  if (st.size > MAX_CONFIG_BYTES) refuse(file, `is ${st.size} bytes (a config is at most ${MAX_CONFIG_BYTES})`);
  let text: string;
  try {
    text = await fs.promises.readFile(file, 'utf8');
  } catch (e) {
    throw new IoError('E_IO', `${file}: ${(e as Error).message}`, { file, cause: e });
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    refuse(file, `not valid JSON (${(e as Error).message})`);
  }
}

/** AutoGPTQ's and AutoAWQ's own config files, with the method each implies. */
export const QUANT_CONFIG_FILES: readonly { name: string; method: PackedMethod }[] = [
  { name: 'quantize_config.json', method: 'gptq' },
  { name: 'quant_config.json', method: 'awq' },
];

/**
 * The quantization config of model directory `dir`, or undefined when it has none.
 * config.json's quantization_config wins (transformers reads it); an unreadable config.json
 * without one is not this reader's business (other code reads config.json too).
 */
export async function readQuantConfig(dir: string): Promise<QuantConfig | undefined> {
  const configFile = path.join(dir, 'config.json');
  let config: unknown;
  try {
    config = await readJson(configFile);
  } catch (e) {
    if (!(e instanceof FormatError)) throw e;
    config = undefined;
  }
  if (typeof config === 'object' && config !== null && !Array.isArray(config)) {
    const q = (config as Record<string, unknown>).quantization_config;
    if (q !== undefined && q !== null) return parseQuantConfig(q, configFile);
  }
  for (const { name, method } of QUANT_CONFIG_FILES) {
    const file = path.join(dir, name);
    const raw = await readJson(file);
    if (raw !== undefined) return parseQuantConfig(raw, file, method);
  }
  return undefined;
}
