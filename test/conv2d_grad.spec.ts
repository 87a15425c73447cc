// conv2d gradients (torch.nn.grad.conv2d_input / conv2d_weight, the bias sum) against the float64
// reference on random configurations; the split reduction of grad-weight; finite differences
// through the GPU forward; the lecture's gate patterns; validation errors.
import {
  conv2dGradBias, conv2dGradInput, conv2dGradWeight, reluGrad, OptionError, ShapeError, type Engine, type Tensor,
} from '../src/index.js';
import { conv2d } from '../src/ops/conv.js';
import { gradWeightPlan, SPLIT_MIN_REDUCTION } from '../src/ops/conv_weight_gemm.js';
import { conv2dGradInputWith } from '../src/ops/conv_grad.js';
import { getEngine } from './setup.js';
import { equal, ok, throws } from './assert.js';
import * as ref from './reference.js';
import { checkAll, convCases, describeCase, randomPair, rngFor, type ConvCase, type Pending } from './conv_grad_cases.js';

const SEED = 917_2024;
const CASES = 200;
const CHUNK = 50;

function refOpts(c: ConvCase): ref.ConvOpts {
  return { stride: c.stride, pad: c.pad, dilation: c.dilation, groups: c.groups };
}

function apiOpts(c: ConvCase) {
  return { stride: c.stride, padding: c.padding, dilation: c.dilation, groups: c.groups };
}

function inputShape(c: ConvCase): number[] { return [c.N, c.Cin, c.H, c.W]; }
function weightShape(c: ConvCase): number[] { return [c.Cout, c.Cin / c.groups, c.kH, c.kW]; }
function outputShape(c: ConvCase): number[] { return [c.N, c.Cout, c.outH, c.outW]; }

async function runCases(cases: ConvCase[], queue: (c: ConvCase, rng: () => number) => Pending): Promise<void> {
  for (let i = 0; i < cases.length; i += CHUNK) {
    await checkAll(cases.slice(i, i + CHUNK).map((c) => queue(c, rngFor(c.seed))));
  }
}

/** Σ dy ⊙ y in float64 over a read-back float32 output. */
async function lossOf(y: Tensor, dy: Float32Array): Promise<number> {
  const v = await y.read();
  y.dispose();
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]! * dy[i]!;
  return s;
}

describe('conv2d gradients vs the float64 reference', () => {
  let engine: Engine;
  const cases = convCases(CASES, SEED);
  before(async () => {
    engine = await getEngine();
    console.log(`      fast-check seed ${SEED}: ${cases.length} configurations per op`);
  });

  it(`conv2dGradInput on ${CASES} random configurations (groups, depthwise, stride, dilation, 'same', asymmetric padding)`, async () => {
    await runCases(cases, (c, rng) => {
      const dy = randomPair(engine, outputShape(c), rng);
      const w = randomPair(engine, weightShape(c), rng);
      return {
        what: `conv2dGradInput ${describeCase(c)}`,
        got: conv2dGradInput(dy.gpu, w.gpu, inputShape(c), apiOpts(c)),
        expected: () => ref.conv2dGradInput(dy.ref, w.ref, inputShape(c), refOpts(c)),
        owned: [dy.gpu, w.gpu],
      };
    });
  });

  it('conv2dGradInput through the gather kernel on the stride-1 configurations the forward conv kernels otherwise take', async () => {
    await runCases(cases.filter((c) => c.stride[0] === 1 && c.stride[1] === 1), (c, rng) => {
      const dy = randomPair(engine, outputShape(c), rng);
      const w = randomPair(engine, weightShape(c), rng);
      return {
        what: `gather conv2dGradInput ${describeCase(c)}`,
        got: conv2dGradInputWith('gather', dy.gpu, w.gpu, inputShape(c), apiOpts(c)),
        expected: () => ref.conv2dGradInput(dy.ref, w.ref, inputShape(c), refOpts(c)),
        owned: [dy.gpu, w.gpu],
      };
    });
  });

  it(`conv2dGradWeight on ${CASES} random configurations`, async () => {
    await runCases(cases, (c, rng) => {
      const dy = randomPair(engine, outputShape(c), rng);
      const x = randomPair(engine, inputShape(c), rng);
      return {
        what: `conv2dGradWeight ${describeCase(c)}`,
        got: conv2dGradWeight(dy.gpu, x.gpu, weightShape(c), apiOpts(c)),
        expected: () => ref.conv2dGradWeight(dy.ref, x.ref, weightShape(c), refOpts(c)),
        owned: [dy.gpu, x.gpu],
      };
    });
  });

  it(`conv2dGradBias on ${CASES} random dy shapes`, async () => {
    await runCases(cases, (c, rng) => {
      const dy = randomPair(engine, outputShape(c), rng);
      return { what: `conv2dGradBias dy [${outputShape(c)}]`, got: conv2dGradBias(dy.gpu), expected: () => ref.conv2dGradBias(dy.ref), owned: [dy.gpu] };
    });
  });

  it('grad-weight splits a long reduction across workgroups and adds the partial sums', async () => {
    const splitCases: ConvCase[] = [
      // 2 x 72 x 72 = 10368 products per weight, 2 -> 3 channels.
      { N: 2, Cin: 2, Cout: 3, H: 72, W: 72, kH: 3, kW: 3, stride: [1, 1], dilation: [1, 1], groups: 1, padding: 1, pad: [1, 1, 1, 1], outH: 72, outW: 72, seed: 11 },
      // 112 x 112 depthwise, multiplier 2, dilation 2, 'same'.
      { N: 1, Cin: 3, Cout: 6, H: 112, W: 112, kH: 3, kW: 3, stride: [1, 1], dilation: [2, 2], groups: 3, padding: 'same', pad: [2, 2, 2, 2], outH: 112, outW: 112, seed: 12 },
      // stride 2 with a leftover row and column: 3 x 50 x 60 rows of dy.
      { N: 3, Cin: 1, Cout: 2, H: 101, W: 121, kH: 4, kW: 2, stride: [2, 2], dilation: [1, 1], groups: 1, padding: [0, 1, 1, 0], pad: [0, 1, 1, 0], outH: 50, outW: 61, seed: 13 },
    ];
    const pending: Pending[] = splitCases.map((c) => {
      const plan = gradWeightPlan({
        N: c.N, aC: c.Cout, aH: c.outH, aW: c.outW, bC: c.Cin, bH: c.H, bW: c.W, groups: c.groups, kH: c.kH, kW: c.kW,
        strideH: c.stride[0], strideW: c.stride[1], dilationH: c.dilation[0], dilationW: c.dilation[1], padTop: c.pad[0], padLeft: c.pad[1],
      }, engine.adapterInfo.kind);
      ok(c.N * c.outH * c.outW >= SPLIT_MIN_REDUCTION, `${describeCase(c)}: reduction ${c.N * c.outH * c.outW} below the split threshold`);
      ok(plan.splits > 1, `${describeCase(c)}: expected a split reduction, got ${plan.splits} split`);
      const rng = rngFor(c.seed);
      const dy = randomPair(engine, outputShape(c), rng);
      const x = randomPair(engine, inputShape(c), rng);
      return {
        what: `split grad-weight (${plan.splits} splits) ${describeCase(c)}`,
        got: conv2dGradWeight(dy.gpu, x.gpu, weightShape(c), apiOpts(c)),
        expected: () => ref.conv2dGradWeight(dy.ref, x.ref, weightShape(c), refOpts(c)),
        owned: [dy.gpu, x.gpu],
      };
    });
    await checkAll(pending);
  });

  it('grad-weight with wide channel blocks (16 channels per invocation, the last block partly past the group; b as vec4)', async () => {
    const wide: ConvCase[] = [
      { N: 2, Cin: 5, Cout: 30, H: 9, W: 11, kH: 3, kW: 2, stride: [2, 1], dilation: [1, 2], groups: 1, padding: 1, pad: [1, 1, 1, 1], outH: 5, outW: 11, seed: 21 },
      // A 1-wide kernel at stride 1: b loads as aligned vec4.
      { N: 2, Cin: 9, Cout: 30, H: 7, W: 13, kH: 2, kW: 1, stride: [2, 1], dilation: [2, 1], groups: 1, padding: [1, 0, 0, 2], pad: [1, 0, 0, 2], outH: 3, outW: 15, seed: 22 },
      { N: 1, Cin: 12, Cout: 24, H: 10, W: 10, kH: 1, kW: 1, stride: [1, 1], dilation: [1, 1], groups: 2, padding: 0, pad: [0, 0, 0, 0], outH: 10, outW: 10, seed: 23 },
    ];
    await checkAll(wide.map((c) => {
      const rng = rngFor(c.seed);
      const dy = randomPair(engine, outputShape(c), rng);
      const x = randomPair(engine, inputShape(c), rng);
      return {
        what: `grad-weight ${describeCase(c)}`, got: conv2dGradWeight(dy.gpu, x.gpu, weightShape(c), apiOpts(c)),
        expected: () => ref.conv2dGradWeight(dy.ref, x.ref, weightShape(c), refOpts(c)), owned: [dy.gpu, x.gpu],
      };
    }));
  });

  it('grad-input and grad-weight of a fully connected conv (kernel = input), grad-input of a strided conv with wide channel blocks', async () => {
    const named: ConvCase[] = [
      { N: 5, Cin: 6, Cout: 9, H: 3, W: 4, kH: 3, kW: 4, stride: [2, 1], dilation: [1, 1], groups: 3, padding: 0, pad: [0, 0, 0, 0], outH: 1, outW: 1, seed: 41 },
      { N: 2, Cin: 30, Cout: 3, H: 11, W: 13, kH: 3, kW: 3, stride: [2, 3], dilation: [2, 1], groups: 1, padding: [2, 1, 0, 1], pad: [2, 1, 0, 1], outH: 5, outW: 5, seed: 42 },
    ];
    await checkAll(named.flatMap((c) => {
      const rng = rngFor(c.seed);
      const dy = randomPair(engine, outputShape(c), rng);
      const w = randomPair(engine, weightShape(c), rng);
      const x = randomPair(engine, inputShape(c), rng);
      return [{
        what: `grad-input ${describeCase(c)}`, got: conv2dGradInput(dy.gpu, w.gpu, inputShape(c), apiOpts(c)),
        expected: () => ref.conv2dGradInput(dy.ref, w.ref, inputShape(c), refOpts(c)), owned: [w.gpu],
      }, {
        what: `grad-weight ${describeCase(c)}`, got: conv2dGradWeight(dy.gpu, x.gpu, weightShape(c), apiOpts(c)),
        expected: () => ref.conv2dGradWeight(dy.ref, x.ref, weightShape(c), refOpts(c)), owned: [dy.gpu, x.gpu],
      }];
    }));
  });

  it('floor-mode leftovers: input rows and columns no window touched get exactly 0', async () => {
    // H 8, W 9, kernel 3, stride 2, no padding: windows cover rows 0..6 and columns 0..8; row 7 is left over.
    const dy = engine.tensor(Float32Array.from({ length: 2 * 3 * 3 * 4 }, (_, i) => Math.sin(i) + 2), [2, 3, 3, 4]);
    const w = engine.tensor(Float32Array.from({ length: 3 * 2 * 3 * 3 }, (_, i) => Math.cos(i) + 2), [3, 2, 3, 3]);
    const dx = await conv2dGradInput(dy, w, [2, 2, 8, 9], { stride: 2 }).read();
    for (let plane = 0; plane < 4; plane++) {
      for (let col = 0; col < 9; col++) equal(dx[plane * 72 + 7 * 9 + col], 0, `plane ${plane} row 7 col ${col}:`);
      ok(dx[plane * 72 + 6 * 9 + 8]! > 0, 'the last covered row is written');
    }
    dy.dispose();
    w.dispose();
  });

  it('dilation > 1 works for every gradient (TensorFlow.js refuses it)', async () => {
    const c: ConvCase = { N: 2, Cin: 4, Cout: 6, H: 13, W: 11, kH: 3, kW: 2, stride: [2, 1], dilation: [3, 2], groups: 2, padding: [2, 1, 0, 3], pad: [2, 1, 0, 3], outH: 5, outW: 13, seed: 5 };
    const rng = rngFor(c.seed);
    const dy = randomPair(engine, outputShape(c), rng);
    const w = randomPair(engine, weightShape(c), rng);
    const x = randomPair(engine, inputShape(c), rng);
    await checkAll([
      { what: 'grad-input', got: conv2dGradInput(dy.gpu, w.gpu, inputShape(c), apiOpts(c)), expected: () => ref.conv2dGradInput(dy.ref, w.ref, inputShape(c), refOpts(c)), owned: [] },
      { what: 'grad-weight', got: conv2dGradWeight(dy.gpu, x.gpu, weightShape(c), apiOpts(c)), expected: () => ref.conv2dGradWeight(dy.ref, x.ref, weightShape(c), refOpts(c)), owned: [dy.gpu, w.gpu, x.gpu] },
    ]);
  });

  it('match finite differences of L = Σ dy ⊙ conv2d(x, w, b) computed with the GPU forward (float32)', async () => {
    // Tiny and grouped, stride and dilation unequal. L is linear in each argument, so a coarse eps
    // is exact up to float32 rounding of the forward.
    const opts = { stride: [2, 1] as [number, number], padding: [1, 0, 0, 1] as [number, number, number, number], dilation: [1, 2] as [number, number], groups: 2 };
    const xShape = [1, 4, 5, 6];
    const wShape = [4, 2, 3, 2];
    const rng = rngFor(99);
    const values = (n: number) => Float32Array.from({ length: n }, () => rng() * 2 - 1);
    const xv = values(ref.numel(xShape));
    const wv = values(ref.numel(wShape));
    const bv = values(4);
    const x = engine.tensor(xv, xShape);
    const w = engine.tensor(wv, wShape);
    const b = engine.tensor(bv, [4]);
    const y0 = conv2d(x, w, b, opts);
    const yShape = [...y0.shape];
    y0.dispose();
    const dyv = values(ref.numel(yShape));
    const dy = engine.tensor(dyv, yShape);
    const grads = [conv2dGradInput(dy, w, xShape, opts), conv2dGradWeight(dy, x, wShape, opts), conv2dGradBias(dy)];
    const eps = 0.05;
    const args: [Float32Array, number[]][] = [[xv, xShape], [wv, wShape], [bv, [4]]];
    for (let which = 0; which < 3; which++) {
      const [base, shape] = args[which]!;
      // Queue every perturbed forward first, then read: one submit for the lot.
      const outputs: Tensor[] = [];
      for (let i = 0; i < base.length; i++) {
        for (const sign of [1, -1]) {
          const moved = base.slice();
          moved[i] = moved[i]! + sign * eps;
          const t = engine.tensor(moved, shape);
          outputs.push(conv2d(which === 0 ? t : x, which === 1 ? t : w, which === 2 ? t : b, opts));
          t.dispose();
        }
      }
      const numeric = new Float64Array(base.length);
      for (let i = 0; i < base.length; i++) {
        numeric[i] = ((await lossOf(outputs[2 * i]!, dyv)) - (await lossOf(outputs[2 * i + 1]!, dyv))) / (2 * eps);
      }
      const analytic = await grads[which]!.read();
      const message = ref.allClose(analytic, numeric, 2e-3, 2e-3);
      ok(message === null, `${['dx', 'dw', 'db'][which]} vs finite differences: ${message}`);
      ok(numeric.some((v) => Math.abs(v) > 0.1), 'the numeric gradient is not ~0');
    }
    for (const t of [x, w, b, dy, ...grads]) t.dispose();
  });
});

describe('conv2d gradients: the lecture\'s gate patterns', () => {
  let engine: Engine;
  before(async () => {
    engine = await getEngine();
  });

  it('add distributes: conv2dGradBias gives each bias the sum of its dy', async () => {
    // y = conv + b broadcast over N, H, W: each b[c] feeds every y[:, c] with weight 1.
    const dyv = Float32Array.from({ length: 2 * 3 * 2 * 2 }, (_, i) => (i % 7) - 3);
    const dy = engine.tensor(dyv, [2, 3, 2, 2]);
    const db = await conv2dGradBias(dy).read();
    for (let c = 0; c < 3; c++) {
      let sum = 0;
      for (let n = 0; n < 2; n++) for (let i = 0; i < 4; i++) sum += dyv[(n * 3 + c) * 4 + i]!;
      equal(db[c], sum, `db[${c}]`);
    }
    dy.dispose();
  });

  it('add distributes over large planes too (the workgroup tree; planes of whole vec4 and not)', async () => {
    const rng = rngFor(8);
    await checkAll([[2, 5, 37, 41], [3, 4, 20, 30], [1, 3, 64, 68]].map((shape) => {
      const dy = randomPair(engine, shape, rng);
      return { what: `bias of [${shape}]`, got: conv2dGradBias(dy.gpu), expected: () => ref.conv2dGradBias(dy.ref), owned: [dy.gpu] };
    }));
  });

  it('max routes: reluGrad passes dy where x > 0 and blocks it elsewhere', async () => {
    const xv = new Float32Array([-2, 0, 3, -0.5, 1e-3, 7]);
    const dyv = new Float32Array([10, 20, 30, 40, 50, 60]);
    const [x, dy] = [engine.tensor(xv, [1, 1, 2, 3]), engine.tensor(dyv, [1, 1, 2, 3])];
    const dx = await reluGrad(dy, x).read();
    equal(JSON.stringify(Array.from(dx)), JSON.stringify([0, 0, 30, 0, 50, 60]), 'routed');
    x.dispose();
    dy.dispose();
  });

  it('mul switches: a 1x1 conv on a 1x1 input has dw = dy·x and dx = dy·w', async () => {
    const rng = rngFor(4);
    for (let trial = 0; trial < 5; trial++) {
      const [xv, wv, dyv] = [Math.fround(rng() * 4 - 2), Math.fround(rng() * 4 - 2), Math.fround(rng() * 4 - 2)];
      const x = engine.tensor([xv], [1, 1, 1, 1]);
      const w = engine.tensor([wv], [1, 1, 1, 1]);
      const dy = engine.tensor([dyv], [1, 1, 1, 1]);
      const dw = await conv2dGradWeight(dy, x, [1, 1, 1, 1]).read();
      const dx = await conv2dGradInput(dy, w, [1, 1, 1, 1]).read();
      equal(dw[0], Math.fround(dyv * xv), 'dw = dy·x (the other input of the product)');
      equal(dx[0], Math.fround(dyv * wv), 'dx = dy·w');
      for (const t of [x, w, dy]) t.dispose();
    }
  });
});

describe('conv2d gradients: validation', () => {
  let engine: Engine;
  before(async () => {
    engine = await getEngine();
  });

  it('rejects a dy that is not the forward output, bad options and bad dtypes at call time', () => {
    const x = engine.zeros([2, 4, 9, 9]);
    const w = engine.zeros([6, 2, 3, 3]);
    const dy = engine.zeros([2, 6, 4, 4]); // forward with stride 2, groups 2: [2, 6, 4, 4]
    const opts = { stride: 2, groups: 2 };
    throws(() => conv2dGradInput(engine.zeros([2, 6, 5, 4]), w, [2, 4, 9, 9], opts), /dy has shape \[2, 6, 5, 4\], but the forward output .* is \[2, 6, 4, 4\]/, ShapeError);
    throws(() => conv2dGradWeight(engine.zeros([2, 5, 4, 4]), x, [6, 2, 3, 3], opts), /dy has shape/, ShapeError);
    throws(() => conv2dGradWeight(dy, x, [6, 4, 3, 3], opts), /weight\[1\] \* groups/, ShapeError);
    throws(() => conv2dGradInput(dy, w, [2, 4, 9, 9], { ...opts, activation: 'relu' }), /apply reluGrad to dy first/, OptionError);
    throws(() => conv2dGradInput(dy, w, [2, 4, 9, 9], { stride: 2, group: 2 } as never), /unknown option 'group'.*did you mean 'groups'/, OptionError);
    throws(() => conv2dGradInput(dy, w, [2, 4, 9], opts), /inputShape must have rank 4/, ShapeError);
    throws(() => conv2dGradInput(dy, w, [2, 4, 9, 9], { ...opts, dilation: 0 }), /dilation must be an integer >= 1/, OptionError);
    throws(() => conv2dGradBias(engine.zeros([6, 4, 4])), /dy must have rank 4/, ShapeError);
    throws(() => conv2dGradBias(engine.tensor(new Int32Array(4), [1, 4, 1, 1])), /'dy' must be float32/, OptionError);
    throws(() => conv2dGradWeight(dy, x, [6, 2, 3, 3], { ...opts, padding: 'sam' as never }), /padding must be/, OptionError);
    for (const t of [x, w, dy]) t.dispose();
  });
});
