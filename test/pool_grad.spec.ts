// Gradients of the 2-D pools and of channel Lp pooling: against the float64 reference gradients
// on random configurations, by finite differences of the GPU forward ops (float32), and the edges.
import {
  avgPool2d, avgPool2dGrad, channelLpPool, channelLpPoolGrad, lpPool2d, lpPool2dGrad, maxPool2d, maxPool2dGrad,
  maxPool2dWithIndices, OptionError, ShapeError, type Engine, type Tensor,
} from '../src/index.js';
import { bucketBytes } from '../src/runtime/buffers.js';
import { getEngine } from './setup.js';
import { deepEqual, equal, ok, throws } from './assert.js';
import * as ref from './reference.js';
import {
  avgOpts, channelCases, channelOpts, checkAll, checkCases, describePool, lpOpts, pairFrom, poolCases,
  randomPair, refAvgOpts, refChannelOpts, refLpOpts, refMaxOpts, SEED, shapeOf, type PoolCase,
} from './pool_cases.js';

const CASES = 200;
const FIXED_CASES = 60;

describe('pool grad: gradients vs the float64 reference gradients', () => {
  let engine: Engine;
  before(async () => {
    engine = await getEngine();
    console.log(`      fast-check seed ${SEED}: ${CASES} configurations per gradient`);
  });

  it(`maxPool2dGrad on ${CASES} configurations (overlapping windows, dilation, ceil mode, integer ties)`, async () => {
    await checkCases(poolCases('max', CASES, SEED + 1), (c, rng) => {
      const x = randomPair(engine, shapeOf(c), rng, c.integers);
      const forward = ref.maxPool2d(x.ref, refMaxOpts(c));
      const dy = randomPair(engine, forward.output.shape, rng);
      // The reference's indices (the forward spec checks the GPU's equal them): no forward pipelines here.
      const indices = engine.tensor(forward.indices.data, forward.indices.shape);
      return [{
        what: `maxPool2dGrad ${describePool(c)}`, got: maxPool2dGrad(dy.gpu, indices, shapeOf(c)),
        expected: () => ref.maxPool2dGrad(dy.ref, forward.indices, shapeOf(c)), owned: [x.gpu, dy.gpu, indices],
      }];
    });
  });

  it('maxPool2dGrad routes any index tensor: random indices, repeated and out of range (dropped)', async () => {
    await checkCases(poolCases('max', 60, SEED + 2), (c, rng) => {
      const out = ref.maxPool2d(ref.zeros(shapeOf(c)), refMaxOpts(c)).output.shape;
      const planeSize = c.H * c.W;
      const idx = Int32Array.from({ length: ref.numel(out) }, () => Math.floor(rng() * (planeSize + 6)) - 3);
      const indices = engine.tensor(idx, out);
      const dy = randomPair(engine, out, rng);
      return [{
        what: `maxPool2dGrad random indices ${describePool(c)}`, got: maxPool2dGrad(dy.gpu, indices, shapeOf(c)),
        expected: () => ref.maxPool2dGrad(dy.ref, { shape: out, data: idx }, shapeOf(c)), owned: [dy.gpu, indices],
      }];
    });
  });

  it(`avgPool2dGrad on ${CASES} configurations (countIncludePad, ceil mode, divisorOverride)`, async () => {
    await checkCases(poolCases('avg', CASES, SEED + 3), (c, rng) => {
      const outShape = ref.avgPool2d(ref.zeros(shapeOf(c)), refAvgOpts(c)).shape;
      const dy = randomPair(engine, outShape, rng);
      return [{
        what: `avgPool2dGrad ${describePool(c)}`, got: avgPool2dGrad(dy.gpu, shapeOf(c), avgOpts(c)),
        expected: () => ref.avgPool2dGrad(dy.ref, shapeOf(c), refAvgOpts(c)), owned: [dy.gpu],
      }];
    });
  });

  it(`lpPool2dGrad on ${CASES} configurations (p = 1, 2, 3, 1.5)`, async () => {
    await checkCases(poolCases('lp', CASES, SEED + 4), (c, rng) => {
      const x = randomPair(engine, shapeOf(c), rng);
      const yRef = ref.lpPool2d(x.ref, refLpOpts(c));
      const dy = randomPair(engine, yRef.shape, rng);
      const y = engine.tensor(Float32Array.from(yRef.data), yRef.shape);  // the forward has its own spec
      return [{
        what: `lpPool2dGrad ${describePool(c)}`, got: lpPool2dGrad(dy.gpu, x.gpu, y, lpOpts(c)),
        expected: () => ref.lpPool2dGrad(dy.ref, x.ref, yRef, refLpOpts(c)), owned: [x.gpu, dy.gpu, y],
      }];
    });
  });

  it(`max, avg and Lp gradients on ${FIXED_CASES} configurations each around the 2x2 stride 2 kernels (and max 3x3 stride 2 pad 1, which the 2x2 check must turn away)`, async () => {
    const taken = { yes: 0, no: 0 };
    const count = (c: PoolCase, outW: number) => { taken[c.kernel[0] === 2 && outW % 4 === 0 && c.W === 2 * outW ? 'yes' : 'no']++; };
    await checkCases(poolCases('max', FIXED_CASES, SEED + 6, 'fixed'), (c, rng) => {
      const x = randomPair(engine, shapeOf(c), rng, c.integers);
      const forward = ref.maxPool2d(x.ref, refMaxOpts(c));
      count(c, forward.output.shape[3]!);
      const dy = randomPair(engine, forward.output.shape, rng);
      const indices = engine.tensor(forward.indices.data, forward.indices.shape);
      return [{
        what: `maxPool2dGrad ${describePool(c)}`, got: maxPool2dGrad(dy.gpu, indices, shapeOf(c)),
        expected: () => ref.maxPool2dGrad(dy.ref, forward.indices, shapeOf(c)), owned: [x.gpu, dy.gpu, indices],
      }];
    });
    await checkCases(poolCases('avg', FIXED_CASES, SEED + 7, 'fixed'), (c, rng) => {
      const outShape = ref.avgPool2d(ref.zeros(shapeOf(c)), refAvgOpts(c)).shape;
      count(c, outShape[3]!);
      const dy = randomPair(engine, outShape, rng);
      return [{
        what: `avgPool2dGrad ${describePool(c)}`, got: avgPool2dGrad(dy.gpu, shapeOf(c), avgOpts(c)),
        expected: () => ref.avgPool2dGrad(dy.ref, shapeOf(c), refAvgOpts(c)), owned: [dy.gpu],
      }];
    });
    await checkCases(poolCases('lp', FIXED_CASES, SEED + 8, 'fixed'), (c, rng) => {
      const x = randomPair(engine, shapeOf(c), rng);
      const yRef = ref.lpPool2d(x.ref, refLpOpts(c));
      count(c, yRef.shape[3]!);
      const dy = randomPair(engine, yRef.shape, rng);
      const y = engine.tensor(Float32Array.from(yRef.data), yRef.shape);
      return [{
        what: `lpPool2dGrad ${describePool(c)}`, got: lpPool2dGrad(dy.gpu, x.gpu, y, lpOpts(c)),
        expected: () => ref.lpPool2dGrad(dy.ref, x.ref, yRef, refLpOpts(c)), owned: [x.gpu, dy.gpu, y],
      }];
    });
    ok(taken.yes >= 30 && taken.no >= 30, `2x2-shaped gradients ${taken.yes}, others ${taken.no}: both need coverage`);
  });

  it('maxPool2dGrad on 2x2-shaped tensors: indices outside their window (one bad index anywhere sends all through the router), out of range, repeated', async () => {
    const rng = ref.makeRng(91);
    const shape = [2, 3, 9, 16];
    const out = [2, 3, 4, 8];
    const x = randomPair(engine, shape, rng);
    const good = ref.maxPool2d(x.ref, { kernel: [2, 2], stride: [2, 2], pad: [0, 0, 0, 0] }).indices;
    const variants: [string, Int32Array][] = [['2x2 pool', Int32Array.from(good.data)]];
    for (const [what, at, value] of [['one index in a neighbour window', 77, 0], ['one index out of range', 150, 9 * 16], ['one negative index', 5, -1], ['a repeated pixel', 190, 0]] as const) {
      const idx = Int32Array.from(good.data);
      idx[at] = what === 'a repeated pixel' ? idx[at - 1]! : what === 'one index in a neighbour window' ? idx[at]! + 2 : value;
      variants.push([what, idx]);
    }
    const pending = variants.map(([what, idx]) => {
      const dy = randomPair(engine, out, rng);
      const indices = engine.tensor(idx, out);
      return { what, got: maxPool2dGrad(dy.gpu, indices, shape), expected: () => ref.maxPool2dGrad(dy.ref, { shape: out, data: idx }, shape), owned: [dy.gpu, indices] };
    });
    await checkAll(pending);
    x.gpu.dispose();
  });

  it('maxPool2dGrad around the 3x3 stride 2 pad 1 gather: GPU (hinted) and plain indices of 3/2/1 and of other windows with the same shapes, widths the gather does not take', async () => {
    const rng = ref.makeRng(93);
    const geometries: [number, number, boolean][] = [[3, 1, false], [3, 1, false], [3, 1, true], [2, 0, false], [1, 0, false], [4, 1, false], [5, 2, false]];
    let taken = 0;
    const pending = [];
    for (let i = 0; i < 36; i++) {
      const [k, pad, ceilMode] = geometries[i % geometries.length]!;
      const H = 2 + Math.floor(rng() * 15);
      const W = i % 4 === 3 ? 4 * (1 + Math.floor(rng() * 5)) + 2 * Math.floor(rng() * 2) + 1 : 8 * (1 + Math.floor(rng() * 3));
      const shape = [1 + Math.floor(rng() * 3), 1 + Math.floor(rng() * 4), H, W];
      const opts = { kernel: k, stride: 2, padding: pad, ceilMode };
      const x = randomPair(engine, shape, rng, i % 2 === 0);  // integers: ties pick the first maximum
      const forward = ref.maxPool2d(x.ref, { kernel: [k, k], stride: [2, 2], pad: [pad, pad, pad, pad], ceilMode });
      const out = forward.output.shape;
      if (k === 3 && W % 8 === 0 && W === 2 * out[3]!) taken++;
      const dy = randomPair(engine, out, rng);
      const hinted = maxPool2dWithIndices(x.gpu, opts);
      const plain = engine.tensor(forward.indices.data, out);
      const what = `maxPool2dGrad [${shape}] from kernel ${k} stride 2 padding ${pad}${ceilMode ? ' ceil' : ''}`;
      const expected = () => ref.maxPool2dGrad(dy.ref, forward.indices, shape);
      pending.push({ what: `${what} (GPU indices)`, got: maxPool2dGrad(dy.gpu, hinted.indices, shape), expected, owned: [x.gpu, hinted.output, hinted.indices] });
      pending.push({ what: `${what} (plain indices)`, got: maxPool2dGrad(dy.gpu, plain, shape), expected, owned: [dy.gpu, plain] });
    }
    ok(taken >= 6, `3x3 stride 2 pad 1 gradients the gather takes: ${taken}`);
    await checkAll(pending);
  });

  it('maxPool2dGrad on 3x3 stride 2 pad 1 shapes: indices outside their window (one sends all through the router), out of range, repeated', async () => {
    const rng = ref.makeRng(94);
    const opts = { kernel: 3, stride: 2, padding: 1 };
    const refOpts = { kernel: [3, 3] as [number, number], stride: [2, 2] as [number, number], pad: [1, 1, 1, 1] as ref.Pad4 };
    for (const H of [9, 10]) {
      const shape = [2, 3, H, 16];
      const x = randomPair(engine, shape, rng);
      const good = ref.maxPool2d(x.ref, refOpts).indices;
      const out = good.shape;
      const oh = 2;
      const at = (plane: number, row: number, col: number) => (plane * out[2]! + row) * out[3]! + col;
      // [what, which output, the index it gets]
      const bad: [string, number, number][] = [
        ['an index one column left of its window (an even pixel the next window\'s gather reads)', at(0, oh, 3), 2 * oh * 16 + 4],
        ['an index in a neighbour window', at(1, oh, 5), 2 * oh * 16 + 14],
        ['window 0\'s left column wraps to the row above', at(2, oh, 0), 2 * oh * 16 - 1],
        ['window 0\'s top row wraps to the plane end (row -1)', at(3, 0, 2), -16 + 4],
        ['the last window\'s row below the input', at(5, out[2]! - 1, 4), 2 * (out[2]! - 1) * 16 + 16 + 8],
        ['an index two rows down', at(4, oh, 6), (2 * oh + 2) * 16 + 12],
        ['a negative index', at(1, 0, 0), -1],
        ['the most negative index', at(1, 1, 1), -0x80000000],
        ['a repeated pixel', at(2, 3, 7), -2],
      ];
      const variants: [string, Int32Array][] = [['3x3 stride 2 pad 1 pool', Int32Array.from(good.data)]];
      for (const [what, where, value] of bad) {
        const idx = Int32Array.from(good.data);
        idx[where] = value === -2 ? idx[where - 1]! : value;
        variants.push([what, idx]);
      }
      const pending = variants.map(([what, idx]) => {
        const dy = randomPair(engine, out, rng);
        const indices = engine.tensor(idx, out);
        return { what: `H ${H}: ${what}`, got: maxPool2dGrad(dy.gpu, indices, shape), expected: () => ref.maxPool2dGrad(dy.ref, { shape: out, data: idx }, shape), owned: [dy.gpu, indices] };
      });
      // GPU indices of this pool carry the 3x3 hint: the gather must still see their values.
      const hinted = maxPool2dWithIndices(x.gpu, opts);
      const dy = randomPair(engine, out, rng);
      pending.push({ what: `H ${H}: hinted`, got: maxPool2dGrad(dy.gpu, hinted.indices, shape), expected: () => ref.maxPool2dGrad(dy.ref, good, shape), owned: [dy.gpu, hinted.output, hinted.indices, x.gpu] });
      await checkAll(pending);
    }
  });

  it(`channelLpPoolGrad on ${CASES} configurations`, async () => {
    await checkCases(channelCases(CASES, SEED + 5), (c, rng) => {
      const x = randomPair(engine, shapeOf(c), rng);
      const yRef = ref.channelLpPool(x.ref, refChannelOpts(c));
      const dy = randomPair(engine, yRef.shape, rng);
      const y = engine.tensor(Float32Array.from(yRef.data), yRef.shape);
      return [{
        what: `channelLpPoolGrad [${shapeOf(c)}] size ${c.size} stride ${c.stride} padding [${c.padding}] p ${c.p} seed ${c.seed}`,
        got: channelLpPoolGrad(dy.gpu, x.gpu, y, channelOpts(c)),
        expected: () => ref.channelLpPoolGrad(dy.ref, x.ref, yRef, refChannelOpts(c)), owned: [x.gpu, dy.gpu, y],
      }];
    });
  });
});

/**
 * Central differences of L(x) = Σ dy ⊙ forward(x) with the GPU forward op in float32: every
 * perturbed forward is queued, then all are read at once. Coarse eps, loose tolerance.
 */
async function finiteDifferences(engine: Engine, x: Float32Array, shape: number[], dy: Float32Array, forward: (x: Tensor) => Tensor, eps: number): Promise<Float64Array> {
  const outs: Tensor[] = [];
  const inputs: Tensor[] = [];
  for (let i = 0; i < x.length; i++) {
    for (const sign of [1, -1]) {
      const moved = x.slice();
      moved[i] = x[i]! + sign * eps;
      const t = engine.tensor(moved, shape);
      inputs.push(t);
      outs.push(forward(t));
    }
  }
  const values = await Promise.all(outs.map((t) => t.read()));
  const loss = (v: ArrayLike<number>) => ref.dot(dy, v);
  const g = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const step = Math.fround(x[i]! + eps) - Math.fround(x[i]! - eps);  // the float32 step actually taken
    g[i] = (loss(values[2 * i]!) - loss(values[2 * i + 1]!)) / step;
  }
  [...outs, ...inputs].forEach((t) => t.dispose());
  return g;
}

/** Distinct values with |v| in [0.3, 1.3], at least 0.05 apart: no ties, no kinks within eps. */
function spreadValues(n: number, rng: () => number): Float32Array {
  const order = Array.from({ length: n }, (_, i) => i).sort(() => rng() - 0.5);
  return Float32Array.from(order, (k) => (rng() < 0.5 ? -1 : 1) * (0.3 + k / n));
}

describe('pool grad: finite differences of the GPU forward ops', () => {
  let engine: Engine;
  before(async () => {
    engine = await getEngine();
  });

  const shape = [1, 2, 5, 4];
  const cases: { name: string; forward: (x: Tensor) => Tensor; grad: (dy: Tensor, x: Tensor) => Tensor }[] = [
    {
      name: 'maxPool2dGrad (3×2 kernel, stride 1×2, padding 1: overlapping)',
      forward: (x) => maxPool2d(x, { kernel: [3, 2], stride: [1, 2], padding: 1 }),
      grad: (dy, x) => {
        const { output, indices } = maxPool2dWithIndices(x, { kernel: [3, 2], stride: [1, 2], padding: 1 });
        output.dispose();
        return maxPool2dGrad(dy, indices, x.shape);
      },
    },
    {
      name: 'avgPool2dGrad (ceil mode, countIncludePad false)',
      forward: (x) => avgPool2d(x, { kernel: 2, stride: [2, 1], ceilMode: true, countIncludePad: false }),
      grad: (dy, x) => avgPool2dGrad(dy, x.shape, { kernel: 2, stride: [2, 1], ceilMode: true, countIncludePad: false }),
    },
    ...[2, 1, 3, 1.5].map((p) => ({
      name: `lpPool2dGrad p ${p} (3×3, stride 2, padding 1)`,
      forward: (x: Tensor) => lpPool2d(x, { kernel: 3, stride: 2, padding: 1, p }),
      grad: (dy: Tensor, x: Tensor) => lpPool2dGrad(dy, x, lpPool2d(x, { kernel: 3, stride: 2, padding: 1, p }), { kernel: 3, stride: 2, padding: 1, p }),
    })),
    {
      name: 'channelLpPoolGrad p 2 (size 2, padding [1, 0])',
      forward: (x) => channelLpPool(x, { size: 2, padding: [1, 0] }),
      grad: (dy, x) => channelLpPoolGrad(dy, x, channelLpPool(x, { size: 2, padding: [1, 0] }), { size: 2, padding: [1, 0] }),
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const rng = ref.makeRng(c.name.length);
      const xs = spreadValues(ref.numel(shape), rng);
      const x = engine.tensor(xs, shape);
      const y = c.forward(x);
      const dys = Float32Array.from({ length: y.size }, () => rng() * 2 - 1);
      const dy = engine.tensor(dys, [...y.shape]);
      const analytic = c.grad(dy, x);
      const numeric = await finiteDifferences(engine, xs, shape, dys, c.forward, 1e-2);
      const got = await analytic.read();
      ok(numeric.some((v) => Math.abs(v) > 0.1), 'the numeric gradient is not all ~0');
      const msg = ref.allClose(got, numeric, 2e-3, 2e-3);
      ok(msg === null, `${c.name} vs finite differences: ${msg}`);
      [x, y, dy, analytic].forEach((t) => t.dispose());
    });
  }
});

describe('pool grad: named cases and validation', () => {
  let engine: Engine;
  before(async () => {
    engine = await getEngine();
  });

  it('overlapping windows that all pick one pixel add up every dy (no lost updates)', async () => {
    const xs = new Float32Array(25).fill(0);
    xs[12] = 9;  // the centre of a 5×5 plane: the max of every 3×3 window, stride 1
    const x = engine.tensor(xs, [1, 1, 5, 5]);
    const { output, indices } = maxPool2dWithIndices(x, { kernel: 3, stride: 1 });
    deepEqual(Array.from(await indices.read()), new Array(9).fill(12));
    const dy = engine.tensor([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 1, 3, 3]);
    const before = engine.stats().liveBytes;
    const dx = maxPool2dGrad(dy, indices, [1, 1, 5, 5]);
    equal(engine.stats().liveBytes - before, bucketBytes(25 * 4), 'only dx stays allocated');
    const expected = new Array(25).fill(0);
    expected[12] = 45;
    deepEqual(Array.from(await dx.read()), expected);
    [x, output, indices, dy, dx].forEach((t) => t.dispose());
  });

  it('maxPool2dGrad with many planes (the routing tables merge runs of planes) and rows not a multiple of 4', async () => {
    const rng = ref.makeRng(70);
    for (const shape of [[2, 35, 6, 8], [1, 40, 9, 7]]) {
      const x = randomPair(engine, shape, rng, true);
      const opts = { kernel: [3, 2] as [number, number], stride: [2, 1] as [number, number], padding: [1, 0, 1, 1] as [number, number, number, number] };
      const forward = ref.maxPool2d(x.ref, { kernel: [3, 2], stride: [2, 1], pad: [1, 0, 1, 1] });
      const dy = randomPair(engine, forward.output.shape, rng);
      const { output, indices } = maxPool2dWithIndices(x.gpu, opts);
      await checkAll([{ what: `maxPool2dGrad [${shape}]`, got: maxPool2dGrad(dy.gpu, indices, shape), expected: () => ref.maxPool2dGrad(dy.ref, forward.indices, shape), owned: [x.gpu, dy.gpu, output, indices] }]);
    }
  });

  it('Lp gradients: an all-zero window gives dx = 0 (no NaN); p = 50 on values ~10 is finite and matches', async () => {
    const values = new Float32Array(32).map((_, i) => (i < 16 ? 0 : 8 + (i % 5)));
    const x = pairFrom(engine, [1, 2, 4, 4], values);
    const checks = [];
    for (const p of [2, 1, 3, 1.5, 0.5, 50]) {
      const opts = { kernel: 2, p };
      const refOpts = { kernel: [2, 2] as [number, number], stride: [2, 2] as [number, number], pad: [0, 0, 0, 0] as ref.Pad4, p };
      const y = lpPool2d(x.gpu, opts);
      const yRef = ref.lpPool2d(x.ref, refOpts);
      const dy = randomPair(engine, [1, 2, 2, 2], ref.makeRng(p * 10));
      const dx = lpPool2dGrad(dy.gpu, x.gpu, y, opts);
      checks.push({ what: `lp grad p ${p}`, got: dx, expected: () => ref.lpPool2dGrad(dy.ref, x.ref, yRef, refOpts), owned: [y, dy.gpu] });
    }
    await checkAll(checks);
    const zeros = engine.zeros([1, 3, 4, 4]);
    const cy = channelLpPool(zeros, { size: 2 });
    const cdx = channelLpPoolGrad(engine.tensor(new Float32Array(32).fill(1), [1, 2, 4, 4]), zeros, cy, { size: 2 });
    deepEqual(Array.from(await cdx.read()), new Array(48).fill(0), 'channel pool of zeros');
    [x.gpu, zeros, cy, cdx].forEach((t) => t.dispose());
  });

  it('rejects a bad indices tensor, a dy or y of the wrong shape, p <= 0', () => {
    const dy = engine.zeros([1, 2, 2, 2]);
    const idx = engine.tensor(new Int32Array(8), [1, 2, 2, 2]);
    throws(() => maxPool2dGrad(dy, engine.zeros([1, 2, 2, 2]), [1, 2, 4, 4]), /'indices' must be int32, got float32/, OptionError);
    throws(() => maxPool2dGrad(dy, engine.tensor(new Int32Array(4), [1, 1, 2, 2]), [1, 2, 4, 4]), /indices/, ShapeError);
    throws(() => maxPool2dGrad(dy, engine.tensor(new Int32Array(8), [8]), [1, 2, 4, 4]), /indices/, ShapeError);
    throws(() => maxPool2dGrad(dy, idx, [1, 3, 4, 4]), /agree on N and C/, ShapeError);
    throws(() => maxPool2dGrad(dy, idx, [1, 2, 4]), /inputShape/, ShapeError);
    throws(() => avgPool2dGrad(dy, [1, 2, 5, 5], { kernel: 3 }), /dy has shape \[1, 2, 2, 2\], but the forward output/, ShapeError);
    const x = engine.zeros([1, 2, 4, 4]);
    throws(() => lpPool2dGrad(dy, x, engine.zeros([1, 2, 1, 1]), { kernel: 2 }), /y has shape/, ShapeError);
    throws(() => lpPool2dGrad(dy, x, dy, { kernel: 2, p: 0 }), /p must be/, OptionError);
    throws(() => channelLpPoolGrad(dy, x, dy, { size: 2 }), /dy has shape/, ShapeError);
    [dy, idx, x].forEach((t) => t.dispose());
  });
});
