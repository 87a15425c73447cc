// The bench's view of fullconv's public exports (../shared/API.md). Ops land in src/index.ts
// one by one; each is optional here, so a case whose op is not exported yet reports
// 'not yet available' instead of failing to build.
import * as fullconv from '../src/index.js';
import type { Engine, Tensor } from '../src/index.js';

export type { Engine, Tensor };
export const createEngine = fullconv.createEngine;

type Pair = number | [number, number];
type Padding = number | [number, number] | [number, number, number, number] | 'same' | 'valid';

export interface ConvOptions {
  stride?: Pair;
  padding?: Padding;
  dilation?: Pair;
  groups?: number;
  activation?: 'none' | 'relu';
}

export interface PoolOptions {
  kernel: Pair;
  stride?: Pair;
  padding?: Padding;
  dilation?: Pair;
  ceilMode?: boolean;
  countIncludePad?: boolean;
  p?: number;
}

/** A Sequential layer instance; only what the bench touches. */
export type Layer = object;

export interface SequentialModel {
  forward(x: Tensor): Tensor;
  namedParameters(): [string, Tensor][];
  loadParameters(record: Record<string, Float32Array>): void;
  toFullyConvolutional(trainedInputShape: [number, number, number]): SequentialModel;
  /** Inference mode: activations are freed as the forward goes. */
  eval(): unknown;
  geometry(inputShape: number[]): { outputShape: number[]; receptiveField: [number, number]; jump: [number, number] };
  dispose(): void;
}

export interface FullconvOps {
  conv2d(x: Tensor, weight: Tensor, bias?: Tensor | null, opts?: ConvOptions): Tensor;
  conv2dGradInput(dy: Tensor, weight: Tensor, inputShape: number[], opts: ConvOptions): Tensor;
  conv2dGradWeight(dy: Tensor, x: Tensor, weightShape: number[], opts: ConvOptions): Tensor;
  maxPool2d(x: Tensor, opts: PoolOptions): Tensor;
  maxPool2dWithIndices(x: Tensor, opts: PoolOptions): { output: Tensor; indices: Tensor };
  avgPool2d(x: Tensor, opts: PoolOptions): Tensor;
  lpPool2d(x: Tensor, opts: PoolOptions): Tensor;
  maxPool2dGrad(dy: Tensor, indices: Tensor, inputShape: number[]): Tensor;
  avgPool2dGrad(dy: Tensor, inputShape: number[], opts: PoolOptions): Tensor;
  lpPool2dGrad(dy: Tensor, x: Tensor, y: Tensor, opts: PoolOptions): Tensor;
  relu(x: Tensor): Tensor;
  Sequential: new (engine: Engine, layers: Layer[], opts?: { seed?: number }) => SequentialModel;
  Conv2d: new (cin: number, cout: number, kernel: Pair, opts?: ConvOptions) => Layer;
  ReLU: new () => Layer;
  MaxPool2d: new (opts: PoolOptions) => Layer;
  Flatten: new () => Layer;
  Linear: new (inFeatures: number, outFeatures: number) => Layer;
  slidingWindow(model: SequentialModel, x: Tensor, trainedShape: [number, number, number], opts?: { stride?: Pair; batch?: number }): Tensor;
}

export const ops: Partial<FullconvOps> = fullconv as unknown as Partial<FullconvOps>;

/** The named exports a case needs, or the reason it cannot run yet. */
export function need<K extends keyof FullconvOps>(...names: K[]): Pick<FullconvOps, K> {
  const missing = names.filter((n) => typeof ops[n] !== 'function');
  if (missing.length > 0) throw new NotAvailable(`not yet available: src/index.ts does not export ${missing.join(', ')}`);
  return ops as Pick<FullconvOps, K>;
}

/** An engine cannot run a case: the reason goes in the table. */
export class Unsupported extends Error {
  override name = 'Unsupported';
}

/** fullconv does not export what the case needs yet. */
export class NotAvailable extends Unsupported {
  override name = 'NotAvailable';
}
