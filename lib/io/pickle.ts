/**
 * A restricted unpickler for the `data.pkl` of a torch checkpoint. Python's pickle runs
 * arbitrary code (any global, called by REDUCE), so it is never used: this is a stack
 * machine of our own over the opcodes torch.save emits for state dicts. Globals are checked
 * against an allow-list the moment they are named, before anything is built; the few allowed
 * callables are interpreted here (a "call" builds a plain descriptor), nothing is executed.
 * Stack, mark and memo sizes are bounded; anything malformed is a FormatError.
 */
import { FormatError } from '../errors';

export const MAX_STACK = 2_000_000;
export const MAX_MARKS = 10_000;
export const MAX_MEMO = 2_000_000;

export type PValue =
  | null
  | boolean
  | number
  | string
  | PTuple
  | PList
  | PDict
  | PGlobal
  | PStorage
  | PTensor
  | PBytes;

export interface PTuple { kind: 'tuple'; items: PValue[] }
export interface PList { kind: 'list'; items: PValue[] }
/** Keys are strings or numbers (what state dicts and their metadata use). */
export interface PDict { kind: 'dict'; entries: Map<string | number, PValue> }
export interface PGlobal { kind: 'global'; module: string; name: string }
export interface PBytes { kind: 'bytes'; length: number }
/** A persistent id ('storage', type, key, location, numel): a zip entry `data/<key>`. */
export interface PStorage { kind: 'storage'; dtype: string; key: string; location: string; numel: number }
export interface PTensor { kind: 'tensor'; storage: PStorage; storageOffset: number; size: number[]; stride: number[] }

/** torch storage classes and the safetensors dtype of their elements. */
export const STORAGE_DTYPES: Readonly<Record<string, string>> = {
  FloatStorage: 'F32', HalfStorage: 'F16', BFloat16Storage: 'BF16', DoubleStorage: 'F64',
  LongStorage: 'I64', IntStorage: 'I32', ShortStorage: 'I16', CharStorage: 'I8',
  ByteStorage: 'U8', BoolStorage: 'BOOL',
};
const TORCH_DTYPES = new Set(['float32', 'float16', 'bfloat16', 'float64', 'int64', 'int32', 'int16', 'int8', 'uint8', 'bool']);

const ALLOWED = new Set<string>([
  'collections.OrderedDict',
  'torch._utils._rebuild_tensor_v2',
  'torch._utils._rebuild_parameter',
  ...Object.keys(STORAGE_DTYPES).map((s) => `torch.${s}`),
  ...[...TORCH_DTYPES].map((d) => `torch.${d}`),
]);

export function isAllowedGlobal(module: string, name: string): boolean {
  return ALLOWED.has(`${module}.${name}`);
}

class Unpickler {
  private pos = 0;
  private stack: PValue[] = [];
  private marks: number[] = [];
  private memo = new Map<number, PValue>();

  constructor(private readonly buf: Buffer, private readonly file: string) {}

  fail(rule: string): FormatError {
    return new FormatError('E_FORMAT', `${this.file}: data.pkl: ${rule}`, { file: this.file });
  }

  private need(n: number): number {
    if (this.pos + n > this.buf.length) throw this.fail(`truncated (opcode argument runs past the end at offset ${this.pos})`);
    const at = this.pos;
    this.pos += n;
    return at;
  }

  private push(v: PValue): void {
    if (this.stack.length >= MAX_STACK) throw this.fail(`stack grows past ${MAX_STACK} items`);
    this.stack.push(v);
  }

  private pop(): PValue {
    const floor = this.marks.length ? this.marks[this.marks.length - 1] : 0;
    if (this.stack.length <= floor) throw this.fail(`stack underflow at offset ${this.pos - 1}`);
    return this.stack.pop() as PValue;
  }

  private top(): PValue {
    const floor = this.marks.length ? this.marks[this.marks.length - 1] : 0;
    if (this.stack.length <= floor) throw this.fail(`stack underflow at offset ${this.pos - 1}`);
    return this.stack[this.stack.length - 1];
  }

  /** Items pushed since the last MARK, which is removed. */
  private popMark(): PValue[] {
    const m = this.marks.pop();
    if (m === undefined) throw this.fail(`no MARK before opcode at offset ${this.pos - 1}`);
    return this.stack.splice(m);
  }

  private str(at: number, n: number): string {
    return this.buf.toString('utf8', at, at + n);
  }

  private memoPut(i: number): void {
    if (!this.memo.has(i) && this.memo.size >= MAX_MEMO) throw this.fail(`memo grows past ${MAX_MEMO} entries`);
    this.memo.set(i, this.top());
  }

  private memoGet(i: number): void {
    if (!this.memo.has(i)) throw this.fail(`memo key ${i} read before it was written`);
    this.push(this.memo.get(i) as PValue);
  }

  private global(module: string, name: string): void {
    if (!isAllowedGlobal(module, name)) throw this.fail(`refused global '${module}.${name}' (only torch tensor and storage rebuilders are allowed)`);
    this.push({ kind: 'global', module, name });
  }

  private readLine(): string {
    const end = this.buf.indexOf(0x0a, this.pos);
    if (end < 0 || end - this.pos > 1024) throw this.fail(`unterminated text argument at offset ${this.pos}`);
    const s = this.buf.toString('utf8', this.pos, end);
    this.pos = end + 1;
    return s;
  }

  private setItems(target: PValue, items: PValue[]): void {
    if (!isObj(target, 'dict')) throw this.fail('SETITEM(S) on something that is not a dict');
    if (items.length % 2) throw this.fail('SETITEMS with an odd number of items');
    for (let i = 0; i < items.length; i += 2) {
      const k = items[i];
      if (typeof k !== 'string' && typeof k !== 'number') throw this.fail('dict key that is not a string or integer');
      target.entries.set(k, items[i + 1]);
    }
  }

  private reduce(fn: PValue, args: PValue): PValue {
    if (!isObj(fn, 'global')) throw this.fail('REDUCE of something that is not an allowed global');
    if (!isObj(args, 'tuple')) throw this.fail('REDUCE arguments are not a tuple');
    const a = args.items;
    const full = `${fn.module}.${fn.name}`;
    if (full === 'collections.OrderedDict') {
      if (a.length !== 0) throw this.fail('OrderedDict called with arguments');
      return { kind: 'dict', entries: new Map() };
    }
    if (full === 'torch._utils._rebuild_tensor_v2') return this.rebuildTensor(a);
    if (full === 'torch._utils._rebuild_parameter') {
      if (a.length < 1 || !isObj(a[0], 'tensor')) throw this.fail('_rebuild_parameter without a tensor');
      return a[0];
    }
    throw this.fail(`refused call of '${full}'`);
  }

  private rebuildTensor(a: PValue[]): PTensor {
    // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
    if (a.length < 4 || a.length > 7) throw this.fail(`_rebuild_tensor_v2 with ${a.length} arguments`);
    const [storage, offset, size, stride] = a;
    if (!isObj(storage, 'storage')) throw this.fail('_rebuild_tensor_v2: first argument is not a storage');
    const ints = (v: PValue, what: string): number[] => {
      if (!isObj(v, 'tuple')) throw this.fail(`_rebuild_tensor_v2: ${what} is not a tuple`);
      return v.items.map((x) => {
        if (typeof x !== 'number' || !Number.isSafeInteger(x) || x < 0) throw this.fail(`_rebuild_tensor_v2: ${what} holds ${String(x)}`);
        return x;
      });
    };
    if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) throw this.fail('_rebuild_tensor_v2: bad storage offset');
    const sz = ints(size, 'size');
    const st = ints(stride, 'stride');
    if (sz.length !== st.length) throw this.fail(`_rebuild_tensor_v2: size has ${sz.length} dims, stride ${st.length}`);
    return { kind: 'tensor', storage, storageOffset: offset, size: sz, stride: st };
  }

  private persistent(pid: PValue): PStorage {
    if (!isObj(pid, 'tuple') || pid.items.length !== 5 || pid.items[0] !== 'storage')
      throw this.fail("persistent id is not ('storage', type, key, location, numel)");
    const [, type, key, location, numel] = pid.items;
    if (!isObj(type, 'global') || type.module !== 'torch' || !(type.name in STORAGE_DTYPES))
      throw this.fail('persistent id names no torch storage class');
    if (typeof key !== 'string' || !/^[A-Za-z0-9_.-]{1,64}$/.test(key)) throw this.fail('persistent id has a bad storage key');
    if (typeof location !== 'string') throw this.fail('persistent id has a bad location');
    if (typeof numel !== 'number' || !Number.isSafeInteger(numel) || numel < 0) throw this.fail('persistent id has a bad element count');
    return { kind: 'storage', dtype: STORAGE_DTYPES[type.name], key, location, numel };
  }

  run(): PValue {
    const b = this.buf;
    for (;;) {
      const at = this.need(1);
      const op = b[at];
      switch (op) {
        case 0x80: { // PROTO
          const v = b[this.need(1)];
          if (v < 2 || v > 5) throw this.fail(`pickle protocol ${v} is not supported (2 to 5)`);
          break;
        }
        case 0x95: this.need(8); break; // FRAME: framing only, the bytes follow inline
        case 0x2e: { // STOP
          if (this.marks.length) throw this.fail('STOP inside an open MARK');
          if (this.stack.length !== 1) throw this.fail(`STOP with ${this.stack.length} items on the stack`);
          return this.stack[0];
        }
        case 0x28: // MARK
          if (this.marks.length >= MAX_MARKS) throw this.fail(`MARKs nest deeper than ${MAX_MARKS}`);
          this.marks.push(this.stack.length);
          break;
        case 0x7d: this.push({ kind: 'dict', entries: new Map() }); break; // EMPTY_DICT
        case 0x5d: this.push({ kind: 'list', items: [] }); break; // EMPTY_LIST
        case 0x29: this.push({ kind: 'tuple', items: [] }); break; // EMPTY_TUPLE
        case 0x4e: this.push(null); break; // NONE
        case 0x88: this.push(true); break; // NEWTRUE
        case 0x89: this.push(false); break; // NEWFALSE
        case 0x4a: this.push(b.readInt32LE(this.need(4))); break; // BININT
        case 0x4b: this.push(b[this.need(1)]); break; // BININT1
        case 0x4d: this.push(b.readUInt16LE(this.need(2))); break; // BININT2
        case 0x8a: { // LONG1
          const n = b[this.need(1)];
          if (n > 8) throw this.fail(`LONG1 of ${n} bytes`);
          const p = this.need(n);
          let v = 0n;
          for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[p + i]);
          if (n > 0 && b[p + n - 1] & 0x80) v -= 1n << BigInt(8 * n);
          if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER)) throw this.fail(`integer ${v} is too large`);
          this.push(Number(v));
          break;
        }
        case 0x47: this.push(b.readDoubleBE(this.need(8))); break; // BINFLOAT
        case 0x58: { // BINUNICODE
          const n = b.readUInt32LE(this.need(4));
          this.push(this.str(this.need(n), n));
          break;
        }
        case 0x8c: { // SHORT_BINUNICODE
          const n = b[this.need(1)];
          this.push(this.str(this.need(n), n));
          break;
        }
        case 0x8d: { // BINUNICODE8
          const big = b.readBigUInt64LE(this.need(8));
          if (big > BigInt(b.length)) throw this.fail(`string of ${big} bytes is longer than data.pkl`);
          const n = Number(big);
          this.push(this.str(this.need(n), n));
          break;
        }
        case 0x43: { // SHORT_BINBYTES: kept as a length only (torch writes none in state dicts)
          const n = b[this.need(1)];
          this.need(n);
          this.push({ kind: 'bytes', length: n });
          break;
        }
        case 0x42: { // BINBYTES
          const n = b.readUInt32LE(this.need(4));
          this.need(n);
          this.push({ kind: 'bytes', length: n });
          break;
        }
        case 0x74: this.push({ kind: 'tuple', items: this.popMark() }); break; // TUPLE
        case 0x85: this.push({ kind: 'tuple', items: [this.pop()] }); break; // TUPLE1
        case 0x86: { // TUPLE2
          const y = this.pop();
          const x = this.pop();
          this.push({ kind: 'tuple', items: [x, y] });
          break;
        }
        case 0x87: { // TUPLE3
          const z = this.pop();
          const y = this.pop();
          const x = this.pop();
          this.push({ kind: 'tuple', items: [x, y, z] });
          break;
        }
        case 0x6c: this.push({ kind: 'list', items: this.popMark() }); break; // LIST
        case 0x64: { // DICT
          const d: PDict = { kind: 'dict', entries: new Map() };
          this.setItems(d, this.popMark());
          this.push(d);
          break;
        }
        case 0x73: { // SETITEM
          const v = this.pop();
          const k = this.pop();
          this.setItems(this.top(), [k, v]);
          break;
        }
        case 0x75: { // SETITEMS
          const items = this.popMark();
          this.setItems(this.top(), items);
          break;
        }
        case 0x61: { // APPEND
          const v = this.pop();
          const l = this.top();
          if (!isObj(l, 'list')) throw this.fail('APPEND to something that is not a list');
          l.items.push(v);
          break;
        }
        case 0x65: { // APPENDS
          const items = this.popMark();
          const l = this.top();
          if (!isObj(l, 'list')) throw this.fail('APPENDS to something that is not a list');
          for (const v of items) l.items.push(v);
          break;
        }
        case 0x71: this.memoPut(b[this.need(1)]); break; // BINPUT
        case 0x72: this.memoPut(b.readUInt32LE(this.need(4))); break; // LONG_BINPUT
        case 0x94: this.memoPut(this.memo.size); break; // MEMOIZE
        case 0x68: this.memoGet(b[this.need(1)]); break; // BINGET
        case 0x6a: this.memoGet(b.readUInt32LE(this.need(4))); break; // LONG_BINGET
        case 0x63: { // GLOBAL "module\nname\n"
          const module = this.readLine();
          const name = this.readLine();
          this.global(module, name);
          break;
        }
        case 0x93: { // STACK_GLOBAL
          const name = this.pop();
          const module = this.pop();
          if (typeof module !== 'string' || typeof name !== 'string') throw this.fail('STACK_GLOBAL of non-strings');
          this.global(module, name);
          break;
        }
        case 0x52: { // REDUCE
          const args = this.pop();
          const fn = this.pop();
          this.push(this.reduce(fn, args));
          break;
        }
        case 0x62: { // BUILD: only an OrderedDict's attribute state (torch's `_metadata`), kept aside
          const state = this.pop();
          const target = this.top();
          if (!isObj(target, 'dict')) throw this.fail('BUILD on something that is not a dict');
          if (state !== null && !isObj(state, 'dict') && !isObj(state, 'tuple')) throw this.fail('BUILD with a state that is not a dict');
          break;
        }
        case 0x51: this.push(this.persistent(this.pop())); break; // BINPERSID
        case 0x30: this.pop(); break; // POP
        case 0x31: this.popMark(); break; // POP_MARK
        case 0x32: this.push(this.top()); break; // DUP
        default:
          throw this.fail(`opcode 0x${op.toString(16).padStart(2, '0')} at offset ${at} is not allowed`);
      }
    }
  }
}

export function isObj<K extends Exclude<PValue, null | boolean | number | string>['kind']>(
  v: PValue,
  kind: K,
): v is Extract<PValue, { kind: K }> {
  return typeof v === 'object' && v !== null && v.kind === kind;
}

/** Interprets a pickle under the allow-list; `file` names the checkpoint in errors. */
export function unpickle(buf: Buffer, file: string): PValue {
  return new Unpickler(buf, file).run();
}
