/**
 * Detection of independent groups on worker threads. `detect --index` splits a large tensor
 * set into related groups (detect-index.ts) that share nothing, so they can be fitted at the
 * same time: each worker takes one group's fingerprints, estimates its scan and detects on
 * it (detectGroup), and the results are put back in the order the groups were given, so the
 * answer is the same for any number of threads.
 *
 * A worker that fails on a group reports only a message; the group is then detected again on
 * the calling thread, which raises the library's own error class with its file and code.
 */
import * as path from 'path';
import type { Worker } from 'worker_threads';
import type { DetectOptions } from '../detect/options';
import type { DetectionResult } from '../detect/types';
import { detectGroup } from './detect-group';
import type { IndexedModel } from './estimate';

export interface GroupJob {
  models: IndexedModel[];
  opts: DetectOptions;
}

type Reply = { id: number; result: DetectionResult } | { id: number; error: string };

export interface PoolOptions {
  threads: number;
  /**
   * Modules each worker requires before the worker module, e.g. a TypeScript loader when the
   * library runs from its sources (tests); the compiled library needs none.
   */
  preload?: string[];
}

/** The worker module beside this one: .js when compiled, .ts when run from the sources. */
const WORKER_FILE = path.join(__dirname, `detect-worker${path.extname(__filename)}`);

function startWorker(preload: string[]): Worker {
  const { Worker } = require('worker_threads') as typeof import('worker_threads');
  if (preload.length === 0) return new Worker(WORKER_FILE);
  const code = [...preload, WORKER_FILE].map((m) => `require(${JSON.stringify(m)});`).join('\n');
  return new Worker(code, { eval: true });
}

/**
 * Runs `next()`'s jobs (undefined when none is left) on `threads` workers, at most two per
 * worker in flight (fingerprints are loaded only as fast as they are used), and returns the
 * results in job order. With one thread everything runs on the calling thread.
 */
export async function detectGroups(next: () => Promise<GroupJob | undefined>, opts: PoolOptions, onDone?: (models: number) => void): Promise<DetectionResult[]> {
  const results: DetectionResult[] = [];
  // Run from the TypeScript sources without a loader to hand the workers: no workers.
  const canStart = path.extname(WORKER_FILE) === '.js' || (opts.preload ?? []).length > 0;
  if (opts.threads <= 1 || !canStart) {
    for (let job = await next(); job; job = await next()) {
      results.push(detectGroup(job.models, job.opts));
      onDone?.(job.models.length);
    }
    return results;
  }
  const workers = Array.from({ length: opts.threads }, () => startWorker(opts.preload ?? []));
  try {
    // A job's fingerprints are held until its reply (a failed group is detected again here),
    // then let go: holding every group's (2 GB for 10,000 whole 49k-parameter models) set the
    // peak memory of detect --index.
    const jobs: (GroupJob | undefined)[] = [];
    const pending = new Map<number, { resolve: (r: DetectionResult) => void; reject: (e: unknown) => void }>();
    const load = new Map<Worker, number>();
    for (const w of workers) {
      load.set(w, 0);
      w.on('message', (m: Reply) => {
        load.set(w, load.get(w)! - 1);
        const p = pending.get(m.id);
        if (!p) return; // already rejected by a worker's crash
        pending.delete(m.id);
        const job = jobs[m.id]!;
        jobs[m.id] = undefined;
        if ('result' in m) p.resolve(m.result);
        else {
          // Again here, for the library's own error (class, code, file) rather than a message.
          try {
            p.resolve(detectGroup(job.models, job.opts));
          } catch (e) {
            p.reject(e);
          }
        }
      });
      w.on('error', (e) => {
        for (const p of pending.values()) p.reject(e);
        pending.clear();
      });
    }
    const inFlight: Promise<DetectionResult>[] = [];
    const waiting = new Set<Promise<unknown>>();
    for (let job = await next(); job; job = await next()) {
      const id = jobs.length;
      jobs.push(job);
      // The least loaded worker; wait for any reply while every worker has two.
      while (Math.min(...load.values()) >= 2) await Promise.race(waiting);
      const w = workers.reduce((a, b) => (load.get(b)! < load.get(a)! ? b : a));
      load.set(w, load.get(w)! + 1);
      const count = job.models.length;
      const p = new Promise<DetectionResult>((resolve, reject) => pending.set(id, { resolve, reject }));
      const settled = p.then(
        () => onDone?.(count),
        () => undefined,
      );
      waiting.add(settled);
      void settled.then(() => waiting.delete(settled));
      inFlight.push(p);
      w.postMessage({ id, models: job.models, opts: job.opts });
    }
    results.push(...(await Promise.all(inFlight)));
    return results;
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
