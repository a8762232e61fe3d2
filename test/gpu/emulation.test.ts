/**
 * The CUDA scan's own sources (kernels and host pipeline) run on a CPU emulator and are held
 * to the CPU scan (test/gpu/emu/emu_main.cc lists the checks). This runs everywhere, GPU or
 * not: it checks the index arithmetic, barriers, reductions, batching, progress, cancellation
 * and error paths. It cannot check the GPU itself; scan-cuda.test.ts does that where one exists.
 */
import { execFileSync } from 'child_process';
import { buildEmulator, emulatorUnavailable } from './emu/build';

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
});
