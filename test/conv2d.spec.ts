// conv2d against the float64 reference: random layers (fast-check) through every kernel the
// dispatcher can choose, forced one by one; the lecture's named cases; call-time validation.
import { conv2d, createEngine, FullconvError, LimitError, OptionError, ShapeError, TensorStateError, type Engine, type Tensor } from '../src/index.js';
import { conv2dGeometry } from '../src/geometry.js';
import {
  chooseConv2dPlan, conv2dKernelRejects, conv2dWith, runConv2d, CONV2D_KERNELS, DIRECT_BLOCKS, FC_SPLITS, TILED_TILES,
  type Conv2dKernelName, type Conv2dPlan,
} from '../src/ops/conv.js';
import { getEngine } from './setup.js';
import { deepEqual, equal, ok, throws } from './assert.js';
import {
  caseOptions, checkCases, depthwise3x3Cases, depthwiseCases, fcCases, generalCases, outputShape, pointwiseCases, prepare, type ConvCase,
} from './conv2d_cases.js';
import { allClose, conv2d as refConv2d, fromValues } from './reference.js';

const SEED = 20260311;
const directPlan = (i: number): Conv2dPlan => ({ kernel: 'direct', blockCo: DIRECT_BLOCKS[i % DIRECT_BLOCKS.length]![0], blockW: DIRECT_BLOCKS[i % DIRECT_BLOCKS.length]![1] });
const pointwisePlan = (i: number): Conv2dPlan => ({ ...directPlan(i), kernel: 'pointwise' });
const tiledPlan = (i: number): Conv2dPlan => {
  const [tileM, tileN, tileK] = TILED_TILES[i % TILED_TILES.length]!;
  return { kernel: 'tiled', tileM, tileN, tileK };
};

/** Every specialised kernel that applies to the case, on top of the general ones. */
function specialPlans(c: ConvCase, i: number): Conv2dPlan[] {
  const g = conv2dGeometry('conv2d', [c.N, c.Cin, c.H, c.W], [c.Cout, c.Cin / c.groups, c.kH, c.kW], null, { padding: c.padding, stride: c.stride, dilation: c.dilation, groups: c.groups });
  const plans: Conv2dPlan[] = [];
  if (conv2dKernelRejects('pointwise', g) === null) plans.push(pointwisePlan(i));
  if (conv2dKernelRejects('depthwise', g) === null) plans.push({ kernel: 'depthwise' });
  if (conv2dKernelRejects('depthwise3x3', g) === null) plans.push({ kernel: 'depthwise3x3' });
  if (conv2dKernelRejects('fc', g) === null) plans.push({ kernel: 'fc', split: FC_SPLITS.swiftshader }, { kernel: 'fc', split: FC_SPLITS.gpu });
  return plans;
}

describe('conv2d: random layers against the float64 reference (every kernel forced)', () => {
  let engine: Engine;
  before(async () => {
    engine = await getEngine();
    console.log(`  [conv2d] fast-check seed ${SEED}`);
  });

  it('general layers: >= 200 configurations, dispatcher choice + direct + tiled', async () => {
    const cases = generalCases(200, SEED);
    ok(cases.length === 200, `drew ${cases.length} cases`);
    ok(cases.some((c) => c.groups > 1 && c.groups === c.Cin && c.Cout === 2 * c.Cin), 'some depthwise cases with channel multiplier 2');
    ok(cases.some((c) => c.N > 1) && cases.some((c) => c.padding === 'same') && cases.some((c) => c.dilation[0] > 1), 'batches, same padding, dilation');
    const runs = await checkCases(engine, cases, (c, i) => [null, directPlan(i), tiledPlan(i), ...specialPlans(c, i)]);
    ok(runs >= 600, `${runs} runs`);
  });

  it('depthwise layers (channel multiplier 1-3): depthwise, direct, tiled', async () => {
    await checkCases(engine, depthwiseCases(40, SEED + 1), (_case, i) => [null, { kernel: 'depthwise' }, directPlan(i), tiledPlan(i)]);
  });

  it('depthwise 3x3 stride 1 and 2 (any padding, multiplier 1-3, batch 1-3): depthwise3x3, depthwise, direct', async () => {
    const cases = depthwise3x3Cases(60, SEED + 4);
    for (const s of [1, 2]) {
      const outs = cases.filter((c) => c.stride[0] === s).map(outputShape);
      ok(outs.some(([, , h, w]) => h! > 8 && w! > 8) && outs.some(([, , h, w]) => h! % 8 !== 0 && w! % 8 !== 0), `stride ${s}: several blocks per plane, ragged last blocks`);
    }
    ok(cases.some((c) => typeof c.padding !== 'string' && typeof c.padding !== 'number' && c.padding.length === 4), 'asymmetric padding');
    await checkCases(engine, cases, (_case, i) => [null, { kernel: 'depthwise3x3' }, { kernel: 'depthwise' }, directPlan(i)]);
  });

  it('1x1 layers: pointwise (every block), direct, tiled', async () => {
    await checkCases(engine, pointwiseCases(40, SEED + 2), (_case, i) => [null, pointwisePlan(i), directPlan(i + 1), tiledPlan(i)]);
  });

  it('kernel == input (fully connected): fc with both splits, direct, tiled', async () => {
    await checkCases(engine, fcCases(40, SEED + 3), (_case, i) => [null, { kernel: 'fc', split: 1 }, { kernel: 'fc', split: 64 }, directPlan(i), tiledPlan(i)]);
  });
});

describe('conv2d: the dispatcher', () => {
  const layers: [string, number[], number[], object][] = [
    ['L1', [1, 3, 224, 224], [64, 3, 3, 3], { padding: 1 }],
    ['L2', [1, 64, 56, 56], [64, 64, 3, 3], { padding: 1 }],
    ['L5', [1, 3, 227, 227], [96, 3, 11, 11], { stride: 4 }],
    ['L6', [1, 32, 112, 112], [32, 1, 3, 3], { padding: 1, groups: 32 }],
    ['L7', [1, 512, 7, 7], [4096, 512, 7, 7], {}],
    ['L8', [1, 256, 28, 28], [256, 256, 1, 1], {}],
    ['small', [1, 3, 5, 3], [4, 3, 3, 3], {}],
  ];

  it('picks by layer shape and adapter, only plans the property tests force', () => {
    const tested = new Set<string>([
      ...DIRECT_BLOCKS.map(([c, w]) => `direct ${c}x${w}`), ...DIRECT_BLOCKS.map(([c, w]) => `pointwise ${c}x${w}`),
      ...TILED_TILES.map(([m, n, k]) => `tiled ${m}x${n}x${k}`), 'depthwise', 'depthwise3x3', `fc ${FC_SPLITS.gpu}`, `fc ${FC_SPLITS.swiftshader}`,
    ]);
    const name = (p: Conv2dPlan): string =>
      p.kernel === 'direct' || p.kernel === 'pointwise' ? `${p.kernel} ${p.blockCo}x${p.blockW}`
        : p.kernel === 'tiled' ? `tiled ${p.tileM}x${p.tileN}x${p.tileK}` : p.kernel === 'fc' ? `fc ${p.split}` : p.kernel;
    const chosen: Record<string, string> = {};
    for (const [label, xs, ws, opts] of layers) {
      const g = conv2dGeometry('conv2d', xs, ws, null, opts);
      for (const kind of ['gpu', 'swiftshader'] as const) {
        const plan = chooseConv2dPlan(g, kind);
        ok(tested.has(name(plan)), `${label} on ${kind}: ${name(plan)} is not among the tested plans`);
        equal(conv2dKernelRejects(plan.kernel, g), null, `${label} on ${kind}: the chosen kernel applies`);
        chosen[`${label} ${kind}`] = name(plan);
      }
    }
    equal(chosen['L2 gpu'], 'tiled 64x64x8');
    equal(chosen['L2 swiftshader']!.startsWith('direct'), true, 'SwiftShader gets the register-blocked kernel');
    equal(chosen['L6 gpu'], 'depthwise3x3');
    equal(chosen['L6 swiftshader'], 'depthwise3x3');
    // Depthwise layers the unrolled 3x3 kernel does not cover go to the general one.
    const dw = (ws: number[], opts: object): string => chooseConv2dPlan(conv2dGeometry('conv2d', [2, 8, 30, 30], ws, null, { groups: 8, ...opts }), 'swiftshader').kernel;
    equal(dw([16, 1, 3, 3], { padding: 'same' }), 'depthwise3x3', 'multiplier 2, same');
    equal(dw([8, 1, 3, 3], { stride: 2, padding: 'same' }), 'depthwise3x3', 'stride 2');
    equal(dw([8, 1, 3, 3], { stride: 3, padding: 1 }), 'depthwise', 'stride 3');
    equal(dw([8, 1, 3, 3], { stride: [1, 2], padding: 1 }), 'depthwise', 'stride 1x2');
    equal(dw([8, 1, 3, 3], { dilation: 2, padding: 2 }), 'depthwise', 'dilation 2');
    equal(dw([8, 1, 5, 5], { padding: 2 }), 'depthwise', '5x5');
    equal(dw([8, 1, 3, 1], { padding: 1 }), 'depthwise', '3x1');
    equal(chosen['L7 swiftshader'], 'fc 1');
    equal(chosen['L7 gpu'], 'fc 64');
    equal(chosen['L8 swiftshader']!.startsWith('pointwise'), true);
    // Every block shape and tile can be chosen by some layer: none of them is dead code in the dispatcher.
    const reachable = new Set<string>();
    for (const cout of [2, 6, 24, 64]) for (const w of [5, 30]) for (const k of [1, 3]) {
      const g = conv2dGeometry('conv2d', [1, 4, w, w], [cout, 4, k, k], null, {});
      reachable.add(name(chooseConv2dPlan(g, 'swiftshader')));
      reachable.add(name(chooseConv2dPlan(g, 'gpu')));
    }
    for (const [c, w] of DIRECT_BLOCKS) ok(reachable.has(`direct ${c}x${w}`) || reachable.has(`pointwise ${c}x${w}`), `block ${c}x${w} reachable`);
    for (const [m, n, k] of TILED_TILES) ok(reachable.has(`tiled ${m}x${n}x${k}`), `tile ${m}x${n}x${k} reachable`);
  });

  it('forcing a kernel that does not apply, or a bad block, throws', async () => {
    const engine = await getEngine();
    const x = engine.tensor(new Float32Array(2 * 5 * 5), [1, 2, 5, 5]);
    const w = engine.tensor(new Float32Array(3 * 2 * 3 * 3), [3, 2, 3, 3]);
    throws(() => conv2dWith('pointwise', x, w, null), /pointwise.*1x1/, OptionError);
    throws(() => conv2dWith('depthwise', x, w, null), /one input channel per group/, OptionError);
    throws(() => conv2dWith('depthwise3x3', x, w, null), /one input channel per group, a 3x3 kernel, stride 1 or 2 \(the same both ways\) and no dilation/, OptionError);
    const wd = engine.tensor(new Float32Array(2 * 9), [2, 1, 3, 3]);
    throws(() => conv2dWith('depthwise3x3', x, wd, null, { groups: 2, stride: [2, 1] }), /stride 1 or 2 \(the same both ways\)/, OptionError);
    throws(() => conv2dWith('depthwise3x3', x, wd, null, { groups: 2, stride: 3 }), /stride 1 or 2/, OptionError);
    throws(() => conv2dWith('depthwise3x3', x, wd, null, { groups: 2, dilation: [1, 2] }), /no dilation/, OptionError);
    wd.dispose();
    throws(() => conv2dWith('fc', x, w, null), /whole unpadded input/, OptionError);
    throws(() => conv2dWith({ kernel: 'direct', blockCo: 5 }, x, w, null), /4, 8 or 16/, OptionError);
    throws(() => conv2dWith({ kernel: 'tiled', tileM: 128, tileN: 128, tileK: 16 }, x, w, null), /limits/, OptionError);
    ok(CONV2D_KERNELS.every((k: Conv2dKernelName) => typeof k === 'string'));
    x.dispose();
    w.dispose();
  });
});

/** Runs one case through the dispatcher and every kernel that applies; returns the dispatcher's output shape. */
async function checkNamed(engine: Engine, c: ConvCase, extra: Conv2dPlan[] = []): Promise<readonly number[]> {
  await checkCases(engine, [c], (cc, i) => [null, directPlan(i), tiledPlan(i), ...specialPlans(cc, i), ...extra]);
  return outputShape(c);
}

const base = { N: 1, groups: 1, stride: [1, 1] as [number, number], dilation: [1, 1] as [number, number], padding: 'valid' as const, bias: true, relu: false, seed: 7 };

describe("conv2d: the lecture's cases and edges", () => {
  let engine: Engine;
  before(async () => {
    engine = await getEngine();
  });

  it('7x7 input, 3x3 kernel, strides 1, 2, 3 (3: floor, the last column is lost)', async () => {
    for (const [s, out] of [[1, 5], [2, 3], [3, 2]] as const) {
      const c: ConvCase = { ...base, Cin: 2, H: 7, W: 7, Cout: 3, kH: 3, kW: 3, stride: [s, s] };
      deepEqual(await checkNamed(engine, c), [1, 3, out, out], `stride ${s}`);
    }
  });

  it('32x32x3 with ten 5x5 filters, pad 2 -> 32x32x10', async () => {
    const c: ConvCase = { ...base, Cin: 3, H: 32, W: 32, Cout: 10, kH: 5, kW: 5, padding: 2 };
    deepEqual(await checkNamed(engine, c), [1, 10, 32, 32]);
  });

  it('AlexNet conv1: 227 -> 55 (3 -> 8 of its 96 channels, k11 s4)', async () => {
    const c: ConvCase = { ...base, Cin: 3, H: 227, W: 227, Cout: 8, kH: 11, kW: 11, stride: [4, 4], relu: true };
    deepEqual(await checkNamed(engine, c), [1, 8, 55, 55]);
  });

  it("'same' with an even kernel and stride 2: ceil(in / 2), the extra pad at the bottom/right", async () => {
    const c: ConvCase = { ...base, Cin: 3, H: 9, W: 10, Cout: 5, kH: 4, kW: 4, stride: [2, 2], padding: 'same' };
    deepEqual(await checkNamed(engine, c), [1, 5, 5, 5]);
    const g = conv2dGeometry('conv2d', [1, 3, 9, 10], [5, 3, 4, 4], null, { stride: 2, padding: 'same' });
    deepEqual([g.padTop, g.padLeft, g.padBottom, g.padRight], [1, 1, 2, 1]);
  });

  it('a 1x1 input (1x1 kernel, and 3x3 with padding 1), batch 2', async () => {
    deepEqual(await checkNamed(engine, { ...base, N: 2, Cin: 5, H: 1, W: 1, Cout: 6, kH: 1, kW: 1 }), [2, 6, 1, 1]);
    deepEqual(await checkNamed(engine, { ...base, N: 2, Cin: 5, H: 1, W: 1, Cout: 6, kH: 3, kW: 3, padding: 1 }), [2, 6, 1, 1]);
  });

  it('kernel equal to the input gives a 1x1 output (the fc path)', async () => {
    const c: ConvCase = { ...base, N: 3, Cin: 6, H: 5, W: 4, Cout: 9, kH: 5, kW: 4, relu: true };
    deepEqual(await checkNamed(engine, c), [3, 9, 1, 1]);
  });

  it('many channels: several channel blocks and tiles, depthwise with multiplier 2, the tiled kernel aligned', async () => {
    await checkNamed(engine, { ...base, N: 2, Cin: 5, H: 11, W: 13, Cout: 40, kH: 3, kW: 2, padding: [2, 0, 1, 3], stride: [1, 2] });
    await checkNamed(engine, { ...base, Cin: 6, H: 12, W: 9, Cout: 12, kH: 3, kW: 3, groups: 6, padding: 1, dilation: [2, 1] });
    // Sizes that divide every tile: M 64 and 32, P = 64, K = 16 -> the checks-dropped path.
    const aligned = (Cout: number): ConvCase => ({ ...base, Cin: 16, H: 8, W: 8, Cout, kH: 1, kW: 1 });
    for (const [tileM, tileN, tileK] of TILED_TILES) {
      await checkNamed(engine, aligned(tileM), [{ kernel: 'tiled', tileM, tileN, tileK }]);
    }
  });

  it('depthwise 3x3 at full size: L6 (32 channels, 112x112, pad 1), its stride-2 sibling, ragged batches with multiplier 2', async () => {
    const l6: ConvCase = { ...base, Cin: 32, H: 112, W: 112, Cout: 32, kH: 3, kW: 3, groups: 32, padding: 1, seed: 11 };
    const l6s2: ConvCase = { ...l6, stride: [2, 2], padding: 'same', seed: 14 };
    const ragged: ConvCase = { ...base, N: 2, Cin: 6, H: 57, W: 45, Cout: 12, kH: 3, kW: 3, groups: 6, padding: [2, 0, 1, 3], relu: true, seed: 12 };
    const raggedS2: ConvCase = { ...ragged, stride: [2, 2], seed: 15 };
    deepEqual([l6s2, ragged, raggedS2].map(outputShape), [[1, 32, 56, 56], [2, 12, 58, 46], [2, 12, 29, 23]]);
    // Only the depthwise kernels: the general ones take a minute on SwiftShader at this size.
    equal(await checkCases(engine, [l6, l6s2, ragged, raggedS2], () => [null, { kernel: 'depthwise3x3' }, { kernel: 'depthwise' }]), 12);
  });

  it('depthwise 3x3: a NaN or Inf at the input border reaches only the windows that cover it', async () => {
    // The kernel clamps reads past the border onto the edge element and zeroes them; a NaN there must not leak.
    const c: ConvCase = { ...base, N: 2, Cin: 3, H: 9, W: 11, Cout: 3, kH: 3, kW: 3, groups: 3, padding: 2, relu: true, seed: 13 };
    const p = prepare(engine, c);
    const xs = await p.x.read();
    xs[10] = NaN;                     // n 0, channel 0, row 0, last column
    xs[2 * 99 + 8 * 11] = Infinity;   // n 0, channel 2, last row, first column
    xs[3 * 99 + 98] = -Infinity;      // n 1, channel 0, last row, last column
    const x = engine.tensor(xs, [...p.x.shape]);
    const expected = refConv2d(fromValues(p.x.shape, xs), fromValues(p.w.shape, await p.w.read()), fromValues(p.b!.shape, await p.b!.read()), { stride: [1, 1], pad: [2, 2, 2, 2], dilation: [1, 1], groups: 3, relu: true });
    for (const plan of [null, 'depthwise3x3', 'depthwise'] as const) {
      const y = conv2dWith(plan, x, p.w, p.b, caseOptions(c));
      equal(allClose(await y.read(), expected.data), null, `${plan ?? 'auto'}`);
      y.dispose();
    }
    // Stride 2, padding 1 above and left, 2 below and right: the last row and column read past the border.
    const expected2 = refConv2d(fromValues(p.x.shape, xs), fromValues(p.w.shape, await p.w.read()), fromValues(p.b!.shape, await p.b!.read()), { stride: [2, 2], pad: [1, 1, 2, 2], dilation: [1, 1], groups: 3, relu: true });
    for (const plan of [null, 'depthwise3x3', 'depthwise'] as const) {
      const y = conv2dWith(plan, x, p.w, p.b, { ...caseOptions(c), stride: 2, padding: [1, 1, 2, 2] });
      equal(allClose(await y.read(), expected2.data), null, `stride 2, ${plan ?? 'auto'}`);
      y.dispose();
    }
    [x, p.x, p.w, p.b].forEach((t) => t?.dispose());
  });

  it('NaN passes through ReLU; an Inf input stays out of channels that do not see it', async () => {
    const x = engine.tensor([NaN, 1, 2, 3, Infinity, 1, 1, 1], [1, 2, 2, 2]);
    const w = engine.tensor([1, 1, 1, 1], [2, 1, 1, 2]);   // groups 2: channel 1 never sees channel 0's NaN
    for (const plan of [null, 'direct', 'tiled', 'depthwise'] as const) {
      const y = await conv2dWith(plan, x, w, null, { groups: 2, activation: 'relu' }).read();
      ok(Number.isNaN(y[0]!) && y[1] === 5 && y[2] === Infinity && y[3] === 2, `${plan ?? 'auto'}: [${Array.from(y)}]`);
    }
    x.dispose();
    w.dispose();
  });

  it('a new image size compiles no new pipeline', async () => {
    const w = engine.tensor(new Float32Array(8 * 3 * 3 * 3).fill(0.5), [8, 3, 3, 3]);
    const b = engine.tensor(new Float32Array(8).fill(1), [8]);
    // The last window starts at 2 * (out - 1) - 1 in input coordinates; count its taps inside the input.
    const inside = (n: number): number => {
      const start = 2 * Math.floor((n + 2 - 3) / 2) - 1;
      return [start, start + 1, start + 2].filter((i) => i >= 0 && i < n).length;
    };
    const run = async (h: number, wd: number): Promise<void> => {
      const x = engine.tensor(new Float32Array(3 * h * wd).fill(1), [1, 3, h, wd]);
      const y = conv2d(x, w, b, { padding: 1, stride: 2, activation: 'relu' });
      const v = await y.read();
      equal(v[v.length - 1], 1 + 0.5 * 3 * inside(h) * inside(wd), `last element at ${h}x${wd}`);
      [x, y].forEach((t) => t.dispose());
    };
    await run(17, 23);
    const before = engine.stats().pipelinesCompiled;
    await run(40, 31);
    await run(5, 64);
    equal(engine.stats().pipelinesCompiled, before, 'pipelines compiled for the later sizes');
    [w, b].forEach((t) => t.dispose());
  });

  it('a new image size compiles no new pipeline: depthwise 3x3 stride 1 and stride 2', async () => {
    const w = engine.tensor(new Float32Array(4 * 9).fill(0.25), [4, 1, 3, 3]);
    const run = async (h: number, wd: number, stride: number): Promise<void> => {
      const x = engine.tensor(new Float32Array(4 * h * wd).fill(1), [1, 4, h, wd]);
      const y = conv2d(x, w, null, { padding: 'same', stride, groups: 4 });
      const first = (await y.read())[0]!;
      // 'same' pads 1 above for stride 1; for stride 2, 1 when the size is odd, else 0 (the extra pad goes below).
      const inside = (n: number): number => Math.min(n, 3 - (stride === 1 || n % 2 === 1 ? 1 : 0));
      equal(first, 0.25 * inside(h) * inside(wd), `first element at ${h}x${wd}, stride ${stride}`);
      [x, y].forEach((t) => t.dispose());
    };
    await run(17, 23, 1);
    await run(17, 23, 2);
    const before = engine.stats().pipelinesCompiled;
    for (const [h, wd] of [[40, 31], [5, 64], [112, 112], [1, 1]] as const) for (const s of [1, 2]) await run(h, wd, s);
    equal(engine.stats().pipelinesCompiled, before, 'pipelines compiled for the later sizes');
    w.dispose();
  });

  it('runConv2d runs a hand-made geometry into a given output tensor', async () => {
    const c: ConvCase = { ...base, N: 2, Cin: 4, H: 6, W: 7, Cout: 5, kH: 3, kW: 3, padding: 1, stride: [2, 1] };
    const p = prepare(engine, c);
    const g = conv2dGeometry('conv2d', p.x.shape, p.w.shape, p.b!.shape, { padding: 1, stride: [2, 1] });
    const out = engine.zeros(g.outputShape);
    for (const plan of [undefined, 'direct', 'tiled'] as const) {
      const y = runConv2d(engine, p.x, p.w, p.b, g, plan, out);
      ok(y === out, 'returns the given tensor');
      equal(allClose(await out.read(), p.expected.data), null, `${plan ?? 'auto'} into out`);
    }
    [p.x, p.w, p.b, out].forEach((t) => t?.dispose());
  });
});

describe('conv2d: call-time validation (FullconvError subclasses naming the rule)', () => {
  let engine: Engine;
  let x: Tensor;
  let w: Tensor;
  before(async () => {
    engine = await getEngine();
    x = engine.tensor(new Float32Array(1 * 4 * 6 * 6), [1, 4, 6, 6]);
    w = engine.tensor(new Float32Array(8 * 4 * 3 * 3), [8, 4, 3, 3]);
  });
  after(() => {
    x.dispose();
    w.dispose();
  });

  it('shapes: dilated kernel larger than the padded input, channels, groups, bias, weight rank', () => {
    throws(() => conv2d(x, w, null, { dilation: 3 }), /kernel height 3 \(dilation 3: extent 7\) is larger than the padded input height 6/, ShapeError);
    const w5 = engine.tensor(new Float32Array(8 * 5 * 3 * 3), [8, 5, 3, 3]);
    throws(() => conv2d(x, w5), /x has 4 channels.*weight\[1\] \* groups = 5 \* 1 = 5/, ShapeError);
    throws(() => conv2d(x, w, null, { groups: 3 }), /groups 3 does not divide the 4 input channels/, ShapeError);
    const b3 = engine.tensor([1, 2, 3], [3]);
    throws(() => conv2d(x, w, b3), /bias \[3\] must have shape \[8\]/, ShapeError);
    const w3 = engine.tensor(new Float32Array(8 * 4 * 3), [8, 4, 3]);
    throws(() => conv2d(x, w3), /weight must have rank 4/, ShapeError);
    [w5, b3, w3].forEach((t) => t.dispose());
  });

  it('options: non-positive stride or dilation, negative padding, unknown names', () => {
    throws(() => conv2d(x, w, null, { stride: 0 }), /stride must be an integer >= 1, got 0/, OptionError);
    throws(() => conv2d(x, w, null, { stride: [1, -2] }), /stride must be an integer >= 1, got \[1, -2\]/, OptionError);
    throws(() => conv2d(x, w, null, { dilation: 0 }), /dilation must be an integer >= 1/, OptionError);
    throws(() => conv2d(x, w, null, { padding: -1 }), /padding must be an integer >= 0, got -1/, OptionError);
    throws(() => conv2d(x, w, null, { padding: [0, 1, -1, 0] }), /padding must be an integer >= 0/, OptionError);
    throws(() => conv2d(x, w, null, { strides: 2 } as never), /unknown option 'strides' \(did you mean 'stride'\?\)/, OptionError);
    throws(() => conv2d(x, w, null, { activation: 'gelu' } as never), /activation must be 'none' or 'relu'/, OptionError);
  });

  it('an output over the device limit throws LimitError before allocating', () => {
    const one = engine.tensor([1], [1, 1, 1, 1]);
    const live = engine.stats().liveBytes;
    throws(() => conv2d(one, one, null, { padding: 40000 }), /conv2d: shape \[1,1,80001,80001\] needs \d+ bytes, over the device's limit/, LimitError);
    equal(engine.stats().liveBytes, live, 'nothing allocated');
    one.dispose();
  });

  it('tensors: int32 weight, disposed tensor, tensor of a disposed engine', async () => {
    const wi = engine.tensor(new Int32Array(8 * 4 * 3 * 3), [8, 4, 3, 3]);
    throws(() => conv2d(x, wi), /'weight' must be float32, got int32/, OptionError);
    wi.dispose();
    const gone = engine.tensor(new Float32Array(8 * 4 * 3 * 3), [8, 4, 3, 3]);
    gone.dispose();
    throws(() => conv2d(x, gone), /disposed/, TensorStateError);
    const other = await createEngine();
    const ox = other.tensor(new Float32Array(1 * 4 * 6 * 6), [1, 4, 6, 6]);
    throws(() => conv2d(ox, w), /another engine/, TensorStateError);
    other.dispose();
    throws(() => conv2d(ox, w), /engine was disposed/, TensorStateError);
    const e = throws(() => conv2d(x, w, null, { groups: 3 }));
    ok(e instanceof FullconvError, 'a FullconvError');
  });
});
