// Launchers of the two kernel families every convolution gradient and the transposed conv share:
// the gather kernel (shaders/conv_transpose2d.wgsl) and the weight-gradient GEMM
// (shaders/conv2d_grad_weight.wgsl). Ops choose roles and layouts; this file maps them to uniforms.
import type { Engine } from '../engine.js';
import type { Conv2dGeometry } from '../geometry.js';
import { Kernel } from '../runtime/kernels.js';
import type { Tensor } from '../tensor.js';
import { runConv2d } from './conv.js';
import gatherSource from '../../shaders/conv_transpose2d.wgsl';
import gradWeightSource from '../../shaders/conv2d_grad_weight.wgsl';

const gatherKernel = new Kernel('conv_transpose2d.wgsl', gatherSource, 'main');
const flipKernel = new Kernel('conv_transpose2d.wgsl', gatherSource, 'flip_weights');
const gradWeightKernel = new Kernel('conv2d_grad_weight.wgsl', gradWeightSource, 'main');
const sumSplitsKernel = new Kernel('conv2d_grad_weight.wgsl', gradWeightSource, 'sum_splits');
const padKernel = new Kernel('conv2d_grad_weight.wgsl', gradWeightSource, 'pad_planes');

const GATHER_COLS = 8;
const GATHER_WG = 64;
const GRAD_WEIGHT_E_BLOCK = 8;
/** Columns of `a` per loop trip of the grad-weight kernel. */
const GRAD_WEIGHT_CHUNK = 8;
const GRAD_WEIGHT_WG = 64;

/**
 * One spatial-and-channel geometry for the gather kernel. `mode` says how taps map:
 *  - 'transposed': in = (out + pad - k·d) / stride when divisible; weight [inC, outC/groups, kH, kW]
 *  - 'conv':       in = out·stride - pad + k·d;                   weight [outC, inC/groups, kH, kW]
 * outH/outW are given, not derived: a gradient's output is the forward's input shape.
 */
export interface GatherGeometry {
  mode: 'transposed' | 'conv';
  N: number; inC: number; inH: number; inW: number; outC: number; outH: number; outW: number;
  groups: number; kH: number; kW: number;
  strideH: number; strideW: number; dilationH: number; dilationW: number; padTop: number; padLeft: number;
  /** 'conv' only: the conv's bottom and right padding (a transposed conv's are implied by outH, outW). */
  padBottom: number; padRight: number;
}

/** 'auto' lets the forward conv kernels take what they can; 'gather' forces the gather kernel (tests). */
export type GatherRoute = 'auto' | 'gather';

/** The channel block (1, 2, 4, 8 or up to `largest`) that wastes least: a block's registers are shared by its loads. */
export function channelBlock(perGroup: number, largest = 8): number {
  let best = 1;
  let bestScore = 0;
  for (const block of [16, 8, 4, 2, 1].filter((b) => b <= largest)) {
    const blocks = Math.ceil(perGroup / block);
    // Useful outputs per unit of work, counting loads (~2 channels' worth) shared by the block.
    const score = perGroup / (blocks * (block + 2));
    if (score > bestScore + 1e-9) [best, bestScore] = [block, score];
  }
  return best;
}

/**
 * Records y = gather(x, w) (+ bias per output channel) into y [N, outC, outH, outW], through
 * the forward conv2d kernels where the layer is one they compute (at their speed, and with their
 * workgroup-tiled path on real GPUs), else through the gather kernel.
 */
export function runGatherOrConv(
  engine: Engine, g: GatherGeometry, x: Tensor, w: Tensor, bias: Tensor | null, y: Tensor, route: GatherRoute = 'auto',
): void {
  const conv = route === 'auto' ? asForwardConv(g) : null;
  if (conv === null) {
    runGather(engine, g, x, w, bias, y);
    return;
  }
  if (g.mode === 'conv') {
    runConv2d(engine, x, w, bias, conv, undefined, y);
    return;
  }
  const flipped = flipWeights(engine, w, g.groups);
  runConv2d(engine, x, flipped, bias, conv, undefined, y);
  flipped.dispose();
}

/**
 * The forward conv2d that computes this gather exactly, or null. A plain conv whose natural output
 * is outH x outW is one (not when convTranspose2dGradInput crops it: outputPadding >= stride). A
 * stride-1 transposed conv is the conv with flipped weights and padding d·(k-1) - p, when that is
 * >= 0 and the padded input is not mostly padding (the gather skips rows no tap reaches).
 */
function asForwardConv(g: GatherGeometry): Conv2dGeometry | null {
  const base = {
    N: g.N, Cin: g.inC, H: g.inH, W: g.inW, Cout: g.outC, groups: g.groups,
    cinPerGroup: g.inC / g.groups, coutPerGroup: g.outC / g.groups, kH: g.kH, kW: g.kW,
    strideH: g.strideH, strideW: g.strideW, dilationH: g.dilationH, dilationW: g.dilationW,
    outH: g.outH, outW: g.outW, relu: false, outputShape: [g.N, g.outC, g.outH, g.outW] as [number, number, number, number],
  };
  const extentH = g.dilationH * (g.kH - 1);
  const extentW = g.dilationW * (g.kW - 1);
  if (g.mode === 'conv') {
    const naturalH = Math.floor((g.inH + g.padTop + g.padBottom - extentH - 1) / g.strideH) + 1;
    const naturalW = Math.floor((g.inW + g.padLeft + g.padRight - extentW - 1) / g.strideW) + 1;
    if (naturalH !== g.outH || naturalW !== g.outW) return null;
    return { ...base, padTop: g.padTop, padLeft: g.padLeft, padBottom: g.padBottom, padRight: g.padRight };
  }
  if (g.strideH !== 1 || g.strideW !== 1) return null;
  // out = in + top + bottom - d·(k-1) fixes the bottom and right padding.
  const [padTop, padLeft] = [extentH - g.padTop, extentW - g.padLeft];
  const [padBottom, padRight] = [g.outH - g.inH + g.padTop, g.outW - g.inW + g.padLeft];
  if (Math.min(padTop, padLeft, padBottom, padRight) < 0) return null;
  if ((g.inH + padTop + padBottom) * (g.inW + padLeft + padRight) > 2 * g.inH * g.inW) return null;
  return { ...base, padTop, padLeft, padBottom, padRight };
}

/** [groups·A, B, kH, kW] -> [groups·B, A, kH, kW] with the kernel flipped (a new tensor). */
export function flipWeights(engine: Engine, w: Tensor, groups: number): Tensor {
  const [A, B, kH, kW] = w.shape as [number, number, number, number];
  const aPerGroup = A / groups;
  const flipped = engine.empty([groups * B, aPerGroup, kH, kW], 'float32', 'flipped weights');
  engine.run(flipKernel, { weights: w, flipped }, { aPerGroup, bPerGroup: B, kH, kW, count: w.size }, Math.ceil(w.size / 256));
  return flipped;
}

/** Records y = gather(x, w) (+ bias per output channel) with the gather kernel. */
function runGather(engine: Engine, g: GatherGeometry, x: Tensor, w: Tensor, bias: Tensor | null, y: Tensor): void {
  const inPerGroup = g.inC / g.groups;
  const outPerGroup = g.outC / g.groups;
  const block = channelBlock(outPerGroup);
  const coBlocksPerGroup = Math.ceil(outPerGroup / block);
  const transposed = g.mode === 'transposed';
  // A transposed conv has `stride` output phases per axis; a plain conv one.
  const inStrideH = transposed ? g.strideH : 1;
  const inStrideW = transposed ? g.strideW : 1;
  const rowsPerPhase = Math.ceil(g.outH / inStrideH);
  const colBlocksPerPhase = Math.ceil(Math.ceil(g.outW / inStrideW) / GATHER_COLS);
  const invocations = g.N * g.groups * coBlocksPerGroup * inStrideH * inStrideW * rowsPerPhase * colBlocksPerPhase;
  const kArea = g.kH * g.kW;
  engine.run(gatherKernel, { x, w, bias: bias ?? w, y }, {
    inC: g.inC, inH: g.inH, inW: g.inW, outC: g.outC, outH: g.outH, outW: g.outW,
    inPerGroup, outPerGroup, coBlocksPerGroup, groups: g.groups, kH: g.kH, kW: g.kW,
    outStrideH: transposed ? 1 : g.strideH, outStrideW: transposed ? 1 : g.strideW, inStrideH, inStrideW,
    padOffsetH: transposed ? g.padTop : -g.padTop, padOffsetW: transposed ? g.padLeft : -g.padLeft,
    tapStepH: transposed ? -g.dilationH : g.dilationH, tapStepW: transposed ? -g.dilationW : g.dilationW,
    wStrideOut: transposed ? kArea : inPerGroup * kArea, wStrideIn: transposed ? outPerGroup * kArea : kArea,
    rowsPerPhase, colBlocksPerPhase, hasBias: bias ? 1 : 0, invocations,
  }, Math.ceil(invocations / GATHER_WG), { CO_BLOCK: block });
}

/**
 * Weight gradient as a GEMM over the reduction rows (n, r) of `a`:
 *   dw[o, i', kh, kw] = Σ a[n, o, r, c] · b[n, g·bPerGroup + i', r·sH - pT + kh·dH, c·sW - pL + kw·dW]
 * dw is [aC, bC/groups, kH, kW]. The reduction is split across invocations when it is long.
 */
export interface GradWeightGeometry {
  N: number; aC: number; aH: number; aW: number; bC: number; bH: number; bW: number;
  groups: number; kH: number; kW: number;
  strideH: number; strideW: number; dilationH: number; dilationW: number; padTop: number; padLeft: number;
}

/** Reductions shorter than this many products per dw element are never split. */
export const SPLIT_MIN_REDUCTION = 8192;
/** A split keeps at least this many products, so the partials stay small beside the inputs. */
const MIN_REDUCTION_PER_SPLIT = 1024;

export interface GradWeightPlan { oBlock: number; oBlocksPerGroup: number; eBlocks: number; tiles: number; splits: number; rowsPerSplit: number }

/** How the weight gradient is tiled and split; exported so tests can aim at the split path. */
export function gradWeightPlan(g: GradWeightGeometry, adapterKind: 'gpu' | 'swiftshader'): GradWeightPlan {
  const aPerGroup = g.aC / g.groups;
  const ePerGroup = (g.bC / g.groups) * g.kH * g.kW;
  // The kernel's blocks are 4, 8 or 16 channels of `a`: 16 shares each load of b among the most products.
  const oBlock = Math.max(4, channelBlock(aPerGroup, 16));
  const oBlocksPerGroup = Math.ceil(aPerGroup / oBlock);
  const eBlocks = Math.ceil(ePerGroup / GRAD_WEIGHT_E_BLOCK);
  const tiles = g.groups * oBlocksPerGroup * eBlocks;
  const rows = g.N * g.aH;
  const reduction = rows * g.aW;
  let splits = 1;
  if (reduction >= SPLIT_MIN_REDUCTION) {
    // Enough invocations to fill the device: a CPU's few cores, or a GPU's thousands of lanes.
    const target = adapterKind === 'gpu' ? 16384 : 2048;
    splits = Math.min(Math.ceil(target / tiles), Math.floor(reduction / MIN_REDUCTION_PER_SPLIT), rows);
    splits = Math.max(splits, 1);
  }
  const rowsPerSplit = Math.ceil(rows / splits);
  splits = Math.ceil(rows / rowsPerSplit);
  return { oBlock, oBlocksPerGroup, eBlocks, tiles, splits, rowsPerSplit };
}

/** Records dw = Σ a ⊗ patches(b); dw must be [aC, bC/groups, kH, kW]. */
export function runGradWeight(engine: Engine, g: GradWeightGeometry, a: Tensor, b: Tensor, dw: Tensor): void {
  const plan = gradWeightPlan(g, engine.adapterInfo.kind);
  const weightSize = dw.size;
  const invocations = plan.tiles * plan.splits;
  // a's rows in whole chunks of 8 columns; b padded to every row and column those chunks reach.
  const aChunks = Math.ceil(g.aW / GRAD_WEIGHT_CHUNK);
  const aPadded = padPlanes(engine, a, g.N * g.aC, g.aH, g.aW, g.aH, aChunks * GRAD_WEIGHT_CHUNK, 0, 0);
  const bH = (g.aH - 1) * g.strideH + (g.kH - 1) * g.dilationH + 1;
  const bW = (aChunks * GRAD_WEIGHT_CHUNK - 1) * g.strideW + (g.kW - 1) * g.dilationW + 1;
  const bPadded = padPlanes(engine, b, g.N * g.bC, g.bH, g.bW, bH, bW, g.padTop, g.padLeft);
  const partial = plan.splits > 1 ? engine.empty([plan.splits, weightSize], 'float32', 'conv2dGradWeight partial sums') : dw;
  engine.run(gradWeightKernel, { a: aPadded, b: bPadded, dw: partial }, {
    aC: g.aC, aH: g.aH, aChunks, bC: g.bC, bH, bW,
    aPerGroup: g.aC / g.groups, bPerGroup: g.bC / g.groups, oBlocksPerGroup: plan.oBlocksPerGroup,
    eBlocks: plan.eBlocks, groups: g.groups, kH: g.kH, kW: g.kW, strideH: g.strideH, strideW: g.strideW,
    dilationH: g.dilationH, dilationW: g.dilationW,
    rows: g.N * g.aH, rowsPerSplit: plan.rowsPerSplit, splits: plan.splits, weightSize, invocations,
  }, Math.ceil(invocations / GRAD_WEIGHT_WG), { O_BLOCK: plan.oBlock });
  if (aPadded !== a) aPadded.dispose();
  if (bPadded !== b) bPadded.dispose();
  if (partial === dw) return;
  engine.run(sumSplitsKernel, { partial, total: dw }, { weightSize, splits: plan.splits }, Math.ceil(weightSize / 256));
  partial.dispose();
}

/** `planes` planes of inH x inW placed at (top, left) in zeroed planes of outH x outW; `t` itself when that changes nothing. */
function padPlanes(engine: Engine, t: Tensor, planes: number, inH: number, inW: number, outH: number, outW: number, top: number, left: number): Tensor {
  if (top === 0 && left === 0 && outH === inH && outW === inW) return t;
  const count = planes * outH * outW;
  const padded = engine.empty([count], 'float32', 'conv2dGradWeight padded operand');
  engine.run(padKernel, { source: t, padded }, { inH, inW, outH, outW, top, left, count }, Math.ceil(count / 256));
  return padded;
}
