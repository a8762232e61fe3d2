/**
 * The CUDA scan's own sources (kernels and host pipeline) run on a CPU emulator and are held
 * to the CPU scan (test/gpu/emu/emu_main.cc lists the checks). This runs everywhere, GPU or
 * not: it checks the index arithmetic, barriers, reductions, batching, progress, cancellation
 * and error paths, and members formed on the host (GGUF, GPTQ, PEFT LoRA) in a set written by
 * the project's writers. It cannot check the GPU itself; scan-cuda.test.ts does that where one
 * exists.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { runNativePlan } from '../../lib/scan/scan';
import { writeFormedSet } from '../../scripts/formed-set';
import { tmpDir } from '../helpers/models';
import { buildEmulator, emulatorUnavailable } from './emu/build';

/** Largest error of `got` against `want` relative to natural magnitudes (emu_main.cc max_rel). */
function maxRel(offsets: Float64Array, counts: number[], sizes: number[], want: Float64Array, got: Float64Array): number {
  let worst = 0;
  offsets.forEach((o, g) => {
    const k = sizes[g];
    for (let i = 0; i < k * 5 + k * k; i++) {
      let scale: number;
      if (i < k * 5) {
        const sq = want[o + Math.floor(i / 5) * 5 + 1];
        scale = Math.sqrt(counts[g] * sq) + sq;
      } else {
        const a = Math.floor((i - k * 5) / k), b = (i - k * 5) % k;
        scale = Math.sqrt(want[o + k * 5 + a * k + a] * want[o + k * 5 + b * k + b]);
      }
      const err = Math.abs(got[o + i] - want[o + i]) / Math.max(scale, 1e-300);
      worst = Math.max(worst, Number.isNaN(err) ? Infinity : err);
    }
  });
  return worst;
}

const unavailable = emulatorUnavailable();
if (unavailable) console.log(`CUDA emulator tests skipped: ${unavailable}`);
const maybe = unavailable ? describe.skip : describe;

maybe('CUDA scan on the CPU emulator', () => {
  let binary = '';
  beforeAll(async () => {
    binary = await buildEmulator();
  }, 600000);

  // Two legal but opposite stream schedules (emu_runtime.cc): 'lazy' runs queued GPU work only
  // when the host forces it (catches a missing host synchronisation), 'eager' runs kernels at
  // once and copies late (catches a kernel that does not wait for its copy).
  it.each(['lazy', 'eager'])('matches the CPU scan; bitwise fake init; deterministic; progress, cancel, errors (%s schedule)', (schedule) => {
    let out: string;
    try {
      out = execFileSync(binary, [], { encoding: 'utf8', timeout: 570000, env: { ...process.env, EMU_SCHEDULE: schedule } });
    } catch (e) {
      const err = e as { stdout?: string; stderr?: string };
      throw new Error(`emulator failed:\n${err.stdout ?? ''}${err.stderr ?? ''}`);
    }
    expect(out).toContain(`schedule: ${schedule}`);
    expect(out).toMatch(/PASSED: 0 failure/);
    expect(out).not.toMatch(/^FAIL/m);
  }, 600000);

  // BF16 + GGUF Q8_0 + Q4_K + GPTQ 4-bit + a LoRA adapter: the emulator holds the CUDA scan
  // (Q8_0 expanded on the device, and on the host) to its CPU scan and bitwise to the set's
  // float32 copy; here its values are held to the addon's own CPU scan of the same plan (any
  // kernel set: within float64 rounding).
  it('forms GGUF, GPTQ and LoRA members (on the host; Q8_0 on the device): the CPU scan\'s statistics, bitwise the float32 copy\'s', async () => {
    const dir = tmpDir('np-emu-formed-');
    try {
      const { formed, dense } = await writeFormedSet(dir, { dense: true });
      const files = ['formed.json', 'dense.json', 'values.bin'].map((f) => path.join(dir, f));
      fs.writeFileSync(files[0], JSON.stringify(formed));
      fs.writeFileSync(files[1], JSON.stringify(dense!));
      let out: string;
      try {
        out = execFileSync(binary, ['--plan', files[0], '--dense', files[1], '--out', files[2]], { encoding: 'utf8', timeout: 570000 });
      } catch (e) {
        const err = e as { stdout?: string; stderr?: string };
        throw new Error(`emulator failed:\n${err.stdout ?? ''}${err.stderr ?? ''}`);
      }
      expect(out).toMatch(/PASSED: 0 failure/);
      expect(out).not.toMatch(/^FAIL/m);
      const [, gguf, packed, lora, expanded] = /formed members: gguf (\d+) packed (\d+) lora (\d+); Q8_0 item members expanded on the device: (\d+)/.exec(out)!.map(Number);
      expect(gguf).toBeGreaterThanOrEqual(6);
      expect(packed).toBe(3);
      expect(lora).toBe(2);
      expect(expanded).toBeGreaterThan(0);
      const cpu = await runNativePlan(formed);
      const raw = fs.readFileSync(files[2]);
      const got = new Float64Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
      expect(got.length).toBe(cpu.values.length);
      const rel = maxRel(cpu.offsets, formed.groups.map((g) => g.count), formed.groups.map((g) => g.members.length), cpu.values, got);
      expect(rel).toBeLessThanOrEqual(1e-12);
      expect(Number(/^bytes (\d+)$/m.exec(out)![1])).toBe(cpu.bytes);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 600000);
});
