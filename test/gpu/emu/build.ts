/**
 * Builds the CPU emulator of the CUDA scan (test/gpu/emu): the real native/cuda sources, the
 * kernels rewritten only where C++ cannot read CUDA syntax (`k<<<grid, block, shared,
 * stream>>>(args)` becomes `np_emu::launch(k, grid, block, shared, stream, args)`, and
 * `extern __shared__ T name[]` a pointer to the emulated block's shared memory), linked with
 * the CPU scan and the emulated runtime. Cached by a hash of every input under os.tmpdir().
 */
import { execFile, execFileSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const root = path.resolve(__dirname, '..', '..', '..');
const KERNELS = ['fake_init_kernel', 'gguf_expand_kernel', 'scan_cross_kernel', 'scan_pass_kernel', 'scan_reduce_kernel', 'scan_warp_kernel'];
const HOST = [
  'native/cuda/scan_cuda.cc',
  'native/cuda/scan_cuda_plan.cc',
  'native/cuda/stage_members.cc',
  'native/cuda/stage_readers.cc',
  'native/cuda/cuda_device.cc',
  'native/cuda/cuda_tools.cc',
  'native/core/scan_cpu.cc',
  'native/core/scan_kernels.cc',
  'native/core/scan_kernels_scalar.cc',
  'native/core/cpu_features.cc',
  'native/core/file_cache.cc',
  'native/core/file_reader.cc',
  'native/core/scan_plan.cc',
  'native/core/scan_gguf.cc',
  'native/core/scan_lora.cc',
  'native/core/scan_packed.cc',
  'native/core/gguf_quant.cc',
  'native/core/thread_pool.cc',
  'test/gpu/emu/emu_runtime.cc',
  'test/gpu/emu/plan_json.cc',
  'native/core/json.cc',
  'test/gpu/emu/emu_main.cc',
];

export function rewriteCuda(source: string): string {
  return source
    .replace(/(\w+(?:<\w+>)?)<<<([^>]*)>>>\(/g, '::np_emu::launch($1, $2, ')
    .replace(/extern __shared__ (?:__align__\(\d+\) )?(\w+) (\w+)\[\];/g, '$1* $2 = static_cast<$1*>(::np_emu::dynamic_shared());');
}

function compilerAvailable(): boolean {
  try {
    execFileSync('g++', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Why the emulator cannot be built here, or undefined when it can. */
export function emulatorUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'the emulator uses ucontext fibers (Linux only)';
  if (!compilerAvailable()) return 'g++ is not installed';
  return undefined;
}

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) =>
    execFile(cmd, args, { maxBuffer: 16 << 20 }, (err, _out, stderr) => (err ? reject(new Error(`${cmd} failed:\n${stderr}`)) : resolve())),
  );
}

/** Builds (or finds cached) the emulator binary; compiles the sources in parallel. */
export async function buildEmulator(): Promise<string> {
  const walk = (dir: string): string[] =>
    fs.readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? walk(`${dir}/${e.name}`) : /\.(h|cuh|cu|cc)$/.test(e.name) ? [`${dir}/${e.name}`] : [],
    );
  const inputs = [...walk('native/core'), ...walk('native/cuda'), ...walk('test/gpu/emu')].sort();
  const hash = crypto.createHash('sha256');
  for (const f of inputs) hash.update(f).update(fs.readFileSync(path.join(root, f)));
  const dir = path.join(os.tmpdir(), `np-cuda-emu-${hash.digest('hex').slice(0, 16)}`);
  const binary = path.join(dir, 'emu');
  if (fs.existsSync(binary)) return binary;
  fs.mkdirSync(dir, { recursive: true });
  const sources = HOST.map((f) => path.join(root, f));
  for (const k of KERNELS) {
    const out = path.join(dir, `${k}.cc`);
    fs.writeFileSync(out, rewriteCuda(fs.readFileSync(path.join(root, 'native', 'cuda', `${k}.cu`), 'utf8')));
    sources.push(out);
  }
  const flags = ['-std=c++17', '-O1', '-ffp-contract=off', '-pthread', '-Wno-unknown-pragmas', '-Wno-attributes',
    `-I${path.join(root, 'test', 'gpu', 'emu', 'include')}`, `-I${path.join(root, 'native')}`];
  const objects = sources.map((src, i) => path.join(dir, `${i}-${path.basename(src)}.o`));
  let next = 0;
  const worker = async () => {
    while (next < sources.length) {
      const i = next++;
      await run('g++', [...flags, '-c', sources[i], '-o', objects[i]]);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(os.cpus().length, 8)) }, worker));
  const tmp = `${binary}.${process.pid}.tmp`;
  await run('g++', ['-pthread', ...objects, '-o', tmp]);
  fs.renameSync(tmp, binary);
  return binary;
}
