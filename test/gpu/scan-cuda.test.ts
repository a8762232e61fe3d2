/**
 * The CUDA scan against the CPU scan, on a real GPU. Without a usable GPU (or in a build
 * without the CUDA backend) every test here is skipped, and the reason is printed.
 * The checks are those of scripts/gpu-check.ts (which runs them without jest on the lent GPU
 * machine), plus the library wiring: device choice, progress, cancellation, errors.
 */
import * as fs from 'fs';
import * as path from 'path';
import { AbortError, CudaError, InvalidArgumentError } from '../../lib/errors';
import { openModels } from '../../lib/io/discover';
import { native } from '../../lib/native';
import { chooseDevice } from '../../lib/scan/device';
import { runNativePlan, scanModelSet } from '../../lib/scan/scan';
import { writeSafetensors } from '../../lib/io/safetensors-writer';
import { CASES, fakeInitMismatches, planFor, runCase, runFormedCase, TOLERANCE, writeModelSet } from '../../scripts/gpu-check';
import { tmpDir } from '../helpers/models';

const addon = native();
const status = addon.cudaStatus();
const skipReason = !status.usable
  ? status.reason
  : !addon.startScanCuda
    ? 'this build has no CUDA scan kernels'
    : undefined;
if (skipReason) console.log(`GPU tests skipped: ${skipReason}`);
const gpuDescribe = skipReason ? describe.skip : describe;

jest.setTimeout(600000);

gpuDescribe('CUDA scan (on a GPU)', () => {
  it('fakeInitCuda is bitwise the CPU fake init', () => {
    expect(fakeInitMismatches()).toEqual([]);
  });

  it.each(CASES)(`M = %i: every variant within ${TOLERANCE} of the CPU scan, deterministic`, async (M) => {
    const { results, deterministic } = await runCase(M, tmpDir());
    for (const r of results) {
      const msg = `${r.variant}: ${JSON.stringify(r.errors)}`;
      expect([msg, r.errors.moments <= TOLERANCE]).toEqual([msg, true]);
      expect([msg, r.errors.fakeInit <= TOLERANCE]).toEqual([msg, true]);
      expect([msg, r.errors.gram <= TOLERANCE]).toEqual([msg, true]);
    }
    expect(deterministic).toBe(true);
  });

  it('GGUF, GPTQ and LoRA members (formed on the host): every variant within tolerance, bitwise the float32 copy', async () => {
    const { results, bitwise } = await runFormedCase(tmpDir());
    for (const r of results) expect([r.variant, JSON.stringify(r.errors), r.ok]).toEqual([r.variant, JSON.stringify(r.errors), true]);
    expect(bitwise).toBe(true);
  });

  it("device 'auto' and 'cuda' scan on the GPU and record it", async () => {
    expect(chooseDevice('auto').device).toBe('cuda');
    const files = writeModelSet(tmpDir(), 3);
    const set = await openModels(files);
    const res = await scanModelSet(set, { device: 'cuda', seed: 2 });
    expect(res.run.backend).toBe('cuda');
    expect(res.run.device).toContain(status.devices[0].name);
    expect(res.run.isa).toMatch(/^sm_\d+ (dmma|fma)$/);
    expect(res.run.fallbackReason).toBeUndefined();
    const cpu = await scanModelSet(set, { device: 'cpu', seed: 2 });
    for (let t = 0; t < cpu.tensors.length; t++) {
      const a = cpu.tensors[t].gram.flat();
      const b = res.tensors[t].gram.flat();
      const scale = Math.max(...a.map(Math.abs));
      for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThanOrEqual(TOLERANCE * scale);
    }
    expect(() => chooseDevice('cuda', status.devices.length)).toThrow(InvalidArgumentError);
  });

  it('reports progress up to the total and honours an AbortSignal', async () => {
    const dir = tmpDir();
    const big = path.join(dir, 'big.safetensors');
    writeSafetensors(big, [{ name: 'w', dtype: 'F32', shape: [1 << 24], data: new Float32Array(1 << 24) }]);
    const plan = await planFor([big, big]);
    const seen: number[] = [];
    await runNativePlan({ ...plan, cuda: { stageBytes: 1 << 20 } }, (p) => seen.push(p.fraction), undefined, { device: 'cuda' });
    expect(seen[seen.length - 1]).toBe(1);
    expect([...seen].sort((a, b) => a - b)).toEqual(seen);
    const ac = new AbortController();
    const err = await runNativePlan({ ...plan, cuda: { stageBytes: 1 << 16 } }, () => ac.abort(), ac.signal, { device: 'cuda' }).catch(
      (e) => e,
    );
    expect(err).toBeInstanceOf(AbortError);
    expect(err.message).toMatch(/after \d+ of \d+ bytes/);
  });

  it('gives coded errors, and the process and device survive them', async () => {
    const files = writeModelSet(tmpDir(), 2);
    const plan = await planFor(files);
    const bad = await runNativePlan(plan, undefined, undefined, { device: 'cuda', cudaDevice: 99 }).catch((e) => e);
    expect(bad).toBeInstanceOf(InvalidArgumentError);
    const readsum = await runNativePlan({ ...plan, mode: 'readsum' }, undefined, undefined, { device: 'cuda' }).catch((e) => e);
    expect(readsum).toBeInstanceOf(InvalidArgumentError);
    fs.truncateSync(files[1], fs.statSync(files[1]).size - 100);
    const io = await runNativePlan(plan, undefined, undefined, { device: 'cuda' }).catch((e) => e);
    expect(io.code).toBe('E_IO');
    expect(io.message).toContain(files[1]);
    const ok = await runNativePlan({ ...plan, groups: plan.groups.filter((g) => g.count < 10) }, undefined, undefined, { device: 'cuda' });
    expect(ok.device).toBe('cuda');
  });
});

describe('CUDA scan wiring (any machine)', () => {
  it("'cuda' without a usable GPU is a clear E_NO_CUDA error; 'auto' falls back and says why", () => {
    if (!skipReason) return; // on a GPU machine the block above covers it
    expect(() => chooseDevice('cuda')).toThrow(CudaError);
    const choice = chooseDevice('auto');
    expect(choice.device).toBe('cpu');
    expect(choice.fallbackReason).toBe(skipReason);
  });

  it('startScanCuda exists exactly when the addon was built with CUDA', () => {
    expect(typeof addon.startScanCuda === 'function').toBe(status.compiled);
    expect(typeof addon.fakeInitCuda === 'function').toBe(status.compiled);
  });
});
