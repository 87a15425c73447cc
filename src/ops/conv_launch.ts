// Launchers of the two kernel families every convolution gradient and the transposed conv share:
// the gather kernel (shaders/conv_transpose2d.wgsl) and the weight-gradient GEMM
// (shaders/conv2d_grad_weight.wgsl). Ops choose roles and layouts; this file maps them to uniforms.
import type { Engine } from '../engine.js';
import { Kernel } from '../runtime/kernels.js';
import type { Tensor } from '../tensor.js';
import gatherSource from '../../shaders/conv_transpose2d.wgsl';
import gradWeightSource from '../../shaders/conv2d_grad_weight.wgsl';

const gatherKernel = new Kernel('conv_transpose2d.wgsl', gatherSource, 'main');
const gradWeightKernel = new Kernel('conv2d_grad_weight.wgsl', gradWeightSource, 'main');
const sumSplitsKernel = new Kernel('conv2d_grad_weight.wgsl', gradWeightSource, 'sum_splits');

const GATHER_COLS = 8;
const GATHER_WG = 64;
const GRAD_WEIGHT_E_BLOCK = 8;
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
}

/** The channel block (1, 2, 4 or 8) that wastes least: a block's registers are shared by its loads. */
export function channelBlock(perGroup: number): number {
  let best = 1;
  let bestScore = 0;
  for (const block of [8, 4, 2, 1]) {
    const blocks = Math.ceil(perGroup / block);
    // Useful outputs per unit of work, counting loads (~2 channels' worth) shared by the block.
    const score = perGroup / (blocks * (block + 2));
    if (score > bestScore + 1e-9) [best, bestScore] = [block, score];
  }
  return best;
}

/** Records y = gather(x, w) (+ bias per output channel); y must be [N, outC, outH, outW]. */
export function runGather(engine: Engine, g: GatherGeometry, x: Tensor, w: Tensor, bias: Tensor | null, y: Tensor): void {
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
  const oBlock = channelBlock(aPerGroup);
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
  const partial = plan.splits > 1 ? engine.empty([plan.splits, weightSize], 'float32', 'conv2dGradWeight partial sums') : dw;
  engine.run(gradWeightKernel, { a, b, dw: partial }, {
    aC: g.aC, aH: g.aH, aW: g.aW, bC: g.bC, bH: g.bH, bW: g.bW,
    aPerGroup: g.aC / g.groups, bPerGroup: g.bC / g.groups, oBlocksPerGroup: plan.oBlocksPerGroup,
    eBlocks: plan.eBlocks, groups: g.groups, kH: g.kH, kW: g.kW, strideH: g.strideH, strideW: g.strideW,
    dilationH: g.dilationH, dilationW: g.dilationW, padTop: g.padTop, padLeft: g.padLeft,
    rows: g.N * g.aH, rowsPerSplit: plan.rowsPerSplit, splits: plan.splits, weightSize, invocations,
  }, Math.ceil(invocations / GRAD_WEIGHT_WG), { O_BLOCK: plan.oBlock });
  if (partial === dw) return;
  engine.run(sumSplitsKernel, { partial, total: dw }, { weightSize, splits: plan.splits }, Math.ceil(weightSize / 256));
  partial.dispose();
}
