import fc from 'fast-check';
import { Adam, AdamW, Engine, OptionError, SGD, ShapeError, Tensor } from '../src/index.js';
import * as ref from './reference.js';
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
