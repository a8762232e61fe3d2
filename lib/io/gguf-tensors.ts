/**
 * A GGUF file as a tensor list for discovery and the scan. The dtype of each entry is its
 * ggml type ('Q4_K', 'Q8_0', 'F16', ...), its shape the PyTorch order (GGUF dims reversed),
 * and `gguf` says how its rows are stored. For the llama family, names are mapped back to
 * Hugging Face names and q/k rows carry the heads llama.cpp's converter interleaved, so a GGUF
 * child lines up tensor by tensor (and element by element) with its safetensors parent. Other
 * architectures keep their GGUF names. A split model (llama.cpp's gguf-split, lib/io/gguf-split.ts)
 * is one tensor list over all its files, with the first file's metadata.
 */
import * as path from 'path';
import { FormatError } from '../errors';
import type { TensorList } from './formats';
import { readGgufHeader, readGgufHeaderSync, GgufHeader, GgufValue } from './gguf';
import { ggufToHfName, LLAMA_FAMILY, permutedHeads } from './gguf-names';
import { checkSplitHeaders, parseSplitName } from './gguf-split';
import type { TensorEntry } from './types';

function positiveInt(v: GgufValue | undefined): number | undefined {
  const n = typeof v === 'bigint' ? Number(v) : v;
  return typeof n === 'number' && Number.isInteger(n) && n > 0 ? n : undefined;
}

/**
 * The tensor list of a GGUF header (exported for tests that build headers in memory), or of
 * a split model's first header and `more` (its other files, in order): the metadata that
 * names and permutes tensors is the first file's, as llama.cpp reads it.
 */
export function ggufTensorList(h: GgufHeader, more: GgufHeader[] = []): TensorList {
  const warnings: string[] = [];
  const archValue = h.metadata['general.architecture'];
  const arch = typeof archValue === 'string' ? archValue : '';
  const llama = LLAMA_FAMILY.includes(arch);
  if (!llama)
    warnings.push(`${h.path}: GGUF architecture '${arch || 'unknown'}' keeps its GGUF tensor names (only ${LLAMA_FAMILY.join(', ')} names are mapped to Hugging Face names)`);
  const nHead = positiveInt(h.metadata[`${arch}.attention.head_count`]);
  const nHeadKv = positiveInt(h.metadata[`${arch}.attention.head_count_kv`]) ?? nHead;
  const seen = new Map<string, string>();
  const tensors: TensorEntry[] = [h, ...more].flatMap((file) => file.tensors.map((t) => {
    const name = ggufToHfName(t.name, arch);
    const before = seen.get(name);
    if (before !== undefined)
      throw new FormatError('E_FORMAT', `${file.path}: GGUF tensors '${before}' and '${t.name}' both read as '${name}'`, { file: file.path, tensor: t.name });
    seen.set(name, t.name);
    const rowElems = t.dims[0] ?? 1;
    const rows = rowElems > 0 ? t.elements / rowElems : 0;
    const entry: TensorEntry = {
      name,
      dtype: t.type,
      shape: t.shape,
      file: file.path,
      offset: t.offset,
      byteLength: t.bytes,
      gguf: { rowElems, rows, permHeads: 0 },
    };
    if (llama && t.shape.length === 2) {
      const heads = permutedHeads(t.name, arch, nHead ?? 0, nHeadKv ?? 0);
      const isQk = permutedHeads(t.name, arch, 1, 1) > 0;
      if (isQk && !heads) entry.unreadable = `its rows were reordered per head but ${arch}.attention.head_count is missing`;
      else if (heads && rows % (2 * heads) !== 0) entry.unreadable = `its ${rows} rows do not split into ${heads} heads of two rotary halves`;
      else entry.gguf!.permHeads = heads;
    }
    return entry;
  }));
  return { tensors, warnings };
}

/**
 * One GGUF model from its file or its split files (in order): headers read through
 * `readHeader` (the caller bounds how many at once), checked against each other
 * (lib/io/gguf-split.ts) before anything else, then one tensor list.
 */
export async function readGgufModel(files: string[], readHeader: (file: string) => Promise<GgufHeader> = readGgufHeader): Promise<TensorList> {
  const named = parseSplitName(path.basename(files[0])) !== undefined;
  const headers = await Promise.all(files.map((f) => readHeader(f)));
  checkSplitHeaders(headers, named);
  return ggufTensorList(headers[0], headers.slice(1));
}

/** The same on the calling thread (fuzzing, tests). */
export function readGgufModelSync(files: string[]): TensorList {
  const headers = files.map((f) => readGgufHeaderSync(f));
  checkSplitHeaders(headers, parseSplitName(path.basename(files[0])) !== undefined);
  return ggufTensorList(headers[0], headers.slice(1));
}

/** Reads a GGUF file's tensor list (the weight-format registry's reader). A file that says
 * it is one of several (split.count > 1) is refused: discovery reads those as a group. */
export async function readGgufTensors(file: string): Promise<TensorList> {
  return readGgufModel([file]);
}
