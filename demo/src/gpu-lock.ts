// One GPU job at a time, so a timing never includes another panel's work.

export class GpuLock {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(job: () => Promise<T>): Promise<T> {
    const result = this.tail.then(job);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

/**
 * A job that callers share: a call while one run waits for the lock joins it; a call during a run
 * queues exactly one more, which sees the newest state.
 */
export function coalesced<T>(lock: GpuLock, job: () => Promise<T>): () => Promise<T> {
  let waiting: Promise<T> | null = null;
  return () => {
    if (waiting) return waiting;
    const run = lock.run(() => {
      waiting = null;
      return job();
    });
    waiting = run;
    return run;
  };
}
