// conv2d: validation (geometry.ts), the choice of kernel by layer shape and adapter, dispatch.
//
// Kernels (launchers in conv_kernels.ts):
//   tiled      workgroup-tiled implicit GEMM (shaders/conv2d.wgsl): real GPUs
//   direct     register-blocked, no workgroup memory (shaders/conv2d_direct.wgsl): SwiftShader
//   pointwise  1x1 stride 1 unpadded: the direct kernel over each plane as one long row
//   depthwise  one input channel per group (shaders/conv2d_depthwise.wgsl)
//   depthwise3x3  the same, 3x3 stride 1 or 2 undilated, unrolled, no padded copy (shaders/conv2d_depthwise3x3.wgsl)
//   fc         kernel == unpadded input, output 1x1: a matrix-vector product (shaders/conv2d_fc.wgsl)
import { conv2dGeometry, type Conv2dGeometry, type Conv2dOptions } from '../geometry.js';
import { OptionError } from '../errors.js';
import type { Engine } from '../engine.js';
import type { Tensor } from '../tensor.js';
import { checkTensor } from './util.js';
import { runDepthwise, runDepthwise3x3, runDirect, runFc, runTiled } from './conv_kernels.js';

export type Conv2dKernelName = 'tiled' | 'direct' | 'pointwise' | 'depthwise' | 'depthwise3x3' | 'fc';
export const CONV2D_KERNELS: readonly Conv2dKernelName[] = ['tiled', 'direct', 'pointwise', 'depthwise', 'depthwise3x3', 'fc'];

/** A kernel and its shape parameters; omitted parameters take the dispatcher's choice. */
export interface Conv2dPlan {
  kernel: Conv2dKernelName;
  /** direct, pointwise: output channels x output columns per invocation, each 4, 8 or 16. */
  blockCo?: number;
  blockW?: number;
  /** tiled: channels x pixels per workgroup, taps per step (multiples of 4). */
  tileM?: number;
  tileN?: number;
  tileK?: number;
  /** fc: invocations that share 4 output channels (a power of two <= 64). */
  split?: number;
}

export type AdapterKind = 'gpu' | 'swiftshader';

/** What each kernel requires of the layer; `null` when it applies. */
export function conv2dKernelRejects(kernel: Conv2dKernelName, g: Conv2dGeometry): string | null {
  switch (kernel) {
    case 'tiled':
    case 'direct':
      return null;
    case 'pointwise':
      return g.kH === 1 && g.kW === 1 && g.strideH === 1 && g.strideW === 1 && g.padTop + g.padLeft + g.padBottom + g.padRight === 0
        ? null : 'needs a 1x1 kernel, stride 1 and no padding';
    case 'depthwise':
      return g.cinPerGroup === 1 ? null : 'needs one input channel per group (groups == input channels)';
    case 'depthwise3x3':
      return g.cinPerGroup === 1 && g.kH === 3 && g.kW === 3 && g.strideH === g.strideW && g.strideH <= 2 && g.dilationH === 1 && g.dilationW === 1
        ? null : 'needs one input channel per group, a 3x3 kernel, stride 1 or 2 (the same both ways) and no dilation';
    case 'fc':
      return isFullyConnected(g) ? null : 'needs the kernel to cover the whole unpadded input (output 1x1)';
  }
}

function isFullyConnected(g: Conv2dGeometry): boolean {
  const unpadded = g.padTop + g.padLeft + g.padBottom + g.padRight === 0;
  // With the kernel as large as the input, a dilation > 1 would not fit, so the taps are contiguous.
  return unpadded && g.kH === g.H && g.kW === g.W && g.outH === 1 && g.outW === 1 && (g.kH === 1 || g.dilationH === 1) && (g.kW === 1 || g.dilationW === 1);
}

/** Register blocks [channels, columns] the dispatcher picks for the direct kernels (each compiles a pipeline). */
export const DIRECT_BLOCKS: readonly (readonly [number, number])[] = [[8, 16], [16, 8], [16, 16]];

/**
 * Every load is a per-lane gather on SwiftShader, so the block should be large both ways: each input
 * value serves blockCo channels, each weight blockW columns. Few channels per group get a wide block;
 * 16 x 16 (fewest loads per FMA, measured best on L1, L3, L8) unless its columns past the row's end
 * waste over 10% more than 16 x 8's (L2's 56 columns, L5's 55).
 */
function directBlock(g: Conv2dGeometry, rowLength: number): { blockCo: number; blockW: number } {
  const waste = (block: number): number => (Math.ceil(rowLength / block) * block) / rowLength;
  const [blockCo, blockW] = g.coutPerGroup <= 8 ? DIRECT_BLOCKS[0]! : waste(16) > waste(8) + 0.1 ? DIRECT_BLOCKS[1]! : DIRECT_BLOCKS[2]!;
  return { blockCo, blockW };
}

/**
 * Tiles [channels, pixels, taps] the dispatcher picks for the tiled kernel. Both fit WebGPU's
 * guaranteed limits (256 invocations, 16 KiB of workgroup memory), so every device runs them.
 */
export const TILED_TILES: readonly (readonly [number, number, number])[] = [[64, 64, 8], [32, 64, 8]];

function tiledShape(g: Conv2dGeometry): { tileM: number; tileN: number; tileK: number } {
  const [tileM, tileN, tileK] = g.coutPerGroup > 32 ? TILED_TILES[0]! : TILED_TILES[1]!;
  return { tileM, tileN, tileK };
}

/** Shape parameters the kernels can run with; `null` when the plan's are fine. */
function planRejects(p: Conv2dPlan, limits: GPUSupportedLimits): string | null {
  const block = [4, 8, 16];
  if ((p.blockCo !== undefined && !block.includes(p.blockCo)) || (p.blockW !== undefined && !block.includes(p.blockW))) {
    return `takes blockCo and blockW of 4, 8 or 16, got ${p.blockCo} x ${p.blockW}`;
  }
  const tile = [p.tileM ?? 4, p.tileN ?? 4, p.tileK ?? 4];
  if (tile.some((t) => !Number.isInteger(t) || t < 4 || t % 4 !== 0)) return `takes tiles in multiples of 4, got ${tile.join(' x ')}`;
  const threads = (tile[0]! / 4) * (tile[1]! / 4);
  const bytes = tile[2]! * (tile[0]! + tile[1]!) * 4;
  if (threads > limits.maxComputeInvocationsPerWorkgroup || bytes > limits.maxComputeWorkgroupStorageSize) {
    return `tile ${tile.join(' x ')} needs ${threads} invocations and ${bytes} bytes of workgroup memory, over the device's limits`;
  }
  if (p.split !== undefined && (!Number.isInteger(Math.log2(p.split)) || p.split > 64)) return `takes a split that is a power of two <= 64, got ${p.split}`;
  return null;
}

/** The fc kernel's invocations per 4 output channels: coalesced reads on a GPU, no barriers on SwiftShader. */
export const FC_SPLITS: Readonly<Record<AdapterKind, number>> = { gpu: 64, swiftshader: 1 };

/**
 * The dispatcher: a kernel and its shape for this layer on this adapter. SwiftShader (a CPU) wants
 * register blocking without workgroup memory; a real GPU the workgroup-tiled GEMM.
 */
export function chooseConv2dPlan(g: Conv2dGeometry, adapter: AdapterKind): Conv2dPlan {
  if (isFullyConnected(g)) return { kernel: 'fc', split: FC_SPLITS[adapter] };
  if (g.cinPerGroup === 1 && g.groups > 1) return { kernel: conv2dKernelRejects('depthwise3x3', g) === null ? 'depthwise3x3' : 'depthwise' };
  if (adapter === 'gpu') return { kernel: 'tiled', ...tiledShape(g) };
  if (conv2dKernelRejects('pointwise', g) === null) return { kernel: 'pointwise', ...directBlock(g, g.H * g.W) };
  return { kernel: 'direct', ...directBlock(g, g.outW) };
}

export function conv2d(x: Tensor, weight: Tensor, bias?: Tensor | null, opts?: Conv2dOptions): Tensor {
  return conv2dWith(null, x, weight, bias, opts);
}

/** @internal conv2d with a forced kernel (tests, bench); null lets the dispatcher choose. */
export function conv2dWith(plan: Conv2dPlan | Conv2dKernelName | null, x: Tensor, weight: Tensor, bias: Tensor | null | undefined, opts?: Conv2dOptions): Tensor {
  checkTensor('conv2d', 'x', x);
  checkTensor('conv2d', 'weight', weight, x.engine);
  if (bias !== undefined && bias !== null) checkTensor('conv2d', 'bias', bias, x.engine);
  const g = conv2dGeometry('conv2d', x.shape, weight.shape, bias ? bias.shape : null, opts);
  return runConv2d(x.engine, x, weight, bias ?? null, g, plan ?? undefined);
}

/**
 * @internal Runs the forward conv described by `g` (a geometry from conv2dGeometry, or one built by
 * hand with the same fields) on float32 tensors: x [N, Cin, H, W], weight OIHW, bias [Cout] or null.
 * No validation beyond the kernel's own requirements: for ops that check their inputs themselves
 * (gradients). Writes into `out` ([N, Cout, outH, outW]) when given, else into a new tensor.
 */
export function runConv2d(engine: Engine, x: Tensor, weight: Tensor, bias: Tensor | null, g: Conv2dGeometry, plan?: Conv2dPlan | Conv2dKernelName, out?: Tensor): Tensor {
  const p: Conv2dPlan = typeof plan === 'string' ? { kernel: plan } : plan ?? chooseConv2dPlan(g, engine.adapterInfo.kind);
  const rejected = conv2dKernelRejects(p.kernel, g) ?? planRejects(p, engine.limits);
  if (rejected !== null) throw new OptionError(`conv2d: kernel '${p.kernel}' ${rejected}`);
  const y = out ?? engine.empty(g.outputShape, 'float32', 'conv2d');
  try {
    launch(engine, x, weight, bias, g, y, p);
  } catch (e) {
    // A scratch buffer over the device's limits (LimitError) must not leave the output allocated.
    if (!out) y.dispose();
    throw e;
  }
  return y;
}

function launch(engine: Engine, x: Tensor, weight: Tensor, bias: Tensor | null, g: Conv2dGeometry, y: Tensor, p: Conv2dPlan): void {
  switch (p.kernel) {
    case 'tiled': {
      const t = tiledShape(g);
      runTiled(engine, x, weight, bias, g, y, p.tileM ?? t.tileM, p.tileN ?? t.tileN, p.tileK ?? t.tileK);
      break;
    }
    case 'direct': {
      const b = directBlock(g, g.outW);
      runDirect(engine, x, weight, bias, g, y, p.blockCo ?? b.blockCo, p.blockW ?? b.blockW);
      break;
    }
    case 'pointwise': {
      // A 1x1 stride-1 conv sees each plane as one row: the direct kernel blocks along all of it.
      const flat: Conv2dGeometry = { ...g, H: 1, W: g.H * g.W, outH: 1, outW: g.outH * g.outW };
      const b = directBlock(g, flat.outW);
      runDirect(engine, x, weight, bias, flat, y, p.blockCo ?? b.blockCo, p.blockW ?? b.blockW);
      break;
    }
    case 'depthwise':
      runDepthwise(engine, x, weight, bias, g, y);
      break;
    case 'depthwise3x3':
      runDepthwise3x3(engine, x, weight, bias, g, y);
      break;
    case 'fc':
      runFc(engine, x, weight, bias, g, y, p.split ?? FC_SPLITS[engine.adapterInfo.kind]);
      break;
  }
}
