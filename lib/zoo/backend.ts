/**
 * Chooses the tfjs backend at run time, best first: tfjs-node-gpu (CUDA TensorFlow),
 * tfjs-node (TensorFlow C library), wasm (XNNPACK, SIMD), then the pure-JS 'cpu' backend.
 * The node packages are optionalDependencies whose native binaries often cannot install
 * (no prebuilt for the platform, no network at install), so each is required inside
 * try/catch and the reason it failed is kept for the report: a zoo says which backend
 * trained it.
 *
 * Measured on the shared 2-core dev VM (noisy): one Adam step of a 784-64-10 MLP at batch 1024
 * takes 20-40 ms on wasm with the gradients of ops.ts (~75 ms with tfjs' own), ~230 ms on 'cpu';
 * the 'cpu' backend's conv gradients take seconds per batch of 256, so wasm + ops.ts trains the
 * CNN too.
 */
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { InvalidArgumentError, PhylogenyError } from '../errors';

/** 'tensorflow' takes either node package; 'node-gpu' / 'node' name one. */
export type BackendPreference = 'auto' | 'node-gpu' | 'node' | 'tensorflow' | 'wasm' | 'cpu';

const PREFERENCES: readonly BackendPreference[] = ['auto', 'node-gpu', 'node', 'tensorflow', 'wasm', 'cpu'];

export interface BackendAttempt {
  /** Package (or built-in backend) tried. */
  candidate: string;
  ok: boolean;
  /** Why it was not used (first line of the error, or "not preferred"). */
  reason?: string;
}

export interface BackendReport {
  /** tfjs backend name that runs: 'tensorflow' (tfjs-node / tfjs-node-gpu), 'wasm' or 'cpu'. */
  name: string;
  /** Package that provides it. */
  package: string;
  attempts: BackendAttempt[];
}

function firstLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split('\n')[0].slice(0, 300);
}

let current: BackendReport | null = null;

/** The directory that holds the wasm binaries, as a path prefix (setWasmPaths wants one). */
export function wasmBinaryDir(): string {
  const pkg = require.resolve('@tensorflow/tfjs-backend-wasm/package.json');
  return path.join(path.dirname(pkg), 'dist') + path.sep;
}

/**
 * Runs `f` with console.warn muted: a node package whose binary is missing still registers its
 * kernels before failing, so the next one prints ~200 "kernel already registered" lines.
 */
function quietly<T>(f: () => T): T {
  const warn = console.warn;
  console.warn = () => undefined;
  try {
    return f();
  } finally {
    console.warn = warn;
  }
}

async function tryNode(pkg: string): Promise<void> {
  // Requiring the package registers the 'tensorflow' backend as a side effect.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  quietly(() => require(pkg));
  if (!tf.findBackend('tensorflow')) {
    throw new PhylogenyError('E_BACKEND', `${pkg} loaded but registered no 'tensorflow' backend in this copy of tfjs-core`);
  }
  if (!(await tf.setBackend('tensorflow'))) throw new PhylogenyError('E_BACKEND', `${pkg}: setBackend('tensorflow') failed`);
}

let wasmPathsSet = false;
async function tryWasm(): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const wasm = require('@tensorflow/tfjs-backend-wasm') as typeof import('@tensorflow/tfjs-backend-wasm');
  if (!wasmPathsSet) {
    // Node has no fetch of relative URLs: point the loader at the files in node_modules.
    wasm.setWasmPaths(wasmBinaryDir());
    wasmPathsSet = true;
  }
  if (!(await tf.setBackend('wasm'))) throw new PhylogenyError('E_BACKEND', "setBackend('wasm') failed (wasm binary not loadable)");
}

async function tryCpu(): Promise<void> {
  if (!(await tf.setBackend('cpu'))) throw new PhylogenyError('E_BACKEND', "setBackend('cpu') failed");
  // The cpu backend prints "install our node backend" on first use; the report already says
  // why tfjs-node did not load, so the banner is suppressed (firstUse is its only switch).
  (tf.backend() as unknown as { firstUse?: boolean }).firstUse = false;
}

/**
 * Selects and activates a backend (idempotent: a later call returns the same report when the
 * active backend satisfies its preference). `prefer` forces one; 'auto' walks the chain; an
 * explicit preference that cannot start is an error that says why.
 * Env NEURAL_PHYLOGENY_TF_BACKEND overrides 'auto' (e.g. to compare backends).
 */
export async function selectBackend(prefer: BackendPreference = 'auto'): Promise<BackendReport> {
  const envPrefer = process.env.NEURAL_PHYLOGENY_TF_BACKEND as BackendPreference | undefined;
  if (prefer === 'auto' && envPrefer && envPrefer !== 'auto' && PREFERENCES.includes(envPrefer)) prefer = envPrefer;
  if (!PREFERENCES.includes(prefer)) throw new InvalidArgumentError('E_INVALID_ARG', `unknown tfjs backend '${prefer}' (known: ${PREFERENCES.join(', ')})`);

  const chain: { candidate: string; name: string; satisfies: BackendPreference[]; run: () => Promise<void> }[] = [
    { candidate: '@tensorflow/tfjs-node-gpu', name: 'tensorflow', satisfies: ['node-gpu', 'tensorflow'], run: () => tryNode('@tensorflow/tfjs-node-gpu') },
    { candidate: '@tensorflow/tfjs-node', name: 'tensorflow', satisfies: ['node', 'tensorflow'], run: () => tryNode('@tensorflow/tfjs-node') },
    { candidate: '@tensorflow/tfjs-backend-wasm', name: 'wasm', satisfies: ['wasm'], run: tryWasm },
    { candidate: 'cpu (@tensorflow/tfjs)', name: 'cpu', satisfies: ['cpu'], run: tryCpu },
  ];
  const wanted = (c: (typeof chain)[number]): boolean => prefer === 'auto' || c.satisfies.includes(prefer);
  if (current && tf.getBackend() === current.name && wanted(chain.find((c) => c.candidate === current?.package) as (typeof chain)[number])) return current;

  const attempts: BackendAttempt[] = [];
  for (const c of chain) {
    if (!wanted(c)) {
      attempts.push({ candidate: c.candidate, ok: false, reason: `not requested (backend '${prefer}' was)` });
      continue;
    }
    try {
      await c.run();
      await tf.ready();
      current = { name: c.name, package: c.candidate, attempts: [...attempts, { candidate: c.candidate, ok: true }] };
      return current;
    } catch (e) {
      attempts.push({ candidate: c.candidate, ok: false, reason: firstLine(e) });
    }
  }
  throw new PhylogenyError('E_BACKEND', `no tfjs backend could be started: ${attempts.map((a) => `${a.candidate}: ${a.reason}`).join('; ')}`);
}

/** One line for logs: "wasm (@tensorflow/tfjs-node-gpu: ...; @tensorflow/tfjs-node: ...)". */
export function describeBackend(r: BackendReport): string {
  const failed = r.attempts.filter((a) => !a.ok).map((a) => `${a.candidate}: ${a.reason}`);
  return failed.length ? `${r.name} via ${r.package} (skipped: ${failed.join('; ')})` : `${r.name} via ${r.package}`;
}
