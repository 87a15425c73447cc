// Weight gradient of a 1x1 stride-1 unpadded ungrouped conv on one image as conv2d's own 1x1
// forward: dw[o, i] = Σ_p dy[o, p] · x[i, p] is a 1x1 conv whose "input" is x transposed (p as
// channels, i as pixels) and whose "weights" are dy as stored. One transposition pass, then the
// forward's register-blocked kernel, which on SwiftShader beat the grad-weight GEMM on L8.
import type { Engine } from '../engine.js';
import type { Conv2dGeometry } from '../geometry.js';
import type { Tensor } from '../tensor.js';
import { runConv2d } from './conv.js';
import { flipWeights } from './conv_gather.js';
import { SPLIT_MIN_REDUCTION, type GradWeightGeometry } from './conv_weight_gemm.js';

/**
 * One image, ungrouped, 1x1, stride 1, unpadded: dy and x share their plane, of at most
 * SPLIT_MIN_REDUCTION pixels (the forward keeps one running sum over them, as the GEMM's rule allows).
 */
export function gradWeightAsConvApplies(g: GradWeightGeometry): boolean {
  return g.N === 1 && g.groups === 1 && g.kH === 1 && g.kW === 1 && g.strideH === 1 && g.strideW === 1 &&
    g.padTop === 0 && g.padLeft === 0 && g.aH === g.bH && g.aW === g.bW && g.aH * g.aW <= SPLIT_MIN_REDUCTION;
}

/** Records dw [aC, bC, 1, 1] = dy · xᵀ through conv2d's forward (a is dy, b is x). */
export function runGradWeightAsConv(engine: Engine, g: GradWeightGeometry, a: Tensor, b: Tensor, dw: Tensor): void {
  const P = g.aH * g.aW;
  const xView = b.reshape([g.bC, P, 1, 1]);
  const xT = flipWeights(engine, xView, 1);   // [P, bC, 1, 1]: a 1x1 kernel's transpose
  xView.dispose();
  const input = xT.reshape([1, P, 1, g.bC]);
  const weights = a.reshape([g.aC, P, 1, 1]);
  const out = dw.reshape([1, g.aC, 1, g.bC]);
  const conv: Conv2dGeometry = {
    N: 1, Cin: P, H: 1, W: g.bC, Cout: g.aC, groups: 1, cinPerGroup: P, coutPerGroup: g.aC,
    kH: 1, kW: 1, strideH: 1, strideW: 1, dilationH: 1, dilationW: 1, padTop: 0, padLeft: 0, padBottom: 0, padRight: 0,
    outH: 1, outW: g.bC, relu: false, outputShape: [1, g.aC, 1, g.bC],
  };
  runConv2d(engine, input, weights, null, conv, undefined, out);
  [input, weights, out].forEach((t) => t.dispose());
  xT.dispose();
}
