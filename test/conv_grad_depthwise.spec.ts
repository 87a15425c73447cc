// Depthwise 3x3 stride-1 gradients against the float64 reference: the weight gradient's own kernel
// (shaders/conv2d_grad_weight_depthwise3x3.wgsl) on random shapes it must take (batch > 1, channel
// multipliers, asymmetric and large padding, planes off the 8 x 8 block), the shapes beside it that
// must go to the general GEMM, and the input gradient (the depthwise 3x3 forward with flipped
// weights) on the same shapes.
import fc from 'fast-check';
import { conv2dGradInput, type Engine } from '../src/index.js';
import { conv2dGradWeightWith, type Conv2dGradWeightRoute } from '../src/ops/conv_grad.js';
import { DEPTHWISE_GRAD_ROWS, isDepthwise3x3GradWeight, runDepthwise3x3GradWeight } from '../src/ops/conv_grad_depthwise.js';
import { getEngine } from './setup.js';
import { equal, throws } from './assert.js';
import * as ref from './reference.js';
import { checkAll, describeCase, explicitCase, gradWeightGeometry, randomPair, rngFor, type ConvCase, type Pending } from './conv_grad_cases.js';

const SEED = 6_2026;

/** Padding 1 on every side unless given (the depthwise 3x3 'same' layers). */
const convCase = (...a: Parameters<typeof explicitCase>): ConvCase =>
  explicitCase(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], { pad: [1, 1, 1, 1], ...a[8] });



const opts = (c: ConvCase) => ({ stride: c.stride, padding: c.padding, dilation: c.dilation, groups: c.groups });
const refOpts = (c: ConvCase) => ({ stride: c.stride, pad: c.pad, dilation: c.dilation, groups: c.groups });

function gradWeightCase(engine: Engine, c: ConvCase, route: Conv2dGradWeightRoute): Pending {
  const rng = rngFor(c.seed);
  const dy = randomPair(engine, [c.N, c.Cout, c.outH, c.outW], rng);
  const x = randomPair(engine, [c.N, c.Cin, c.H, c.W], rng);
  const weightShape = [c.Cout, c.Cin / c.groups, c.kH, c.kW];
  return {
    what: `${route} grad-weight ${describeCase(c)}`,
    got: conv2dGradWeightWith(route, dy.gpu, x.gpu, weightShape, opts(c)),
    expected: () => ref.conv2dGradWeight(dy.ref, x.ref, weightShape, refOpts(c)),
    owned: [dy.gpu, x.gpu],
  };
}

function gradInputCase(engine: Engine, c: ConvCase): Pending {
  const rng = rngFor(c.seed + 1);
  const dy = randomPair(engine, [c.N, c.Cout, c.outH, c.outW], rng);
  const w = randomPair(engine, [c.Cout, c.Cin / c.groups, c.kH, c.kW], rng);
  const xShape = [c.N, c.Cin, c.H, c.W];
  return {
    what: `grad-input ${describeCase(c)}`,
    got: conv2dGradInput(dy.gpu, w.gpu, xShape, opts(c)),
    expected: () => ref.conv2dGradInput(dy.ref, w.ref, xShape, refOpts(c)),
    owned: [dy.gpu, w.gpu],
  };
}

/** Depthwise 3x3 stride 1: channels x multiplier, padding 0-3 per side, planes of 1-21 rows and columns. */
function depthwiseCases(count: number, seed: number): ConvCase[] {
  const arb = fc.record({
    N: fc.integer({ min: 1, max: 3 }), C: fc.integer({ min: 2, max: 6 }), mult: fc.integer({ min: 1, max: 3 }),
    H: fc.integer({ min: 1, max: 21 }), W: fc.integer({ min: 1, max: 21 }),
    pad: fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 })),
    seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  }).filter((s) => s.H + s.pad[0] + s.pad[2] >= 3 && s.W + s.pad[1] + s.pad[3] >= 3).map((s) =>
    convCase(s.N, s.C, s.C * s.mult, s.H, s.W, 3, 3, s.C, { pad: s.pad, seed: s.seed }));
  return fc.sample(arb, { seed, numRuns: count });
}

describe('conv2d depthwise 3x3 gradients', function () {
  this.timeout(120_000);
  let engine: Engine;
  before(async () => { engine = await getEngine(); });

  it('grad-weight: the depthwise kernel on random shapes (batch > 1, multipliers, asymmetric padding, ragged blocks)', async () => {
    const cases = depthwiseCases(40, SEED);
    for (const c of cases) equal(isDepthwise3x3GradWeight(gradWeightGeometry(c)), true, describeCase(c));
    await checkAll(cases.map((c) => gradWeightCase(engine, c, 'auto')));
  });

  it('grad-weight: several blocks per plane, tails in both directions, and the GEMM agrees', async () => {
    const cases = [
      convCase(2, 5, 5, 37, 45, 3, 3, 5, { seed: 1 }),                        // 5 x 6 blocks, ragged
      convCase(1, 3, 6, 24, 16, 3, 3, 3, { pad: [0, 2, 3, 0], seed: 2 }),     // multiplier 2, whole blocks
      convCase(3, 2, 2, 9, 70, 3, 3, 2, { pad: [2, 0, 0, 2], seed: 3 }),      // wide, short
    ];
    await checkAll([...cases.map((c) => gradWeightCase(engine, c, 'auto')), ...cases.map((c) => gradWeightCase(engine, c, 'gemm'))]);
  });

  it('grad-weight: every adapter\'s block height (8 rows on a GPU, 32 on SwiftShader) on planes taller than one block', async () => {
    const cases = [convCase(2, 3, 6, 70, 13, 3, 3, 3, { pad: [1, 0, 2, 1], seed: 7 }), convCase(1, 4, 4, 33, 20, 3, 3, 4, { seed: 8 })];
    const pending: Pending[] = [];
    for (const rows of new Set(Object.values(DEPTHWISE_GRAD_ROWS))) {
      for (const c of cases) {
        const rng = rngFor(c.seed);
        const dy = randomPair(engine, [c.N, c.Cout, c.outH, c.outW], rng);
        const x = randomPair(engine, [c.N, c.Cin, c.H, c.W], rng);
        const weightShape = [c.Cout, 1, 3, 3];
        const dw = engine.empty(weightShape, 'float32', 'dw');
        runDepthwise3x3GradWeight(engine, gradWeightGeometry(c), dy.gpu, x.gpu, dw, rows);
        pending.push({
          what: `${rows} rows ${describeCase(c)}`, got: dw,
          expected: () => ref.conv2dGradWeight(dy.ref, x.ref, weightShape, refOpts(c)), owned: [dy.gpu, x.gpu],
        });
      }
    }
    await checkAll(pending);
  });

  it('grad-weight: shapes beside it take the general GEMM and stay correct; forcing the route on them throws', async () => {
    const cases = [
      convCase(2, 4, 4, 9, 9, 3, 3, 4, { stride: [2, 2] }),         // stride 2
      convCase(1, 4, 4, 9, 9, 3, 3, 4, { stride: [1, 2] }),         // mixed strides
      convCase(2, 4, 4, 9, 9, 3, 3, 4, { dilation: [2, 1] }),       // dilated
      convCase(1, 4, 4, 9, 9, 5, 5, 4, { pad: [2, 2, 2, 2] }),      // 5x5
      convCase(1, 4, 4, 9, 9, 3, 1, 4, { pad: [1, 0, 1, 0] }),      // 3x1
      convCase(2, 8, 4, 9, 9, 3, 3, 4),                             // 2 input channels per group
      convCase(2, 1, 4, 9, 9, 3, 3, 1),                             // one input channel, groups 1
    ];
    for (const c of cases) equal(isDepthwise3x3GradWeight(gradWeightGeometry(c)), false, describeCase(c));
    await checkAll(cases.map((c) => gradWeightCase(engine, c, 'auto')));
    const c = cases[0]!;
    const dy = engine.zeros([c.N, c.Cout, c.outH, c.outW]);
    const x = engine.zeros([c.N, c.Cin, c.H, c.W]);
    throws(() => conv2dGradWeightWith('depthwise3x3', dy, x, [c.Cout, 1, 3, 3], opts(c)), /depthwise 3x3/);
    dy.dispose();
    x.dispose();
  });

  it('grad-input: random depthwise 3x3 stride-1 shapes and an L6-like plane', async () => {
    const cases = [...depthwiseCases(20, SEED + 1), convCase(2, 3, 3, 40, 33, 3, 3, 3, { seed: 4 })];
    await checkAll(cases.map((c) => gradInputCase(engine, c)));
  });

  it('a new image size or channel count compiles no new pipeline', async () => {
    await checkAll([gradWeightCase(engine, convCase(1, 4, 4, 10, 10, 3, 3, 4), 'auto')]);
    const before = engine.stats().pipelinesCompiled;
    await checkAll([gradWeightCase(engine, convCase(2, 6, 12, 17, 23, 3, 3, 6, { pad: [0, 1, 2, 3] }), 'auto')]);
    equal(engine.stats().pipelinesCompiled, before, 'pipelines compiled for a new size');
  });
});
