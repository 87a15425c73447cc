// Launcher of the weight gradient, shared by conv2dGradWeight and convTranspose2dGradWeight: ops
// choose the roles, this picks the kernel and maps them to uniforms. The general GEMM over input
// patches is shaders/conv2d_grad_weight.wgsl; fully connected convs (an outer product that writes
// far more than it reads) and 1x1 convs (a plain GEMM along rows) have their own kernels.
import type { Engine } from '../engine.js';
import { FullconvError } from '../errors.js';
import { Kernel } from '../runtime/kernels.js';
import type { Tensor } from '../tensor.js';
import { channelBlock, padPlanes } from './conv_common.js';
import gradWeightSource from '../../shaders/conv2d_grad_weight.wgsl';
import gradWeightFcSource from '../../shaders/conv2d_grad_weight_fc.wgsl';
import gradWeight1x1Source from '../../shaders/conv2d_grad_weight_1x1.wgsl';

const gradWeightKernel = new Kernel('conv2d_grad_weight.wgsl', gradWeightSource, 'main');
const sumSplitsKernel = new Kernel('conv2d_grad_weight.wgsl', gradWeightSource, 'sum_splits');
const fcKernel = new Kernel('conv2d_grad_weight_fc.wgsl', gradWeightFcSource, 'main');
const pointwiseKernel = new Kernel('conv2d_grad_weight_1x1.wgsl', gradWeight1x1Source, 'main');

/** Columns of `a` per loop trip of the grad-weight kernel. */
const GRAD_WEIGHT_CHUNK = 8;
const GRAD_WEIGHT_WG = 64;

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

/**
 * A running float32 sum never covers more than this many products: longer reductions (112 x 112
 * and up) always split, and the partial sums are added in a second pass (also more accurate).
 */
export const SPLIT_MIN_REDUCTION = 8192;
/** A split keeps at least this many products, so the partials stay small beside the inputs. */
const MIN_REDUCTION_PER_SPLIT = 256;
/** The partial sums of all splits stay within 64 MiB (one storage buffer, far below any device limit). */
const MAX_PARTIAL_ELEMENTS = 16 * 1024 * 1024;

/** @internal Probe knob (bench/grad-probe.mjs): overrides the GEMM plan's fill target and channel block. */
export const gradWeightTuning: { target?: number; oBlock?: number } = {};

export interface GradWeightPlan {
  oBlock: number; oBlocksPerGroup: number; eBlock: number; eBlocks: number; tiles: number; splits: number; rowsPerSplit: number;
}

/** How the weight gradient is tiled and split; exported so tests can aim at the split path. */
export function gradWeightPlan(g: GradWeightGeometry, adapterKind: 'gpu' | 'swiftshader'): GradWeightPlan {
  const aPerGroup = g.aC / g.groups;
  const ePerGroup = (g.bC / g.groups) * g.kH * g.kW;
  // Up to 16 channels of `a` share each load of b; 8 columns of dw share each load of a. With 1
  // or 2 channels (depthwise) a's loads are few anyway, and 4 columns waste less of a small kernel
  // (a 3x3 has 9: 12 in blocks of 4, 16 in blocks of 8). Few variants: each compiles in 1-5 s on SwiftShader.
  const oBlock = gradWeightTuning.oBlock ?? channelBlock(aPerGroup, 16);
  const oBlocksPerGroup = Math.ceil(aPerGroup / oBlock);
  const eBlock = oBlock <= 2 ? 4 : 8;
  const eBlocks = Math.ceil(ePerGroup / eBlock);
  const tiles = g.groups * oBlocksPerGroup * eBlocks;
  const rows = g.N * g.aH;
  const reduction = rows * g.aW;
  // Enough invocations to fill the device (a CPU's cores want a few thousand: measured on L8, 8
  // workgroups ran ~1.5x slower than 32), and no running sum over more than SPLIT_MIN_REDUCTION.
  const target = gradWeightTuning.target ?? (adapterKind === 'gpu' ? 16384 : 2048);
  const forFill = Math.min(Math.ceil(target / tiles), Math.floor(reduction / MIN_REDUCTION_PER_SPLIT));
  const byMemory = Math.max(1, Math.floor(MAX_PARTIAL_ELEMENTS / (g.aC * ePerGroup)));
  const splits0 = Math.min(Math.max(forFill, Math.ceil(reduction / SPLIT_MIN_REDUCTION), 1), rows, byMemory);
  const rowsPerSplit = Math.ceil(rows / splits0);
  const splits = Math.ceil(rows / rowsPerSplit);
  return { oBlock, oBlocksPerGroup, eBlock, eBlocks, tiles, splits, rowsPerSplit };
}

/** Which kernel computes the weight gradient: 'auto' picks; the others are for tests (and must apply). */
export type GradWeightRoute = 'auto' | 'gemm' | 'fc' | 'pointwise';

/** The kernel 'auto' takes: the specialised ones where their shape rules hold, else the GEMM. */
export function chooseGradWeightRoute(g: GradWeightGeometry): 'gemm' | 'fc' | 'pointwise' {
  if (isOuterProduct(g)) return 'fc';
  if (isPointwise(g)) return 'pointwise';
  return 'gemm';
}

/** Records dw = Σ a ⊗ patches(b); dw must be [aC, bC/groups, kH, kW]. */
export function runGradWeight(engine: Engine, g: GradWeightGeometry, a: Tensor, b: Tensor, dw: Tensor, route: GradWeightRoute = 'auto'): void {
  const chosen = route === 'auto' ? chooseGradWeightRoute(g) : route;
  if (chosen === 'fc' && !isOuterProduct(g)) throw new FullconvError(`grad-weight route '${route}' needs a fully connected conv`);
  if (chosen === 'pointwise' && !isPointwise(g)) throw new FullconvError(`grad-weight route '${route}' needs a 1x1, stride-1, unpadded conv over planes of whole vec4`);
  if (chosen === 'fc') {
    runFc(engine, g, a, b, dw);
    return;
  }
  if (chosen === 'pointwise') {
    runPointwise(engine, g, a, b, dw);
    return;
  }
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
  // A 1-wide kernel at stride 1 reads b at aligned vec4 (bW is then aChunks·8, every offset a
  // multiple of 8): ~1.2x on L8. Only for wide channel blocks, where b's loads dominate (fewer
  // variants to compile, 1-5 s each on SwiftShader).
  const bVec4 = g.kW === 1 && g.strideW === 1 && plan.oBlock >= 8;
  engine.run(gradWeightKernel, { a: aPadded, b: bPadded, b4: bPadded, dw: partial }, {
    aC: g.aC, aH: g.aH, aChunks, bC: g.bC, bH, bW,
    aPerGroup: g.aC / g.groups, bPerGroup: g.bC / g.groups, oBlocksPerGroup: plan.oBlocksPerGroup,
    eBlocks: plan.eBlocks, groups: g.groups, kH: g.kH, kW: g.kW, strideH: g.strideH, strideW: g.strideW,
    dilationH: g.dilationH, dilationW: g.dilationW,
    rows: g.N * g.aH, rowsPerSplit: plan.rowsPerSplit, splits: plan.splits, weightSize, invocations,
  }, Math.ceil(invocations / GRAD_WEIGHT_WG), { O_BLOCK: plan.oBlock, E_BLOCK: plan.eBlock, B_VEC4: bVec4 ? 1 : 0 });
  if (aPadded !== a) aPadded.dispose();
  if (bPadded !== b) bPadded.dispose();
  if (partial === dw) return;
  engine.run(sumSplitsKernel, { partial, total: dw }, { weightSize, splits: plan.splits }, Math.ceil(weightSize / 256));
  partial.dispose();
}

/**
 * A fully connected layer's weight gradient (a 1x1, b exactly one unpadded, undilated kernel
 * window, whole vec4 rows): dw = Σ_n a[n] ⊗ b[n], a sum over the batch only.
 */
function isOuterProduct(g: GradWeightGeometry): boolean {
  return g.aH === 1 && g.aW === 1 && g.padTop === 0 && g.padLeft === 0 && g.bH === g.kH && g.bW === g.kW &&
    (g.kH === 1 || g.dilationH === 1) && (g.kW === 1 || g.dilationW === 1) && ((g.bC / g.groups) * g.kH * g.kW) % 4 === 0;
}

/**
 * Invocations the fc kernel aims for: long store loops on a CPU (SwiftShader pays per invocation
 * and per workgroup), enough threads on a GPU.
 */
const FC_TARGET = { gpu: 16384, swiftshader: 1024 } as const;

function runFc(engine: Engine, g: GradWeightGeometry, a: Tensor, b: Tensor, dw: Tensor): void {
  const aPerGroup = g.aC / g.groups;
  const kQuads = ((g.bC / g.groups) * g.kH * g.kW) / 4;
  const cBlocksPerGroup = Math.ceil(aPerGroup / 4);
  const blocks = g.groups * cBlocksPerGroup;
  const kLanes = Math.min(kQuads, Math.ceil(FC_TARGET[engine.adapterInfo.kind] / blocks));
  const invocations = blocks * kLanes;
  engine.run(fcKernel, { a, b, dw }, {
    batch: g.N, aC: g.aC, aPerGroup, groups: g.groups, kQuads, cBlocksPerGroup, kLanes, invocations,
  }, Math.ceil(invocations / GRAD_WEIGHT_WG));
}

/** A 1x1, stride-1, unpadded conv over whole vec4 planes: dw is a GEMM along rows of both operands. */
function isPointwise(g: GradWeightGeometry): boolean {
  return g.kH === 1 && g.kW === 1 && g.strideH === 1 && g.strideW === 1 && g.padTop === 0 && g.padLeft === 0 &&
    g.aH === g.bH && g.aW === g.bW && (g.aH * g.aW) % 4 === 0;
}

function runPointwise(engine: Engine, g: GradWeightGeometry, a: Tensor, b: Tensor, dw: Tensor): void {
  const aPerGroup = g.aC / g.groups;
  const bPerGroup = g.bC / g.groups;
  // 8 x 4 tiles load 12 vec4 per 32 products of vec4 (4 x 4: 8 per 16; measured ~1.4x slower on L8).
  const coBlock = aPerGroup >= 8 ? 8 : 4;
  const coBlocksPerGroup = Math.ceil(aPerGroup / coBlock);
  const ciBlocks = Math.ceil(bPerGroup / 4);
  const tiles = g.groups * coBlocksPerGroup * ciBlocks;
  const quads = (g.aH * g.aW) / 4;
  const reduction = g.N * quads;
  const products = reduction * 4;
  const target = engine.adapterInfo.kind === 'gpu' ? 16384 : 2048;
  const forFill = Math.min(Math.ceil(target / tiles), Math.floor(products / MIN_REDUCTION_PER_SPLIT));
  const byMemory = Math.max(1, Math.floor(MAX_PARTIAL_ELEMENTS / dw.size));
  const splits0 = Math.min(Math.max(forFill, Math.ceil(products / SPLIT_MIN_REDUCTION), 1), reduction, byMemory);
  const perSplit = Math.ceil(reduction / splits0);
  const splits = Math.ceil(reduction / perSplit);
  const weightSize = dw.size;
  const invocations = tiles * splits;
  const partial = splits > 1 ? engine.empty([splits, weightSize], 'float32', 'conv2dGradWeight partial sums') : dw;
  engine.run(pointwiseKernel, { a, b, dw: partial }, {
    aC: g.aC, bC: g.bC, aPerGroup, bPerGroup, coBlocksPerGroup, ciBlocks, groups: g.groups,
    quads, reduction, perSplit, weightSize, invocations,
  }, Math.ceil(invocations / GRAD_WEIGHT_WG), { CO_BLOCK: coBlock });
  if (partial === dw) return;
  engine.run(sumSplitsKernel, { partial, total: dw }, { weightSize, splits }, Math.ceil(weightSize / 256));
  partial.dispose();
}
