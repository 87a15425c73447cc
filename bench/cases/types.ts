// What a benchmark case is: the same data and the same op for each engine, a float64 oracle,
// and the amount of work (FLOPs or bytes) that turns milliseconds into a rate.
import type { Engine, Tensor } from '../api.js';
import type { Comparison } from '../check.js';
import type { OrtPeer } from '../peers/ort.js';
import type { TfPeer } from '../peers/tfjs.js';
import type { Runnable, TimingPlan } from '../timing.js';

export type Family = 'conv' | 'pool' | 'conv-grad' | 'pool-grad' | 'net' | 'fcn' | 'dispatch';
export const FAMILIES: Family[] = ['conv', 'pool', 'conv-grad', 'pool-grad', 'net', 'fcn', 'dispatch'];

export type ImplName = 'fullconv' | 'tfjs' | 'ort';
export const IMPLS: ImplName[] = ['fullconv', 'tfjs', 'ort'];
export const IMPL_LABEL: Record<ImplName, string> = { fullconv: 'fullconv', tfjs: 'TensorFlow.js', ort: 'ONNX Runtime' };

/** One engine's case, ready to run: inputs uploaded, model built. */
export interface Prepared {
  runnable: Runnable;
  /** Turns a read-back output into NCHW float32 for the check (untimed). */
  canonical?: (raw: Float32Array) => Float32Array;
  dispose(): void | Promise<void>;
  /** How this engine does the case, when that is not plain (composed ops, includes a forward, ...). */
  note?: string;
}

export interface Work {
  unit: 'GFLOP/s' | 'GB/s';
  /** FLOPs (2 per multiply-add) or bytes. */
  amount: number;
  /** How `amount` is counted. */
  rule: string;
}

export interface CaseDef<D> {
  id: string;
  family: Family;
  title: string;
  shape: string;
  work: Work;
  comparison: Comparison;
  data(): D;
  reference(d: D): ArrayLike<number>;
  fullconv(engine: Engine, d: D): Prepared | Promise<Prepared>;
  /** A factory, or why this peer cannot run the case. */
  tfjs: ((peer: TfPeer, d: D) => Prepared | Promise<Prepared>) | string;
  ort: ((peer: OrtPeer, d: D) => Prepared | Promise<Prepared>) | string;
}

export interface Metric {
  name: string;
  value: number | null;
  unit: string;
  /** What a healthy engine shows, when there is a target (e.g. 0 allocations). */
  expect?: number;
  note?: string;
}

/** Cases that are not an op timed three ways (dispatcher costs, fully convolutional vs sliding). */
export interface CustomCase {
  id: string;
  family: Family;
  title: string;
  shape: string;
  run(engine: Engine, ctx: CustomContext): Promise<CustomOutcome>;
}

export interface CustomContext {
  plan: TimingPlan;
  /** A --smoke run: keep it small. */
  smoke: boolean;
}

export interface CustomOutcome {
  metrics: Metric[];
  /** What actually ran, when it differs from the case's shape (smoke runs). */
  shape?: string;
  /** Timed variants (e.g. fully convolutional vs sliding window), ms. */
  variants?: { name: string; gpuMs: number; readMs: number; runs: number; firstMs: number }[];
  check?: { passed: boolean; against: string; maxAbsError: number; message?: string };
  notes?: string[];
}

export type AnyCase = CaseDef<unknown> | CustomCase;

export function isCustom(c: AnyCase): c is CustomCase {
  return 'run' in c;
}

export function defineCase<D>(c: CaseDef<D>): CaseDef<unknown> {
  return c as unknown as CaseDef<unknown>;
}

/** A fullconv op as a timed unit: the op call queues work; flush waits for the GPU. */
export function fullconvRunnable(engine: Engine, make: () => Tensor): Runnable {
  let y: Tensor | null = null;
  return {
    launch() {
      y = make();
    },
    gpuDone: () => engine.flush(),
    async read() {
      return (await y!.read()) as Float32Array;
    },
    release() {
      y?.dispose();
      y = null;
    },
  };
}

export function convFlops(cout: number, outH: number, outW: number, cinPerGroup: number, kH: number, kW: number, batch = 1): number {
  return 2 * batch * cout * outH * outW * cinPerGroup * kH * kW;
}

export function outSize(inSize: number, k: number, s: number, pad: number): number {
  return Math.floor((inSize + 2 * pad - k) / s) + 1;
}
