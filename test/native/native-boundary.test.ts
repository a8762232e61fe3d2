/**
 * The TS side of the native boundary: a plan the addon rejects synchronously (before any
 * worker starts) still reaches the caller as a coded PhylogenyError through the promise, for
 * the scan and the edge encoder alike; and a stale addon (another ABI version) is refused on
 * load with a message naming the file, both versions and the rebuild command.
 */
import * as fs from 'fs';
import * as path from 'path';
import { AbortError, CudaError, InvalidArgumentError, PhylogenyError } from '../../lib/errors';
import { openModels } from '../../lib/io/discover';
import { encodeEdgesNative } from '../../lib/learned/native-encoder';
import { ADDON_ABI_VERSION, checkAbiVersion, native, NativeEdgeWeights } from '../../lib/native';
import { runNativeJob } from '../../lib/native-job';
import { scanModelSet } from '../../lib/scan/scan';
import { tmpDir, writeRandomModel } from '../helpers/models';

const LAYOUT = [{ name: 'w', shape: [9, 13], dtype: 'F32' as const }];

describe('native boundary', () => {
  const dir = tmpDir('np-boundary-');
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const parent = writeRandomModel(path.join(dir, 'a.safetensors'), LAYOUT, 1);
  writeRandomModel(path.join(dir, 'b.safetensors'), LAYOUT.map((t) => ({ ...t, scale: 0.01 })), 2, parent);
  const weights: NativeEdgeWeights = {
    channels: 1,
    w1: new Float32Array(2),
    b1: new Float32Array(1),
    w2: new Float32Array(9 * 32),
    b2: new Float32Array(32),
  };
  // An ISA name no CPU has, and (where there is one) a real ISA this CPU lacks: both are
  // refused by the addon's plan reader, synchronously, as E_INVALID_ARG.
  const all = ['scalar', 'avx2', 'avx512'];
  const unsupported = ['avx1024', ...all.filter((isa) => !native().cpuInfo().supportedIsas.includes(isa))];

  it.each(unsupported)('a scan asking for isa %s rejects with InvalidArgumentError', async (isa) => {
    const set = await openModels([dir]);
    const err = await scanModelSet(set, { device: 'cpu', isa: isa as 'avx512' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect((err as PhylogenyError).code).toBe('E_INVALID_ARG');
    expect((err as Error).message).toContain(isa);
  });

  it.each(unsupported)('the edge encoder asking for isa %s rejects with InvalidArgumentError', async (isa) => {
    const set = await openModels([dir]);
    const err = await encodeEdgesNative(set, [{ tensor: 'w', a: 0, b: 1, scale: 1 }], weights, { isa: isa as 'avx512' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect((err as Error).message).toContain(isa);
  });

  it('scan and edge encoder report backend and device alike', async () => {
    const set = await openModels([dir]);
    const scan = await scanModelSet(set, { device: 'cpu' });
    expect(scan.run.backend).toBe('cpu');
    expect(scan.run.device).toBe('cpu');
    expect(native().cpuInfo().supportedIsas).toContain(scan.run.isa);
    const enc = await encodeEdgesNative(set, [{ tensor: 'w', a: 0, b: 1, scale: 1 }], weights, {});
    expect(enc.run.backend).toBe('cpu');
    expect(enc.run.device).toBe('cpu');
  });

  // Without a usable GPU (no driver, or a build without CUDA) the edge encoder's 'cuda' is the
  // E_NO_CUDA CudaError the scan's device choice gives, with cudaStatus()'s reason.
  const status = native().cudaStatus();
  (status.usable ? it.skip : it)('the edge encoder on CUDA without a usable GPU is a CudaError', async () => {
    const set = await openModels([dir]);
    const err = await encodeEdgesNative(set, [{ tensor: 'w', a: 0, b: 1, scale: 1 }], weights, { device: 'cuda' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CudaError);
    expect((err as PhylogenyError).code).toBe('E_NO_CUDA');
    if (!status.compiled) expect((err as Error).message).toContain(status.reason);
  });

  it('runNativeJob maps a synchronous throw, honours an aborted signal, and cancels on abort', async () => {
    const thrown = await runNativeJob(() => {
      throw Object.assign(new Error('bad plan'), { code: 'E_INVALID_ARG' });
    }, undefined, 'job').catch((e: unknown) => e);
    expect(thrown).toBeInstanceOf(InvalidArgumentError);

    const before = new AbortController();
    before.abort();
    let started = false;
    const early = await runNativeJob(() => {
      started = true;
      return { promise: Promise.resolve(1), cancel: () => undefined };
    }, before.signal, 'job').catch((e: unknown) => e);
    expect(early).toBeInstanceOf(AbortError);
    expect(started).toBe(false);

    const ctl = new AbortController();
    let cancelled = false;
    let reject!: (e: unknown) => void;
    const pending = runNativeJob(() => ({
      promise: new Promise<number>((_, rej) => (reject = rej)),
      cancel: () => {
        cancelled = true;
        reject(Object.assign(new Error('cancelled'), { code: 'E_ABORTED' }));
      },
    }), ctl.signal, 'job');
    ctl.abort();
    await expect(pending).rejects.toBeInstanceOf(AbortError);
    expect(cancelled).toBe(true);
  });
});

describe('addon ABI version', () => {
  it('accepts the addon this library was built against', () => {
    expect(native().abiVersion).toBe(ADDON_ABI_VERSION);
    expect(() => checkAbiVersion({ abiVersion: ADDON_ABI_VERSION }, '/x/neural_phylogeny.node')).not.toThrow();
  });

  it('refuses a stale addon, naming its path, both versions and the rebuild command', () => {
    const file = '/somewhere/build/Release/neural_phylogeny.node';
    let err: unknown;
    try {
      checkAbiVersion({ abiVersion: ADDON_ABI_VERSION - 1 }, file);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PhylogenyError);
    const msg = (err as Error).message;
    expect(msg).toContain(file);
    expect(msg).toContain(`version ${ADDON_ABI_VERSION - 1}`);
    expect(msg).toContain(`version ${ADDON_ABI_VERSION}`);
    expect(msg).toContain('npm run build:native');
    expect(() => checkAbiVersion({}, file)).toThrow(/undefined/);
  });
});
