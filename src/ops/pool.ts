// 2-D max / average / Lp pooling and their gradients (gathers, no atomics). channel_pool.ts reuses
// these kernels.
import {
  avgPoolGeometry, avgPoolGradGeometry, lpPoolGeometry, lpPoolGradGeometry, maxPoolGeometry, maxPoolGradGeometry,
  type AvgPool2dOptions, type LpPool2dOptions, type MaxPool2dOptions, type PoolGeometry,
} from '../geometry.js';
import { Kernel } from '../runtime/kernels.js';
import type { Tensor } from '../tensor.js';
import { checkTensor } from './util.js';
import forwardSource from '../../shaders/pool2d.wgsl';
import gradSource from '../../shaders/pool2d_grad.wgsl';

export type { AvgPool2dOptions, LpPool2dOptions, MaxPool2dOptions } from '../geometry.js';

const WG = 64;
/** pool2d.wgsl's MODE override. */
export const POOL_MODE = { max: 0, avg: 1, lp: 2 } as const;

const poolKernel = new Kernel('pool2d.wgsl', forwardSource, 'main');
const maxWithIndicesKernel = new Kernel('pool2d.wgsl', forwardSource, 'max_with_indices');
const avgGradKernel = new Kernel('pool2d_grad.wgsl', gradSource, 'avg_grad');
const lpGradKernel = new Kernel('pool2d_grad.wgsl', gradSource, 'lp_grad');
const maxBoundsKernel = new Kernel('pool2d_grad.wgsl', gradSource, 'max_bounds');
const maxRangesKernel = new Kernel('pool2d_grad.wgsl', gradSource, 'max_ranges');
const maxGradKernel = new Kernel('pool2d_grad.wgsl', gradSource, 'max_grad');

/** What the kernels need of a window: a 2-D pool's geometry, or channel pooling seen as one. */
export interface PoolWindows {
  planes: number; inH: number; inW: number; outH: number; outW: number;
  kH: number; kW: number; strideH: number; strideW: number; dilationH: number; dilationW: number;
  padTop: number; padLeft: number; padBottom: number; padRight: number;
  countIncludePad: boolean; divisorOverride: number; p: number;
}

function windows2d(g: PoolGeometry, extra: { countIncludePad?: boolean; divisorOverride?: number | null; p?: number } = {}): PoolWindows {
  return {
    planes: g.N * g.C, inH: g.H, inW: g.W, outH: g.outH, outW: g.outW,
    kH: g.kH, kW: g.kW, strideH: g.strideH, strideW: g.strideW, dilationH: g.dilationH, dilationW: g.dilationW,
    padTop: g.padTop, padLeft: g.padLeft, padBottom: g.padBottom, padRight: g.padRight,
    countIncludePad: extra.countIncludePad ?? true, divisorOverride: extra.divisorOverride ?? 0, p: extra.p ?? 2,
  };
}

function forwardUniforms(w: PoolWindows) {
  return {
    outputs: w.planes * w.outH * w.outW, inH: w.inH, inW: w.inW, outH: w.outH, outW: w.outW,
    kH: w.kH, kW: w.kW, strideH: w.strideH, strideW: w.strideW, dilationH: w.dilationH, dilationW: w.dilationW,
    padTop: w.padTop, padLeft: w.padLeft, padBottom: w.padBottom, padRight: w.padRight,
    countIncludePad: w.countIncludePad ? 1 : 0, divisorOverride: w.divisorOverride, p: w.p,
  };
}

function gradUniforms(w: PoolWindows) {
  return {
    inputs: w.planes * w.inH * w.inW, inH: w.inH, inW: w.inW, outH: w.outH, outW: w.outW,
    kH: w.kH, kW: w.kW, strideH: w.strideH, strideW: w.strideW,
    padTop: w.padTop, padLeft: w.padLeft, padBottom: w.padBottom, padRight: w.padRight,
    countIncludePad: w.countIncludePad ? 1 : 0, divisorOverride: w.divisorOverride, p: w.p, planes: w.planes,
  };
}

/** Runs pool2d.wgsl over `w`; `shape` is the output's. */
export function runPoolForward(op: string, x: Tensor, w: PoolWindows, mode: number, shape: readonly number[]): Tensor {
  const y = x.engine.empty(shape, 'float32', op);
  const uniforms = forwardUniforms(w);
  x.engine.run(poolKernel, { x, y }, uniforms, Math.ceil(uniforms.outputs / WG), { MODE: mode, WG });
  return y;
}

// ---- forward -------------------------------------------------------------------------------

/** Max over each window; padding counts as -Infinity. */
export function maxPool2d(x: Tensor, opts: MaxPool2dOptions): Tensor {
  checkTensor('maxPool2d', 'x', x);
  const g = maxPoolGeometry(x.shape, opts);
  return runPoolForward('maxPool2d', x, windows2d(g), POOL_MODE.max, g.outputShape);
}

/** Max pool plus the argmax of each window: int32 `h * W + w` in its (n, c) plane, first maximum on ties. */
export function maxPool2dWithIndices(x: Tensor, opts: MaxPool2dOptions): { output: Tensor; indices: Tensor } {
  const op = 'maxPool2dWithIndices';
  checkTensor(op, 'x', x);
  const g = maxPoolGeometry(x.shape, opts, op);
  const output = x.engine.empty(g.outputShape, 'float32', op);
  const indices = x.engine.empty(g.outputShape, 'int32', op);
  const uniforms = forwardUniforms(windows2d(g));
  x.engine.run(maxWithIndicesKernel, { x, y: output, indices }, uniforms, Math.ceil(uniforms.outputs / WG), { WG });
  return { output, indices };
}

/** Mean over each window with PyTorch's divisor (countIncludePad, ceil-mode overhang, divisorOverride). */
export function avgPool2d(x: Tensor, opts: AvgPool2dOptions): Tensor {
  checkTensor('avgPool2d', 'x', x);
  const g = avgPoolGeometry(x.shape, opts);
  const w = windows2d(g, { countIncludePad: g.countIncludePad, divisorOverride: g.divisorOverride });
  return runPoolForward('avgPool2d', x, w, POOL_MODE.avg, g.outputShape);
}

/** y = (Σ |x|^p)^(1/p) over each window's input elements (p = 2: L2 pooling). */
export function lpPool2d(x: Tensor, opts: LpPool2dOptions): Tensor {
  checkTensor('lpPool2d', 'x', x);
  const g = lpPoolGeometry(x.shape, opts);
  return runPoolForward('lpPool2d', x, windows2d(g, { p: g.p }), POOL_MODE.lp, g.outputShape);
}

// ---- gradients -----------------------------------------------------------------------------

/**
 * The gradient router: dx[n, c, indices[...]] += dy[...]. It gets no window geometry, so it
 * reads the windows off the indices (two tiny passes), then gathers per input pixel. An index
 * outside [0, H*W) routes nowhere (its gradient is dropped).
 */
export function maxPool2dGrad(dy: Tensor, indices: Tensor, inputShape: readonly number[]): Tensor {
  const op = 'maxPool2dGrad';
  checkTensor(op, 'dy', dy);
  checkTensor(op, 'indices', indices, dy.engine, 'int32');
  const g = maxPoolGradGeometry(dy.shape, indices.shape, inputShape);
  const engine = dy.engine;
  const uniforms = gradUniforms({
    planes: g.N * g.C, inH: g.H, inW: g.W, outH: g.outH, outW: g.outW,
    kH: 1, kW: 1, strideH: 1, strideW: 1, dilationH: 1, dilationW: 1,
    padTop: 0, padLeft: 0, padBottom: 0, padRight: 0, countIncludePad: true, divisorOverride: 0, p: 2,
  });
  const bounds = engine.empty([2 * (g.outH + g.outW)], 'int32', op);
  engine.run(maxBoundsKernel, { indices, bounds }, uniforms, g.outH + g.outW, { WG });
  const ranges = engine.empty([2 * (g.H + g.W)], 'int32', op);
  engine.run(maxRangesKernel, { boundsIn: bounds, ranges }, uniforms, Math.ceil((g.H + g.W) / WG), { WG });
  const dx = engine.empty(g.inputShape, 'float32', op);
  engine.run(maxGradKernel, { dy, indices, rangesIn: ranges, dx }, uniforms, Math.ceil(uniforms.inputs / WG), { WG });
  bounds.dispose();
  ranges.dispose();
  return dx;
}

/** dx[i] = Σ over the windows holding i of dy / divisor. */
export function avgPool2dGrad(dy: Tensor, inputShape: readonly number[], opts: AvgPool2dOptions): Tensor {
  const op = 'avgPool2dGrad';
  checkTensor(op, 'dy', dy);
  const g = avgPoolGradGeometry(dy.shape, inputShape, opts);
  const uniforms = gradUniforms(windows2d(g, { countIncludePad: g.countIncludePad, divisorOverride: g.divisorOverride }));
  const dx = dy.engine.empty([g.N, g.C, g.H, g.W], 'float32', op);
  dy.engine.run(avgGradKernel, { dy, dx }, uniforms, Math.ceil(uniforms.inputs / WG), { WG });
  return dx;
}

/** Runs the Lp gradient gather of pool2d_grad.wgsl over `w`. */
export function runLpPoolGrad(op: string, dy: Tensor, x: Tensor, y: Tensor, w: PoolWindows): Tensor {
  const uniforms = gradUniforms(w);
  const dx = dy.engine.empty(x.shape, 'float32', op);
  dy.engine.run(lpGradKernel, { dy, x, y, dx }, uniforms, Math.ceil(uniforms.inputs / WG), { WG });
  return dx;
}

/** dx = Σ over the windows holding x of dy · sign(x)·|x|^(p-1) / y^(p-1); 0 for an all-zero window. */
export function lpPool2dGrad(dy: Tensor, x: Tensor, y: Tensor, opts: LpPool2dOptions): Tensor {
  const op = 'lpPool2dGrad';
  checkTensor(op, 'dy', dy);
  checkTensor(op, 'x', x, dy.engine);
  checkTensor(op, 'y', y, dy.engine);
  const g = lpPoolGradGeometry(dy.shape, x.shape, y.shape, opts);
  return runLpPoolGrad(op, dy, x, y, windows2d(g, { p: g.p }));
}
