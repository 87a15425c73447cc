// Convolution gradients (torch.nn.grad.conv2d_input / conv2d_weight, and the bias sum).
// Grad-input is a transposed conv of dy with the conv weights, grad-weight a GEMM of dy with
// the input patches: both run on the shared kernels of conv_gather.ts and conv_weight_gemm.ts.
import { conv2dGradBiasGeometry, conv2dGradInputGeometry, conv2dGradWeightGeometry, type Conv2dOptions } from '../geometry.js';
import { Kernel } from '../runtime/kernels.js';
import type { Tensor } from '../tensor.js';
import { runGatherOrConv, type GatherRoute } from './conv_gather.js';
import { col2imApplies, col2imPreferred, runCol2imGradInput, type Col2imGeometry } from './conv_grad_col2im.js';
import { gradWeightAsConvApplies, runGradWeightAsConv } from './conv_grad_pointwise.js';
import { isDepthwise3x3GradWeight, runDepthwise3x3GradWeight } from './conv_grad_depthwise.js';
import { runGradWeight, type GradWeightGeometry, type GradWeightRoute } from './conv_weight_gemm.js';
import { FullconvError } from '../errors.js';
import { checkTensor } from './util.js';
import gradBiasSource from '../../shaders/conv2d_grad_bias.wgsl';

const gradBiasKernel = new Kernel('conv2d_grad_bias.wgsl', gradBiasSource, 'main');
const gradBiasVec4Kernel = new Kernel('conv2d_grad_bias.wgsl', gradBiasSource, 'main_vec4');
const gradBiasSmallKernel = new Kernel('conv2d_grad_bias.wgsl', gradBiasSource, 'per_channel');
/** Sums per channel this short run serially, one invocation each. */
const SMALL_BIAS_SUM = 1024;

/** dx of y = conv2d(x, weight) for `dy`: x's shape is `inputShape` (floor-mode leftovers get 0). */
export function conv2dGradInput(dy: Tensor, weight: Tensor, inputShape: readonly number[], convOpts?: Conv2dOptions): Tensor {
  return conv2dGradInputWith('auto', dy, weight, inputShape, convOpts);
}

/** conv2dGradInput's routes: the gather family's, and a GEMM followed by col2im. */
export type Conv2dGradInputRoute = GatherRoute | 'col2im';

/** @internal conv2dGradInput on a forced route (tests; 'col2im' must apply to the shapes). */
export function conv2dGradInputWith(
  route: Conv2dGradInputRoute, dy: Tensor, weight: Tensor, inputShape: readonly number[], convOpts?: Conv2dOptions,
): Tensor {
  const op = 'conv2dGradInput';
  checkTensor(op, 'dy', dy);
  checkTensor(op, 'weight', weight, dy.engine);
  const g = conv2dGradInputGeometry(dy.shape, weight.shape, inputShape, convOpts);
  const cg: Col2imGeometry = g;  // the forward's geometry has every field col2im reads
  if (route === 'col2im' && !col2imApplies(cg)) throw new FullconvError(`grad-input route '${route}' needs an ungrouped, undilated conv`);
  const dx = dy.engine.empty([g.N, g.Cin, g.H, g.W], 'float32', op);
  if (route === 'col2im' || (route === 'auto' && col2imPreferred(cg, dy.engine.adapterInfo.kind))) {
    runCol2imGradInput(dy.engine, cg, dy, weight, dx);
    return dx;
  }
  // The transposed conv of dy with the conv's own weights, [Cout, Cin/groups] read as [in, out/groups].
  runGatherOrConv(dy.engine, {
    mode: 'transposed', N: g.N, inC: g.Cout, inH: g.outH, inW: g.outW, outC: g.Cin, outH: g.H, outW: g.W,
    groups: g.groups, kH: g.kH, kW: g.kW, strideH: g.strideH, strideW: g.strideW,
    dilationH: g.dilationH, dilationW: g.dilationW, padTop: g.padTop, padLeft: g.padLeft, padBottom: 0, padRight: 0,
  }, dy, weight, null, dx, route);
  return dx;
}

/** dweight (OIHW, `weightShape`) of y = conv2d(x, weight) for `dy`. */
export function conv2dGradWeight(dy: Tensor, x: Tensor, weightShape: readonly number[], convOpts?: Conv2dOptions): Tensor {
  return conv2dGradWeightWith('auto', dy, x, weightShape, convOpts);
}

/** conv2dGradWeight's kernels: the shared ones of conv_weight_gemm.ts, and depthwise 3x3's own. */
export type Conv2dGradWeightRoute = GradWeightRoute | 'depthwise3x3' | 'as-conv';

/** @internal conv2dGradWeight on a forced kernel (tests; the route must apply to the shapes). */
export function conv2dGradWeightWith(
  route: Conv2dGradWeightRoute, dy: Tensor, x: Tensor, weightShape: readonly number[], convOpts?: Conv2dOptions,
): Tensor {
  const op = 'conv2dGradWeight';
  checkTensor(op, 'dy', dy);
  checkTensor(op, 'x', x, dy.engine);
  const g = conv2dGradWeightGeometry(dy.shape, x.shape, weightShape, convOpts);
  const gw: GradWeightGeometry = {
    N: g.N, aC: g.Cout, aH: g.outH, aW: g.outW, bC: g.Cin, bH: g.H, bW: g.W,
    groups: g.groups, kH: g.kH, kW: g.kW, strideH: g.strideH, strideW: g.strideW,
    dilationH: g.dilationH, dilationW: g.dilationW, padTop: g.padTop, padLeft: g.padLeft,
  };
  const depthwise = isDepthwise3x3GradWeight(gw);
  if (route === 'depthwise3x3' && !depthwise) throw new FullconvError(`grad-weight route '${route}' needs a depthwise 3x3 stride-1 undilated conv`);
  const asConv = gradWeightAsConvApplies(gw);
  if (route === 'as-conv' && !asConv) throw new FullconvError(`grad-weight route '${route}' needs a 1x1 stride-1 unpadded ungrouped conv on one image`);
  const dw = dy.engine.empty([g.Cout, g.cinPerGroup, g.kH, g.kW], 'float32', op);
  if (route === 'as-conv' || (route === 'auto' && asConv && dy.engine.adapterInfo.kind === 'swiftshader')) runGradWeightAsConv(dy.engine, gw, dy, x, dw);
  else if (route === 'depthwise3x3' || (route === 'auto' && depthwise)) runDepthwise3x3GradWeight(dy.engine, gw, dy, x, dw);
  else runGradWeight(dy.engine, gw, dy, x, dw, route);
  return dw;
}

/** db[c] = Σ_{n,h,w} dy[n, c, h, w]: the bias gradient of conv2d and of convTranspose2d. */
export function conv2dGradBias(dy: Tensor): Tensor {
  const op = 'conv2dGradBias';
  checkTensor(op, 'dy', dy);
  const g = conv2dGradBiasGeometry(dy.shape);
  const db = dy.engine.empty([g.C], 'float32', op);
  const uniforms = { batch: g.N, channels: g.C, planeSize: g.H * g.W };
  if (g.N * g.H * g.W <= SMALL_BIAS_SUM) {
    dy.engine.run(gradBiasSmallKernel, { dy, db }, uniforms, Math.ceil(g.C / 64));
    return db;
  }
  const workgroupSize = dy.engine.adapterInfo.kind === 'swiftshader' ? 32 : 256;
  if ((g.H * g.W) % 4 === 0) dy.engine.run(gradBiasVec4Kernel, { dy4: dy, db }, uniforms, g.C, { WG: workgroupSize });
  else dy.engine.run(gradBiasKernel, { dy, db }, uniforms, g.C, { WG: workgroupSize });
  return db;
}
