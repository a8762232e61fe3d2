/**
 * Split GGUF models, as llama.cpp's gguf-split writes them: one model as N files named
 * `<prefix>-<i>-of-<N>.gguf` (i = 1..N and N, five digits each). Every file is a complete GGUF
 * file; the first holds the model's metadata, and each carries `split.no` (u16, 0-based),
 * `split.count` (u16) and `split.tensors.count` (i32, the tensors of all files together) and
 * its own tensors. Discovery groups the files by name (before any header is read), then the
 * headers are checked against each other here, before the scan allocates anything; a broken
 * rule is a FormatError naming the file and the rule (docs/formats.md, "Split GGUF models").
 */
import * as path from 'path';
import { FormatError } from '../errors';
import type { GgufHeader, GgufValue } from './gguf';

export const SPLIT_NO = 'split.no';
export const SPLIT_COUNT = 'split.count';
export const SPLIT_TENSORS = 'split.tensors.count';
/** The GGUF value type llama.cpp writes (and its loader insists on) for each split key. */
const SPLIT_KEY_TYPES: Record<string, string> = { [SPLIT_NO]: 'u16', [SPLIT_COUNT]: 'u16', [SPLIT_TENSORS]: 'i32' };

/** What a split file's name says: its model's prefix, its number (1-based) and the file count. */
export interface SplitName {
  prefix: string;
  no: number;
  count: number;
}

const SPLIT_NAME = /^(.+)-(\d{5})-of-(\d{5})\.gguf$/i;

/** The split parts of a file name, or undefined when it does not follow gguf-split's pattern. */
export function parseSplitName(fileName: string): SplitName | undefined {
  const m = SPLIT_NAME.exec(fileName);
  return m ? { prefix: m[1], no: Number(m[2]), count: Number(m[3]) } : undefined;
}

/** `<prefix>-0000i-of-0000N.gguf` (i 1-based), as gguf-split names its files. */
export function splitFileName(prefix: string, no: number, count: number): string {
  const five = (n: number) => String(n).padStart(5, '0');
  return `${prefix}-${five(no)}-of-${five(count)}.gguf`;
}

function refuse(file: string, rule: string, tensor?: string): FormatError {
  return new FormatError('E_FORMAT', `${file}: ${rule}`, { file, tensor });
}

/**
 * The split models among the file names of directory `dir`: for each prefix, its files in
 * order. Names alone are checked here: every file of a model says the same count, no number
 * is outside 1..N or given twice, none is missing. `only` limits the result to that prefix.
 */
export function groupSplitNames(dir: string, names: string[], only?: string): { prefix: string; files: string[] }[] {
  const byPrefix = new Map<string, { name: string; split: SplitName }[]>();
  for (const name of [...names].sort()) {
    const split = parseSplitName(name);
    if (!split || (only !== undefined && split.prefix !== only)) continue;
    const list = byPrefix.get(split.prefix) ?? [];
    list.push({ name, split });
    byPrefix.set(split.prefix, list);
  }
  const groups: { prefix: string; files: string[] }[] = [];
  for (const [prefix, list] of byPrefix) {
    const first = list[0];
    const at = (name: string) => path.join(dir, name);
    const slots = new Map<number, string>();
    for (const { name, split } of list) {
      if (split.count !== first.split.count)
        throw refuse(at(name), `its name says ${split.count} split files but ${first.name} says ${first.split.count} (two split models with the prefix '${prefix}')`);
      if (split.no < 1 || split.no > split.count)
        throw refuse(at(name), `split file number ${split.no} is outside 1..${split.count}`);
      const twin = slots.get(split.no);
      if (twin !== undefined) throw refuse(at(name), `split file number ${split.no} is also the number of ${twin}`);
      slots.set(split.no, name);
    }
    const count = first.split.count;
    const missing: string[] = [];
    for (let no = 1; no <= count; no++) if (!slots.has(no)) missing.push(splitFileName(prefix, no, count));
    if (missing.length) {
      const shown = missing.slice(0, 5).join(', ') + (missing.length > 5 ? `, ... (${missing.length} in all)` : '');
      throw refuse(at(first.name), `split file ${first.split.no} of ${count} of the model '${prefix}', but ${shown} ${missing.length > 1 ? 'are' : 'is'} missing from ${dir}`);
    }
    groups.push({ prefix, files: Array.from({ length: count }, (_, i) => at(slots.get(i + 1)!)) });
  }
  return groups;
}

function own(h: GgufHeader, key: string): GgufValue | undefined {
  return Object.prototype.hasOwnProperty.call(h.metadata, key) ? h.metadata[key] : undefined;
}

/** A split key's value, after checking its type (llama.cpp's loader refuses other types too). */
function splitKey(h: GgufHeader, key: string): number | undefined {
  const v = own(h, key);
  if (v === undefined) return undefined;
  const type = h.metadataTypes[key];
  if (type !== SPLIT_KEY_TYPES[key]) throw refuse(h.path, `${key} must be of type ${SPLIT_KEY_TYPES[key]} (found ${type})`);
  return v as number;
}

/**
 * Checks the headers of one model's files against each other. `headers` are in file order;
 * `named` says their names follow gguf-split's pattern (so there are exactly headers.length
 * files); a plain file (named false) may carry split keys only as a split of one.
 */
export function checkSplitHeaders(headers: GgufHeader[], named: boolean): void {
  const n = headers.length;
  const first = headers[0];
  const seenNo = new Map<number, string>();
  headers.forEach((h, i) => {
    const count = splitKey(h, SPLIT_COUNT);
    const no = splitKey(h, SPLIT_NO);
    splitKey(h, SPLIT_TENSORS);
    if (!named && count !== undefined && count !== 1)
      throw refuse(h.path, `${SPLIT_COUNT} ${count} says it is one file of a split model, but its name does not end in -0000i-of-0000N.gguf (gguf-split's names), so the other files cannot be found`);
    if (n > 1 && count === undefined) throw refuse(h.path, `has no ${SPLIT_COUNT}, but its name makes it file ${i + 1} of ${n} of a split model`);
    if (count !== undefined && count !== n) throw refuse(h.path, `${SPLIT_COUNT} is ${count} but the file names say ${n} file${n > 1 ? 's' : ''}`);
    if (n > 1 && no === undefined) throw refuse(h.path, `has no ${SPLIT_NO}, but its name makes it file ${i + 1} of ${n} of a split model`);
    if (no !== undefined) {
      const twin = seenNo.get(no);
      if (twin !== undefined) throw refuse(h.path, `${SPLIT_NO} ${no} is also the ${SPLIT_NO} of ${twin} (each file has its own)`);
      seenNo.set(no, h.path);
      if (no !== i) throw refuse(h.path, `${SPLIT_NO} is ${no} but its name makes it file ${i + 1} of ${n} (${SPLIT_NO} ${i})`);
    }
    if (h.version !== first.version) throw refuse(h.path, `GGUF version ${h.version} differs from version ${first.version} of ${first.path} (the files of one split model are written together)`);
    const arch = own(h, 'general.architecture');
    if (i > 0 && arch !== undefined && arch !== own(first, 'general.architecture'))
      throw refuse(h.path, `general.architecture '${String(arch)}' differs from '${String(own(first, 'general.architecture'))}' in ${first.path}`);
  });

  // A tensor named in two files: llama.cpp refuses the model; so do we, naming both.
  const holder = new Map<string, string>();
  for (const h of headers)
    for (const t of h.tensors) {
      const other = holder.get(t.name);
      if (other !== undefined) throw refuse(h.path, `tensor '${t.name}' is also in ${other} (a tensor belongs to one file of a split model)`, t.name);
      holder.set(t.name, h.path);
    }

  const declared = splitKey(first, SPLIT_TENSORS);
  if (n > 1 && declared === undefined) throw refuse(first.path, `has no ${SPLIT_TENSORS} (the tensors of all ${n} files together)`);
  for (const h of headers.slice(1)) {
    const v = splitKey(h, SPLIT_TENSORS);
    if (v !== undefined && v !== declared) throw refuse(h.path, `${SPLIT_TENSORS} ${v} differs from ${declared} in ${first.path}`);
  }
  if (declared !== undefined && declared !== holder.size)
    throw refuse(first.path, `${SPLIT_TENSORS} says ${declared} tensors but the ${n} file${n > 1 ? 's hold' : ' holds'} ${holder.size}`);
}
