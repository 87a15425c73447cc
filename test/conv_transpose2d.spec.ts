// convTranspose2d and its gradients against the float64 reference (torch's conv_transpose2d
// semantics), on random shapes and options, plus the edges and the validation errors.
import {
  convTranspose2d, convTranspose2dGradInput, convTranspose2dGradWeight, conv2dGradBias,
  OptionError, ShapeError, type Engine,
} from '../src/index.js';
import { convTranspose2dGradInputWith, convTranspose2dWith } from '../src/ops/conv_transpose.js';
import { getEngine } from './setup.js';
import { throws } from './assert.js';
import * as ref from './reference.js';
import { checkAll, convTransposeCases, describeCase, randomPair, rngFor, type ConvTransposeCase, type Pending } from './conv_grad_cases.js';

const SEED = 20240611;
const CASES = 200;
/** Cases queued before one read-back: one submit each, and bounded memory. */
const CHUNK = 50;

function refOpts(c: ConvTransposeCase): ref.ConvTransposeOpts {
  return { stride: c.stride, pad: c.pad, dilation: c.dilation, groups: c.groups, outputPadding: c.outputPadding };
}

function apiOpts(c: ConvTransposeCase) {
  return { stride: c.stride, padding: c.padding, dilation: c.dilation, groups: c.groups, outputPadding: c.outputPadding };
}

function inputShape(c: ConvTransposeCase): number[] { return [c.N, c.Cin, c.H, c.W]; }
function weightShape(c: ConvTransposeCase): number[] { return [c.Cin, c.Cout / c.groups, c.kH, c.kW]; }
function outputShape(c: ConvTransposeCase): number[] { return [c.N, c.Cout, c.outH, c.outW]; }

async function runCases(cases: ConvTransposeCase[], queue: (c: ConvTransposeCase, rng: () => number) => Pending): Promise<void> {
  for (let i = 0; i < cases.length; i += CHUNK) {
    await checkAll(cases.slice(i, i + CHUNK).map((c) => queue(c, rngFor(c.seed))));
  }
}

describe('convTranspose2d: forward and gradients vs the float64 reference', () => {
  let engine: Engine;
  const cases = convTransposeCases(CASES, SEED);
  before(async () => {
    engine = await getEngine();
    console.log(`      fast-check seed ${SEED}: ${cases.length} configurations per op`);
  });

  it(`convTranspose2d on ${CASES} random configurations (groups, depthwise, stride, dilation, padding, outputPadding)`, async () => {
    await runCases(cases, (c, rng) => {
      const x = randomPair(engine, inputShape(c), rng);
      const w = randomPair(engine, weightShape(c), rng);
      const b = rng() < 0.5 ? randomPair(engine, [c.Cout], rng) : null;
      return {
        what: `convTranspose2d ${describeCase(c)} bias ${b !== null}`,
        got: convTranspose2d(x.gpu, w.gpu, b?.gpu ?? null, apiOpts(c)),
        expected: () => ref.convTranspose2d(x.ref, w.ref, b?.ref ?? null, refOpts(c)),
        owned: b ? [x.gpu, w.gpu, b.gpu] : [x.gpu, w.gpu],
      };
    });
  });

  it(`convTranspose2dGradInput on ${CASES} random configurations`, async () => {
    await runCases(cases, (c, rng) => {
      const dy = randomPair(engine, outputShape(c), rng);
      const w = randomPair(engine, weightShape(c), rng);
      return {
        what: `convTranspose2dGradInput ${describeCase(c)}`,
        got: convTranspose2dGradInput(dy.gpu, w.gpu, inputShape(c), apiOpts(c)),
        expected: () => ref.convTranspose2dGradInput(dy.ref, w.ref, inputShape(c), refOpts(c)),
        owned: [dy.gpu, w.gpu],
      };
    });
  });

  it(`convTranspose2dGradWeight on ${CASES} random configurations`, async () => {
    await runCases(cases, (c, rng) => {
      const dy = randomPair(engine, outputShape(c), rng);
      const x = randomPair(engine, inputShape(c), rng);
      return {
        what: `convTranspose2dGradWeight ${describeCase(c)}`,
        got: convTranspose2dGradWeight(dy.gpu, x.gpu, weightShape(c), apiOpts(c)),
        expected: () => ref.convTranspose2dGradWeight(dy.ref, x.ref, weightShape(c), refOpts(c)),
        owned: [dy.gpu, x.gpu],
      };
    });
  });

  it('the gather kernel itself on the configurations the forward conv kernels otherwise take', async () => {
    // Stride-1 transposed convs and uncropped grad-inputs run on conv2d's kernels by default.
    const strideOne = cases.filter((c) => c.stride[0] === 1 && c.stride[1] === 1);
    await runCases(strideOne, (c, rng) => {
      const x = randomPair(engine, inputShape(c), rng);
      const w = randomPair(engine, weightShape(c), rng);
      const b = randomPair(engine, [c.Cout], rng);
      return {
        what: `gather convTranspose2d ${describeCase(c)}`,
        got: convTranspose2dWith('gather', x.gpu, w.gpu, b.gpu, apiOpts(c)),
        expected: () => ref.convTranspose2d(x.ref, w.ref, b.ref, refOpts(c)),
        owned: [x.gpu, w.gpu, b.gpu],
      };
    });
    await runCases(cases.slice(0, 100), (c, rng) => {
      const dy = randomPair(engine, outputShape(c), rng);
      const w = randomPair(engine, weightShape(c), rng);
      return {
        what: `gather convTranspose2dGradInput ${describeCase(c)}`,
        got: convTranspose2dGradInputWith('gather', dy.gpu, w.gpu, inputShape(c), apiOpts(c)),
        expected: () => ref.convTranspose2dGradInput(dy.ref, w.ref, inputShape(c), refOpts(c)),
        owned: [dy.gpu, w.gpu],
      };
    });
  });

  it('the fully connected case (1x1 input, whole kernel in the output) and wide channel blocks', async () => {
    const named: ConvTransposeCase[] = [
      // 1x1 input: a matrix product with the weights as stored; 5 images (not a multiple of 4), 3·2·3 = 18 columns per group.
      { N: 5, Cin: 4, Cout: 6, H: 1, W: 1, kH: 2, kW: 3, stride: [2, 3], dilation: [1, 1], groups: 2, padding: 0, pad: [0, 0, 0, 0], outputPadding: [0, 0], outH: 2, outW: 3, seed: 31 },
      // 16 output channels per invocation, the last block partly past the group; stride 3 phases.
      { N: 2, Cin: 3, Cout: 30, H: 4, W: 5, kH: 3, kW: 2, stride: [3, 2], dilation: [1, 2], groups: 1, padding: [1, 0, 0, 1], pad: [1, 0, 0, 1], outputPadding: [1, 1], outH: 12, outW: 11, seed: 32 },
    ];
    const pending: Pending[] = [];
    for (const c of named) {
      const rng = rngFor(c.seed);
      const x = randomPair(engine, inputShape(c), rng);
      const w = randomPair(engine, weightShape(c), rng);
      const b = randomPair(engine, [c.Cout], rng);
      const dy = randomPair(engine, outputShape(c), rng);
      pending.push(
        { what: `forward ${describeCase(c)}`, got: convTranspose2d(x.gpu, w.gpu, b.gpu, apiOpts(c)), expected: () => ref.convTranspose2d(x.ref, w.ref, b.ref, refOpts(c)), owned: [] },
        { what: `grad-input ${describeCase(c)}`, got: convTranspose2dGradInput(dy.gpu, w.gpu, inputShape(c), apiOpts(c)), expected: () => ref.convTranspose2dGradInput(dy.ref, w.ref, inputShape(c), refOpts(c)), owned: [] },
        { what: `grad-weight ${describeCase(c)}`, got: convTranspose2dGradWeight(dy.gpu, x.gpu, weightShape(c), apiOpts(c)), expected: () => ref.convTranspose2dGradWeight(dy.ref, x.ref, weightShape(c), refOpts(c)), owned: [x.gpu, w.gpu, b.gpu, dy.gpu] },
      );
    }
    await checkAll(pending);
  });

  it('outputPadding >= stride (dilation > stride): grad-input crops the larger conv output', async () => {
    // stride 1, dilation 3, outputPadding 2: conv2d(dy) would have H + 2 rows; only H are the gradient.
    const c: ConvTransposeCase = {
      N: 2, Cin: 3, Cout: 4, H: 5, W: 6, kH: 3, kW: 2, stride: [1, 2], dilation: [3, 3], groups: 1,
      padding: [1, 0, 0, 2], pad: [1, 0, 0, 2], outputPadding: [2, 2], outH: 0, outW: 0, seed: 7,
    };
    c.outH = (c.H - 1) * 1 - 1 + 3 * 2 + 2 + 1;
    c.outW = (c.W - 1) * 2 - 2 + 3 * 1 + 2 + 1;
    const rng = rngFor(c.seed);
    const dy = randomPair(engine, outputShape(c), rng);
    const w = randomPair(engine, weightShape(c), rng);
    const x = randomPair(engine, inputShape(c), rng);
    await checkAll([
      {
        what: 'grad-input', got: convTranspose2dGradInput(dy.gpu, w.gpu, inputShape(c), apiOpts(c)),
        expected: () => ref.convTranspose2dGradInput(dy.ref, w.ref, inputShape(c), refOpts(c)), owned: [],
      },
      {
        what: 'grad-weight', got: convTranspose2dGradWeight(dy.gpu, x.gpu, weightShape(c), apiOpts(c)),
        expected: () => ref.convTranspose2dGradWeight(dy.ref, x.ref, weightShape(c), refOpts(c)), owned: [],
      },
      {
        what: 'forward', got: convTranspose2d(x.gpu, w.gpu, null, apiOpts(c)),
        expected: () => ref.convTranspose2d(x.ref, w.ref, null, refOpts(c)), owned: [dy.gpu, w.gpu, x.gpu],
      },
    ]);
  });

  it('its bias gradient is conv2dGradBias(dy)', async () => {
    const rng = rngFor(3);
    const dy = randomPair(engine, [2, 5, 9, 7], rng);
    await checkAll([{ what: 'bias', got: conv2dGradBias(dy.gpu), expected: () => ref.conv2dGradBias(dy.ref), owned: [dy.gpu] }]);
  });

  it('rejects bad options and shapes at call time', () => {
    const x = engine.zeros([1, 4, 5, 5]);
    const w = engine.zeros([4, 3, 3, 3]);
    const dy = engine.zeros([1, 6, 11, 11]);
    throws(() => convTranspose2d(x, w, null, { padding: 'same' as never }), /'same' is not supported/, OptionError);
    throws(() => convTranspose2d(x, w, null, { stride: 2, outputPadding: 2 }), /outputPadding 2 must be < max\(stride 2, dilation 1\)/, OptionError);
    throws(() => convTranspose2d(x, w, null, { stride: 2, dilation: 3, outputPadding: [0, 3] }), /outputPadding/, OptionError);
    throws(() => convTranspose2d(x, w, null, { strides: 2 } as never), /unknown option 'strides'/, OptionError);
    throws(() => convTranspose2d(x, w, null, { groups: 3 }), /groups 3/, ShapeError);
    throws(() => convTranspose2d(x, engine.zeros([3, 3, 3, 3])), /weight\[0\] = 3/, ShapeError);
    throws(() => convTranspose2d(x, w, engine.zeros([4])), /bias/, ShapeError);
    throws(() => convTranspose2d(x, w, null, { padding: 9 }), /crops away/, ShapeError);
    // Forward of [1,4,5,5] with w [4,3,3,3], stride 2: [1, 3, 11, 11]; dy has 6 channels.
    throws(() => convTranspose2dGradInput(dy, w, [1, 4, 5, 5], { stride: 2 }), /dy has shape \[1, 6, 11, 11\].*\[1, 3, 11, 11\]/, ShapeError);
    throws(() => convTranspose2dGradWeight(dy, x, [4, 3, 3, 3], { stride: 2 }), /dy has shape/, ShapeError);
    throws(() => convTranspose2dGradInput(engine.zeros([1, 3, 12, 11]), w, [1, 4, 5, 5], { stride: 2 }), /dy has shape/, ShapeError);
    throws(() => convTranspose2dGradInput(engine.tensor(new Int32Array(3 * 11 * 11), [1, 3, 11, 11]), w, [1, 4, 5, 5], { stride: 2 }), /'dy' must be float32/, OptionError);
    for (const t of [x, w, dy]) t.dispose();
  });
});
