// The column-lane gather (shaders/conv_transpose2d_columns.wgsl): conv2dGradInput, convTranspose2d
// and convTranspose2dGradInput forced onto it on random configurations (every option: it must be
// exact wherever it is called), the layers the dispatcher sends to it, and where it must not.
import type { Engine } from '../src/index.js';
import { conv2dGradInputWith } from '../src/ops/conv_grad.js';
import { convTranspose2dGradInputWith, convTranspose2dWith } from '../src/ops/conv_transpose.js';
import { COLUMNS_MAX_OUT, COLUMNS_MIN_IN, prefersColumns, tapWindow, type GatherGeometry } from '../src/ops/conv_gather.js';
import { getEngine } from './setup.js';
import { equal, ok } from './assert.js';
import * as ref from './reference.js';
import {
  checkAll, convCases, convTransposeCases, describeCase, randomPair, rngFor, type ConvCase, type ConvTransposeCase, type Pending,
} from './conv_grad_cases.js';

const SEED = 5_2026;
const CHUNK = 40;

function refOpts(c: ConvCase): ref.ConvOpts {
  return { stride: c.stride, pad: c.pad, dilation: c.dilation, groups: c.groups };
}
function refTransposeOpts(c: ConvTransposeCase): ref.ConvTransposeOpts {
  return { ...refOpts({ ...c, padding: 0 }), outputPadding: c.outputPadding };
}
function convOpts(c: ConvCase) {
  return { stride: c.stride, padding: c.padding, dilation: c.dilation, groups: c.groups };
}
function transposeOpts(c: ConvTransposeCase) {
  return { stride: c.stride, padding: c.padding, dilation: c.dilation, groups: c.groups, outputPadding: c.outputPadding };
}
const inputShape = (c: ConvCase | ConvTransposeCase): number[] => [c.N, c.Cin, c.H, c.W];
const outputShape = (c: ConvCase | ConvTransposeCase): number[] => [c.N, c.Cout, c.outH, c.outW];
const convWeightShape = (c: ConvCase): number[] => [c.Cout, c.Cin / c.groups, c.kH, c.kW];
const transposeWeightShape = (c: ConvTransposeCase): number[] => [c.Cin, c.Cout / c.groups, c.kH, c.kW];

async function inChunks<C>(cases: C[], queue: (c: C) => Pending): Promise<void> {
  for (let i = 0; i < cases.length; i += CHUNK) await checkAll(cases.slice(i, i + CHUNK).map(queue));
}

function gradInputCase(engine: Engine, c: ConvCase, what: string): Pending {
  const rng = rngFor(c.seed);
  const dy = randomPair(engine, outputShape(c), rng);
  const w = randomPair(engine, convWeightShape(c), rng);
  return {
    what: `${what} ${describeCase(c)}`,
    got: conv2dGradInputWith('columns', dy.gpu, w.gpu, inputShape(c), convOpts(c)),
    expected: () => ref.conv2dGradInput(dy.ref, w.ref, inputShape(c), refOpts(c)),
    owned: [dy.gpu, w.gpu],
  };
}

/** A conv case with every field derived from the shape and options given. */
function named(c: Omit<ConvCase, 'outH' | 'outW' | 'pad' | 'padding'> & { pad: [number, number, number, number] }): ConvCase {
  const outH = Math.floor((c.H + c.pad[0] + c.pad[2] - c.dilation[0] * (c.kH - 1) - 1) / c.stride[0]) + 1;
  const outW = Math.floor((c.W + c.pad[1] + c.pad[3] - c.dilation[1] * (c.kW - 1) - 1) / c.stride[1]) + 1;
  return { ...c, padding: c.pad, outH, outW };
}

describe('conv2dGradInput column kernel', () => {
  let engine: Engine;
  before(async () => {
    engine = await getEngine();
    console.log(`      fast-check seed ${SEED}`);
  });

  it('conv2dGradInput on 60 random configurations (groups, depthwise, stride, dilation, asymmetric padding, batch)', async () => {
    await inChunks(convCases(60, SEED), (c) => gradInputCase(engine, c, 'columns conv2dGradInput'));
  });

  it('convTranspose2d (with bias) and convTranspose2dGradInput on 40 random configurations', async () => {
    const cases = convTransposeCases(40, SEED + 1);
    await inChunks(cases, (c) => {
      const rng = rngFor(c.seed);
      const x = randomPair(engine, inputShape(c), rng);
      const w = randomPair(engine, transposeWeightShape(c), rng);
      const b = randomPair(engine, [c.Cout], rng);
      return {
        what: `columns convTranspose2d ${describeCase(c)}`,
        got: convTranspose2dWith('columns', x.gpu, w.gpu, b.gpu, transposeOpts(c)),
        expected: () => ref.convTranspose2d(x.ref, w.ref, b.ref, refTransposeOpts(c)),
        owned: [x.gpu, w.gpu, b.gpu],
      };
    });
    await inChunks(cases, (c) => {
      const rng = rngFor(c.seed + 1);
      const dy = randomPair(engine, outputShape(c), rng);
      const w = randomPair(engine, transposeWeightShape(c), rng);
      return {
        what: `columns convTranspose2dGradInput ${describeCase(c)}`,
        got: convTranspose2dGradInputWith('columns', dy.gpu, w.gpu, inputShape(c), transposeOpts(c)),
        expected: () => ref.convTranspose2dGradInput(dy.ref, w.ref, inputShape(c), refTransposeOpts(c)),
        owned: [dy.gpu, w.gpu],
      };
    });
  });

  it('the layers it is for: 3 output channels, windows of 1 to 3 taps, several column blocks, channel blocks of 3', async () => {
    const cases: ConvCase[] = [
      // L1-like: stride 1, k3 p1, 3 taps per window; 70 columns = 3 blocks of 32, the last partial; batch 2.
      named({ N: 2, Cin: 3, Cout: 8, H: 9, W: 70, kH: 3, kW: 3, stride: [1, 1], dilation: [1, 1], groups: 1, pad: [1, 1, 1, 1], seed: 51 }),
      // L5-like: k11 stride 4 (phases of 3 and 2 taps), unpadded, leftover rows and columns no tap reaches.
      named({ N: 1, Cin: 3, Cout: 6, H: 31, W: 39, kH: 11, kW: 11, stride: [4, 4], dilation: [1, 1], groups: 1, pad: [0, 0, 0, 0], seed: 52 }),
      // k9 stride 2: phases of 5 and 4 taps, windows of 3 + 2 and 3 + 1; asymmetric padding.
      named({ N: 1, Cin: 2, Cout: 5, H: 20, W: 41, kH: 3, kW: 9, stride: [1, 2], dilation: [1, 1], groups: 1, pad: [0, 3, 2, 1], seed: 53 }),
      // Dilation 2 dividing stride 4: taps one column apart (a window); dilation 3 with stride 2: one tap per window.
      named({ N: 1, Cin: 3, Cout: 4, H: 25, W: 45, kH: 3, kW: 5, stride: [4, 4], dilation: [2, 2], groups: 1, pad: [2, 2, 1, 1], seed: 54 }),
      named({ N: 2, Cin: 2, Cout: 5, H: 17, W: 23, kH: 2, kW: 4, stride: [2, 2], dilation: [3, 3], groups: 1, pad: [1, 2, 0, 1], seed: 55 }),
      // 6 and 7 output channels per group: blocks of 3 and of 4 + 3; 2 groups.
      named({ N: 1, Cin: 12, Cout: 10, H: 12, W: 35, kH: 3, kW: 3, stride: [2, 1], dilation: [1, 1], groups: 2, pad: [1, 1, 1, 1], seed: 56 }),
      named({ N: 1, Cin: 7, Cout: 9, H: 10, W: 33, kH: 2, kW: 3, stride: [1, 1], dilation: [1, 2], groups: 1, pad: [0, 1, 1, 0], seed: 57 }),
    ];
    await checkAll(cases.map((c) => gradInputCase(engine, c, 'named columns conv2dGradInput')));
  });

  it('an Inf in dy reaches only the outputs its taps reach (the windows share loads, not terms)', async () => {
    const c = named({ N: 1, Cin: 3, Cout: 8, H: 6, W: 40, kH: 3, kW: 3, stride: [1, 1], dilation: [1, 1], groups: 1, pad: [1, 1, 1, 1], seed: 58 });
    const rng = rngFor(c.seed);
    const dyValues = Float32Array.from(ref.randomArray(outputShape(c), rng).data);
    dyValues[2 * c.outW + 17] = Infinity;
    const dy = ref.fromValues(outputShape(c), dyValues);
    const w = randomPair(engine, convWeightShape(c), rng);
    const dyGpu = engine.tensor(dyValues, outputShape(c));
    const expected = ref.conv2dGradInput(dy, w.ref, inputShape(c), refOpts(c));
    ok(Array.from(expected.data).some((v) => Number.isFinite(v)) && Array.from(expected.data).some((v) => !Number.isFinite(v)), 'the case mixes finite and non-finite outputs');
    await checkAll([{
      what: `Inf in dy ${describeCase(c)}`, got: conv2dGradInputWith('columns', dyGpu, w.gpu, inputShape(c), convOpts(c)),
      expected: () => expected, owned: [dyGpu, w.gpu],
    }]);
  });

  it('the dispatcher takes it for few output channels per group on SwiftShader, and only there', () => {
    const base: GatherGeometry = {
      mode: 'transposed', N: 1, inC: 64, inH: 224, inW: 224, outC: 3, outH: 224, outW: 224, groups: 1, kH: 3, kW: 3,
      strideH: 1, strideW: 1, dilationH: 1, dilationW: 1, padTop: 1, padLeft: 1, padBottom: 0, padRight: 0,
    };
    ok(prefersColumns(base, true, 'swiftshader'), 'L1 grad-input (64 -> 3) on SwiftShader');
    ok(!prefersColumns(base, true, 'gpu'), 'L1 grad-input on a GPU keeps the tiled forward conv');
    ok(prefersColumns({ ...base, strideH: 4, strideW: 4 }, false, 'gpu'), 'a strided 3-channel gather on a GPU');
    ok(!prefersColumns({ ...base, outC: COLUMNS_MAX_OUT + 1 }, true, 'swiftshader'), 'more output channels: channel lanes fill');
    ok(!prefersColumns({ ...base, inC: COLUMNS_MIN_IN - 1 }, true, 'swiftshader'), 'too few input channels to pay');
    ok(!prefersColumns({ ...base, inC: 32, outC: 32, groups: 32 }, false, 'swiftshader'), 'depthwise: one input channel per group');
    equal(tapWindow(base).windowTaps, 3, 'stride 1: taps one column apart share windows');
    equal(tapWindow({ ...base, strideW: 4, dilationW: 2 }).windowTaps, 3, 'dilation dividing the stride');
    equal(tapWindow({ ...base, strideW: 2, dilationW: 3 }).windowTaps, 1, 'dilation not dividing the stride');
    equal(tapWindow({ ...base, mode: 'conv', strideW: 2 }).windowTaps, 1, 'a strided plain conv reads strided columns');
  });

  it('a new image size compiles no pipeline', async () => {
    const run = async (H: number, W: number): Promise<void> => {
      const c = named({ N: 1, Cin: 3, Cout: 8, H, W, kH: 3, kW: 3, stride: [2, 2], dilation: [1, 1], groups: 1, pad: [1, 1, 1, 1], seed: H });
      await checkAll([gradInputCase(engine, c, 'size')]);
    };
    await run(9, 13);
    const before = engine.stats().pipelinesCompiled;
    await run(21, 70);
    await run(5, 3);
    equal(engine.stats().pipelinesCompiled, before, 'pipelines compiled for the later sizes');
  });
});
