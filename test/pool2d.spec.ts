// 2-D max / average / Lp pooling and channel Lp pooling against the float64 reference, on
// random configurations (fast-check, fixed seed), the lecture's named cases and the errors.
import {
  avgPool2d, channelLpPool, lpPool2d, maxPool2d, maxPool2dWithIndices, OptionError, ShapeError, type Engine,
} from '../src/index.js';
import { bucketBytes } from '../src/runtime/buffers.js';
import { avgPoolGeometry, lpPoolGeometry, maxPoolGeometry } from '../src/geometry.js';
import { POOL_MODE, usesFixedKernel, windows2d, type PoolWindows } from '../src/ops/pool.js';
import { getEngine } from './setup.js';
import { deepEqual, equal, ok, throws } from './assert.js';
import * as ref from './reference.js';
import {
  avgOpts, channelCases, channelOpts, checkAll, checkCases, describePool, lpOpts, maxOpts, pairFrom, poolCases,
  randomPair, refAvgOpts, refChannelOpts, refLpOpts, refMaxOpts, SEED, shapeOf, type Pending, type PoolCase,
} from './pool_cases.js';

const CASES = 200;
/** Fewer: each window-width pattern compiles its own pipelines. */
const VEC4_CASES = 100;
const FIXED_CASES = 60;

/** maxPool2d and both outputs of maxPool2dWithIndices on one case, exactly. */
function maxChecks(engine: Engine, c: PoolCase, rng: () => number): Pending[] {
  const x = randomPair(engine, shapeOf(c), rng, c.integers);
  const expected = ref.maxPool2d(x.ref, refMaxOpts(c));
  const both = maxPool2dWithIndices(x.gpu, maxOpts(c));
  const what = describePool(c);
  return [
    { what: `maxPool2d ${what}`, got: maxPool2d(x.gpu, maxOpts(c)), expected: () => expected.output, exact: true, owned: [] },
    { what: `maxPool2dWithIndices values ${what}`, got: both.output, expected: () => expected.output, exact: true, owned: [] },
    { what: `maxPool2dWithIndices indices ${what}`, got: both.indices, expected: () => expected.indices, exact: true, owned: [x.gpu] },
  ];
}

function avgChecks(engine: Engine, c: PoolCase, rng: () => number): Pending[] {
  const x = randomPair(engine, shapeOf(c), rng);
  return [{ what: `avgPool2d ${describePool(c)}`, got: avgPool2d(x.gpu, avgOpts(c)), expected: () => ref.avgPool2d(x.ref, refAvgOpts(c)), owned: [x.gpu] }];
}

function lpChecks(engine: Engine, c: PoolCase, rng: () => number): Pending[] {
  const x = randomPair(engine, shapeOf(c), rng);
  return [{ what: `lpPool2d ${describePool(c)}`, got: lpPool2d(x.gpu, lpOpts(c)), expected: () => ref.lpPool2d(x.ref, refLpOpts(c)), owned: [x.gpu] }];
}

describe('pool2d: forward ops vs the float64 reference', () => {
  let engine: Engine;
  before(async () => {
    engine = await getEngine();
    console.log(`      fast-check seed ${SEED}: ${CASES} configurations per pool family`);
  });

  it(`maxPool2d and maxPool2dWithIndices on ${CASES} configurations (dilation, asymmetric padding, ceil mode, integer ties): values and indices exact`, async () => {
    await checkCases(poolCases('max', CASES), (c, rng) => maxChecks(engine, c, rng));
  });

  it(`avgPool2d on ${CASES} configurations (countIncludePad both ways, ceil mode, divisorOverride)`, async () => {
    await checkCases(poolCases('avg', CASES), (c, rng) => avgChecks(engine, c, rng));
  });

  it(`lpPool2d on ${CASES} configurations (p = 1, 2, 3, 1.5)`, async () => {
    await checkCases(poolCases('lp', CASES), (c, rng) => lpChecks(engine, c, rng));
  });

  it(`max, avg and Lp pools on ${VEC4_CASES} configurations each of the vec4 kernels' widths (common window-width patterns)`, async () => {
    await checkCases(poolCases('max', VEC4_CASES, SEED + 20, true), (c, rng) => maxChecks(engine, c, rng));
    await checkCases(poolCases('avg', VEC4_CASES, SEED + 21, true), (c, rng) => avgChecks(engine, c, rng));
    await checkCases(poolCases('lp', VEC4_CASES, SEED + 22, true), (c, rng) => lpChecks(engine, c, rng));
  });

  it(`max, avg and Lp pools on ${FIXED_CASES} configurations each around the fixed-window kernels (2x2 stride 2, max 3x3 stride 2 pad 1), taken or not`, async () => {
    const taken = { yes: 0, no: 0 };
    const count = (w: PoolWindows, mode: number) => { taken[usesFixedKernel(w, mode) ? 'yes' : 'no']++; };
    await checkCases(poolCases('max', FIXED_CASES, SEED + 23, 'fixed'), (c, rng) => {
      count(windows2d(maxPoolGeometry(shapeOf(c), maxOpts(c))), POOL_MODE.max);
      return maxChecks(engine, c, rng);
    });
    await checkCases(poolCases('avg', FIXED_CASES, SEED + 24, 'fixed'), (c, rng) => {
      count(windows2d(avgPoolGeometry(shapeOf(c), avgOpts(c))), POOL_MODE.avg);
      return avgChecks(engine, c, rng);
    });
    await checkCases(poolCases('lp', FIXED_CASES, SEED + 25, 'fixed'), (c, rng) => {
      count(windows2d(lpPoolGeometry(shapeOf(c), lpOpts(c))), POOL_MODE.lp);
      return lpChecks(engine, c, rng);
    });
    ok(taken.yes >= 30 && taken.no >= 30, `fixed kernels taken ${taken.yes}, not taken ${taken.no}: both need coverage`);
  });

  it('fixed-window kernels: NaN wins the max (first NaN in row-major order for the index), ties keep the first maximum, Lp rescales huge and tiny values', async () => {
    const rng = ref.makeRng(77);
    const shape = [2, 3, 7, 16];
    const values = Float32Array.from({ length: ref.numel(shape) }, () => Math.floor(rng() * 3) - 1);
    for (let i = 0; i < values.length; i += 13) values[i] = NaN;
    const x = pairFrom(engine, shape, values);
    // Fixed kernels (2/2, 3/2 pad 1), the vec4 one (2/1) and the gathering one (3/3).
    for (const [kernel, stride] of [[2, 2], [3, 2], [2, 1], [3, 3]] as const) {
      const opts = { kernel, stride, padding: kernel === 3 ? 1 : 0 };
      const refOpts = { kernel: [kernel, kernel] as ref.Pair, stride: [stride, stride] as ref.Pair, pad: [opts.padding, opts.padding, opts.padding, opts.padding] as ref.Pad4 };
      equal(usesFixedKernel(windows2d(maxPoolGeometry(shape, opts)), POOL_MODE.max), stride === 2, `kernel ${kernel} stride ${stride}: the fixed kernel or not`);
      const expected = ref.maxPool2d(x.ref, refOpts);
      const both = maxPool2dWithIndices(x.gpu, opts);
      await checkAll([
        { what: `NaN max ${kernel}/${stride}`, got: maxPool2d(x.gpu, opts), expected: () => expected.output, exact: true, owned: [] },
        { what: `NaN max values ${kernel}/${stride}`, got: both.output, expected: () => expected.output, exact: true, owned: [] },
        { what: `NaN max indices ${kernel}/${stride}`, got: both.indices, expected: () => expected.indices, exact: true, owned: [] },
      ]);
    }
    x.gpu.dispose();
    const extreme = pairFrom(engine, [1, 1, 2, 16], Float32Array.from({ length: 32 }, (_, i) => (i % 3 === 0 ? 0 : (i % 2 ? 3e30 : 4e-30) * (1 + i / 8))));
    for (const p of [2, 3, 1.5, 1]) {
      ok(usesFixedKernel(windows2d(lpPoolGeometry(extreme.ref.shape, { kernel: 2, p })), POOL_MODE.lp));
      const got = lpPool2d(extreme.gpu, { kernel: 2, p });
      await checkAll([{ what: `lp extreme p ${p}`, got, expected: () => ref.lpPool2d(extreme.ref, { kernel: [2, 2], stride: [2, 2], pad: [0, 0, 0, 0], p }), owned: [] }]);
    }
    extreme.gpu.dispose();
  });

  it(`channelLpPool on ${CASES} configurations (size, stride, [begin, end] padding, p)`, async () => {
    await checkCases(channelCases(CASES), (c, rng) => {
      const x = randomPair(engine, shapeOf(c), rng);
      return [{
        what: `channelLpPool [${shapeOf(c)}] size ${c.size} stride ${c.stride} padding [${c.padding}] p ${c.p} seed ${c.seed}`,
        got: channelLpPool(x.gpu, channelOpts(c)), expected: () => ref.channelLpPool(x.ref, refChannelOpts(c)), owned: [x.gpu],
      }];
    });
  });
});

describe('pool2d: named cases', () => {
  let engine: Engine;
  before(async () => {
    engine = await getEngine();
  });

  it('the lecture: 224×224×64 max 2/2 -> 112×112×64, out = (W - F)/S + 1, and 3/2 -> (224 - 3)/2 + 1 = 111', async () => {
    const x = randomPair(engine, [1, 64, 224, 224], ref.makeRng(1));
    const y = maxPool2d(x.gpu, { kernel: 2, stride: 2 });
    deepEqual(y.shape, [1, 64, 112, 112]);
    await checkAll([{ what: 'max 2/2', got: y, expected: () => ref.maxPool2d(x.ref, { kernel: [2, 2], stride: [2, 2], pad: [0, 0, 0, 0] }).output, exact: true, owned: [] }]);
    const y3 = maxPool2d(x.gpu, { kernel: 3, stride: 2 });
    deepEqual(y3.shape, [1, 64, 111, 111]);
    y3.dispose();
    x.gpu.dispose();
  });

  it('pooling has zero parameters: an op allocates its output (and indices) only', async () => {
    const x = engine.tensor(new Float32Array(2 * 3 * 9 * 9).map((_, i) => Math.sin(i)), [2, 3, 9, 9]);
    await engine.flush();
    const outBytes = bucketBytes(2 * 3 * 4 * 4 * 4);
    for (const run of [
      () => [maxPool2d(x, { kernel: 3, stride: 2 })],
      () => [avgPool2d(x, { kernel: 3, stride: 2 })],
      () => [lpPool2d(x, { kernel: 3, stride: 2 })],
      () => Object.values(maxPool2dWithIndices(x, { kernel: 3, stride: 2 })),
    ]) {
      const before = engine.stats().liveBytes;
      const outs = run();
      equal(engine.stats().liveBytes - before, outBytes * outs.length, 'bytes allocated');
      outs.forEach((t) => t.dispose());
    }
    x.dispose();
  });

  it('ceil mode with and without padding, PyTorch divisors: hand-checked values', async () => {
    // x = 0..24 on a 5×5 plane; kernel 2, stride 2, ceil mode: 3×3 windows, the last row/col hang over.
    const x = engine.tensor(Float32Array.from({ length: 25 }, (_, i) => i), [1, 1, 5, 5]);
    const max = maxPool2d(x, { kernel: 2, stride: 2, ceilMode: true });
    deepEqual(Array.from(await max.read()), [6, 8, 9, 16, 18, 19, 21, 23, 24]);
    // count_include_pad never counts the overhang past the padding: the corner window is 1 element.
    const avg = avgPool2d(x, { kernel: 2, stride: 2, ceilMode: true });
    deepEqual(Array.from(await avg.read()), [3, 5, 6.5, 13, 15, 16.5, 20.5, 22.5, 24]);
    // padding 1 with ceil mode: out = ceil((5 + 2 - 2) / 2) + 1 = 4, the last window starts at 6 = 5 + 1: dropped -> 3.
    const padded = avgPool2d(x, { kernel: 2, stride: 2, padding: 1, ceilMode: true });
    deepEqual(padded.shape, [1, 1, 3, 3]);
    // Every window spans 2 padded rows and cols: the divisor is 4 even where it holds one input element.
    deepEqual(Array.from(await padded.read()), [0, 0.75, 1.75, 3.75, 9, 11, 8.75, 19, 21]);
    const noPad = avgPool2d(x, { kernel: 2, stride: 2, padding: 1, ceilMode: true, countIncludePad: false });
    deepEqual(Array.from(await noPad.read()), [0, 1.5, 3.5, 7.5, 9, 11, 17.5, 19, 21]);
    [x, max, avg, padded, noPad].forEach((t) => t.dispose());
  });

  it('ties go to the first maximum in row-major window order; 1×1 input; kernel = input', async () => {
    const x = engine.tensor([1, 3, 3, 0, 3, 2, 3, 3, 1], [1, 1, 3, 3]);
    const { output, indices } = maxPool2dWithIndices(x, { kernel: 2, stride: 1 });
    deepEqual(Array.from(await output.read()), [3, 3, 3, 3]);
    deepEqual(Array.from(await indices.read()), [1, 1, 4, 4]);
    const whole = maxPool2dWithIndices(x, { kernel: 3 });
    deepEqual(Array.from(await whole.indices.read()), [1]);
    const one = engine.tensor([-7], [1, 1, 1, 1]);
    const padded = maxPool2dWithIndices(one, { kernel: 3, stride: 1, padding: 1 });
    deepEqual(Array.from(await padded.output.read()), [-7], 'padding is -Infinity, not 0');
    deepEqual(Array.from(await padded.indices.read()), [0]);
    [x, output, indices, whole.output, whole.indices, one, padded.output, padded.indices].forEach((t) => t.dispose());
  });

  it('Lp: an all-zero window gives 0; p = 50 on values ~10 stays finite and matches; huge and tiny values do not overflow', async () => {
    const values = new Float32Array(2 * 16).map((_, i) => (i < 16 ? 0 : 8 + (i % 5)));
    const x = pairFrom(engine, [1, 2, 4, 4], values);
    for (const p of [2, 1, 3, 1.5, 50]) {
      const opts = { kernel: 2, p };
      await checkAll([{ what: `lp p ${p}`, got: lpPool2d(x.gpu, opts), expected: () => ref.lpPool2d(x.ref, { kernel: [2, 2], stride: [2, 2], pad: [0, 0, 0, 0], p }), owned: [] }]);
    }
    const extreme = pairFrom(engine, [1, 1, 2, 2], new Float32Array([3e30, -4e30, 3e-30, 4e-30]));
    for (const p of [2, 3, 1.5]) {
      const got = lpPool2d(extreme.gpu, { kernel: [1, 2], p });
      await checkAll([{ what: `lp extreme p ${p}`, got, expected: () => ref.lpPool2d(extreme.ref, { kernel: [1, 2], stride: [1, 2], pad: [0, 0, 0, 0], p }), owned: [] }]);
    }
    x.gpu.dispose();
    extreme.gpu.dispose();
  });

  it('avgPool2d with divisorOverride and lpPool2d with padding (padding adds nothing)', async () => {
    const x = randomPair(engine, [2, 3, 7, 6], ref.makeRng(5));
    await checkAll([
      { what: 'divisorOverride 5', got: avgPool2d(x.gpu, { kernel: [3, 2], stride: [2, 1], padding: [1, 1, 0, 1], divisorOverride: 5 }), expected: () => ref.avgPool2d(x.ref, { kernel: [3, 2], stride: [2, 1], pad: [1, 1, 0, 1], countIncludePad: true, divisorOverride: 5 }), owned: [] },
      { what: 'lp padded', got: lpPool2d(x.gpu, { kernel: 3, stride: 2, padding: 2, ceilMode: true, p: 3 }), expected: () => ref.lpPool2d(x.ref, { kernel: [3, 3], stride: [2, 2], pad: [2, 2, 2, 2], ceilMode: true, p: 3 }), owned: [x.gpu] },
    ]);
  });
});

describe('pool2d: validation', () => {
  let engine: Engine;
  before(async () => {
    engine = await getEngine();
  });

  it('rejects a window wholly in padding, a kernel larger than the padded input, p <= 0, unknown options', () => {
    const x = engine.zeros([1, 2, 5, 5]);
    throws(() => maxPool2d(x, { kernel: 2, padding: 2 }), /padding/, OptionError);
    throws(() => maxPool2d(x, { kernel: 7 }), /kernel height 7 is larger than the padded input/, ShapeError);
    throws(() => avgPool2d(x, { kernel: [2, 8], padding: 1 }), /kernel width 8/, ShapeError);
    throws(() => lpPool2d(x, { kernel: 2, p: 0 }), /p must be a finite number > 0, got 0/, OptionError);
    throws(() => lpPool2d(x, { kernel: 2, p: -1 }), /p must be/, OptionError);
    throws(() => lpPool2d(x, { kernel: 2, p: Infinity }), /p must be/, OptionError);
    throws(() => channelLpPool(x, { size: 2, p: 0 }), /p must be/, OptionError);
    throws(() => channelLpPool(x, { size: 3 }), /size 3 is larger than the padded channel count/, ShapeError);
    throws(() => channelLpPool(x, { size: 2, padding: [2, 0] }), /padding/, OptionError);
    throws(() => maxPool2d(x, { kernel: 2, strides: 2 } as never), /unknown option 'strides'/, OptionError);
    throws(() => avgPool2d(x, { kernel: 2, dilation: 2 } as never), /unknown option 'dilation'/, OptionError);
    throws(() => maxPool2d(engine.zeros([2, 5, 5]), { kernel: 2 }), /rank 4/, ShapeError);
    throws(() => maxPool2d(engine.tensor(new Int32Array(25), [1, 1, 5, 5]), { kernel: 2 }), /must be float32/, OptionError);
    ok(engine.stats().liveBytes > 0);
    x.dispose();
  });
});
