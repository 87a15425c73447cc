// Global max / average / Lp pools and their gradients against the float64 reference: random
// shapes, 7×7 planes (ResNet's head), a 1024×1024 plane (split into chunks), ties across chunks.
import fc from 'fast-check';
import {
  globalAvgPool, globalAvgPoolGrad, globalLpPool, globalLpPoolGrad, globalMaxPool, globalMaxPoolGrad,
  globalMaxPoolWithIndices, OptionError, ShapeError, type Engine,
} from '../src/index.js';
import { globalPoolLanes } from '../src/ops/global_pool.js';
import { getEngine } from './setup.js';
import { deepEqual, ok, throws } from './assert.js';
import * as ref from './reference.js';
import { checkAll, checkCases, pairFrom, P_VALUES, randomPair, SEED, shapeOf, type Pending } from './pool_cases.js';

const CASES = 200;

interface GlobalCase { N: number; C: number; H: number; W: number; p: number; integers: boolean; seed: number }

function globalCases(count: number, seed: number): GlobalCase[] {
  // Planes up to 90×90 reach the chunked path (> 4096 elements) now and then.
  const side = fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 1, max: 20 }) }, { weight: 1, arbitrary: fc.integer({ min: 21, max: 90 }) });
  return fc.sample(fc.record({
    N: fc.integer({ min: 1, max: 3 }), C: fc.integer({ min: 1, max: 6 }), H: side, W: side,
    p: fc.constantFrom(...P_VALUES), integers: fc.boolean(), seed: fc.nat(),
  }), { seed, numRuns: count });
}

function describeGlobal(c: GlobalCase): string {
  return `[${shapeOf(c)}] p ${c.p}${c.integers ? ' integer values' : ''} seed ${c.seed}`;
}

/** Every global op and gradient on one input: values and indices of the max exact. */
function allGlobalChecks(engine: Engine, x: ReturnType<typeof randomPair>, p: number, rng: () => number, what: string): Pending[] {
  const shape = [...x.gpu.shape];
  const [N, C] = shape as [number, number];
  const dy = randomPair(engine, [N, C, 1, 1], rng);
  const refMax = ref.globalMaxPool(x.ref);
  const refLp = ref.globalLpPool(x.ref, p);
  const withIndices = globalMaxPoolWithIndices(x.gpu);
  const y = globalLpPool(x.gpu, p);
  return [
    { what: `globalMaxPool ${what}`, got: globalMaxPool(x.gpu), expected: () => refMax.output, exact: true, owned: [] },
    { what: `globalMaxPoolWithIndices values ${what}`, got: withIndices.output, expected: () => refMax.output, exact: true, owned: [] },
    { what: `globalMaxPoolWithIndices indices ${what}`, got: withIndices.indices, expected: () => refMax.indices, exact: true, owned: [] },
    { what: `globalAvgPool ${what}`, got: globalAvgPool(x.gpu), expected: () => ref.globalAvgPool(x.ref), owned: [] },
    { what: `globalLpPool p ${p} ${what}`, got: y, expected: () => refLp, owned: [] },
    { what: `globalMaxPoolGrad ${what}`, got: globalMaxPoolGrad(dy.gpu, x.gpu), expected: () => ref.globalMaxPoolGrad(dy.ref, x.ref), owned: [] },
    { what: `globalAvgPoolGrad ${what}`, got: globalAvgPoolGrad(dy.gpu, shape), expected: () => ref.globalAvgPoolGrad(dy.ref, shape), owned: [] },
    { what: `globalLpPoolGrad p ${p} ${what}`, got: globalLpPoolGrad(dy.gpu, x.gpu, y, p), expected: () => ref.globalLpPoolGrad(dy.ref, x.ref, refLp, p), owned: [x.gpu, dy.gpu, y] },
  ];
}

describe('global pools: forward and gradients vs the float64 reference', () => {
  let engine: Engine;
  before(async () => {
    engine = await getEngine();
    console.log(`      fast-check seed ${SEED}: ${CASES} configurations`);
  });

  it(`every global pool and gradient on ${CASES} random shapes (p = 1, 2, 3, 1.5; integer ties)`, async () => {
    await checkCases(globalCases(CASES, SEED + 10), (c, rng) =>
      allGlobalChecks(engine, randomPair(engine, shapeOf(c), rng, c.integers), c.p, rng, describeGlobal(c)));
  });

  it('the workgroup tree (what GPUs run; SwiftShader reduces a segment per lane) on 100 random shapes and a 1024×1024 plane', async () => {
    globalPoolLanes.mode = 'tree';
    try {
      await checkCases(globalCases(100, SEED + 11), (c, rng) =>
        allGlobalChecks(engine, randomPair(engine, shapeOf(c), rng, c.integers), c.p, rng, `tree lanes ${describeGlobal(c)}`));
      const rng = ref.makeRng(4096);
      await checkAll(allGlobalChecks(engine, randomPair(engine, [1, 1, 1024, 1024], rng, true), 1.5, rng, 'tree lanes [1, 1, 1024, 1024]'));
    } finally {
      globalPoolLanes.mode = 'auto';
    }
  });

  it('7×7 planes: [2, 512, 7, 7]', async () => {
    const rng = ref.makeRng(77);
    await checkAll(allGlobalChecks(engine, randomPair(engine, [2, 512, 7, 7], rng), 2, rng, '[2, 512, 7, 7]'));
  });

  it('a 1024×1024 plane, and three 300×300 planes (chunks merged in a second pass)', async () => {
    const rng = ref.makeRng(1024);
    const big = randomPair(engine, [1, 1, 1024, 1024], rng);
    await checkAll(allGlobalChecks(engine, big, 2, rng, '[1, 1, 1024, 1024]'));
    await checkAll(allGlobalChecks(engine, randomPair(engine, [1, 3, 300, 300], rng, true), 3, rng, '[1, 3, 300, 300] integers'));
  });

  it('ties across chunks go to the first maximum; a constant plane gives index 0', async () => {
    const values = new Float32Array(2 * 200 * 200).fill(-1);
    values[150 * 200 + 7] = 5;  // chunk 9 or so of plane 0
    values[190 * 200 + 3] = 5;
    values[40000 + 199 * 200 + 199] = 5;  // plane 1: the last element
    values[40000 + 5] = 5;
    const x = pairFrom(engine, [1, 2, 200, 200], values);
    const { output, indices } = globalMaxPoolWithIndices(x.gpu);
    deepEqual(Array.from(await output.read()), [5, 5]);
    deepEqual(Array.from(await indices.read()), [150 * 200 + 7, 5]);
    const flat = globalMaxPoolWithIndices(engine.tensor(new Float32Array(3 * 49).fill(2), [1, 3, 7, 7]));
    deepEqual(Array.from(await flat.indices.read()), [0, 0, 0]);
    [x.gpu, output, indices, flat.output, flat.indices].forEach((t) => t.dispose());
  });

  it('globalLpPool: an all-zero plane gives 0 and dx = 0 (no NaN); p = 50 on values ~10 is finite and matches', async () => {
    const values = new Float32Array(3 * 64).map((_, i) => (i < 64 ? 0 : 8 + (i % 7) * 0.5));
    const x = pairFrom(engine, [1, 3, 8, 8], values);
    const checks: Pending[] = [];
    for (const p of [2, 1, 3, 1.5, 50]) {
      const rng = ref.makeRng(p);
      const dy = randomPair(engine, [1, 3, 1, 1], rng);
      const y = globalLpPool(x.gpu, p);
      const yRef = ref.globalLpPool(x.ref, p);
      checks.push({ what: `globalLpPool p ${p}`, got: globalLpPool(x.gpu, p), expected: () => yRef, owned: [] });
      checks.push({ what: `globalLpPoolGrad p ${p}`, got: globalLpPoolGrad(dy.gpu, x.gpu, y, p), expected: () => ref.globalLpPoolGrad(dy.ref, x.ref, yRef, p), owned: [y, dy.gpu] });
    }
    await checkAll(checks);
    const big = pairFrom(engine, [1, 1, 100, 100], new Float32Array(10000).map((_, i) => 9 + (i % 13) * 0.1));
    await checkAll([{ what: 'globalLpPool p 50 chunked', got: globalLpPool(big.gpu, 50), expected: () => ref.globalLpPool(big.ref, 50), owned: [big.gpu] }]);
    x.gpu.dispose();
  });

  it('validation: rank, dtype, dy and y shapes, p', () => {
    const x = engine.zeros([2, 3, 4, 4]);
    throws(() => globalMaxPool(engine.zeros([3, 4, 4])), /rank 4/, ShapeError);
    throws(() => globalAvgPool(engine.tensor(new Int32Array(16), [1, 1, 4, 4])), /must be float32/, OptionError);
    throws(() => globalLpPool(x, 0), /p must be a finite number > 0/, OptionError);
    throws(() => globalLpPool(x, NaN), /p must be/, OptionError);
    throws(() => globalMaxPoolGrad(engine.zeros([2, 3, 1, 2]), x), /dy has shape/, ShapeError);
    throws(() => globalAvgPoolGrad(engine.zeros([2, 4, 1, 1]), [2, 3, 4, 4]), /dy has shape/, ShapeError);
    const dy = engine.zeros([2, 3, 1, 1]);
    throws(() => globalLpPoolGrad(dy, x, engine.zeros([2, 3]), 2), /y must have rank 4/, ShapeError);
    throws(() => globalLpPoolGrad(dy, x, dy, -2), /p must be/, OptionError);
    ok(true);
    [x, dy].forEach((t) => t.dispose());
  });
});
