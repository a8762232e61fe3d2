/**
 * Every rule of the PyTorch checkpoint reader, one crafted file each: zip container rules
 * (lib/io/torch-zip.ts), checkpoint rules (lib/io/torch-checkpoint.ts) and unpickler rules
 * (lib/io/pickle.ts), including live malicious pickles (made by Python's own pickle, shown to
 * run their payload under pickle.loads) that must be refused with nothing executed.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { FormatError } from '../../lib/errors';
import { MAX_MARKS, MAX_MEMO, MAX_STACK } from '../../lib/io/pickle';
import { MAX_PICKLE_BYTES, readTorchCheckpointSync } from '../../lib/io/torch-checkpoint';
import { checkpoint, glob, int, OP, pkl, stateDict, tensorItem, uni, zipLayout } from '../helpers/torch-files';
import { runTorchPython } from '../helpers/torch-python';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'np-torch-format-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

let n = 0;
function file(): string {
  return path.join(dir, `f${n++}.bin`);
}

/** Refused with a FormatError that names the file and matches the rule. */
function expectRefused(f: string, rule: RegExp): void {
  let err: unknown;
  try {
    readTorchCheckpointSync(f);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(FormatError);
  expect((err as FormatError).file).toBe(f);
  expect((err as FormatError).message.startsWith(`${f}: `)).toBe(true);
  expect((err as FormatError).message).toMatch(rule);
}

/** A valid checkpoint's bytes, to be mutated in place. */
function valid(): Buffer {
  return fs.readFileSync(checkpoint(dir, `valid${n++}.bin`, stateDict(tensorItem())));
}

function mutated(buf: Buffer, edit: (b: Buffer, z: ReturnType<typeof zipLayout>) => Buffer | void): string {
  const b = Buffer.from(buf);
  let z: ReturnType<typeof zipLayout>;
  try {
    z = zipLayout(b);
  } catch {
    z = { eocd: -1, cd: -1, central: [], local: [] }; // not a plain zip: the edit works on raw bytes
  }
  const out = edit(b, z) ?? b;
  const f = file();
  fs.writeFileSync(f, out);
  return f;
}

test('the unmutated base file is valid', () => {
  const f = checkpoint(dir, 'base.bin', stateDict(tensorItem({ size: [2, 2], stride: [2, 1] })));
  expect(readTorchCheckpointSync(f).tensors).toEqual([{ name: 'w', dtype: 'F32', shape: [2, 2], file: f, offset: expect.any(Number), byteLength: 16 }]);
});

describe('zip container rules', () => {
  const cases: [string, () => string, RegExp][] = [
    ['a file shorter than an end record', () => mutated(Buffer.from('PK'), () => {}), /not a zip archive \(2 bytes/],
    ['no end-of-central-directory record', () => mutated(valid(), (b) => b.subarray(0, b.length - 10)), /no end-of-central-directory record/],
    ['a central directory past the end record', () => mutated(valid(), (b, z) => void b.writeUInt32LE(b.length, z.eocd + 16)), /runs past the end-of-central-directory record/],
    ['a central directory too small for its entries', () => mutated(valid(), (b, z) => void b.writeUInt32LE(10, z.eocd + 12)), /too small for 3 entries/],
    ['a bad central entry signature', () => mutated(valid(), (b, z) => void b.writeUInt32LE(0x12345678, z.central[1])), /central directory entry 1 has a bad signature/],
    ['an empty entry name', () => mutated(valid(), (b, z) => void b.writeUInt16LE(0, z.central[0] + 28)), /has a name of 0 bytes/],
    ['a compressed (deflated) entry', () => mutated(valid(), (b, z) => void b.writeUInt16LE(8, z.central[0] + 10)), /'archive\/data\.pkl' is compressed \(method 8\)/],
    ['an encrypted entry', () => mutated(valid(), (b, z) => void b.writeUInt16LE(1, z.central[0] + 8)), /'archive\/data\.pkl' is encrypted/],
    ['stored sizes that differ', () => mutated(valid(), (b, z) => void b.writeUInt32LE(1, z.central[0] + 20)), /stored but its sizes differ/],
    ['a local header offset past the data area', () => mutated(valid(), (b, z) => void b.writeUInt32LE(z.cd, z.central[1] + 42)), /local header offset \d+ is outside the file's data area/],
    ['a bad local header signature', () => mutated(valid(), (b, z) => void b.writeUInt32LE(0, z.local[1])), /'archive\/data\/0': bad local header signature/],
    ['a local header that says compressed', () => mutated(valid(), (b, z) => void b.writeUInt16LE(8, z.local[0] + 8)), /local header says compressed/],
    ['a local header naming another entry', () => mutated(valid(), (b, z) => void (b[z.local[0] + 30] = 0x41)), /local header names 'Archive\/data\.pkl'/],
    ['entry data running into the central directory', () => mutated(valid(), (b, z) => void b.writeUInt16LE(0xffff, z.local[1] + 28)), /'archive\/data\/0' .* runs into the central directory/],
    ['a duplicated entry name', () => checkpoint(dir, 'dup.bin', stateDict(tensorItem()), undefined, { extra: [{ name: 'archive/data/0', data: Buffer.alloc(16) }] }), /'archive\/data\/0' appears twice/],
    ['overlapping entries (a storage hidden inside another storage\'s data)', () => {
      // storage 0's 48 bytes are themselves a local header for 'archive/data/1' and 4 bytes of
      // data; the central entry of data/1 is pointed there, so one byte would mean two things
      const inner = Buffer.alloc(48);
      inner.writeUInt32LE(0x04034b50, 0);
      inner.writeUInt32LE(4, 18);
      inner.writeUInt32LE(4, 22);
      inner.writeUInt16LE(14, 26);
      inner.write('archive/data/1', 30, 'latin1');
      const f = checkpoint(dir, 'overlap.bin', stateDict(tensorItem({ name: 'a', key: '0', numel: 12, size: [12] }), tensorItem({ name: 'b', key: '1', numel: 1, size: [1] })), {
        '0': inner, '1': Buffer.alloc(4),
      });
      return mutated(fs.readFileSync(f), (b, z) => {
        const data0 = z.local[1] + 30 + b.readUInt16LE(z.local[1] + 26) + b.readUInt16LE(z.local[1] + 28);
        b.writeUInt32LE(data0, z.central[2] + 42);
      });
    }, /zip entries 'archive\/data\/0' and 'archive\/data\/1' overlap/],
    ['multi-disk archives', () => mutated(valid(), (b, z) => void b.writeUInt16LE(1, z.eocd + 4)), /multi-disk zip archives are not supported/],
    ['ZIP64 marked but no locator', () => mutated(valid(), (b, z) => void b.writeUInt16LE(0xffff, z.eocd + 10)), /ZIP64 end-of-central-directory locator is missing/],
    ['a ZIP64 record offset outside the file', () => mutated(fs.readFileSync(checkpoint(dir, 'z1.bin', stateDict(tensorItem()), undefined, { zip64: true })), (b) => {
      b.writeBigUInt64LE(BigInt(b.length) * 2n, b.length - 22 - 20 + 8);
    }), /ZIP64 end-of-central-directory record offset \d+ is outside the file/],
    ['no ZIP64 record where the locator points', () => mutated(fs.readFileSync(checkpoint(dir, 'z2.bin', stateDict(tensorItem()), undefined, { zip64: true })), (b) => {
      b.writeBigUInt64LE(0n, b.length - 22 - 20 + 8);
    }), /no ZIP64 end-of-central-directory record at offset 0/],
    ['a huge ZIP64 entry count', () => mutated(fs.readFileSync(checkpoint(dir, 'z3.bin', stateDict(tensorItem()), undefined, { zip64: true })), (b) => {
      const rec = b.length - 22 - 20 - 56;
      b.writeBigUInt64LE(1n << 40n, rec + 24);
      b.writeBigUInt64LE(1n << 40n, rec + 32);
    }), /declares 1099511627776 entries, over the limit/],
    ['a central directory over the size limit', () => mutated(fs.readFileSync(checkpoint(dir, 'z4.bin', stateDict(tensorItem()), undefined, { zip64: true })), (b) => {
      b.writeBigUInt64LE(1n << 33n, b.length - 22 - 20 - 56 + 40);
    }), /central directory is 8589934592 bytes, over the limit/],
    ['ZIP64-marked sizes with no ZIP64 extra field', () => mutated(valid(), (b, z) => void b.writeUInt32LE(0xffffffff, z.central[0] + 24)), /sizes marked ZIP64 but no ZIP64 extra field/],
    ['a 64-bit field beyond exact integers', () => mutated(fs.readFileSync(checkpoint(dir, 'z5.bin', stateDict(tensorItem()), undefined, { zip64: true })), (b) => {
      b.writeBigUInt64LE(1n << 60n, b.length - 22 - 20 - 56 + 48);
    }), /zip central directory offset \d+ is too large/],
  ];
  test.each(cases)('%s', (_rule, build, rule) => expectRefused(build(), rule));
});

describe('checkpoint rules', () => {
  const cases: [string, () => string, RegExp][] = [
    ['a legacy (pre-zip) pickle file', () => mutated(pkl(OP.PROTO, 2, OP.NONE, OP.STOP), () => {}), /legacy \(pre-zip\) torch\.save checkpoint.*safetensors\.torch\.save_file/],
    ['a file that is neither zip nor pickle', () => mutated(Buffer.from('hello world, not a checkpoint at all'), () => {}), /is not a torch checkpoint \(no zip signature\)/],
    ['no data.pkl', () => mutated(valid(), (b, z) => void b.write('X', z.central[0] + 46 + 'archive/data.pk'.length, 'latin1')), /has no <archive>\/data\.pkl entry/],
    ['two data.pkl', () => checkpoint(dir, 'twopkl.bin', stateDict(tensorItem()), undefined, { extra: [{ name: 'other/data.pkl', data: stateDict() }] }), /holds 2 data\.pkl entries/],
    ['data.pkl declared over the size limit', () => mutated(fs.readFileSync(checkpoint(dir, 'bigpkl.bin', stateDict(tensorItem()), undefined, { zip64: true })), (b, z) => {
      // the ZIP64 extra of entry 0 holds (size, compressed size, offset)
      const cdAt = b.readBigUInt64LE(b.length - 22 - 20 - 56 + 48);
      const extra = Number(cdAt) + 46 + 'archive/data.pkl'.length;
      void z;
      b.writeBigUInt64LE(BigInt(MAX_PICKLE_BYTES + 1), extra + 4);
      b.writeBigUInt64LE(BigInt(MAX_PICKLE_BYTES + 1), extra + 12);
    }), /data\.pkl is 268435457 bytes, over the limit of 268435456/],
    ['a big-endian checkpoint', () => checkpoint(dir, 'be.bin', stateDict(tensorItem()), undefined, { extra: [{ name: 'archive/byteorder', data: Buffer.from('big') }] }), /byteorder is 'big'; only little-endian/],
    ['a storage with no zip entry', () => checkpoint(dir, 'nost.bin', stateDict(tensorItem({ key: '7' }))), /storage '7' has no zip entry archive\/data\/7/],
    ['a storage entry of the wrong size', () => checkpoint(dir, 'stsz.bin', stateDict(tensorItem({ numel: 5 }))), /storage '0' holds 16 bytes, not 5 × 4/],
    ['a tensor past the end of its storage (offset)', () => checkpoint(dir, 'ext1.bin', stateDict(tensorItem({ offset: 1 }))), /storage offset 1 \+ extent 4 exceeds storage '0' of 4 elements/],
    ['a tensor past the end of its storage (strides)', () => checkpoint(dir, 'ext2.bin', stateDict(tensorItem({ size: [2, 2], stride: [3, 1] }))), /extent 5 exceeds storage/],
    ['a shape too large', () => checkpoint(dir, 'huge.bin', stateDict(tensorItem({ size: [2 ** 30, 2 ** 30, 2 ** 30], stride: [1, 1, 1] }))), /shape \[1073741824, 1073741824, 1073741824\] is too large/],
    ['size and stride of different ranks', () => checkpoint(dir, 'rank.bin', stateDict(tensorItem({ size: [4], stride: [1, 1] }))), /size has 1 dims, stride 2/],
    ['no tensors', () => checkpoint(dir, 'empty.bin', stateDict()), /holds no tensors/],
    ['not a dict', () => checkpoint(dir, 'list.bin', pkl(OP.PROTO, 2, OP.EMPTY_LIST, OP.STOP)), /not a dict of tensors/],
    ['two nested state dicts', () => checkpoint(dir, 'two.bin', pkl(OP.PROTO, 2, OP.EMPTY_DICT, OP.MARK,
      uni('model'), glob('collections', 'OrderedDict'), OP.EMPTY_TUPLE, OP.REDUCE, OP.MARK, tensorItem(), OP.SETITEMS,
      uni('state_dict'), glob('collections', 'OrderedDict'), OP.EMPTY_TUPLE, OP.REDUCE, OP.MARK, tensorItem(), OP.SETITEMS,
      OP.SETITEMS, OP.STOP)), /several state dicts \('model', 'state_dict'\)/],
  ];
  test.each(cases)('%s', (_rule, build, rule) => expectRefused(build(), rule));
});

describe('unpickler rules', () => {
  const ck = (p: Buffer): string => checkpoint(dir, `p${n++}.bin`, p);
  const cases: [string, () => string, RegExp][] = [
    ['GLOBAL os.system + REDUCE', () => ck(pkl(OP.PROTO, 2, glob('os', 'system'), uni(`touch ${path.join(dir, 'marker')}`), OP.TUPLE1, OP.REDUCE, OP.STOP)), /refused global 'os\.system'/],
    ['GLOBAL builtins.eval', () => ck(pkl(OP.PROTO, 2, glob('builtins', 'eval'), uni('1'), OP.TUPLE1, OP.REDUCE, OP.STOP)), /refused global 'builtins\.eval'/],
    ['GLOBAL posix.system', () => ck(pkl(OP.PROTO, 2, glob('posix', 'system'), OP.STOP)), /refused global 'posix\.system'/],
    ['GLOBAL subprocess.Popen', () => ck(pkl(OP.PROTO, 2, glob('subprocess', 'Popen'), OP.STOP)), /refused global 'subprocess\.Popen'/],
    ['a torch global that is not a rebuilder', () => ck(pkl(OP.PROTO, 2, glob('torch', 'load'), OP.STOP)), /refused global 'torch\.load'/],
    ['STACK_GLOBAL with a disallowed name', () => ck(pkl(OP.PROTO, 4, uni('os'), uni('system'), OP.STACK_GLOBAL, OP.STOP)), /refused global 'os\.system'/],
    ['STACK_GLOBAL of non-strings', () => ck(pkl(OP.PROTO, 4, OP.NONE, OP.NONE, OP.STACK_GLOBAL, OP.STOP)), /STACK_GLOBAL of non-strings/],
    ['INST', () => ck(pkl(OP.PROTO, 2, OP.MARK, OP.INST, { text: 'os\nsystem\n' }, OP.STOP)), /opcode 0x69 at offset 3 is not allowed/],
    ['OBJ', () => ck(pkl(OP.PROTO, 2, OP.MARK, glob('collections', 'OrderedDict'), OP.OBJ, OP.STOP)), /opcode 0x6f .* is not allowed/],
    ['NEWOBJ', () => ck(pkl(OP.PROTO, 2, glob('collections', 'OrderedDict'), OP.EMPTY_TUPLE, OP.NEWOBJ, OP.STOP)), /opcode 0x81 .* is not allowed/],
    ['an unknown opcode', () => ck(pkl(OP.PROTO, 2, 0xff, OP.STOP)), /opcode 0xff at offset 2 is not allowed/],
    ['LONG4', () => ck(pkl(OP.PROTO, 2, OP.LONG4, [255, 255, 255, 255], OP.STOP)), /opcode 0x8b/],
    ['an unsupported protocol', () => ck(pkl(OP.PROTO, 6, OP.NONE, OP.STOP)), /pickle protocol 6 is not supported/],
    ['stack underflow', () => ck(pkl(OP.PROTO, 2, OP.REDUCE, OP.STOP)), /stack underflow/],
    ['underflow past a MARK', () => ck(pkl(OP.PROTO, 2, OP.NONE, OP.MARK, OP.TUPLE1, OP.STOP)), /stack underflow/],
    ['a missing MARK', () => ck(pkl(OP.PROTO, 2, OP.NONE, OP.TUPLE, OP.STOP)), /no MARK before opcode at offset 3/],
    ['STOP inside an open MARK', () => ck(pkl(OP.PROTO, 2, OP.EMPTY_DICT, OP.MARK, OP.STOP)), /STOP inside an open MARK/],
    ['STOP with two values', () => ck(pkl(OP.PROTO, 2, OP.EMPTY_DICT, OP.EMPTY_DICT, OP.STOP)), /STOP with 2 items on the stack/],
    ['no STOP (truncated)', () => ck(pkl(OP.PROTO, 2, OP.EMPTY_DICT)), /truncated/],
    ['a string longer than the pickle', () => ck(pkl(OP.PROTO, 2, OP.BINUNICODE, [0xff, 0xff, 0xff, 0xff], OP.STOP)), /truncated/],
    ['a BINUNICODE8 of 2^60 bytes', () => ck(pkl(OP.PROTO, 4, OP.BINUNICODE8, [0, 0, 0, 0, 0, 0, 0, 0x10], OP.STOP)), /string of 1152921504606846976 bytes is longer than data\.pkl/],
    ['a LONG1 over 8 bytes', () => ck(pkl(OP.PROTO, 2, OP.LONG1, 9, Buffer.alloc(9), OP.STOP)), /LONG1 of 9 bytes/],
    ['an integer beyond exact doubles', () => ck(pkl(OP.PROTO, 2, OP.LONG1, 8, [0, 0, 0, 0, 0, 0, 0, 0x40], OP.STOP)), /integer 4611686018427387904 is too large/],
    ['SETITEM on a list', () => ck(pkl(OP.PROTO, 2, OP.EMPTY_LIST, uni('a'), OP.NONE, OP.SETITEM, OP.STOP)), /SETITEM\(S\) on something that is not a dict/],
    ['SETITEMS with an odd count', () => ck(pkl(OP.PROTO, 2, OP.EMPTY_DICT, OP.MARK, uni('a'), OP.SETITEMS, OP.STOP)), /odd number of items/],
    ['a dict key that is a tuple', () => ck(pkl(OP.PROTO, 2, OP.EMPTY_DICT, OP.EMPTY_TUPLE, OP.NONE, OP.SETITEM, OP.STOP)), /dict key that is not a string or integer/],
    ['APPEND to a dict', () => ck(pkl(OP.PROTO, 2, OP.EMPTY_DICT, OP.NONE, OP.APPEND, OP.STOP)), /APPEND to something that is not a list/],
    ['REDUCE of a non-global', () => ck(pkl(OP.PROTO, 2, uni('os.system'), OP.EMPTY_TUPLE, OP.REDUCE, OP.STOP)), /REDUCE of something that is not an allowed global/],
    ['REDUCE of a storage class', () => ck(pkl(OP.PROTO, 2, glob('torch', 'FloatStorage'), OP.EMPTY_TUPLE, OP.REDUCE, OP.STOP)), /refused call of 'torch\.FloatStorage'/],
    ['REDUCE with non-tuple arguments', () => ck(pkl(OP.PROTO, 2, glob('collections', 'OrderedDict'), OP.EMPTY_LIST, OP.REDUCE, OP.STOP)), /REDUCE arguments are not a tuple/],
    ['OrderedDict with arguments', () => ck(pkl(OP.PROTO, 2, glob('collections', 'OrderedDict'), OP.EMPTY_LIST, OP.TUPLE1, OP.REDUCE, OP.STOP)), /OrderedDict called with arguments/],
    ['_rebuild_tensor_v2 of a string', () => ck(pkl(OP.PROTO, 2, OP.EMPTY_DICT, uni('w'), glob('torch._utils', '_rebuild_tensor_v2'), OP.MARK, uni('x'), int(0), OP.EMPTY_TUPLE, OP.EMPTY_TUPLE, OP.TUPLE, OP.REDUCE, OP.SETITEM, OP.STOP)), /first argument is not a storage/],
    ['_rebuild_tensor_v2 with a negative size', () => ck(stateDict(tensorItem({ size: [-4] }))), /size holds -4/],
    ['_rebuild_parameter without a tensor', () => ck(pkl(OP.PROTO, 2, glob('torch._utils', '_rebuild_parameter'), OP.NONE, OP.TUPLE1, OP.REDUCE, OP.STOP)), /_rebuild_parameter without a tensor/],
    ['a persistent id that is not a storage', () => ck(pkl(OP.PROTO, 2, uni('file'), OP.TUPLE1, OP.BINPERSID, OP.STOP)), /persistent id is not \('storage'/],
    ['a persistent id with a path as its key', () => ck(stateDict(tensorItem({ key: '../../etc/passwd' }))), /persistent id has a bad storage key/],
    ['a persistent id naming a non-storage class', () => ck(pkl(OP.PROTO, 2, OP.MARK, uni('storage'), glob('collections', 'OrderedDict'), uni('0'), uni('cpu'), int(4), OP.TUPLE, OP.BINPERSID, OP.STOP)), /names no torch storage class/],
    ['BUILD on a tensor', () => ck(pkl(OP.PROTO, 2, OP.EMPTY_LIST, OP.EMPTY_DICT, OP.BUILD, OP.STOP)), /BUILD on something that is not a dict/],
    ['memo read before written', () => ck(pkl(OP.PROTO, 2, OP.BINGET, 3, OP.STOP)), /memo key 3 read before it was written/],
    ['LONG_BINGET of a huge key', () => ck(pkl(OP.PROTO, 2, OP.LONG_BINGET, [255, 255, 255, 255], OP.STOP)), /memo key 4294967295 read before/],
    ['memo abuse: more entries than the limit', () => {
      const parts = [pkl(OP.PROTO, 4, OP.NONE)];
      const put = Buffer.alloc(5 * (MAX_MEMO + 1));
      for (let i = 0; i <= MAX_MEMO; i++) {
        put[5 * i] = OP.LONG_BINPUT;
        put.writeUInt32LE(i, 5 * i + 1);
      }
      return ck(Buffer.concat([...parts, put, pkl(OP.STOP)]));
    }, new RegExp(`memo grows past ${MAX_MEMO} entries`)],
    ['deep recursion: nested MARKs', () => ck(pkl(OP.PROTO, 2, Buffer.alloc(MAX_MARKS + 1, OP.MARK), OP.STOP)), new RegExp(`MARKs nest deeper than ${MAX_MARKS}`)],
    ['deep recursion: a stack past the limit', () => ck(pkl(OP.PROTO, 2, Buffer.alloc(MAX_STACK + 1, OP.NONE), OP.STOP)), new RegExp(`stack grows past ${MAX_STACK} items`)],
    ['a text line with no end', () => ck(pkl(OP.PROTO, 2, OP.GLOBAL, Buffer.alloc(2000, 0x61))), /unterminated text argument/],
  ];
  test.each(cases)('%s', (_rule, build, rule) => expectRefused(build(), rule));
  test('the os.system payload above did not run', () => expect(fs.existsSync(path.join(dir, 'marker'))).toBe(false));
});

describe('live malicious pickles from Python', () => {
  // Each payload creates a marker file when Python unpickles it; one is loaded in Python
  // first to show the payloads are live, then all are given to our reader.
  const PAYLOADS_PY = `
import os, pickle, subprocess, sys
class System:
    def __init__(s, m): s.m = m
    def __reduce__(s): return (os.system, ('touch ' + s.m,))
class Eval:
    def __init__(s, m): s.m = m
    def __reduce__(s): return (eval, ("open(%r, 'w')" % s.m,))
class Popen:
    def __init__(s, m): s.m = m
    def __reduce__(s): return (subprocess.Popen, (['touch', s.m],))
class Plain:
    pass
def write(name, obj, proto):
    open(name + '.pkl', 'wb').write(pickle.dumps({'w': obj}, protocol=proto))
for proto in (2, 4, 5):
    write('system-%d' % proto, System(os.path.abspath('marker-system-%d' % proto)), proto)
    write('eval-%d' % proto, Eval(os.path.abspath('marker-eval-%d' % proto)), proto)
    write('popen-%d' % proto, Popen(os.path.abspath('marker-popen-%d' % proto)), proto)
    write('plain-%d' % proto, Plain(), proto)
write('proof', System(os.path.abspath('marker-proof')), 2)
pickle.loads(open('proof.pkl', 'rb').read())
print(os.path.exists('marker-proof'))
`;
  let pyDir: string;
  beforeAll(() => {
    pyDir = path.join(dir, 'py');
    fs.mkdirSync(pyDir);
    expect(runTorchPython(PAYLOADS_PY, pyDir).trim()).toBe('True'); // the payload is real
  });

  test.each([2, 4, 5])('protocol %i: os.system, eval, subprocess.Popen and an arbitrary class are refused, nothing runs', (proto) => {
    const expected: [string, RegExp][] = [
      ['system', /refused global 'posix\.system'/],
      ['eval', /refused global '(__builtin__|builtins)\.eval'/],
      ['popen', /refused global '(subprocess|commands)\.Popen'/], // protocol 2 maps module names to Python 2's
      ['plain', /refused global '(copyreg\._reconstructor|__main__\.Plain)'/],
    ];
    for (const [kind, rule] of expected) {
      const f = checkpoint(pyDir, `${kind}-${proto}.bin`, fs.readFileSync(path.join(pyDir, `${kind}-${proto}.pkl`)));
      expectRefused(f, rule);
    }
    const markers = fs.readdirSync(pyDir).filter((f) => f.startsWith('marker-'));
    expect(markers).toEqual(['marker-proof']);
  });
});
