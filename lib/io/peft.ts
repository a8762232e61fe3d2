/**
 * PEFT LoRA adapters: adapter_config.json, validated strictly, and the adapter's tensors
 * paired into (A, B) per target weight. The model an adapter stands for is
 * base + scale · B·A for every pair (scale = lora_alpha / r, or lora_alpha / sqrt(r) with
 * use_rslora), with the adapter's other tensors (modules_to_save, trained biases) replacing the
 * base's; lib/io/adapters.ts finds the base and builds that model's tensor list. Other PEFT
 * methods, DoRA and layouts this reader cannot form exactly are refused with a FormatError
 * naming the file.
 */
import * as fs from 'fs';
import { FormatError, IoError } from '../errors';
import { isFloatDtype } from './dtype';
import type { TensorEntry } from './types';

export const ADAPTER_CONFIG = 'adapter_config.json';
/** Adapter weight files, in order of preference. */
export const ADAPTER_WEIGHTS = ['adapter_model.safetensors', 'adapter_model.bin'] as const;

/** A config larger than this is not a PEFT config (real ones are about 1 KB). */
export const MAX_CONFIG_BYTES = 1 << 20;
const MAX_RANK = 1 << 16;
const MAX_PATTERNS = 100_000;
const MAX_NAME = 4096;

export interface PeftConfig {
  file: string;
  rank: number;
  alpha: number;
  rslora: boolean;
  /** base_model_name_or_path, when given. */
  base?: string;
  /** Per-module rank and alpha (PEFT's rank_pattern / alpha_pattern), keys as module-name suffixes. */
  rankPattern: Record<string, number>;
  alphaPattern: Record<string, number>;
}

function refuse(file: string, why: string): never {
  throw new FormatError('E_FORMAT', `${file}: ${why}`, { file });
}

function patterns(file: string, key: string, v: unknown, integer: boolean): Record<string, number> {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) refuse(file, `${key} must be an object of numbers`);
  const out: Record<string, number> = {};
  const entries = Object.entries(v as Record<string, unknown>);
  if (entries.length > MAX_PATTERNS) refuse(file, `${key} has ${entries.length} entries (at most ${MAX_PATTERNS})`);
  for (const [k, x] of entries) {
    if (k.length === 0 || k.length > MAX_NAME) refuse(file, `${key} has a key of ${k.length} characters`);
    // PEFT matches these keys as regular expressions; plain module paths (dots read as dots)
    // are what real adapters hold, and anything else is refused rather than guessed at.
    if (/[\\^$*+?()[\]{}|]/.test(k)) refuse(file, `${key} key '${k}' is a regular expression; only module names are supported`);
    if (typeof x !== 'number' || !Number.isFinite(x) || (integer && (!Number.isInteger(x) || x < 1 || x > MAX_RANK)))
      refuse(file, `${key}['${k}'] must be ${integer ? `an integer in 1..${MAX_RANK}` : 'a finite number'}`);
    out[k] = x;
  }
  return out;
}

/** Parses and validates the text of adapter_config.json. */
export function parsePeftConfig(text: string, file: string): PeftConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    refuse(file, `not valid JSON (${(e as Error).message})`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) refuse(file, 'must hold a JSON object');
  const c = raw as Record<string, unknown>;
  if (c.peft_type === undefined) refuse(file, 'has no peft_type');
  if (c.peft_type !== 'LORA') refuse(file, `peft_type ${JSON.stringify(c.peft_type)} is not supported (only LORA adapters are read)`);
  if (c.use_dora === true) refuse(file, 'a DoRA adapter (use_dora: true): its magnitude vectors rescale whole columns and are not supported');
  if (c.use_dora !== undefined && typeof c.use_dora !== 'boolean') refuse(file, 'use_dora must be a boolean');
  if (c.fan_in_fan_out === true) refuse(file, 'fan_in_fan_out: true (Conv1D weights stored transposed) is not supported');
  if (c.layer_replication !== undefined && c.layer_replication !== null) refuse(file, 'layer_replication changes the architecture and is not supported');
  const r = c.r;
  if (typeof r !== 'number' || !Number.isInteger(r) || r < 1 || r > MAX_RANK) refuse(file, `r must be an integer in 1..${MAX_RANK}`);
  const alpha = c.lora_alpha;
  if (typeof alpha !== 'number' || !Number.isFinite(alpha)) refuse(file, 'lora_alpha must be a finite number');
  if (c.use_rslora !== undefined && typeof c.use_rslora !== 'boolean') refuse(file, 'use_rslora must be a boolean');
  const base = c.base_model_name_or_path;
  if (base !== undefined && base !== null && (typeof base !== 'string' || base.length > MAX_NAME)) refuse(file, 'base_model_name_or_path must be a string');
  const tm = c.target_modules;
  if (tm !== undefined && tm !== null && typeof tm !== 'string' && !(Array.isArray(tm) && tm.every((x) => typeof x === 'string')))
    refuse(file, 'target_modules must be a string or a list of strings');
  const ms = c.modules_to_save;
  if (ms !== undefined && ms !== null && !(Array.isArray(ms) && ms.every((x) => typeof x === 'string'))) refuse(file, 'modules_to_save must be a list of strings');
  if (c.bias !== undefined && !['none', 'all', 'lora_only'].includes(c.bias as string)) refuse(file, "bias must be 'none', 'all' or 'lora_only'");
  const cfg: PeftConfig = {
    file,
    rank: r,
    alpha,
    rslora: c.use_rslora === true,
    rankPattern: patterns(file, 'rank_pattern', c.rank_pattern, true),
    alphaPattern: patterns(file, 'alpha_pattern', c.alpha_pattern, false),
  };
  if (typeof base === 'string' && base.length) cfg.base = base;
  return cfg;
}

/** Reads adapter_config.json (size checked before reading). */
export async function readPeftConfig(file: string): Promise<PeftConfig> {
  let text: string;
  try {
    const st = await fs.promises.stat(file);
    if (st.size > MAX_CONFIG_BYTES) refuse(file, `is ${st.size} bytes (a PEFT config is at most ${MAX_CONFIG_BYTES})`);
    text = await fs.promises.readFile(file, 'utf8');
  } catch (e) {
    if (e instanceof FormatError) throw e;
    throw new IoError('E_IO', `${file}: ${(e as Error).message}`, { file, cause: e });
  }
  return parsePeftConfig(text, file);
}

/** One LoRA pair: the base weight it changes and its A [rank, cols], B [rows, rank]. */
export interface LoraPair {
  /** Name of the base model's weight ("model.layers.0.self_attn.q_proj.weight"). */
  target: string;
  a: TensorEntry;
  b: TensorEntry;
  rank: number;
  scale: number;
}

export interface AdapterTensors {
  pairs: LoraPair[];
  /** Tensors the adapter stores whole (modules_to_save, biases), renamed to the base's names. */
  replacements: TensorEntry[];
}

function patternValue(p: Record<string, number>, module: string): number | undefined {
  let best: string | undefined;
  for (const k of Object.keys(p)) if ((module === k || module.endsWith(`.${k}`)) && (!best || k.length > best.length)) best = k;
  return best === undefined ? undefined : p[best];
}

const PREFIX = 'base_model.model.';
const LORA = /^(.+)\.lora_([AB])(?:\.[A-Za-z0-9_-]+)?\.weight$/;

/** Pairs the tensors of an adapter weight file (names as PEFT saves them). */
export function pairAdapterTensors(tensors: TensorEntry[], cfg: PeftConfig, weightsFile: string): AdapterTensors {
  const bad = (t: TensorEntry, why: string): never => {
    throw new FormatError('E_FORMAT', `${weightsFile}: tensor '${t.name}': ${why}`, { file: weightsFile, tensor: t.name });
  };
  const halves = new Map<string, { a?: TensorEntry; b?: TensorEntry }>();
  const replacements: TensorEntry[] = [];
  for (const t of tensors) {
    if (!t.name.startsWith(PREFIX)) bad(t, `is not a PEFT adapter tensor name (expected the '${PREFIX}' prefix)`);
    const name = t.name.slice(PREFIX.length);
    if (/\.lora_magnitude_vector(\.|$)/.test(name)) bad(t, 'a DoRA magnitude vector (DoRA is not supported)');
    if (/\.lora_embedding_[AB](\.|$)/.test(name)) bad(t, 'an embedding LoRA (lora_embedding_A/B) is not supported');
    const m = LORA.exec(name);
    if (!m) {
      if (/\.lora_/.test(name)) bad(t, 'an unknown LoRA tensor');
      replacements.push({ ...t, name: name.replace(/\.modules_to_save(\.[A-Za-z0-9_-]+)?(?=\.)/, '') });
      continue;
    }
    const h = halves.get(m[1]) ?? {};
    if (m[2] === 'A' ? h.a : h.b) bad(t, `a second lora_${m[2]} for ${m[1]}`);
    if (m[2] === 'A') h.a = t;
    else h.b = t;
    halves.set(m[1], h);
  }
  const pairs: LoraPair[] = [];
  for (const [module, { a, b }] of halves) {
    if (!a || !b) bad((a ?? b)!, `has no lora_${a ? 'B' : 'A'} partner`);
    for (const t of [a!, b!]) {
      if (!isFloatDtype(t.dtype)) bad(t, `dtype ${t.dtype} is not a float type`);
      if (t.unreadable !== undefined) bad(t, t.unreadable);
      if (t.shape.length !== 2) bad(t, `must be a matrix, has shape [${t.shape.join(', ')}]`);
    }
    const rank = a!.shape[0];
    if (b!.shape[1] !== rank) bad(b!, `has ${b!.shape[1]} columns but lora_A has rank ${rank}`);
    if (rank < 1 || rank > MAX_RANK) bad(a!, `rank ${rank} is out of range`);
    const wantRank = patternValue(cfg.rankPattern, module) ?? cfg.rank;
    if (rank !== wantRank) bad(a!, `has rank ${rank} but ${cfg.file} says r = ${wantRank}`);
    const alpha = patternValue(cfg.alphaPattern, module) ?? cfg.alpha;
    pairs.push({ target: `${module}.weight`, a: a!, b: b!, rank, scale: alpha / (cfg.rslora ? Math.sqrt(rank) : rank) });
  }
  pairs.sort((x, y) => (x.target < y.target ? -1 : 1));
  return { pairs, replacements };
}
