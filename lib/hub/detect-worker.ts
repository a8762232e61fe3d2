/** A worker thread of detect-pool.ts: detects each group it is sent and replies with the result. */
import { parentPort } from 'worker_threads';
import { detectGroup } from './detect-group';
import type { GroupJob } from './detect-pool';

parentPort?.on('message', (m: GroupJob & { id: number }) => {
  try {
    parentPort!.postMessage({ id: m.id, result: detectGroup(m.models, m.opts) });
  } catch (e) {
    parentPort!.postMessage({ id: m.id, error: String((e as Error)?.message ?? e) });
  }
});
