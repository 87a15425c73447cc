// 2-D max / average / Lp pooling and their gradients: gathers over input positions, so
// overlapping windows need no float atomics (the max router's tables use integer atomic
// min/max). channel_pool.ts reuses these kernels.
import {
  avgPoolGeometry, avgPoolGradGeometry, lpPoolGeometry, lpPoolGradGeometry, maxPoolGeometry, maxPoolGradGeometry,
  type AvgPool2dOptions, type LpPool2dOptions, type MaxPool2dOptions, type PoolGeometry,
} from '../geometry.js';
import { Kernel } from '../runtime/kernels.js';
import type { Engine } from '../engine.js';
import type { Tensor } from '../tensor.js';
import { checkTensor } from './util.js';
import forwardSource from '../../shaders/pool2d.wgsl';
import gradSource from '../../shaders/pool2d_grad.wgsl';
import gradFixedSource from '../../shaders/pool2d_grad_fixed.wgsl';

export type { AvgPool2dOptions, LpPool2dOptions, MaxPool2dOptions } from '../geometry.js';

const WG = 64;
/** pool2d.wgsl's MODE override. */
export const POOL_MODE = { max: 0, avg: 1, lp: 2 } as const;

const poolKernel = new Kernel('pool2d.wgsl', forwardSource, 'main');
const maxWithIndicesKernel = new Kernel('pool2d.wgsl', forwardSource, 'max_with_indices');
const poolVec4Kernel = new Kernel('pool2d.wgsl', forwardSource, 'main_vec4');
const maxWithIndicesVec4Kernel = new Kernel('pool2d.wgsl', forwardSource, 'max_with_indices_vec4');
const pool2x2Kernel = new Kernel('pool2d.wgsl', forwardSource, 'pool_2x2');
const maxWithIndices2x2Kernel = new Kernel('pool2d.wgsl', forwardSource, 'max_with_indices_2x2');
const max3x3s2p1Kernel = new Kernel('pool2d.wgsl', forwardSource, 'max_3x3s2p1');
const maxWithIndices3x3s2p1Kernel = new Kernel('pool2d.wgsl', forwardSource, 'max_with_indices_3x3s2p1');
const avgGradKernel = new Kernel('pool2d_grad.wgsl', gradSource, 'avg_grad');
const avgGradVec4Kernel = new Kernel('pool2d_grad.wgsl', gradSource, 'avg_grad_vec4');
const lpGradKernel = new Kernel('pool2d_grad.wgsl', gradSource, 'lp_grad');
const lpGradVec4Kernel = new Kernel('pool2d_grad.wgsl', gradSource, 'lp_grad_vec4');
const maxBoundsKernel = new Kernel('pool2d_grad.wgsl', gradSource, 'max_bounds');
const maxRangesKernel = new Kernel('pool2d_grad.wgsl', gradSource, 'max_ranges');
const maxGradKernel = new Kernel('pool2d_grad.wgsl', gradSource, 'max_grad');
const maxGradVec4Kernel = new Kernel('pool2d_grad.wgsl', gradSource, 'max_grad_vec4');
const maxCheck2x2Kernel = new Kernel('pool2d_grad_fixed.wgsl', gradFixedSource, 'max_check_2x2');
const maxGrad2x2Kernel = new Kernel('pool2d_grad_fixed.wgsl', gradFixedSource, 'max_grad_2x2');
const maxCheck3x3s2p1Kernel = new Kernel('pool2d_grad_fixed.wgsl', gradFixedSource, 'max_check_3x3s2p1');
const maxGrad3x3s2p1Kernel = new Kernel('pool2d_grad_fixed.wgsl', gradFixedSource, 'max_grad_3x3s2p1');
const avgGrad2x2Kernel = new Kernel('pool2d_grad_fixed.wgsl', gradFixedSource, 'avg_grad_2x2');
const lpGrad2x2Kernel = new Kernel('pool2d_grad_fixed.wgsl', gradFixedSource, 'lp_grad_2x2');

/** What the kernels need of a window: a 2-D pool's geometry, or channel pooling seen as one. */
export interface PoolWindows {
  planes: number; inH: number; inW: number; outH: number; outW: number;
  kH: number; kW: number; strideH: number; strideW: number; dilationH: number; dilationW: number;
  padTop: number; padLeft: number; padBottom: number; padRight: number;
  countIncludePad: boolean; divisorOverride: number; p: number;
}

export function windows2d(g: PoolGeometry, extra: { countIncludePad?: boolean; divisorOverride?: number | null; p?: number } = {}): PoolWindows {
  return {
    planes: g.N * g.C, inH: g.H, inW: g.W, outH: g.outH, outW: g.outW,
    kH: g.kH, kW: g.kW, strideH: g.strideH, strideW: g.strideW, dilationH: g.dilationH, dilationW: g.dilationW,
    padTop: g.padTop, padLeft: g.padLeft, padBottom: g.padBottom, padRight: g.padRight,
    countIncludePad: extra.countIncludePad ?? true, divisorOverride: extra.divisorOverride ?? 0, p: extra.p ?? 2,
  };
}

/** The P_CASE override of the Lp kernels: exact paths for p = 2, 1 and 3, pow for any other p. */
export function pCase(p: number): number {
  return p === 2 || p === 1 || p === 3 ? p : 0;
}

/** Outputs per invocation along a row (the vec4 lanes of pool2d.wgsl). */
const BLOCK = 4;
/**
 * Window-width patterns that get the specialised vec4 kernel: each compiles its own pipelines
 * (~0.3 s each on SwiftShader), so only the common ones: kernel width <= 3, stride <= 2, no
 * dilation, left padding <= 1 (2/2, 3/2 pad 1, 3/1 pad 1, and 1/1 for channel pooling).
 */
function vec4Pattern(w: PoolWindows): boolean {
  return w.kW <= 3 && w.strideW <= 2 && w.dilationW === 1 && w.padLeft <= 1;
}

function forwardUniforms(w: PoolWindows, outputsPerBlock = BLOCK) {
  const blocksPerRow = Math.ceil(w.outW / outputsPerBlock);
  return {
    blocks: w.planes * w.outH * blocksPerRow, blocksPerRow, inH: w.inH, inW: w.inW, outH: w.outH, outW: w.outW,
    kH: w.kH, kW: w.kW, strideH: w.strideH, strideW: w.strideW, dilationH: w.dilationH, dilationW: w.dilationW,
    padTop: w.padTop, padLeft: w.padLeft, padBottom: w.padBottom, padRight: w.padRight,
    countIncludePad: w.countIncludePad ? 1 : 0, divisorOverride: w.divisorOverride, p: w.p,
  };
}

/**
 * Sizes of the fixed-window and router kernels, measured on SwiftShader (bench/pool-probe.mjs
 * varies them): output vec4s per invocation (OV) and workgroup sizes. 256-wide workgroups pay:
 * SwiftShader spends microseconds per workgroup.
 */
export const poolTuning = { vecs2x2: 1, vecs3x3: 2, fixedWG: 256, gradVecs: 1, grad3Vecs: 1, gradWG: 256, routeWG: 256 };

/**
 * The fixed-window kernels' pattern: 'k2s2' (2x2 stride 2, no padding, every window inside the
 * input: avg's divisor is 4) or 'max3s2p1' (max 3x3 stride 2 padding 1, the rightmost window
 * inside the input), with no dilation; null for any other window.
 */
export function fixedPattern(w: PoolWindows, mode: number): 'k2s2' | 'max3s2p1' | null {
  const square = (k: number, s: number) => w.kH === k && w.kW === k && w.strideH === s && w.strideW === s && w.dilationH === 1 && w.dilationW === 1;
  if (square(2, 2) && w.padTop === 0 && w.padLeft === 0 && 2 * w.outH <= w.inH && 2 * w.outW <= w.inW) return 'k2s2';
  if (mode === POOL_MODE.max && square(3, 2) && w.padTop === 1 && w.padLeft === 1 && 2 * w.outW <= w.inW && 2 * w.outH <= w.inH + 1) return 'max3s2p1';
  return null;
}

/** Rows the fixed-window kernels take: aligned vec4 loads of x and vec4 stores of y. */
function fixedShape(w: PoolWindows): boolean {
  return w.inW % 4 === 0 && w.outW % 4 === 0;
}

/** Whether a forward pool over `w` runs a fixed-window kernel (the tests' coverage check). */
export function usesFixedKernel(w: PoolWindows, mode: number): boolean {
  return fixedPattern(w, mode) !== null && fixedShape(w);
}

/**
 * Records a fixed-window kernel's dispatch when the rows fit it (true), else only compiles it for
 * a later width (false).
 */
function dispatchFixed(x: Tensor, w: PoolWindows, outputs: { y: Tensor; indices?: Tensor }, fixed: 'k2s2' | 'max3s2p1',
  modeOverrides: Record<string, number>): boolean {
  const { y, indices } = outputs;
  const kernel = fixed === 'k2s2' ? (indices ? maxWithIndices2x2Kernel : pool2x2Kernel) : (indices ? maxWithIndices3x3s2p1Kernel : max3x3s2p1Kernel);
  const OV = fixed === 'k2s2' ? poolTuning.vecs2x2 : poolTuning.vecs3x3;
  const overrides = { ...modeOverrides, WG: poolTuning.fixedWG, OV };
  if (!fixedShape(w)) {
    void x.engine.precompile(kernel, overrides).catch(() => undefined);
    return false;
  }
  const uniforms = forwardUniforms(w, 4 * OV);
  // max3s2p1: an invocation makes two output rows.
  if (fixed === 'max3s2p1') uniforms.blocks = w.planes * Math.ceil(w.outH / 2) * uniforms.blocksPerRow;
  // max3s2p1 reads the lane left of its vec4s as a scalar.
  const bindings: Record<string, Tensor> = fixed === 'k2s2' ? { xv: x, yv: y } : { x, xv: x, yv: y };
  if (indices) bindings.indicesv = indices;
  x.engine.run(kernel, bindings, uniforms, Math.ceil(uniforms.blocks / poolTuning.fixedWG), overrides);
  return true;
}

/**
 * Records one forward dispatch: a fixed-window kernel (2x2 stride 2, max 3x3 stride 2 pad 1) on
 * rows it takes; else the vec4 kernel for a common window pattern on rows of a multiple
 * of 4 elements (aligned vec4 loads), else the gathering one. A pattern's first use compiles both,
 * so a later image width never compiles a pipeline.
 */
function dispatchForward(x: Tensor, w: PoolWindows, outputs: { y: Tensor; indices?: Tensor }, mode: number): void {
  const engine = x.engine;
  const uniforms = forwardUniforms(w);
  const groups = Math.ceil(uniforms.blocks / WG);
  const withIndices = outputs.indices !== undefined;
  const modeOverrides: Record<string, number> = withIndices ? { WG } : mode === POOL_MODE.lp ? { MODE: mode, WG, P_CASE: pCase(w.p) } : { MODE: mode, WG };
  const fixed = fixedPattern(w, mode);
  if (fixed !== null && dispatchFixed(x, w, outputs, fixed, modeOverrides)) {
    // The general kernels too, for a later width the fixed ones do not take.
    for (const k of outputs.indices ? [maxWithIndicesKernel, maxWithIndicesVec4Kernel] : [poolKernel, poolVec4Kernel]) {
      const vec4 = k === poolVec4Kernel || k === maxWithIndicesVec4Kernel;
      void engine.precompile(k, vec4 ? { ...modeOverrides, KW: w.kW, SW: w.strideW, DW: w.dilationW, PADL: w.padLeft } : modeOverrides).catch(() => undefined);
    }
    return;
  }
  const gathered = { kernel: withIndices ? maxWithIndicesKernel : poolKernel, overrides: modeOverrides };
  if (!vec4Pattern(w)) {
    engine.run(gathered.kernel, { x, ...outputs }, uniforms, groups, gathered.overrides);
    return;
  }
  const vec4 = {
    kernel: withIndices ? maxWithIndicesVec4Kernel : poolVec4Kernel,
    overrides: { ...gathered.overrides, KW: w.kW, SW: w.strideW, DW: w.dilationW, PADL: w.padLeft },
  };
  const [used, other] = w.inW % 4 === 0 ? [vec4, gathered] : [gathered, vec4];
  void engine.precompile(other.kernel, other.overrides).catch(() => undefined);
  // The vec4 kernel reads x both ways: vec4 rows, and gathers for Lp's rare rescale (lpRescaled).
  const inputs: Record<string, Tensor> = used === vec4 ? (withIndices ? { xv: x } : { x, xv: x }) : { x };
  engine.run(used.kernel, { ...inputs, ...outputs }, uniforms, groups, used.overrides);
}

/** Input pixels per invocation along a row in pool2d_grad.wgsl (4 vec4s). */
const STRIP = 16;

function gradUniforms(w: PoolWindows) {
  const blocksPerRow = Math.ceil(w.inW / STRIP);
  return {
    blocks: w.planes * w.inH * blocksPerRow, blocksPerRow, inH: w.inH, inW: w.inW, outH: w.outH, outW: w.outW,
    kH: w.kH, kW: w.kW, strideH: w.strideH, strideW: w.strideW,
    padTop: w.padTop, padLeft: w.padLeft, padBottom: w.padBottom, padRight: w.padRight,
    countIncludePad: w.countIncludePad ? 1 : 0, divisorOverride: w.divisorOverride, p: w.p, planes: w.planes, strips: blocksPerRow,
    failed: 2,
  };
}

/**
 * Records one gradient gather: the entry point storing dx as vec4s when rows hold a multiple of 4
 * elements, else the scalar one. Both compile at the first use, so no later image width compiles.
 * With `fixed` (a 2x2 stride 2 kernel of pool2d_grad.wgsl), its pattern runs it on dy rows of a
 * multiple of 4 elements (and compiles the gathers for other widths; the gathers compile it).
 */
function dispatchGrad(engine: Engine, op: string, shape: readonly number[], kernels: { scalar: Kernel; vec4: Kernel },
  w: PoolWindows, bindings: Record<string, Tensor>, vec4Bindings: Record<string, Tensor>, overrides: Record<string, number>,
  fixed?: { kernel: Kernel; mode: number; bindings: Record<string, Tensor> }): Tensor {
  const dx = engine.empty(shape, 'float32', op);
  const fixedOverrides = { ...overrides, WG: poolTuning.gradWG, OV: poolTuning.gradVecs };
  if (fixed !== undefined && fixedPattern(w, fixed.mode) === 'k2s2') {
    if (w.outW % 4 === 0 && w.inW === 2 * w.outW) {
      const blocksPerRow = Math.ceil(w.outW / 4 / poolTuning.gradVecs);
      const uniforms = { ...gradUniforms(w), blocks: w.planes * w.outH * blocksPerRow, blocksPerRow };
      engine.run(fixed.kernel, { ...fixed.bindings, dxv: dx }, uniforms, Math.ceil(uniforms.blocks / poolTuning.gradWG), fixedOverrides);
      for (const k of [kernels.scalar, kernels.vec4]) void engine.precompile(k, overrides).catch(() => undefined);
      return dx;
    }
    void engine.precompile(fixed.kernel, fixedOverrides).catch(() => undefined);
  }
  const uniforms = gradUniforms(w);
  const groups = Math.ceil(uniforms.blocks / WG);
  const [used, other] = w.inW % 4 === 0 ? [kernels.vec4, kernels.scalar] : [kernels.scalar, kernels.vec4];
  void engine.precompile(other, overrides).catch(() => undefined);
  if (used === kernels.vec4) engine.run(used, { ...vec4Bindings, dxv: dx }, uniforms, groups, overrides);
  else engine.run(used, { ...bindings, dx }, uniforms, groups, overrides);
  return dx;
}

/** Runs pool2d.wgsl over `w`; `shape` is the output's. */
export function runPoolForward(op: string, x: Tensor, w: PoolWindows, mode: number, shape: readonly number[]): Tensor {
  const y = x.engine.empty(shape, 'float32', op);
  dispatchForward(x, w, { y }, mode);
  return y;
}

// ---- forward -------------------------------------------------------------------------------

/** Max over each window; padding counts as -Infinity. */
export function maxPool2d(x: Tensor, opts: MaxPool2dOptions): Tensor {
  checkTensor('maxPool2d', 'x', x);
  const g = maxPoolGeometry(x.shape, opts);
  return runPoolForward('maxPool2d', x, windows2d(g), POOL_MODE.max, g.outputShape);
}

/**
 * The fixed window pattern maxPool2dWithIndices made an indices tensor with (null: another
 * window): a hint only, so maxPool2dGrad skips the checks that cannot pass (the checks on the GPU
 * decide correctness). Indices from elsewhere have none and get every check their shape allows.
 */
const indicesPattern = new WeakMap<Tensor, 'k2s2' | 'max3s2p1' | null>();

/** Max pool plus the argmax of each window: int32 `h * W + w` in its (n, c) plane, first maximum on ties. */
export function maxPool2dWithIndices(x: Tensor, opts: MaxPool2dOptions): { output: Tensor; indices: Tensor } {
  const op = 'maxPool2dWithIndices';
  checkTensor(op, 'x', x);
  const g = maxPoolGeometry(x.shape, opts, op);
  const output = x.engine.empty(g.outputShape, 'float32', op);
  const indices = x.engine.empty(g.outputShape, 'int32', op);
  const w = windows2d(g);
  dispatchForward(x, w, { y: output, indices }, POOL_MODE.max);
  indicesPattern.set(indices, fixedPattern(w, POOL_MODE.max));
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
  const w: PoolWindows = {
    planes: g.N * g.C, inH: g.H, inW: g.W, outH: g.outH, outW: g.outW,
    kH: 1, kW: 1, strideH: 1, strideW: 1, dilationH: 1, dilationW: 1,
    padTop: 0, padLeft: 0, padBottom: 0, padRight: 0, countIncludePad: true, divisorOverride: 0, p: 2,
  };
  const dx = engine.empty(g.inputShape, 'float32', op);
  const hint = indicesPattern.get(indices);
  // Shapes a fixed gather takes, when the hint does not rule its windows out; the verdict (0: 2x2,
  // 1: 3x3 stride 2 pad 1, 2: the router) starts at the first route tried and each failed check raises it.
  const shaped2x2 = w.outW % 4 === 0 && w.inW === 2 * w.outW && (w.inH === 2 * w.outH || w.inH === 2 * w.outH + 1)
    && (hint === undefined || hint === 'k2s2');
  const shaped3x3 = w.inW % 8 === 0 && w.inW === 2 * w.outW && (w.outH === Math.ceil(w.inH / 2) || w.outH === Math.floor(w.inH / 2) + 1)
    && (hint === undefined || hint === 'max3s2p1');
  const uniforms = { ...gradUniforms(w), failed: shaped3x3 ? 1 : 2 };
  const verdict = engine.empty([1], 'int32', op);
  engine.fill(verdict, shaped2x2 ? 0 : shaped3x3 ? 1 : 2);
  const fixedWG = poolTuning.gradWG;
  const fixedOverrides = { WG: fixedWG, OV: poolTuning.gradVecs };
  const checks = w.planes * w.outH * (w.outW / 4);
  if (shaped2x2) {
    engine.run(maxCheck2x2Kernel, { indicesv: indices, verdict }, { ...uniforms, blocks: checks }, Math.ceil(checks / fixedWG), { WG: fixedWG });
  }
  if (shaped3x3) {
    engine.run(maxCheck3x3s2p1Kernel, { indicesv: indices, verdict }, { ...uniforms, blocks: checks }, Math.ceil(checks / fixedWG), { WG: fixedWG });
  }
  const lows = engine.empty([g.outH + g.outW], 'int32', op);
  const highs = engine.empty([g.outH + g.outW], 'int32', op);
  engine.fill(lows, 0x7fffffff);
  engine.fill(highs, 0xffffffff);
  // One workgroup per output row and run of 16 planes (MAX_BOUNDS_PLANES in the shader).
  engine.run(maxBoundsKernel, { indices, lows, highs, verdictIn: verdict }, uniforms, g.outH * Math.ceil(w.planes / 16), { WG });
  const lines = g.H + uniforms.blocksPerRow;  // input rows, then strips of input columns
  const ranges = engine.empty([2 * lines], 'int32', op);
  engine.run(maxRangesKernel, { lowsIn: lows, highsIn: highs, ranges, verdictIn: verdict }, uniforms, Math.ceil(lines / WG), { WG });
  if (shaped2x2) {
    const blocksPerRow = Math.ceil(w.outW / 4 / poolTuning.gradVecs);
    const cells = { ...uniforms, blocks: w.planes * w.outH * blocksPerRow, blocksPerRow };
    engine.run(maxGrad2x2Kernel, { dyv: dy, indicesv: indices, verdictIn: verdict, dxv: dx }, cells, Math.ceil(cells.blocks / fixedWG), fixedOverrides);
  } else {
    void engine.precompile(maxCheck2x2Kernel, { WG: fixedWG }).catch(() => undefined);
    void engine.precompile(maxGrad2x2Kernel, fixedOverrides).catch(() => undefined);
  }
  if (shaped3x3) {
    // Two dx rows by 8 columns per cell, OV cells per invocation.
    const blocksPerRow = Math.ceil(w.inW / 8 / poolTuning.grad3Vecs);
    const cells = { ...uniforms, blocks: w.planes * Math.ceil(w.inH / 2) * blocksPerRow, blocksPerRow };
    const overrides3 = { WG: fixedWG, OV: poolTuning.grad3Vecs };
    engine.run(maxGrad3x3s2p1Kernel, { dy, dyv: dy, indices, indicesv: indices, verdictIn: verdict, dxv: dx }, cells, Math.ceil(cells.blocks / fixedWG), overrides3);
  } else {
    void engine.precompile(maxCheck3x3s2p1Kernel, { WG: fixedWG }).catch(() => undefined);
    void engine.precompile(maxGrad3x3s2p1Kernel, { WG: fixedWG, OV: poolTuning.grad3Vecs }).catch(() => undefined);
  }
  // The router's gather: ROUTE_ROWS (4) strips of 16 pixels per invocation, idle unless verdict 2.
  const routes = { ...uniforms, blocks: w.planes * Math.ceil(w.inH / 4) * uniforms.strips };
  const routeWG = poolTuning.routeWG;
  const [used, other] = w.inW % 4 === 0 ? [maxGradVec4Kernel, maxGradKernel] : [maxGradKernel, maxGradVec4Kernel];
  void engine.precompile(other, { WG: routeWG }).catch(() => undefined);
  const routed = { dy, indices, rangesIn: ranges, verdictIn: verdict };
  engine.run(used, used === maxGradVec4Kernel ? { ...routed, dxv: dx } : { ...routed, dx }, routes, Math.ceil(routes.blocks / routeWG), { WG: routeWG });
  [lows, highs, ranges, verdict].forEach((t) => t.dispose());
  return dx;
}

/** dx[i] = Σ over the windows holding i of dy / divisor. */
export function avgPool2dGrad(dy: Tensor, inputShape: readonly number[], opts: AvgPool2dOptions): Tensor {
  checkTensor('avgPool2dGrad', 'dy', dy);
  const g = avgPoolGradGeometry(dy.shape, inputShape, opts);
  const w = windows2d(g, { countIncludePad: g.countIncludePad, divisorOverride: g.divisorOverride });
  return dispatchGrad(dy.engine, 'avgPool2dGrad', [g.N, g.C, g.H, g.W], { scalar: avgGradKernel, vec4: avgGradVec4Kernel },
    w, { dy }, { dy }, { WG }, { kernel: avgGrad2x2Kernel, mode: POOL_MODE.avg, bindings: { dyv: dy } });
}

/** Runs the Lp gradient gather of pool2d_grad.wgsl over `w`; dx has x's shape. */
export function runLpPoolGrad(op: string, dy: Tensor, x: Tensor, y: Tensor, w: PoolWindows): Tensor {
  return dispatchGrad(dy.engine, op, x.shape, { scalar: lpGradKernel, vec4: lpGradVec4Kernel }, w,
    { dy, x, y }, { dy, xv: x, y }, { WG, P_CASE: pCase(w.p) }, { kernel: lpGrad2x2Kernel, mode: POOL_MODE.lp, bindings: { dyv: dy, xv: x, yvec: y } });
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
