// Input gradient as one GEMM and a gather: cols = W^T · dy (conv2d's 1x1 kernel, [Cin·kH·kW] rows
// over dy's pixels), then dx = col2im(cols) (shaders/col2im.wgsl). For convs with few input
// channels and a large strided kernel (AlexNet's conv1, L5) the gather kernels' transposed conv
// ran ~1.7x the forward's time per FLOP on SwiftShader; the GEMM runs at the forward's rate.
import type { Engine } from '../engine.js';
import type { Conv2dGeometry } from '../geometry.js';
import { Kernel } from '../runtime/kernels.js';
import type { Tensor } from '../tensor.js';
import { runConv2d } from './conv.js';
import { flipWeights } from './conv_gather.js';
import source from '../../shaders/col2im.wgsl';

const col2imKernel = new Kernel('col2im.wgsl', source, 'main');
const WG = 64;
/** cols stays within 64 MiB (one storage buffer); larger batches keep the gather kernels. */
const MAX_COLS_ELEMENTS = 16 * 1024 * 1024;

/** What conv2dGradInput's col2im route needs to know of the forward conv. */
export interface Col2imGeometry {
  N: number; Cin: number; H: number; W: number; Cout: number; outH: number; outW: number;
  groups: number; kH: number; kW: number; strideH: number; strideW: number; dilationH: number; dilationW: number;
  padTop: number; padLeft: number;
}

/** Ungrouped, undilated (col2im's tap rule), cols within one buffer. */
export function col2imApplies(g: Col2imGeometry): boolean {
  return g.groups === 1 && (g.kH === 1 || g.dilationH === 1) && (g.kW === 1 || g.dilationW === 1) &&
    g.N * g.Cin * g.kH * g.kW * g.outH * g.outW <= MAX_COLS_ELEMENTS;
}

/**
 * Where 'auto' takes it (SwiftShader): few input channels (the gather's column kernel case) and a
 * strided kernel, where one dy pixel's taps scatter over stride-phase windows.
 */
export function col2imPreferred(g: Col2imGeometry, adapter: 'gpu' | 'swiftshader'): boolean {
  return adapter === 'swiftshader' && col2imApplies(g) && g.Cin <= 4 && (g.strideH > 1 || g.strideW > 1);
}

/** Records dx [N, Cin, H, W] of y = conv2d(x, w) for dy [N, Cout, outH, outW]. */
export function runCol2imGradInput(engine: Engine, g: Col2imGeometry, dy: Tensor, w: Tensor, dx: Tensor): void {
  const rows = g.Cin * g.kH * g.kW;
  // [Cout, rows] read as a [Cout, rows, 1, 1] kernel, transposed to [rows, Cout, 1, 1].
  const wView = w.reshape([g.Cout, rows, 1, 1]);
  const wT = flipWeights(engine, wView, 1);
  wView.dispose();
  const cols = engine.empty([g.N, rows, g.outH, g.outW], 'float32', 'conv2dGradInput cols');
  const gemm: Conv2dGeometry = {
    N: g.N, Cin: g.Cout, H: g.outH, W: g.outW, Cout: rows, groups: 1, cinPerGroup: g.Cout, coutPerGroup: rows,
    kH: 1, kW: 1, strideH: 1, strideW: 1, dilationH: 1, dilationW: 1, padTop: 0, padLeft: 0, padBottom: 0, padRight: 0,
    outH: g.outH, outW: g.outW, relu: false, outputShape: [g.N, rows, g.outH, g.outW],
  };
  runConv2d(engine, dy, wT, null, gemm, undefined, cols);
  wT.dispose();
  // 4 dx columns of one phase per invocation.
  const quadsPerPhase = Math.ceil(Math.ceil(g.W / g.strideW) / 4);
  const total = g.N * g.Cin * g.H * g.strideW * quadsPerPhase;
  engine.run(col2imKernel, { cols, dx }, {
    C: g.Cin, H: g.H, W: g.W, outH: g.outH, outW: g.outW, kH: g.kH, kW: g.kW,
    strideH: g.strideH, strideW: g.strideW, padTop: g.padTop, padLeft: g.padLeft, quadsPerPhase, total,
  }, Math.ceil(total / WG));
  cols.dispose();
}
