// Transposed convolution (torch's conv_transpose2d) and its gradients. The forward gathers over
// output pixels; its input gradient is a plain conv of dy with the same weights read as OIHW, its
// weight gradient the conv weight-gradient GEMM with the roles of x and dy swapped.
import {
  convTranspose2dGeometry, convTranspose2dGradInputGeometry, convTranspose2dGradWeightGeometry,
  type ConvTranspose2dOptions,
} from '../geometry.js';
import type { Tensor } from '../tensor.js';
import { runGatherOrConv, type GatherRoute } from './conv_gather.js';
import { runGradWeight } from './conv_weight_gemm.js';
import { checkTensor } from './util.js';

/** y = conv_transpose2d(x, weight [Cin, Cout/groups, kH, kW]) + bias. */
export function convTranspose2d(x: Tensor, weight: Tensor, bias?: Tensor | null, opts?: ConvTranspose2dOptions): Tensor {
  return convTranspose2dWith('auto', x, weight, bias, opts);
}

/** @internal convTranspose2d on a forced route (tests). */
export function convTranspose2dWith(
  route: GatherRoute, x: Tensor, weight: Tensor, bias?: Tensor | null, opts?: ConvTranspose2dOptions,
): Tensor {
  const op = 'convTranspose2d';
  checkTensor(op, 'x', x);
  checkTensor(op, 'weight', weight, x.engine);
  const b = bias === undefined || bias === null ? null : checkTensor(op, 'bias', bias, x.engine);
  const g = convTranspose2dGeometry(op, x.shape, weight.shape, b ? b.shape : null, opts);
  const y = x.engine.empty(g.outputShape, 'float32', op);
  runGatherOrConv(x.engine, {
    mode: 'transposed', N: g.N, inC: g.Cin, inH: g.H, inW: g.W, outC: g.Cout, outH: g.outH, outW: g.outW,
    groups: g.groups, kH: g.kH, kW: g.kW, strideH: g.strideH, strideW: g.strideW,
    dilationH: g.dilationH, dilationW: g.dilationW, padTop: g.padTop, padLeft: g.padLeft, padBottom: 0, padRight: 0,
  }, x, weight, b, y, route);
  return y;
}

/**
 * dx of y = convTranspose2d(x, weight) for `dy`: conv2d(dy, weight read as OIHW) with the same
 * stride, padding, dilation and groups. Only the first inputShape rows and columns of that conv are
 * the gradient: with outputPadding >= stride (allowed when dilation > stride) the conv is larger.
 */
export function convTranspose2dGradInput(
  dy: Tensor, weight: Tensor, inputShape: readonly number[], opts?: ConvTranspose2dOptions,
): Tensor {
  return convTranspose2dGradInputWith('auto', dy, weight, inputShape, opts);
}

/** @internal convTranspose2dGradInput on a forced route (tests). */
export function convTranspose2dGradInputWith(
  route: GatherRoute, dy: Tensor, weight: Tensor, inputShape: readonly number[], opts?: ConvTranspose2dOptions,
): Tensor {
  const op = 'convTranspose2dGradInput';
  checkTensor(op, 'dy', dy);
  checkTensor(op, 'weight', weight, dy.engine);
  const g = convTranspose2dGradInputGeometry(dy.shape, weight.shape, inputShape, opts);
  const dx = dy.engine.empty([g.N, g.Cin, g.H, g.W], 'float32', op);
  runGatherOrConv(dy.engine, {
    mode: 'conv', N: g.N, inC: g.Cout, inH: g.outH, inW: g.outW, outC: g.Cin, outH: g.H, outW: g.W,
    groups: g.groups, kH: g.kH, kW: g.kW, strideH: g.strideH, strideW: g.strideW,
    dilationH: g.dilationH, dilationW: g.dilationW, padTop: g.padTop, padLeft: g.padLeft,
    padBottom: g.padBottom, padRight: g.padRight,
  }, dy, weight, null, dx, route);
  return dx;
}

/** dweight ([Cin, Cout/groups, kH, kW]) of y = convTranspose2d(x, weight) for `dy`; its bias gradient is conv2dGradBias(dy). */
export function convTranspose2dGradWeight(
  dy: Tensor, x: Tensor, weightShape: readonly number[], opts?: ConvTranspose2dOptions,
): Tensor {
  const op = 'convTranspose2dGradWeight';
  checkTensor(op, 'dy', dy);
  checkTensor(op, 'x', x, dy.engine);
  const g = convTranspose2dGradWeightGeometry(dy.shape, x.shape, weightShape, opts);
  const dw = dy.engine.empty([g.Cin, g.coutPerGroup, g.kH, g.kW], 'float32', op);
  runGradWeight(dy.engine, {
    N: g.N, aC: g.Cin, aH: g.H, aW: g.W, bC: g.Cout, bH: g.outH, bW: g.outW,
    groups: g.groups, kH: g.kH, kW: g.kW, strideH: g.strideH, strideW: g.strideW,
    dilationH: g.dilationH, dilationW: g.dilationW, padTop: g.padTop, padLeft: g.padLeft,
  }, x, dy, dw);
  return dw;
}
