/**
 * Bounds how many async tasks run at once (header reads, model loads): thousands of models
 * must not open thousands of files at the same moment.
 */
export type Limiter = <T>(task: () => Promise<T>) => Promise<T>;

export function createLimiter(limit: number): Limiter {
  const n = limit >= 1 ? Math.floor(limit) : 1; // NaN or 0 would otherwise block every task
  let active = 0;
  const waiting: (() => void)[] = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    // A finishing task hands its slot straight to a waiter, so `active` never exceeds n.
    if (active < n) active++;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else active--;
    }
  };
}
