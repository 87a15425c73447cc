import fc from 'fast-check';
import {
  ARCHITECTURES, Adam, AdamW, Conv2d, Engine, Flatten, Linear, LpPool2d, MaxPool2d, OptionError, ReLU, SGD, Sequential, ShapeError, Tensor,
  modelFromSpec, softmaxCrossEntropy,
} from '../src/index.js';
import * as ref from './reference.js';
import * as nnRef from './nn_reference.js';
import { getEngine } from './setup.js';
import { ok, equal, throws } from './assert.js';

const SEED = 7008;

function expectClose(got: ArrayLike<number>, exp: ArrayLike<number>, what: string): void {
  const problem = ref.allClose(got, exp);
  if (problem) throw new Error(`${what}: ${problem}`);
}

/** Parameters of a few odd shapes, their float32 values, and gradient tensors. */
function makeParams(engine: Engine, rng: () => number): { shapes: number[][]; values: Float64Array[]; params: Tensor[]; grads: Tensor[] } {
  const shapes = [[3, 2, 5, 5], [3], [7, 11], [300]];
  const values = shapes.map((s) => Float64Array.from(Float32Array.from(ref.randomArray(s, rng).data)));
  const params = shapes.map((s, i) => engine.tensor(Float32Array.from(values[i]!), s));
  const grads = shapes.map((s) => engine.zeros(s));
  return { shapes, values, params, grads };
}

/** Float32 gradients for one step, written into the tensors; returned for the reference. */
function writeGrads(grads: Tensor[], rng: () => number): Float32Array[] {
  return grads.map((g) => {
    const data = Float32Array.from(ref.randomArray(g.shape, rng, -2, 2).data);
    g.write(data);
    return data;
  });
}

describe('train: optimizers', () => {
  let engine: Engine;
  before(async () => {
    engine = await getEngine();
  });

  it('SGD (momentum, dampening, Nesterov, weight decay) matches torch.optim.SGD over 6 steps', async () => {
    await fc.assert(fc.asyncProperty(
      fc.constantFrom(0, 0.9, 0.5), fc.constantFrom(0, 0.3), fc.constantFrom(0, 1e-2), fc.boolean(), fc.integer({ min: 0, max: 2 ** 31 - 1 }),
      async (momentum, dampening, weightDecay, nesterovWanted, seed) => {
        const rng = ref.makeRng(seed);
        const nesterov = nesterovWanted && momentum > 0 && dampening === 0;
        const o = { lr: 0.05, momentum, dampening, weightDecay, nesterov };
        const { values, params, grads } = makeParams(engine, rng);
        const sgd = new SGD(params, grads, { lr: o.lr, momentum, dampening, weightDecay, nesterov });
        const buffers: (Float64Array | null)[] = values.map(() => null);
        for (let step = 0; step < 6; step++) {
          if (step === 4) { sgd.lr = 0.01; o.lr = 0.01; } // a schedule: lr changes between steps
          const g = writeGrads(grads, rng);
          sgd.step();
          values.forEach((p, i) => { buffers[i] = ref.sgdStep(p, g[i]!, buffers[i]!, o); });
          const got = await Promise.all(params.map((p) => p.read()));
          got.forEach((p, i) => expectClose(p, values[i]!, `SGD ${JSON.stringify(o)} step ${step + 1} parameter ${i}`));
        }
        equal(sgd.steps, 6, 'steps');
        sgd.dispose();
        [...params, ...grads].forEach((t) => t.dispose());
      }), { seed: SEED, numRuns: 6 });
  });

  it('Adam (bias correction, L2 weight decay) and AdamW match torch over 6 steps', async () => {
    await fc.assert(fc.asyncProperty(
      fc.constantFrom(0, 0.05), fc.boolean(), fc.constantFrom<[number, number]>([0.9, 0.999], [0.5, 0.9]), fc.integer({ min: 0, max: 2 ** 31 - 1 }),
      async (weightDecay, decoupled, betas, seed) => {
        const rng = ref.makeRng(seed);
        const o = { lr: 0.01, beta1: betas[0], beta2: betas[1], eps: 1e-8, weightDecay, decoupled };
        const { values, params, grads } = makeParams(engine, rng);
        const Optim = decoupled ? AdamW : Adam;
        const adam = new Optim(params, grads, { lr: o.lr, betas, weightDecay });
        const m = values.map((p) => new Float64Array(p.length));
        const v = values.map((p) => new Float64Array(p.length));
        for (let step = 1; step <= 6; step++) {
          const g = writeGrads(grads, rng);
          adam.step();
          values.forEach((p, i) => ref.adamStep(p, g[i]!, m[i]!, v[i]!, step, o));
          const got = await Promise.all(params.map((p) => p.read()));
          got.forEach((p, i) => expectClose(p, values[i]!, `${Optim.name} ${JSON.stringify(o)} step ${step} parameter ${i}`));
        }
        adam.dispose();
        [...params, ...grads].forEach((t) => t.dispose());
      }), { seed: SEED, numRuns: 6 });
  });

  it('takes a model (parameters() and gradients()) and zeroes its gradients', async () => {
    const p = engine.tensor([1, 2, 3], [3]);
    const g = engine.tensor([0.5, -1, 2], [3]);
    const model = { parameters: () => [p], gradients: () => [g] };
    const sgd = new SGD(model, { lr: 0.1 });
    sgd.step();
    expectClose(await p.read(), [0.95, 2.1, 2.8], 'p after one plain SGD step');
    sgd.zeroGrad();
    const zeroed = await g.read();
    ok(zeroed.every((x) => x === 0), `gradients zeroed, got ${Array.from(zeroed)}`);
    const adamDefaults = new AdamW(model);
    equal(adamDefaults.weightDecay, 0.01, 'AdamW default weight decay');
    equal(new Adam(model).lr, 1e-3, 'Adam default lr');
    [p, g].forEach((t) => t.dispose());
  });

  it('rejects bad options, misaligned gradients and shared storage at call time', () => {
    const p = engine.zeros([2, 3]);
    const g = engine.zeros([2, 3]);
    const other = engine.zeros([6]);
    throws(() => new SGD([p], [g], { lr: 0.1, momentun: 0.9 } as never), /unknown option 'momentun' \(did you mean 'momentum'\?\)/, OptionError);
    throws(() => new SGD([p], [g], { lr: -1 }), /lr must be a finite number >= 0, got -1/, OptionError);
    throws(() => new SGD([p], [g], { lr: 0.1, nesterov: true }), /nesterov needs momentum > 0/, OptionError);
    throws(() => new Adam([p], [g], { betas: [0.9, 1] }), /betas\[1\] must be a number in \[0, 1\), got 1/, OptionError);
    throws(() => new Adam([p], [other]), /parameters\[0\] \[2,3\] and gradients\[0\] \[6\] must have the same shape/, ShapeError);
    throws(() => new Adam([p, other], [g]), /2 parameters but 1 gradients/, ShapeError);
    throws(() => new Adam([p], [p]), /shares its storage/, OptionError);
    throws(() => new SGD([p], undefined as never), /pass their gradients/, OptionError);
    throws(() => new SGD([], []), /no parameters/, OptionError);
    const sgd = new SGD([p], [g], { lr: 0.1 });
    sgd.lr = Number.NaN;
    throws(() => sgd.step(), /lr must be a finite number >= 0, got NaN/, OptionError);
    [p, g, other].forEach((t) => t.dispose());
  });
});

// ---------------------------------------------------------------- training steps through Sequential

type Pool = 'max' | 'l2';

/** A tiny LeNet: conv 3×3 pad 1, ReLU, 2×2 pool (max or L2), Flatten, Linear, ReLU, Linear. */
function tinyNet(engine: Engine, pool: Pool, seed: number, C = 2, H = 7, W = 6, K = 4): Sequential {
  const pooled = 3 * Math.floor(H / 2) * Math.floor(W / 2);
  return new Sequential(engine, [
    new Conv2d(C, 3, 3, { padding: 1 }), new ReLU(),
    pool === 'max' ? new MaxPool2d({ kernel: 2, stride: 2 }) : new LpPool2d({ p: 2, kernel: 2, stride: 2 }),
    new Flatten(), new Linear(pooled, 5), new ReLU(), new Linear(5, K),
  ], { seed });
}

const CONV = { stride: [1, 1] as ref.Pair, pad: [1, 1, 1, 1] as ref.Pad4, dilation: [1, 1] as ref.Pair, groups: 1 };
const FC = { stride: [1, 1] as ref.Pair, pad: [0, 0, 0, 0] as ref.Pad4, dilation: [1, 1] as ref.Pair, groups: 1 };
const POOL = { kernel: [2, 2] as ref.Pair, stride: [2, 2] as ref.Pair, pad: [0, 0, 0, 0] as ref.Pad4 };

const as4 = (a: ref.RefArray): ref.RefArray => ({ shape: [a.shape[0]!, a.shape.slice(1).reduce((p, q) => p * q, 1), 1, 1], data: a.data });
const reshaped = (a: ref.RefArray, shape: number[]): ref.RefArray => ({ shape, data: a.data });

/** The same network in float64 from test/reference.ts: loss and every parameter's gradient, in parameters() order. */
function referenceStep(x: ref.RefArray, labels: Int32Array, p: ref.RefArray[], pool: Pool): { loss: number; grads: ref.RefArray[] } {
  const [w1, b1, w2, b2, w3, b3] = p as [ref.RefArray, ref.RefArray, ref.RefArray, ref.RefArray, ref.RefArray, ref.RefArray];
  const c1 = ref.conv2d(x, w1, b1, CONV);
  const r1 = ref.relu(c1);
  const maxPooled = pool === 'max' ? ref.maxPool2d(r1, POOL) : null;
  const p1 = maxPooled ? maxPooled.output : ref.lpPool2d(r1, { p: 2, ...POOL });
  const f = as4(p1);
  const w2as4 = reshaped(w2, [w2.shape[0]!, w2.shape[1]!, 1, 1]);
  const w3as4 = reshaped(w3, [w3.shape[0]!, w3.shape[1]!, 1, 1]);
  const h = ref.conv2d(f, w2as4, b2, FC);
  const r2 = ref.relu(h);
  const logits = ref.conv2d(r2, w3as4, b3, FC);
  const { loss, dLogits } = ref.softmaxCrossEntropy(reshaped(logits, [logits.shape[0]!, logits.shape[1]!]), labels);
  const dl = as4(dLogits);
  const dw3 = ref.conv2dGradWeight(dl, r2, w3as4.shape, FC);
  const db3 = ref.conv2dGradBias(dl);
  const dr2 = ref.conv2dGradInput(dl, w3as4, r2.shape, FC);
  const dh = ref.reluGrad(dr2, h);
  const dw2 = ref.conv2dGradWeight(dh, f, w2as4.shape, FC);
  const db2 = ref.conv2dGradBias(dh);
  const dp1 = reshaped(ref.conv2dGradInput(dh, w2as4, f.shape, FC), p1.shape);
  const dr1 = maxPooled ? ref.maxPool2dGrad(dp1, maxPooled.indices, r1.shape) : ref.lpPool2dGrad(dp1, r1, p1, { p: 2, ...POOL });
  const dc1 = ref.reluGrad(dr1, c1);
  const dw1 = ref.conv2dGradWeight(dc1, x, w1.shape, CONV);
  const db1 = ref.conv2dGradBias(dc1);
  return { loss, grads: [dw1, db1, reshaped(dw2, w2.shape), db2, reshaped(dw3, w3.shape), db3] };
}

async function readParameters(model: Sequential): Promise<ref.RefArray[]> {
  const values = await Promise.all(model.parameters().map((t) => t.read()));
  return values.map((v, i) => ref.fromValues([...model.parameters()[i]!.shape], v));
}

/** One training step: forward, loss, backward, optimizer step; the loss tensor is the caller's. */
function trainStep(model: Sequential, optimizer: SGD | Adam, x: Tensor, labels: Int32Array): Tensor {
  const logits = model.forward(x);
  const { loss, dLogits } = softmaxCrossEntropy(logits, labels);
  model.zeroGrad();
  model.backward(dLogits).dispose();
  optimizer.step();
  [logits, dLogits].forEach((t) => t.dispose());
  return loss;
}

/** 4 classes of 8×8 images: a bright 3×3 blob in one quadrant (the class) on noise. */
function syntheticSet(count: number, rng: () => number): { x: Float32Array; labels: Int32Array } {
  const x = new Float32Array(count * 64);
  const labels = new Int32Array(count);
  for (let n = 0; n < count; n++) {
    const label = n % 4;
    labels[n] = label;
    for (let i = 0; i < 64; i++) x[n * 64 + i] = 0.3 * rng();
    const top = (label >> 1) * 4 + Math.floor(rng() * 2);
    const left = (label & 1) * 4 + Math.floor(rng() * 2);
    for (let dy = 0; dy < 3; dy++) for (let dx = 0; dx < 3; dx++) x[n * 64 + (top + dy) * 8 + left + dx] += 1;
  }
  return { x, labels };
}

describe('train: steps through Sequential', () => {
  let engine: Engine;
  before(async () => {
    engine = await getEngine();
  });

  for (const pool of ['max', 'l2'] as const) {
    it(`one SGD step of a tiny LeNet (${pool} pool): loss, every parameter gradient and update match float64`, async () => {
      const rng = ref.makeRng(pool === 'max' ? 21 : 22);
      const N = 3;
      const x = ref.randomArray([N, 2, 7, 6], rng, -1, 1);
      const labels = Int32Array.from({ length: N }, () => Math.floor(rng() * 4));
      const model = tinyNet(engine, pool, 5);
      const before = await readParameters(model);
      const exp = referenceStep(ref.fromValues(x.shape, Float32Array.from(x.data)), labels, before, pool);
      const lr = 0.1;
      const sgd = new SGD(model, { lr });
      const xt = engine.tensor(Float32Array.from(x.data), x.shape);
      const loss = trainStep(model, sgd, xt, labels);
      expectClose(await loss.read(), [exp.loss], 'loss');
      const grads = await Promise.all(model.gradients().map((g) => g.read()));
      const names = model.namedParameters().map(([name]) => name);
      grads.forEach((g, i) => expectClose(g, exp.grads[i]!.data, `gradient of ${names[i]}`));
      const after = await readParameters(model);
      after.forEach((p, i) => expectClose(p.data, before[i]!.data.map((v, k) => v - lr * exp.grads[i]!.data[k]!), `${names[i]} after the step`));
      [xt, loss].forEach((t) => t.dispose());
      model.dispose();
      sgd.dispose();
    });
  }

  for (const [name, pool] of [['lenet', 'maxpool'], ['lenet-l2', 'lppool']] as const) {
    it(`the demo's ${name} (28×28, batch 2): every parameter gradient of one step matches float64`, async () => {
      // The very shapes scripts/train.mjs trains (5×5 valid convs, 16→32 channels, 512→128→10), whose kernel paths the tiny net does not take.
      const rng = ref.makeRng(name === 'lenet' ? 51 : 52);
      const model = modelFromSpec(engine, ARCHITECTURES[name]!, { seed: 8 });
      const x = ref.randomArray([2, 1, 28, 28], rng, -0.8, 2.0);
      const labels = Int32Array.from([Math.floor(rng() * 10), Math.floor(rng() * 10)]);
      const params = await readParameters(model);
      const poolOpts = { ...nnRef.poolOpts(2), p: 2 };
      const poolLayer: nnRef.RefLayer = pool === 'maxpool' ? { kind: 'maxpool', opts: poolOpts } : { kind: 'lppool', opts: poolOpts };
      const layers: nnRef.RefLayer[] = [
        { kind: 'conv', opts: nnRef.convOpts(0) }, { kind: 'relu' }, poolLayer,
        { kind: 'conv', opts: nnRef.convOpts(0) }, { kind: 'relu' }, poolLayer,
        { kind: 'flatten' }, { kind: 'linear' }, { kind: 'relu' }, { kind: 'linear' },
      ];
      const trace = nnRef.forward(layers, params, ref.fromValues(x.shape, Float32Array.from(x.data)));
      const exp = ref.softmaxCrossEntropy(trace.acts[layers.length]!, labels);
      const { grads } = nnRef.backward(layers, params, trace, exp.dLogits);
      const xt = engine.tensor(Float32Array.from(x.data), x.shape);
      const adam = new Adam(model, { lr: 1e-3 });
      const loss = trainStep(model, adam, xt, labels);
      expectClose(await loss.read(), [exp.loss], 'loss');
      const got = await Promise.all(model.gradients().map((g) => g.read()));
      const names = model.namedParameters().map(([n]) => n);
      got.forEach((g, i) => expectClose(g, grads[i]!.data, `gradient of ${names[i]}`));
      [xt, loss].forEach((t) => t.dispose());
      model.dispose();
      adam.dispose();
    });
  }

  it('the loss falls on a small synthetic set within 40 Adam steps', async () => {
    const rng = ref.makeRng(31);
    const { x, labels } = syntheticSet(32, rng);
    const model = tinyNet(engine, 'max', 6, 1, 8, 8, 4);
    const adam = new Adam(model, { lr: 0.01 });
    const xt = engine.tensor(x, [32, 1, 8, 8]);
    const losses: number[] = [];
    for (let step = 0; step < 40; step++) {
      const loss = trainStep(model, adam, xt, labels);
      if (step === 0 || step === 39) losses.push((await loss.read())[0]!);
      loss.dispose();
    }
    ok(losses[0]! > 1.2, `a fresh 4-class net starts near ln 4 = 1.39, got ${losses[0]}`);
    ok(losses[1]! < 0.3 * losses[0]!, `the loss fell from ${losses[0]} to ${losses[1]}: expected below 30% of the start`);
    xt.dispose();
    model.dispose();
    adam.dispose();
  });

  it('the same seed gives the same parameters after training (a different seed does not)', async () => {
    const rng = ref.makeRng(41);
    const { x, labels } = syntheticSet(16, rng);
    const xt = engine.tensor(x, [16, 1, 8, 8]);
    const run = async (seed: number): Promise<ref.RefArray[]> => {
      const model = tinyNet(engine, 'l2', seed, 1, 8, 8, 4);
      const adam = new Adam(model, { lr: 0.01 });
      for (let step = 0; step < 5; step++) trainStep(model, adam, xt, labels).dispose();
      const params = await readParameters(model);
      model.dispose();
      adam.dispose();
      return params;
    };
    const [a, b, c] = [await run(9), await run(9), await run(10)];
    a.forEach((p, i) => expectClose(b[i]!.data, p.data, `parameter ${i}, same seed`));
    ok(a.some((p, i) => ref.allClose(c[i]!.data, p.data) !== null), 'a different seed should give different parameters');
    xt.dispose();
  });
});
