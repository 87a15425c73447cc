// conv2dGradInput's GEMM + col2im route (src/ops/conv_grad_col2im.ts) against the float64
// reference: forced on random ungrouped undilated shapes (batch > 1, strides that do not divide,
// asymmetric padding larger than 1, kernels up to 6 wide), taken by 'auto' on the strided
// few-channel shapes it is for, and not taken beside them.
import fc from 'fast-check';
import type { Engine } from '../src/index.js';
import { conv2dGradInputWith, type Conv2dGradInputRoute } from '../src/ops/conv_grad.js';
import { col2imPreferred, type Col2imGeometry } from '../src/ops/conv_grad_col2im.js';
import { getEngine } from './setup.js';
import { equal, throws } from './assert.js';
import * as ref from './reference.js';
import { checkAll, describeCase, explicitCase, randomPair, rngFor, type ConvCase, type Pending } from './conv_grad_cases.js';

const SEED = 7_2026;

const convCase = explicitCase;


function geometry(c: ConvCase): Col2imGeometry {
  return {
    N: c.N, Cin: c.Cin, H: c.H, W: c.W, Cout: c.Cout, outH: c.outH, outW: c.outW, groups: c.groups, kH: c.kH, kW: c.kW,
    strideH: c.stride[0], strideW: c.stride[1], dilationH: c.dilation[0], dilationW: c.dilation[1], padTop: c.pad[0], padLeft: c.pad[1],
  };
}

const opts = (c: ConvCase) => ({ stride: c.stride, padding: c.padding, dilation: c.dilation, groups: c.groups });

function gradInputCase(engine: Engine, c: ConvCase, route: Conv2dGradInputRoute): Pending {
  const rng = rngFor(c.seed);
  const dy = randomPair(engine, [c.N, c.Cout, c.outH, c.outW], rng);
  const w = randomPair(engine, [c.Cout, c.Cin / c.groups, c.kH, c.kW], rng);
  const xShape = [c.N, c.Cin, c.H, c.W];
  return {
    what: `${route} grad-input ${describeCase(c)}`,
    got: conv2dGradInputWith(route, dy.gpu, w.gpu, xShape, opts(c)),
    expected: () => ref.conv2dGradInput(dy.ref, w.ref, xShape, { stride: c.stride, pad: c.pad, dilation: c.dilation, groups: c.groups }),
    owned: [dy.gpu, w.gpu],
  };
}

/** Ungrouped, undilated convs: kernels 1-6, strides 1-4, padding 0-3 a side, planes 1-24. */
function col2imCases(count: number, seed: number, maxCin = 6): ConvCase[] {
  const arb = fc.record({
    N: fc.integer({ min: 1, max: 3 }), Cin: fc.integer({ min: 1, max: maxCin }), Cout: fc.integer({ min: 1, max: 9 }),
    H: fc.integer({ min: 1, max: 24 }), W: fc.integer({ min: 1, max: 24 }),
    kH: fc.integer({ min: 1, max: 6 }), kW: fc.integer({ min: 1, max: 6 }),
    stride: fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 })),
    pad: fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 })),
    seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  }).filter((s) => s.kH <= s.H + s.pad[0] + s.pad[2] && s.kW <= s.W + s.pad[1] + s.pad[3]).map((s) =>
    convCase(s.N, s.Cin, s.Cout, s.H, s.W, s.kH, s.kW, 1, { stride: s.stride, pad: s.pad, seed: s.seed }));
  return fc.sample(arb, { seed, numRuns: count });
}

describe('conv2dGradInput col2im route', function () {
  this.timeout(120_000);
  let engine: Engine;
  before(async () => { engine = await getEngine(); });

  it('forced: random ungrouped undilated shapes (batch > 1, strides that do not divide, padding > 1)', async () => {
    await checkAll(col2imCases(40, SEED).map((c) => gradInputCase(engine, c, 'col2im')));
  });

  it('auto takes it on strided convs of <= 4 input channels (SwiftShader) and gets them right, AlexNet-like included', async () => {
    const cases = [
      ...col2imCases(30, SEED + 1, 4).filter((c) => c.stride[0] > 1 || c.stride[1] > 1),
      convCase(2, 3, 8, 51, 47, 11, 11, 1, { stride: [4, 4], seed: 1 }),
      convCase(1, 1, 5, 30, 33, 7, 5, 1, { stride: [3, 2], pad: [3, 2, 1, 0], seed: 2 }),
    ];
    const kind = engine.adapterInfo.kind;
    for (const c of cases) equal(col2imPreferred(geometry(c), kind), kind === 'swiftshader', describeCase(c));
    await checkAll(cases.map((c) => gradInputCase(engine, c, 'auto')));
  });

  it('not taken beside it (stride 1, 5 channels, groups, dilation, a GPU); forcing it on grouped or dilated convs throws', async () => {
    const cases = [
      convCase(2, 3, 8, 12, 12, 3, 3, 1, { pad: [1, 1, 1, 1] }),            // stride 1
      convCase(1, 5, 8, 12, 12, 3, 3, 1, { stride: [2, 2] }),               // 5 input channels
      convCase(2, 4, 8, 12, 12, 3, 3, 2, { stride: [2, 2] }),               // groups 2
      convCase(1, 3, 8, 12, 12, 3, 3, 1, { stride: [2, 2], dilation: [2, 1] }),
    ];
    for (const c of cases) equal(col2imPreferred(geometry(c), 'swiftshader'), false, describeCase(c));
    equal(col2imPreferred(geometry(convCase(1, 3, 8, 12, 12, 3, 3, 1, { stride: [2, 2] })), 'gpu'), false, 'gpu');
    await checkAll(cases.map((c) => gradInputCase(engine, c, 'auto')));
    for (const c of cases.slice(2)) {
      const dy = engine.zeros([c.N, c.Cout, c.outH, c.outW]);
      const w = engine.zeros([c.Cout, c.Cin / c.groups, c.kH, c.kW]);
      throws(() => conv2dGradInputWith('col2im', dy, w, [c.N, c.Cin, c.H, c.W], opts(c)), /ungrouped, undilated/);
      dy.dispose();
      w.dispose();
    }
  });
});
