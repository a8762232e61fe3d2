/**
 * Fuzz target: the native GGUF header reader, then the native dequantizer on every accepted
 * tensor of a dequantizable type (compared with the TypeScript reference). An accepted header
 * is checked against the format's rules here, independently of the reader.
 */
import { dequantizeGguf, readGgufHeaderSync } from '../../lib/io/gguf';
import { dequantizeRef } from '../../lib/io/gguf-quant-ref';
import { DequantType, ggmlBytes, ggmlType } from '../../lib/io/gguf-types';
import { encodeGguf, llamaMetadata } from '../../lib/io/gguf-writer';
import { FuzzTarget } from './target';

function seeds(): Buffer[] {
  const x = (n: number, k: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.7 + k));
  const small = encodeGguf({
    metadata: { ...llamaMetadata({ blockCount: 1, embeddingLength: 32, feedForwardLength: 64, headCount: 2 }),
      'tokenizer.ggml.tokens': { type: 'array', elementType: 'string', values: ['<s>', '</s>', 'a', 'b'] },
      'tokenizer.ggml.scores': { type: 'array', elementType: 'f32', values: [0, 0, -1, -2] },
      'test.nested': { type: 'array', elementType: 'array', values: [{ type: 'array', elementType: 'u8', values: [1, 2] }] },
      'test.u64': { type: 'u64', value: 7n }, 'test.bool': { type: 'bool', value: true } },
    tensors: [
      { name: 'token_embd.weight', type: 'F16', dims: [8, 4], data: x(32, 0) },
      { name: 'blk.0.attn_q.weight', type: 'Q8_0', dims: [32, 2], data: x(64, 1) },
      { name: 'blk.0.ffn_up.weight', type: 'Q4_K', dims: [256], data: x(256, 2) },
      { name: 'output_norm.weight', type: 'F32', dims: [8], data: x(8, 3) },
    ],
  });
  const types = encodeGguf({
    alignment: 64,
    tensors: (['BF16', 'Q4_0', 'Q4_1'] as const).map((type, k) => ({ name: `t${k}`, type, dims: [32], data: x(32, k) })),
  });
  const raw = encodeGguf({ tensors: ['Q5_0', 'Q5_1', 'Q2_K', 'Q3_K', 'Q5_K', 'Q6_K', 'IQ2_XS'].map((type, k) => {
    const t = ggmlType(type)!;
    return { name: `r${k}`, type, dims: [t.blockElems], data: Uint8Array.from({ length: t.blockBytes }, (_, i) => (i * 31 + k) & 0xff) };
  }) });
  return [small, types, raw];
}

function fail(what: string): never {
  throw new Error(`accepted an invalid GGUF file: ${what}`);
}

function check(path: string, bytes: Buffer): void {
  const h = readGgufHeaderSync(path);
  if (h.version !== 2 && h.version !== 3) fail(`version ${h.version}`);
  if (h.alignment <= 0 || (h.alignment & (h.alignment - 1)) !== 0) fail(`alignment ${h.alignment}`);
  if (h.dataOffset % h.alignment !== 0) fail('data offset not aligned');
  const spans: [number, number][] = [];
  const names = new Set<string>();
  for (const t of h.tensors) {
    const type = ggmlType(t.type);
    if (!type) fail(`unknown type ${t.type}`);
    if (names.has(t.name)) fail(`duplicate name ${t.name}`);
    names.add(t.name);
    if (t.dims.length < 1 || t.dims.length > 4 || t.dims.some((d) => !(d >= 1))) fail(`dims ${t.dims}`);
    if (t.shape.join() !== [...t.dims].reverse().join()) fail('shape is not dims reversed');
    if (t.dims.reduce((a, b) => a * b, 1) !== t.elements) fail('element count');
    if (t.dims[0] % type.blockElems !== 0 || t.bytes !== ggmlBytes(type, t.elements)) fail(`byte size of ${t.name}`);
    if (t.offset < h.dataOffset || (t.offset - h.dataOffset) % h.alignment !== 0 || t.offset + t.bytes > bytes.length) fail(`placement of ${t.name}`);
    spans.push([t.offset, t.offset + t.bytes]);
    if (type.dequantizable && t.bytes <= 1 << 20) {
      const b = bytes.subarray(t.offset, t.offset + t.bytes);
      const y = dequantizeGguf(t.type, b, t.elements), r = dequantizeRef(t.type as DequantType, b, t.elements);
      for (let i = 0; i < y.length; i++)
        if (!(Object.is(y[i], r[i]) || (Number.isNaN(y[i]) && Number.isNaN(r[i])))) fail(`${t.name}: dequantized element ${i} differs from the reference`);
    }
  }
  spans.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < spans.length; i++) if (spans[i - 1][1] > spans[i][0]) fail('overlapping tensors');
}

export const ggufTarget: FuzzTarget = { name: 'gguf', seeds, check };
