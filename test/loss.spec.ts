import fc from 'fast-check';
import { Engine, OptionError, ShapeError, softmaxCrossEntropy } from '../src/index.js';
import * as ref from './reference.js';
import { getEngine } from './setup.js';
import { ok, equal, throws } from './assert.js';

const SEED = 7007;

function expectClose(got: ArrayLike<number>, exp: ArrayLike<number>, what: string): void {
  const problem = ref.allClose(got, exp);
  if (problem) throw new Error(`${what}: ${problem}`);
}

/** Labels in [0, K) with a fixed fraction out of range when `bad` > 0 (tensor labels only). */
function randomLabels(count: number, K: number, rng: () => number, bad = 0): Int32Array {
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    labels[i] = Math.floor(rng() * K);
    if (rng() < bad) labels[i] = rng() < 0.5 ? -1 - Math.floor(rng() * 5) : K + Math.floor(rng() * 1000);
  }
  return labels;
}

async function checkAgainstReference(engine: Engine, shape: number[], labels: Int32Array, logitsData: ref.RefArray, asTensor: boolean): Promise<void> {
  const logits = engine.tensor(Float32Array.from(logitsData.data), shape);
  // The reference sees the float32 logits the GPU sees.
  const exp = ref.softmaxCrossEntropy(ref.fromValues(shape, Float32Array.from(logitsData.data)), labels);
  const labelsShape = shape.length === 2 ? [shape[0]!] : [shape[0]!, shape[2]!, shape[3]!];
  const labelTensor = asTensor ? engine.tensor(labels, labelsShape) : null;
  const { loss, dLogits } = softmaxCrossEntropy(logits, labelTensor ?? labels);
  equal(loss.shape.join(), '1', 'loss shape');
  equal(dLogits.shape.join(), shape.join(), 'dLogits shape');
  const [gotLoss, gotGrad] = await Promise.all([loss.read(), dLogits.read()]);
  expectClose(gotLoss, [exp.loss], `loss for [${shape}]`);
  expectClose(gotGrad, exp.dLogits.data, `dLogits for [${shape}]`);
  [logits, loss, dLogits, labelTensor].forEach((t) => t?.dispose());
}

describe('loss: softmaxCrossEntropy', () => {
  let engine: Engine;
  before(async () => {
    engine = await getEngine();
  });

  it('matches the float64 reference on [N, K] and [N, K, H, W] (random shapes, labels as array or tensor)', async () => {
    await fc.assert(fc.asyncProperty(
      fc.integer({ min: 1, max: 7 }), fc.integer({ min: 1, max: 13 }), fc.integer({ min: 0, max: 9 }), fc.integer({ min: 1, max: 9 }),
      fc.boolean(), fc.boolean(), fc.integer({ min: 0, max: 2 ** 31 - 1 }),
      async (N, K, H, W, spatial, asTensor, seed) => {
        const rng = ref.makeRng(seed);
        const shape = spatial && H > 0 ? [N, K, H, W] : [N, K];
        const count = shape.length === 4 ? N * H * W : N;
        // Scale up so that some rows are confident (large gaps) and some nearly uniform.
        const logits = ref.randomArray(shape, rng, -8, 8);
        await checkAgainstReference(engine, shape, randomLabels(count, K, rng), logits, asTensor);
      }), { seed: SEED, numRuns: 25 });
  });

  it('stays finite and exact for huge and tiny logits (max-subtracted log-sum-exp)', async () => {
    const rng = ref.makeRng(11);
    const shape = [6, 5];
    const logits = ref.randomArray(shape, rng, -1, 1);
    for (let k = 0; k < 5; k++) {
      logits.data[k] = 1000 + k;       // overflow without the max shift
      logits.data[5 + k] = -1000 - k;  // underflow without it
      logits.data[10 + k] = 30 * k;    // very confident: the loss term for the argmax is tiny
    }
    await checkAgainstReference(engine, shape, Int32Array.from([4, 0, 4, 2, 1, 3]), logits, false);
  });

  it('a confident prediction keeps its tiny loss (log1p, not log(1 + x) in float32)', async () => {
    // loss = log(1 + 2e^-20) ≈ 4.1e-9 per row: 1 + 4e-9 rounds to 1 in float32.
    const logits = ref.fromValues([2, 3], [0, 0, 20, -20, 0, -20]);
    await checkAgainstReference(engine, [2, 3], Int32Array.from([2, 1]), logits, false);
  });

  it('many pixels (293 workgroups, their partial sums reduced) and over 256 classes', async () => {
    const rng = ref.makeRng(12);
    const bigPlane = [1, 3, 300, 250]; // 75000 pixels
    await checkAgainstReference(engine, bigPlane, randomLabels(75000, 3, rng), ref.randomArray(bigPlane, rng, -4, 4), true);
    const manyClasses = [3, 300];
    await checkAgainstReference(engine, manyClasses, randomLabels(3, 300, rng), ref.randomArray(manyClasses, rng, -4, 4), false);
  });

  it('out-of-range labels in a tensor: NaN loss, their gradient dropped, nothing out of bounds', async () => {
    const rng = ref.makeRng(13);
    const shape = [3, 4, 5, 6];
    const labels = randomLabels(3 * 5 * 6, 4, rng, 0.2);
    labels[0] = -1;
    labels[1] = 4;
    labels[2] = 2 ** 31 - 1;
    labels[3] = -(2 ** 31);
    const logits = ref.randomArray(shape, rng, -3, 3);
    await checkAgainstReference(engine, shape, labels, logits, true);
    // Each bad pixel's gradient is exactly zero, and the good ones' still match the reference (above).
    const logitsT = engine.tensor(Float32Array.from(logits.data), shape);
    const labelsT = engine.tensor(labels, [3, 5, 6]);
    const { loss, dLogits } = softmaxCrossEntropy(logitsT, labelsT);
    const [l, g] = await Promise.all([loss.read(), dLogits.read()]);
    ok(Number.isNaN(l[0]), `loss ${l[0]} should be NaN`);
    for (let k = 0; k < 4; k++) equal(g[k * 30], 0, `dLogits[0, ${k}, 0, 0]`);
    [logitsT, labelsT, loss, dLogits].forEach((t) => t.dispose());
  });

  it('rejects bad Int32Array labels, shapes and dtypes at call time', () => {
    const logits = engine.tensor(new Float32Array(2 * 3 * 2 * 2), [2, 3, 2, 2]);
    throws(() => softmaxCrossEntropy(logits, Int32Array.from([0, 1, 2, 3, 0, 0, 0, 0])), /labels\[3\] = 3 is out of range.*\[0, 2\]/, OptionError);
    throws(() => softmaxCrossEntropy(logits, Int32Array.from([0, 1, 2, 0, 0, 0, 0, -1])), /labels\[7\] = -1/, OptionError);
    throws(() => softmaxCrossEntropy(logits, new Int32Array(7)), /7 values.*need 8/, ShapeError);
    const wrongShape = engine.tensor(new Int32Array(8), [2, 4]);
    throws(() => softmaxCrossEntropy(logits, wrongShape), /labels has shape \[2, 4\].*\[2, 2, 2\]/, ShapeError);
    const floatLabels = engine.tensor(new Float32Array(8), [2, 2, 2]);
    throws(() => softmaxCrossEntropy(logits, floatLabels), /'labels' must be int32/, OptionError);
    throws(() => softmaxCrossEntropy(logits, [0, 1] as unknown as Int32Array), /Int32Array or an int32 Tensor/, OptionError);
    const rank3 = engine.tensor(new Float32Array(6), [1, 2, 3]);
    throws(() => softmaxCrossEntropy(rank3, new Int32Array(1)), /\[N, K\] or \[N, K, H, W\]/, ShapeError);
    [logits, wrongShape, floatLabels, rank3].forEach((t) => t.dispose());
  });
});
