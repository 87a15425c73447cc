// The weight gradient's specialised kernels against the float64 reference: the fully connected
// (kernel = input) outer product and the 1x1 pointwise GEMM, on random shapes each of them must
// take (batch > 1, groups, channel counts off their blocks, split reductions), shapes next to
// them that must go to the general GEMM, transposed convs, and no new pipeline for a new size.
import fc from 'fast-check';
import { convTranspose2dGradWeight, type Engine } from '../src/index.js';
import { conv2dGradWeightWith } from '../src/ops/conv_grad.js';
import { chooseGradWeightRoute } from '../src/ops/conv_weight_gemm.js';
import { getEngine } from './setup.js';
import { equal } from './assert.js';
import * as ref from './reference.js';
import { checkAll, describeCase, explicitCase, gradWeightGeometry, randomPair, rngFor, type ConvCase, type Pending } from './conv_grad_cases.js';

const SEED = 5_2026;

const convCase = explicitCase;



/** dw through `route` ('auto' included) against the reference. */
function gradWeightCase(engine: Engine, c: ConvCase, route: 'auto' | 'fc' | 'pointwise' | 'gemm'): Pending {
  const rng = rngFor(c.seed);
  const dy = randomPair(engine, [c.N, c.Cout, c.outH, c.outW], rng);
  const x = randomPair(engine, [c.N, c.Cin, c.H, c.W], rng);
  const weightShape = [c.Cout, c.Cin / c.groups, c.kH, c.kW];
  const opts = { stride: c.stride, padding: c.padding, dilation: c.dilation, groups: c.groups };
  return {
    what: `${route} grad-weight ${describeCase(c)}`,
    got: conv2dGradWeightWith(route, dy.gpu, x.gpu, weightShape, opts),
    expected: () => ref.conv2dGradWeight(dy.ref, x.ref, weightShape, { stride: c.stride, pad: c.pad, dilation: c.dilation, groups: c.groups }),
    owned: [dy.gpu, x.gpu],
  };
}

/** Fully connected convs: the kernel is the whole unpadded input, bPerGroup·kH·kW a multiple of 4. */
function fcCases(count: number, seed: number): ConvCase[] {
  const arb = fc.record({
    N: fc.integer({ min: 1, max: 4 }), groups: fc.integer({ min: 1, max: 3 }),
    cinPerGroup: fc.integer({ min: 1, max: 8 }), coutPerGroup: fc.integer({ min: 1, max: 11 }),
    kH: fc.integer({ min: 1, max: 4 }), kW: fc.integer({ min: 1, max: 4 }),
    stride: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
    seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  }).filter((s) => (s.cinPerGroup * s.kH * s.kW) % 4 === 0).map((s) =>
    convCase(s.N, s.groups * s.cinPerGroup, s.groups * s.coutPerGroup, s.kH, s.kW, s.kH, s.kW, s.groups, { stride: s.stride, seed: s.seed }));
  return fc.sample(arb, { seed, numRuns: count });
}

/** 1x1 stride-1 unpadded convs over planes of whole vec4 (H·W % 4 == 0). */
function pointwiseCases(count: number, seed: number): ConvCase[] {
  const arb = fc.record({
    N: fc.integer({ min: 1, max: 3 }), groups: fc.integer({ min: 1, max: 3 }),
    cinPerGroup: fc.integer({ min: 1, max: 11 }), coutPerGroup: fc.integer({ min: 1, max: 19 }),
    H: fc.integer({ min: 1, max: 12 }), W: fc.integer({ min: 1, max: 12 }),
    dilation: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
    seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  }).filter((s) => (s.H * s.W) % 4 === 0).map((s) =>
    convCase(s.N, s.groups * s.cinPerGroup, s.groups * s.coutPerGroup, s.H, s.W, 1, 1, s.groups, { dilation: s.dilation, seed: s.seed }));
  return fc.sample(arb, { seed, numRuns: count });
}

describe('conv2dGradWeight specialised kernels', function () {
  this.timeout(120_000);
  let engine: Engine;
  before(async () => { engine = await getEngine(); });

  it('fully connected (kernel = input): the fc kernel on random shapes, batch 1 and more, groups, channels off the block of 4', async () => {
    const cases = fcCases(40, SEED);
    for (const c of cases) equal(chooseGradWeightRoute(gradWeightGeometry(c)), 'fc', describeCase(c));
    await checkAll(cases.map((c) => gradWeightCase(engine, c, 'auto')));
  });

  it('fully connected: long rows (many invocations per 4 channels) and a partial last channel block', async () => {
    const cases = [
      convCase(1, 160, 42, 5, 5, 5, 5, 1, { seed: 1 }),   // 1000 quads a row over ~100 lanes: whole trips and a tail
      convCase(2, 160, 10, 5, 5, 5, 5, 2, { seed: 2 }),   // grouped, batch 2, 5 channels a group
      convCase(1, 4, 1, 1, 1, 1, 1, 1, { seed: 3 }),      // one quad, one channel
    ];
    await checkAll(cases.map((c) => gradWeightCase(engine, c, 'fc')));
  });

  it('pointwise (1x1, stride 1, unpadded): the GEMM along rows on random shapes, blocks of 4 and 8 channels, dilation ignored', async () => {
    const cases = pointwiseCases(40, SEED + 1);
    for (const c of cases) equal(chooseGradWeightRoute(gradWeightGeometry(c)), 'pointwise', describeCase(c));
    await checkAll(cases.map((c) => gradWeightCase(engine, c, 'auto')));
  });

  it('pointwise: reductions split across invocations (long planes, and few tiles to fill the device)', async () => {
    const cases = [
      convCase(3, 2, 3, 64, 48, 1, 1, 1, { seed: 4 }),    // 9216 products: split for length
      convCase(2, 6, 20, 16, 20, 1, 1, 2, { seed: 5 }),   // 6 tiles: split for fill
      convCase(1, 40, 24, 28, 28, 1, 1, 1, { seed: 6 }),  // L8-like, blocks of 8 x 4
    ];
    await checkAll(cases.map((c) => gradWeightCase(engine, c, 'pointwise')));
  });

  it('shapes beside the specialised kernels take the general GEMM and stay correct', async () => {
    const cases = [
      convCase(2, 8, 5, 6, 6, 1, 1, 1, { stride: [2, 1] }),           // 1x1 strided
      convCase(1, 8, 5, 6, 6, 1, 1, 1, { pad: [1, 0, 0, 1] }),        // 1x1 padded
      convCase(2, 8, 5, 3, 5, 1, 1, 1),                               // 1x1, 15 pixels a plane
      convCase(2, 3, 5, 1, 1, 1, 1, 1),                               // fully connected, K = 3
      convCase(1, 4, 5, 1, 1, 3, 3, 1, { pad: [1, 1, 1, 1] }),        // 1x1 output of a padded input
      convCase(2, 4, 3, 5, 5, 3, 3, 1, { dilation: [2, 2] }),         // 1x1 output of a dilated kernel
      convCase(1, 4, 3, 4, 4, 3, 3, 1, { stride: [2, 2] }),           // 1x1 output, window smaller than the input
    ];
    for (const c of cases) equal(chooseGradWeightRoute(gradWeightGeometry(c)), 'gemm', describeCase(c));
    await checkAll(cases.map((c) => gradWeightCase(engine, c, 'auto')));
  });

  it('the general GEMM agrees with the specialised kernels on their own shapes', async () => {
    const cases = [...fcCases(6, SEED + 2), ...pointwiseCases(6, SEED + 3)];
    await checkAll(cases.map((c) => gradWeightCase(engine, c, 'gemm')));
  });

  it('convTranspose2dGradWeight of a 1x1 input (fc) and of a 1x1 stride-1 transposed conv (pointwise)', async () => {
    const pending: Pending[] = [];
    // [x shape, weight shape, groups]
    const shapes: [number[], number[], number][] = [[[3, 6, 1, 1], [6, 4, 2, 3], 2], [[2, 9, 4, 5], [9, 7, 1, 1], 3]];
    for (const [xShape, wShape, groups] of shapes) {
      const opts = { stride: [1, 1] as [number, number], pad: [0, 0, 0, 0] as [number, number, number, number], dilation: [1, 1] as [number, number], groups };
      const rng = rngFor(xShape[0]! + wShape[0]!);
      const x = randomPair(engine, xShape, rng);
      const dy = randomPair(engine, ref.convTranspose2dOutputShape(xShape, wShape, opts), rng);
      pending.push({
        what: `convTranspose2dGradWeight x [${xShape}] w [${wShape}] groups ${groups}`,
        got: convTranspose2dGradWeight(dy.gpu, x.gpu, wShape, { groups }),
        expected: () => ref.convTranspose2dGradWeight(dy.ref, x.ref, wShape, opts),
        owned: [dy.gpu, x.gpu],
      });
    }
    await checkAll(pending);
  });

  it('a new image size or channel count compiles no new pipeline', async () => {
    const warm = [convCase(1, 16, 16, 8, 8, 1, 1, 1), convCase(1, 16, 16, 3, 3, 3, 3, 1), convCase(2, 16, 4, 8, 8, 1, 1, 1)];
    await checkAll(warm.map((c) => gradWeightCase(engine, c, 'auto')));
    const before = engine.stats().pipelinesCompiled;
    const next = [convCase(2, 24, 40, 12, 10, 1, 1, 1), convCase(3, 8, 12, 5, 5, 5, 5, 1), convCase(1, 12, 3, 16, 16, 1, 1, 1)];
    await checkAll(next.map((c) => gradWeightCase(engine, c, 'auto')));
    equal(engine.stats().pipelinesCompiled, before, 'pipelines compiled for new sizes');
  });
});
