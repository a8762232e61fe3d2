/**
 * Declared lineage: what a model's own files say its base is. Read from, in this order,
 *   - adapter_config.json          base_model_name_or_path (a PEFT adapter's base)
 *   - README.md front matter       base_model (a string or a list; lib/io/front-matter.ts)
 *   - config.json                  _name_or_path (where the weights were loaded from before saving)
 *   - safetensors __metadata__     base_model / base_model_name_or_path
 * Every file is size-bounded and parsed without evaluating anything; a file that is missing
 * declares nothing, a file that is malformed is an error naming it (declarations are
 * evidence shown to the user, so a broken one is reported rather than silently dropped).
 * Declarations are names ("meta-llama/Llama-2-7b-hf", "./base"); resolveDeclared maps them
 * to the ids of the models being compared where one matches.
 */
import * as fs from 'fs';
import * as path from 'path';
import { FormatError, IoError } from '../errors';
import { parseFrontMatter } from './front-matter';
import { readHeaderSync } from './safetensors';

/** config.json and adapter_config.json larger than this are refused (real ones are a few KB). */
export const DECLARED_JSON_MAX_BYTES = 1024 * 1024;
/** Only the start of a README is read: its front matter must lie within it. */
export const README_READ_BYTES = 128 * 1024;

export interface Declaration {
  /** The name as written. */
  base: string;
  /** Where: "config.json _name_or_path", ... */
  source: string;
}

function readBounded(file: string, max: number, truncate: boolean): string | null {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new IoError('E_IO', `${file}: cannot read: ${(e as Error).message}`, { file, cause: e });
  }
  try {
    const size = fs.fstatSync(fd).size;
    if (size > max && !truncate) throw new FormatError('E_FORMAT', `${file}: ${size} bytes, more than the ${max} a declaration file may have`, { file });
    const buf = Buffer.alloc(Math.min(size, max));
    fs.readSync(fd, buf, 0, buf.length, 0);
    return buf.toString('utf8');
  } finally {
    fs.closeSync(fd);
  }
}

function jsonField(file: string, key: string): string | null {
  const text = readBounded(file, DECLARED_JSON_MAX_BYTES, false);
  if (text === null) return null;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new FormatError('E_FORMAT', `${file}: not valid JSON (${(e as Error).message})`, { file });
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new FormatError('E_FORMAT', `${file}: must be a JSON object`, { file });
  const f = (v as Record<string, unknown>)[key];
  if (f === undefined || f === null || f === '') return null;
  if (typeof f !== 'string') throw new FormatError('E_FORMAT', `${file}: "${key}" must be a string`, { file });
  return f;
}

/** Declarations of one model at `modelPath` (a directory or a single weight file). */
export function readDeclarations(modelPath: string): Declaration[] {
  const out: Declaration[] = [];
  const add = (base: string | null | undefined, source: string) => {
    if (base && !out.some((d) => d.base === base)) out.push({ base, source });
  };
  let dir: string | null = null;
  try {
    dir = fs.statSync(modelPath).isDirectory() ? modelPath : null;
  } catch (e) {
    throw new IoError('E_IO', `${modelPath}: cannot read: ${(e as Error).message}`, { file: modelPath, cause: e });
  }
  if (dir) {
    add(jsonField(path.join(dir, 'adapter_config.json'), 'base_model_name_or_path'), 'adapter_config.json base_model_name_or_path');
    const readme = path.join(dir, 'README.md');
    const text = readBounded(readme, README_READ_BYTES, true);
    if (text !== null) {
      const fm = parseFrontMatter(readme, text);
      const b = fm?.base_model;
      for (const x of Array.isArray(b) ? b : b ? [b] : []) add(x, 'README.md base_model');
    }
    add(jsonField(path.join(dir, 'config.json'), '_name_or_path'), 'config.json _name_or_path');
  }
  const weights = dir ? ['model.safetensors', 'adapter_model.safetensors'].map((f) => path.join(dir!, f)).find((f) => fs.existsSync(f)) : modelPath.endsWith('.safetensors') ? modelPath : undefined;
  if (weights) {
    const meta = readHeaderSync(weights).metadata ?? {};
    add(meta.base_model, 'safetensors __metadata__ base_model');
    add(meta.base_model_name_or_path, 'safetensors __metadata__ base_model_name_or_path');
  }
  return out;
}

/**
 * The model id a declared name points at, or null: an exact id, the last path component of
 * the name ("org/name" → "name", "./base/" → "base"), or a model whose path is the named path.
 */
export function resolveDeclared(base: string, models: { id: string; path: string }[], from?: string): string | null {
  const exact = models.find((m) => m.id === base);
  if (exact) return exact.id;
  const tail = base.replace(/[\\/]+$/, '').split(/[\\/]/).pop() ?? '';
  const byTail = models.filter((m) => m.id === tail || m.id === tail.replace(/\.safetensors$/, ''));
  if (byTail.length === 1) return byTail[0].id;
  if (from) {
    const abs = path.resolve(from, base);
    const byPath = models.find((m) => path.resolve(m.path) === abs);
    if (byPath) return byPath.id;
  }
  return null;
}

export interface ResolvedDeclaration extends Declaration {
  /** The compared model it names, or null when it names none of them (or the model itself). */
  resolved: string | null;
}

/**
 * Declarations of every model, resolved against the set. `strict`: a malformed declaration file
 * is an error; otherwise it becomes a warning and the model declares nothing (so that a broken
 * model card never stops a weights-only detection).
 */
export function readAllDeclarations(models: { id: string; path: string }[], strict: boolean): { byModel: Map<string, ResolvedDeclaration[]>; warnings: string[] } {
  const byModel = new Map<string, ResolvedDeclaration[]>();
  const warnings: string[] = [];
  for (const m of models) {
    let ds: Declaration[];
    try {
      ds = readDeclarations(m.path);
    } catch (e) {
      if (strict) throw e;
      warnings.push(`declared bases of ${m.id} not read: ${(e as Error).message}`);
      ds = [];
    }
    const from = path.dirname(m.path);
    byModel.set(
      m.id,
      ds.map((d) => {
        const r = resolveDeclared(d.base, models, from);
        return { ...d, resolved: r === m.id ? null : r };
      }),
    );
  }
  return { byModel, warnings };
}
