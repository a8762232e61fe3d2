/**
 * runNativeJob: the one bridge from an addon job (a promise plus cancel) to a library promise.
 * Starting the job happens inside it, so a synchronous throw of the start function (a plan the
 * addon rejects before any thread starts, e.g. an ISA this CPU lacks) becomes the same coded
 * PhylogenyError as a failure of the job itself; an AbortSignal cancels the native work.
 */
import { AbortError, fromNative } from './errors';

export interface NativeJobHandle<T> {
  promise: Promise<T>;
  cancel(): void;
}

/** `what` names the job in cancellation messages ('scan', 'edge encoding'). */
export async function runNativeJob<T>(start: () => NativeJobHandle<T>, signal: AbortSignal | undefined, what: string): Promise<T> {
  if (signal?.aborted) throw new AbortError('E_ABORTED', `${what} cancelled before it started`);
  let handle: NativeJobHandle<T>;
  try {
    handle = start();
  } catch (e) {
    throw fromNative(e);
  }
  const onAbort = () => handle.cancel();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const out = await handle.promise;
    // Aborted after the native work finished but before the caller saw it: still aborted.
    if (signal?.aborted) throw new AbortError('E_ABORTED', `${what} cancelled`);
    return out;
  } catch (e) {
    throw fromNative(e);
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}
