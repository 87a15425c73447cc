// The timing loop: a first run (compiles, uploads, first allocations; its output is the one
// checked) is the warm-up; then timed runs until both the minimum count and the budget are met.

export interface Runnable {
  /** Queues the op (ONNX Runtime's run() is async and is awaited here). */
  launch(): void | Promise<void>;
  /** Resolves when the GPU has finished the queued work; the output stays on the GPU. */
  gpuDone(): Promise<void>;
  /** Reads the output back to the CPU (after gpuDone). */
  read(): Promise<Float32Array>;
  /** Drops the output of this run. */
  release(): void;
}

export interface Timing {
  /** Median ms of launch → GPU done, output kept on the GPU. */
  gpuMs: number;
  /** Median ms of launch → output read back on the CPU (same runs, continued through the read). */
  readMs: number;
  /** ms of the first run (pipeline compiles, uploads, first allocations), through the read. */
  firstMs: number;
  runs: number;
  gpuSamples: number[];
  readSamples: number[];
}

export interface TimingPlan {
  minRuns: number;
  maxRuns: number;
  /** Keep running past minRuns while under this many ms (cheap cases get more samples). */
  budgetMs: number;
  /**
   * Slow cases: when minRuns runs of the first timed run's length would pass this many ms, run
   * only as many as fit, but never fewer than floorRuns (the results say how many ran).
   */
  capMs?: number;
  floorRuns?: number;
}

export const now = (): number => performance.now();

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** One run: its GPU ms, read ms and output. */
export async function runOnce(r: Runnable): Promise<{ gpu: number; read: number; out: Float32Array }> {
  const t0 = now();
  await r.launch();
  await r.gpuDone();
  const t1 = now();
  const out = await r.read();
  const t2 = now();
  r.release();
  return { gpu: t1 - t0, read: t2 - t0, out };
}

/** The first run, whose output the caller checks before any timing. */
export async function firstRun(r: Runnable): Promise<{ firstMs: number; output: Float32Array }> {
  const { read, out } = await runOnce(r);
  return { firstMs: read, output: out };
}

/** Timed runs; `warm` is a run already made with every pipeline compiled, counted as the first. */
export async function timeRuns(r: Runnable, firstMs: number, plan: TimingPlan, warm?: { gpu: number; read: number }): Promise<Timing> {
  const gpuSamples: number[] = warm ? [warm.gpu] : [];
  const readSamples: number[] = warm ? [warm.read] : [];
  const start = now();
  let minRuns = plan.minRuns;
  const capRuns = (read: number): void => {
    if (plan.capMs !== undefined) minRuns = Math.min(minRuns, Math.max(plan.floorRuns ?? 1, Math.floor(plan.capMs / read)));
  };
  if (warm) capRuns(warm.read);
  while (gpuSamples.length < plan.maxRuns && (gpuSamples.length < minRuns || now() - start < plan.budgetMs)) {
    const { gpu, read } = await runOnce(r);
    gpuSamples.push(gpu);
    readSamples.push(read);
    if (gpuSamples.length === 1) capRuns(read);
  }
  return { gpuMs: median(gpuSamples), readMs: median(readSamples), firstMs, runs: gpuSamples.length, gpuSamples, readSamples };
}
