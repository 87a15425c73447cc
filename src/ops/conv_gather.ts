// Launchers of the gather family (shaders/conv_transpose2d.wgsl), which computes convTranspose2d,
// conv2dGradInput and convTranspose2dGradInput, and the routing that hands each layer to the
// fastest kernel that computes it exactly: conv2d's own kernels, the 1x1-input matrix product, or
// the general gather.
import type { Engine } from '../engine.js';
import type { Conv2dGeometry } from '../geometry.js';
import { Kernel } from '../runtime/kernels.js';
import type { Tensor } from '../tensor.js';
import { runConv2d } from './conv.js';
import { channelBlock, padPlanes } from './conv_common.js';
import gatherSource from '../../shaders/conv_transpose2d.wgsl';
import columnsSource from '../../shaders/conv_transpose2d_columns.wgsl';

const gatherKernel = new Kernel('conv_transpose2d.wgsl', gatherSource, 'main');
const packKernel = new Kernel('conv_transpose2d.wgsl', gatherSource, 'pack_weights');
const fcKernel = new Kernel('conv_transpose2d.wgsl', gatherSource, 'fc_transposed');
const fcVec4Kernel = new Kernel('conv_transpose2d.wgsl', gatherSource, 'fc_transposed_vec4');
const flipKernel = new Kernel('conv_transpose2d.wgsl', gatherSource, 'flip_weights');
const columnsKernel = new Kernel('conv_transpose2d_columns.wgsl', columnsSource, 'main');

const GATHER_COLS = 8;
/** Output columns per invocation of the column kernel (its vec4 lanes are columns). */
const COLUMNS_COLS = 32;
/** Taps one column apart that share one loaded window in the column kernel (its loops are written for 1 to 3). */
const WINDOW_TAPS = 3;
/** The column kernel takes layers with at most this many output channels per group... */
export const COLUMNS_MAX_OUT = 4;
/** ...and at least this many input channels per group (it reduces over 4 per trip). */
export const COLUMNS_MIN_IN = 4;
const WG = 64;

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

/**
 * 'auto' picks the fastest exact kernel; 'gather' forces the general gather kernel, 'columns' its
 * column-lane variant (tests).
 */
export type GatherRoute = 'auto' | 'gather' | 'columns';

/** Records y = gather(x, w) (+ bias per output channel) into y [N, outC, outH, outW]. */
export function runGatherOrConv(
  engine: Engine, g: GatherGeometry, x: Tensor, w: Tensor, bias: Tensor | null, y: Tensor, route: GatherRoute = 'auto',
): void {
  if (route === 'auto' && isWholeKernelOfOnePixel(g)) {
    runFcTransposed(engine, g, x, w, bias, y);
    return;
  }
  const conv = route === 'auto' ? asForwardConv(g) : null;
  if (route === 'columns' || (route === 'auto' && prefersColumns(g, conv !== null, engine.adapterInfo.kind))) {
    runGather(engine, g, x, w, bias, y, 'columns');
    return;
  }
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
 * Few output channels per group (a first layer's input gradient: 3) leave most of a channel-lane
 * block idle, in the gather kernel and in conv2d's own; the column kernel fills its lanes with
 * columns instead. A real GPU keeps conv2d's tiled kernel where that applies.
 */
export function prefersColumns(g: GatherGeometry, forwardConv: boolean, adapter: 'gpu' | 'swiftshader'): boolean {
  return g.outC / g.groups <= COLUMNS_MAX_OUT && g.inC / g.groups >= COLUMNS_MIN_IN && (adapter === 'swiftshader' || !forwardConv);
}

/**
 * A transposed conv of a 1x1 input that lays its whole kernel inside the output, unpadded and
 * undilated: the gradient of a fully connected layer (Linear, or a conv whose kernel is its input).
 */
function isWholeKernelOfOnePixel(g: GatherGeometry): boolean {
  return g.mode === 'transposed' && g.inH === 1 && g.inW === 1 && g.padTop === 0 && g.padLeft === 0 &&
    g.outH === g.kH && g.outW === g.kW && (g.kH === 1 || g.dilationH === 1) && (g.kW === 1 || g.dilationW === 1);
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

/** y[n, g, k] = Σ_i' x[n, g, i'] · w[g, i', k] (+ bias): the weights as stored, no repacking. */
function runFcTransposed(engine: Engine, g: GatherGeometry, x: Tensor, w: Tensor, bias: Tensor | null, y: Tensor): void {
  const kArea = g.kH * g.kW;
  const kPerGroup = (g.outC / g.groups) * kArea;
  const kQuads = Math.ceil(kPerGroup / 4);
  const kBlocks = Math.ceil(kQuads / 4);
  // Each invocation reads its weights once for N_BLOCK images: 4 when there are several.
  const nBlock = g.N >= 4 ? 4 : 1;
  // With whole vec4 rows the weights load 4 at a time, 16 columns per invocation.
  const aligned = kPerGroup % 4 === 0;
  const invocations = Math.ceil(g.N / nBlock) * g.groups * (aligned ? kBlocks : kQuads);
  const weights: Record<string, Tensor> = aligned ? { fcW4: w } : { fcW: w };
  engine.run(aligned ? fcVec4Kernel : fcKernel, { fcX: x, ...weights, fcBias: bias ?? x, fcY: y }, {
    batch: g.N, inC: g.inC, inPerGroup: g.inC / g.groups, groups: g.groups, kPerGroup, kQuads, kBlocks, kArea,
    hasBias: bias ? 1 : 0, invocations,
  }, Math.ceil(invocations / WG), { N_BLOCK: nBlock });
}

/**
 * Records y = gather(x, w) (+ bias per output channel) with the general gather kernel: vec4 lanes
 * over output channels ('channels'), or over output columns ('columns', conv_transpose2d_columns.wgsl).
 */
function runGather(engine: Engine, g: GatherGeometry, x: Tensor, w: Tensor, bias: Tensor | null, y: Tensor, lanes: 'channels' | 'columns' = 'channels'): void {
  const inPerGroup = g.inC / g.groups;
  const outPerGroup = g.outC / g.groups;
  const columns = lanes === 'columns';
  // channels: blocks of CO_BLOCK channels, 4 per vec4. columns: blocks of <= 4 channels, a vec4 each.
  const block = columns ? Math.ceil(outPerGroup / Math.ceil(outPerGroup / 4)) : Math.max(4, channelBlock(outPerGroup, 16));
  const coBlocksPerGroup = Math.ceil(outPerGroup / block);
  const outPadded = columns ? coBlocksPerGroup * 4 : coBlocksPerGroup * block;
  const cols = columns ? COLUMNS_COLS : GATHER_COLS;
  const transposed = g.mode === 'transposed';
  // A transposed conv has `stride` output phases per axis; a plain conv one.
  const inStrideH = transposed ? g.strideH : 1;
  const inStrideW = transposed ? g.strideW : 1;
  const rowsPerPhase = Math.ceil(g.outH / inStrideH);
  const colBlocksPerPhase = Math.ceil(Math.ceil(g.outW / inStrideW) / cols);
  const invocations = g.N * g.groups * coBlocksPerGroup * inStrideH * inStrideW * rowsPerPhase * colBlocksPerPhase;
  const kArea = g.kH * g.kW;

  // Zero columns on both sides: every column a block reads, for every valid tap, is inside (the
  // column kernel's windows read up to 2 columns further, 4 with strided columns).
  const extentW = g.dilationW * (g.kW - 1);
  const leftPad = transposed ? Math.max(0, Math.ceil((extentW - g.padLeft) / g.strideW)) : g.padLeft;
  const lastColumn = transposed
    ? (colBlocksPerPhase - 1) * cols + Math.floor((g.strideW - 1 + g.padLeft) / g.strideW) + cols - 1
    : (colBlocksPerPhase * cols - 1) * g.strideW - g.padLeft + extentW;
  const outStrideW = transposed ? 1 : g.strideW;
  const windowSlack = columns ? 4 * outStrideW : 0;
  const inWp = leftPad + Math.max(g.inW, lastColumn + 1 + windowSlack);
  const xp = padPlanes(engine, x, g.N * g.inC, g.inH, g.inW, g.inH, inWp, 0, leftPad);

  const packedWeights = engine.empty([g.groups * kArea * inPerGroup * outPadded], 'float32', 'packed weights');
  engine.run(packKernel, { weightSource: w, packed: packedWeights }, {
    inPerGroup, outPerGroup, outPadded, laneCo: columns ? block : 4, kArea,
    strideOut: transposed ? kArea : inPerGroup * kArea, strideIn: transposed ? outPerGroup * kArea : kArea,
    count: packedWeights.size,
  }, Math.ceil(packedWeights.size / 256));

  const uniforms = {
    inC: g.inC, inH: g.inH, inWp, leftPad, outC: g.outC, outH: g.outH, outW: g.outW,
    inPerGroup, outPerGroup, coBlocksPerGroup, groups: g.groups, kH: g.kH, kW: g.kW,
    outStrideH: transposed ? 1 : g.strideH, outStrideW, inStrideH, inStrideW,
    padOffsetH: transposed ? g.padTop : -g.padTop, padOffsetW: transposed ? g.padLeft : -g.padLeft,
    tapStepH: transposed ? -g.dilationH : g.dilationH, tapStepW: transposed ? -g.dilationW : g.dilationW,
    rowsPerPhase, colBlocksPerPhase, hasBias: bias ? 1 : 0, invocations,
  };
  const bindings = { x: xp, wp: packedWeights, bias: bias ?? w, y };
  if (columns) {
    engine.run(columnsKernel, bindings, { ...uniforms, ...tapWindow(g) }, Math.ceil(invocations / WG), { LANE_CO: block });
  } else {
    engine.run(gatherKernel, bindings, { ...uniforms, outPadded }, Math.ceil(invocations / WG), { CO_BLOCK: block });
  }
  if (xp !== x) xp.dispose();
  packedWeights.dispose();
}

/**
 * How the column kernel walks a phase's kw taps: kwStep apart in kw, tapShift apart in input
 * columns; taps one column apart read one shared window (up to WINDOW_TAPS per window).
 */
export function tapWindow(g: GatherGeometry): { kwStep: number; tapShift: number; windowTaps: number } {
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  const transposed = g.mode === 'transposed';
  const kwStep = transposed ? g.strideW / gcd(g.strideW, g.dilationW) : 1;
  const tapShift = transposed ? -g.dilationW / gcd(g.strideW, g.dilationW) : g.dilationW;
  const unitStep = transposed || g.strideW === 1;
  return { kwStep, tapShift, windowTaps: Math.abs(tapShift) === 1 && unitStep ? WINDOW_TAPS : 1 };
}
