// Weight gradient of depthwise 3x3 stride-1 convs (MobileNet's L6): per channel only 9 sums over
// H x W, which the general GEMM (one channel per tile, padded copies of both operands) runs at a
// fraction of the forward's speed. shaders/conv2d_grad_weight_depthwise3x3.wgsl: 8 x 8 blocks of
// dy per invocation write 9 partial sums each, then one pass adds each channel's parts.
import type { Engine } from '../engine.js';
import { Kernel } from '../runtime/kernels.js';
import type { Tensor } from '../tensor.js';
import type { GradWeightGeometry } from './conv_weight_gemm.js';
import source from '../../shaders/conv2d_grad_weight_depthwise3x3.wgsl';

const partsKernel = new Kernel('conv2d_grad_weight_depthwise3x3.wgsl', source, 'main');
const sumKernel = new Kernel('conv2d_grad_weight_depthwise3x3.wgsl', source, 'sum_parts');
const WG = 64;
/** dy columns per invocation (the 8 lanes of two vec4 in the shader)... */
const COLS = 8;
/**
 * ...and dy rows (the shader's ROWS): on SwiftShader taller blocks pay (fewer window starts and
 * partial sums; L6 in one process, CPU time over the forward's: 8 rows 1.10x, 16 0.95x, 32 0.87x,
 * 64 0.81x); a GPU keeps 8 for more invocations on small planes.
 */
export const DEPTHWISE_GRAD_ROWS: Readonly<Record<'gpu' | 'swiftshader', number>> = { gpu: 8, swiftshader: 32 };
/** The most parts per channel any adapter's rows give (the partial-sum buffer's bound). */
const MIN_ROWS = 8;
/** The partial sums stay within 64 MiB (one storage buffer); larger batches take the GEMM. */
const MAX_PARTIAL_ELEMENTS = 16 * 1024 * 1024;

function partsPerChannel(g: GradWeightGeometry, rows: number): number {
  return g.N * Math.ceil(g.aH / rows) * Math.ceil(g.aW / COLS);
}

/**
 * One input channel per group (groups > 1, as conv2d's depthwise kernels), 3x3, stride 1,
 * undilated, any padding and channel multiplier, partial sums within one buffer.
 */
export function isDepthwise3x3GradWeight(g: GradWeightGeometry): boolean {
  return g.groups > 1 && g.bC === g.groups && g.kH === 3 && g.kW === 3 && g.strideH === 1 && g.strideW === 1 &&
    g.dilationH === 1 && g.dilationW === 1 && g.aC * partsPerChannel(g, MIN_ROWS) * 9 <= MAX_PARTIAL_ELEMENTS;
}

/** Records dw [aC, 1, 3, 3] = Σ a ⊗ patches(b) for a depthwise 3x3 stride-1 conv: a is dy, b is x. */
export function runDepthwise3x3GradWeight(
  engine: Engine, g: GradWeightGeometry, a: Tensor, b: Tensor, dw: Tensor, rows = DEPTHWISE_GRAD_ROWS[engine.adapterInfo.kind],
): void {
  const wBlocks = Math.ceil(g.aW / COLS);
  const hBlocks = Math.ceil(g.aH / rows);
  const parts = partsPerChannel(g, rows);
  const total = g.aC * parts;
  const partial = engine.empty([total * 9], 'float32', 'conv2dGradWeight depthwise partial sums');
  engine.run(partsKernel, { x: b, dy: a, partial }, {
    H: g.bH, W: g.bW, outH: g.aH, outW: g.aW, padTop: g.padTop, padLeft: g.padLeft,
    Cin: g.bC, Cout: g.aC, coutPerGroup: g.aC / g.groups, wBlocks, hBlocks, N: g.N, parts, total,
  }, Math.ceil(total / WG), { ROWS: rows });
  const count = g.aC * 9;
  engine.run(sumKernel, { partSums: partial, dw }, { parts, count }, Math.ceil(count / WG));
  partial.dispose();
}
