// conv2dGradWeight of a 1x1 stride-1 unpadded ungrouped conv on one image through conv2d's own
// forward (src/ops/conv_grad_pointwise.ts) against the float64 reference: random shapes it must
// take, and shapes beside it (batch 2, groups, stride, padding, planes over one running sum).
import fc from 'fast-check';
import type { Engine } from '../src/index.js';
import { conv2dGradWeightWith, type Conv2dGradWeightRoute } from '../src/ops/conv_grad.js';
import { gradWeightAsConvApplies } from '../src/ops/conv_grad_pointwise.js';
import { getEngine } from './setup.js';
import { equal, throws } from './assert.js';
import * as ref from './reference.js';
import { checkAll, describeCase, explicitCase, gradWeightGeometry, randomPair, rngFor, type ConvCase, type ExplicitCaseOptions, type Pending } from './conv_grad_cases.js';

const SEED = 8_2026;

/** A 1x1 conv case (the shapes this route is for). */
const convCase = (
  N: number, Cin: number, Cout: number, H: number, W: number, groups: number, o: ExplicitCaseOptions = {},
): ConvCase => explicitCase(N, Cin, Cout, H, W, 1, 1, groups, o);
const geometry = gradWeightGeometry;

const opts = (c: ConvCase) => ({ stride: c.stride, padding: c.padding, groups: c.groups });

function gradWeightCase(engine: Engine, c: ConvCase, route: Conv2dGradWeightRoute): Pending {
  const rng = rngFor(c.seed);
  const dy = randomPair(engine, [c.N, c.Cout, c.outH, c.outW], rng);
  const x = randomPair(engine, [c.N, c.Cin, c.H, c.W], rng);
  const weightShape = [c.Cout, c.Cin / c.groups, 1, 1];
  return {
    what: `${route} grad-weight ${describeCase(c)}`,
    got: conv2dGradWeightWith(route, dy.gpu, x.gpu, weightShape, opts(c)),
    expected: () => ref.conv2dGradWeight(dy.ref, x.ref, weightShape, { stride: c.stride, pad: c.pad, dilation: [1, 1], groups: c.groups }),
    owned: [dy.gpu, x.gpu],
  };
}

describe('conv2dGradWeight 1x1 through the forward', function () {
  this.timeout(120_000);
  let engine: Engine;
  before(async () => { engine = await getEngine(); });

  it('random single-image 1x1 shapes (channels off every block, odd planes), forced and auto', async () => {
    const arb = fc.record({
      Cin: fc.integer({ min: 1, max: 37 }), Cout: fc.integer({ min: 1, max: 29 }),
      H: fc.integer({ min: 1, max: 19 }), W: fc.integer({ min: 1, max: 19 }), seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
    }).map((s) => convCase(1, s.Cin, s.Cout, s.H, s.W, 1, { seed: s.seed }));
    const cases = [...fc.sample(arb, { seed: SEED, numRuns: 30 }), convCase(1, 40, 24, 28, 28, 1, { seed: 1 }), convCase(1, 3, 5, 90, 91, 1, { seed: 2 })];
    for (const c of cases) equal(gradWeightAsConvApplies(geometry(c)), true, describeCase(c));
    await checkAll([...cases.map((c) => gradWeightCase(engine, c, 'as-conv')), ...cases.map((c) => gradWeightCase(engine, c, 'auto'))]);
  });

  it('not taken beside it, and correct there; forcing it there throws', async () => {
    const cases = [
      convCase(2, 8, 5, 6, 6, 1),                            // batch 2
      convCase(1, 8, 6, 6, 6, 2),                            // groups 2
      convCase(1, 8, 5, 7, 6, 1, { stride: [2, 1] }),        // strided
      convCase(1, 8, 5, 6, 6, 1, { pad: [1, 0, 0, 1] }),     // padded
      convCase(1, 2, 3, 91, 91, 1, { seed: 3 }),             // 8281 pixels: over one running sum
    ];
    for (const c of cases) equal(gradWeightAsConvApplies(geometry(c)), false, describeCase(c));
    await checkAll(cases.map((c) => gradWeightCase(engine, c, 'auto')));
    const c = cases[0]!;
    const dy = engine.zeros([c.N, c.Cout, c.outH, c.outW]);
    const x = engine.zeros([c.N, c.Cin, c.H, c.W]);
    throws(() => conv2dGradWeightWith('as-conv', dy, x, [c.Cout, c.Cin, 1, 1], opts(c)), /one image/);
    dy.dispose();
    x.dispose();
  });
});
