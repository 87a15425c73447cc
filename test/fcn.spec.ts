import {
  AvgPool2d, Conv2d, Flatten, Linear, MaxPool2d, OptionError, ReLU, Sequential, ShapeError, TensorStateError,
  extractPatches, planTiles, type Engine, type Tensor,
} from '../src/index.js';
import * as ref from './reference.js';
import { everyLayerNet, expectClose, lenet, smallVgg, upload } from './nn_models.js';
import { getEngine } from './setup.js';
import { deepEqual, equal, ok, throws } from './assert.js';

function randomInput(engine: Engine, shape: number[], seed: number): Tensor {
  return upload(engine, ref.randomArray(shape, ref.makeRng(seed)));
}

describe('fcn: fully convolutional conversion', () => {
  let engine: Engine;
  before(async () => {
    engine = await getEngine();
  });

  it('on the training size the converted LeNet gives the classifier logits as [N, K, 1, 1]; parameters are shared views', async () => {
    const { model } = lenet(engine, 71);
    const fcn = model.toFullyConvolutional([1, 28, 28]);
    equal(fcn.training, false, 'made for inference: starts in eval mode');
    deepEqual(fcn.namedParameters().map(([n, t]) => [n, t.shape]), [
      ['0.weight', [6, 1, 5, 5]], ['0.bias', [6]], ['3.weight', [16, 6, 5, 5]], ['3.bias', [16]],
      ['6.weight', [120, 16, 4, 4]], ['6.bias', [120]], ['8.weight', [84, 120, 1, 1]], ['8.bias', [84]],
      ['10.weight', [10, 84, 1, 1]], ['10.bias', [10]],
    ]);
    fcn.parameters().forEach((p, i) => {
      ok(p.isView && p.storage === model.parameters()[i]!.storage, `parameter ${i} is a view of the source's`);
    });
    const x = randomInput(engine, [2, 1, 28, 28], 72);
    const logits = model.forward(x);
    const map = fcn.forward(x);
    deepEqual(map.shape, [2, 10, 1, 1]);
    expectClose(await map.read(), await logits.read(), 'FCN at the training size');
    // Shared storage: new weights in the source show in the FCN.
    const record: Record<string, Float32Array> = {};
    const rng = ref.makeRng(73);
    for (const [name, t] of model.namedParameters()) record[name] = Float32Array.from(ref.randomArray([t.size], rng, -0.3, 0.3).data);
    model.loadParameters(record);
    const logits2 = model.forward(x);
    const map2 = fcn.forward(x);
    expectClose(await map2.read(), await logits2.read(), 'after loading new weights into the source');
    ok((await map2.read())[0] !== (await map.read())[0], 'the FCN sees the new weights');
    [x, logits, map, logits2, map2].forEach((t) => t.dispose());
    fcn.dispose();
    const w = model.parameters()[0]!;
    model.dispose();
    ok(w.disposed && fcn.parameters()[0]!.disposed, 'disposing the source invalidates the views');
    throws(() => fcn.forward(engine.zeros([1, 1, 28, 28])), /disposed/, TensorStateError);
  });

  it('the score map on 60×44 equals the classifier on each 28×28 crop at jump·(i, j)', async () => {
    const { model } = lenet(engine, 81);
    const fcn = model.toFullyConvolutional([1, 28, 28]);
    const x = randomInput(engine, [2, 1, 60, 44], 82);
    const g = fcn.geometry(x.shape);
    deepEqual(g, { outputShape: [2, 10, 9, 5], receptiveField: [28, 28], jump: [4, 4], offset: [13.5, 13.5] });
    const map = fcn.forward(x);
    deepEqual(map.shape, g.outputShape);
    // Crops whose top-left is jump·(i, j): centred at offset + jump·(i, j), cell (i, j)'s centre.
    const crops = extractPatches(x, 28, 4);
    deepEqual(crops.shape, [2 * 9 * 5, 1, 28, 28]);
    const logits = await model.forward(crops).read();
    const got = await map.read();
    const fromMap = new Float32Array(logits.length);
    for (let n = 0; n < 2; n++) for (let i = 0; i < 9; i++) for (let j = 0; j < 5; j++) for (let k = 0; k < 10; k++) {
      fromMap[((n * 9 + i) * 5 + j) * 10 + k] = got[((n * 10 + k) * 9 + i) * 5 + j]!;
    }
    expectClose(fromMap, logits, 'score map cells vs crops');
    [x, map, crops].forEach((t) => t.dispose());
    fcn.dispose();
    model.dispose();
  });

  it('a padded VGG-style net and a strided, ceil-mode, Lp/avg-pooled net convert too', async () => {
    for (const [net, shape] of [[smallVgg(engine, 91), [3, 16, 16]], [everyLayerNet(engine, 92), [2, 9, 11]]] as const) {
      const fcn = net.model.toFullyConvolutional([...shape]);
      const x = randomInput(engine, [2, ...shape], 93);
      const y = net.model.forward(x);
      const map = fcn.forward(x);
      deepEqual(map.shape, [...y.shape, 1, 1]);
      expectClose(await map.read(), await y.read(), `${net.model.layers[0]!.describe()} FCN at the training size`);
      const big = randomInput(engine, [1, shape[0], shape[1] + 13, shape[2] + 6], 94);
      const bigMap = fcn.forward(big);
      deepEqual(bigMap.shape, fcn.geometry(big.shape).outputShape);
      ok(bigMap.shape[2]! > 1 && bigMap.shape[3]! > 1, 'a dense map on a larger image');
      [x, y, map, big, bigMap].forEach((t) => t.dispose());
      fcn.dispose();
      net.model.dispose();
    }
  });

  it('clear errors: Flatten not followed by Linear, a training shape the first Linear does not take, an input smaller than the training size', () => {
    const flattenRelu = new Sequential(engine, [new Conv2d(1, 2, 3), new Flatten(), new ReLU(), new Linear(8, 3)], { seed: 1 });
    throws(() => flattenRelu.toFullyConvolutional([1, 4, 4]), /layer 1 Flatten must be followed directly by a Linear, but layer 2 is ReLU\(\)/, ShapeError);
    const { model } = lenet(engine, 2);
    throws(() => model.toFullyConvolutional([1, 32, 32]), /toFullyConvolutional: layer 7 Linear.*400 features.*expects in = 256/, ShapeError);
    throws(() => model.toFullyConvolutional([1, 28] as unknown as [number, number, number]), /trainedInputShape must have rank 3/, ShapeError);
    const fcn = model.toFullyConvolutional([1, 28, 28]);
    const small = engine.zeros([1, 1, 27, 40]);
    throws(() => fcn.forward(small), /input 27×40 is smaller than the training size 28×28/, ShapeError);
    const rgb = engine.zeros([1, 3, 28, 28]);
    throws(() => fcn.forward(rgb), /3 channels, the model was trained on 1/, ShapeError);
    [small, rgb].forEach((t) => t.dispose());
    [flattenRelu, model, fcn].forEach((m) => m.dispose());
  });
});

describe('fcn: geometry', () => {
  let engine: Engine;
  before(async () => {
    engine = await getEngine();
  });

  it('conv K then pool P (stride P) sees P + K - 1 pixels, jump P', () => {
    for (const [K, P] of [[5, 2], [3, 3], [7, 4], [1, 2]] as const) {
      const m = new Sequential(engine, [new Conv2d(1, 1, K), new MaxPool2d({ kernel: P })], { seed: 1 });
      const g = m.geometry([1, 1, 30, 31]);
      deepEqual(g, {
        outputShape: [1, 1, Math.floor((30 - K + 1) / P), Math.floor((31 - K + 1) / P)],
        receptiveField: [P + K - 1, P + K - 1], jump: [P, P], offset: [(K - 1) / 2 + (P - 1) / 2, (K - 1) / 2 + (P - 1) / 2],
      }, `K ${K}, P ${P}`);
      m.dispose();
    }
  });

  it('LeNet by hand: rf 28, jump 4, offset 13.5; a rank-3 shape gives a rank-3 answer', () => {
    const { model } = lenet(engine, 1);
    deepEqual(model.geometry([1, 28, 28]), { outputShape: [10], receptiveField: [28, 28], jump: [4, 4], offset: [13.5, 13.5] });
    throws(() => model.geometry([1, 32, 28]), /Linear: input \[1, 320\] has 320 features/, ShapeError);
    model.dispose();
  });

  it('padding, stride and dilation by hand, and by the support of a backward pass', async () => {
    // conv3 pad 1: rf 3, offset 0. conv3 stride 2 dilation 2 pad [2, 1, 2, 1]: span 4,
    // rf 3 + 4 = 7, offset h 0 + (2 - 2) = 0, w 0 + (2 - 1) = 1, jump 2. avgpool 3/2 pad 1: span 2,
    // rf 7 + 2·2 = 11, offset h 0 + (1 - 1)·2 = 0, w 1, jump 4. conv [2, 3]: spans 1 and 2,
    // rf [15, 19], offset [0 + 0.5·4, 1 + 1·4] = [2, 5], jump 4.
    const m = new Sequential(engine, [
      new Conv2d(1, 2, 3, { padding: 1 }), new Conv2d(2, 2, 3, { stride: 2, dilation: 2, padding: [2, 1, 2, 1] }),
      new AvgPool2d({ kernel: 3, stride: 2, padding: 1 }), new Conv2d(2, 1, [2, 3]),
    ], { seed: 1 });
    const H = 40;
    const g = m.geometry([1, 1, H, H]);
    deepEqual({ ...g, outputShape: undefined }, { outputShape: undefined, receptiveField: [15, 19], jump: [4, 4], offset: [2, 5] });
    // With positive weights, the input pixels that one output cell depends on are the nonzero dx.
    const record: Record<string, Float32Array> = {};
    for (const [name, t] of m.namedParameters()) record[name] = new Float32Array(t.size).fill(0.5);
    m.loadParameters(record);
    const x = engine.zeros([1, 1, H, H]);
    const y = m.forward(x);
    const [, , OH, OW] = y.shape as [number, number, number, number];
    for (const [i, j] of [[3, 4], [5, 2]] as const) {
      const dy = new Float32Array(OH * OW);
      dy[i * OW + j] = 1;
      const dyt = engine.tensor(dy, [1, 1, OH, OW]);
      m.zeroGrad();
      const dx = await m.backward(dyt).read();
      const rows: number[] = [];
      const cols: number[] = [];
      for (let r = 0; r < H; r++) for (let c = 0; c < H; c++) if (dx[r * H + c] !== 0) { rows.push(r); cols.push(c); }
      const [top, bottom, left, right] = [Math.min(...rows), Math.max(...rows), Math.min(...cols), Math.max(...cols)];
      deepEqual([bottom - top + 1, right - left + 1], g.receptiveField, `cell (${i}, ${j}) support size`);
      deepEqual([(top + bottom) / 2, (left + right) / 2], [g.offset[0] + g.jump[0] * i, g.offset[1] + g.jump[1] * j], `cell (${i}, ${j}) centre`);
      dyt.dispose();
    }
    [x, y].forEach((t) => t.dispose());
    m.dispose();
  });
});

describe('fcn: any image size, tiling, memory', () => {
  let engine: Engine;
  before(async () => {
    engine = await getEngine();
  });

  it('a second image size compiles no pipeline (whole, tiled, training)', async () => {
    const { model } = smallVgg(engine, 101);
    const fcn = model.toFullyConvolutional([3, 16, 16]).eval();
    const run = async (H: number, W: number, tiled: boolean): Promise<void> => {
      const x = randomInput(engine, [1, 3, H, W], H * W);
      fcn.forward(x, tiled ? { maxActivationBytes: 40000 } : {}).dispose();
      fcn.train();
      const y = fcn.forward(x);
      fcn.backward(y).dispose();
      fcn.eval();
      [x, y].forEach((t) => t.dispose());
      await engine.flush();
    };
    await run(40, 36, true);
    await run(40, 36, false);
    const compiled = engine.stats().pipelinesCompiled;
    await run(29, 53, true);
    await run(29, 53, false);
    equal(engine.stats().pipelinesCompiled, compiled, 'pipelines compiled on a second size');
    fcn.dispose();
    model.dispose();
  });

  it('tiled inference equals the whole-image score map (padded VGG, LeNet, strided ceil-mode net)', async () => {
    const cases = [
      { net: smallVgg(engine, 111), shape: [3, 16, 16], input: [1, 3, 64, 56], divide: 2 },
      { net: lenet(engine, 112), shape: [1, 28, 28], input: [1, 1, 100, 84], divide: 4 },
      { net: everyLayerNet(engine, 113), shape: [2, 9, 11], input: [1, 2, 50, 60], divide: 2 },
    ];
    for (const { net, shape, input, divide } of cases) {
      const fcn = net.model.toFullyConvolutional(shape as [number, number, number]).eval();
      const x = randomInput(engine, input, 114);
      const whole = fcn.forward(x);
      const largest = Math.max(...fcn.shapesFor(input).slice(1, -1).map((s) => s.reduce((a, b) => a * b, 4)));
      const budget = Math.floor(largest / divide);
      const plan = planTiles(fcn, input, budget);
      const jump = fcn.geometry(input).jump;
      ok(plan.tiles.length >= 4, `${plan.tiles.length} tiles`);
      ok(plan.largestActivationBytes <= budget, 'each tile within the budget');
      ok(plan.tiles.every((t) => t.rows.start % jump[0] === 0 && t.cols.start % jump[1] === 0), 'tile origins on the jump grid');
      const tiled = fcn.forward(x, { maxActivationBytes: budget });
      deepEqual(tiled.shape, whole.shape);
      expectClose(await tiled.read(), await whole.read(), `tiled ${fcn.layers[0]!.describe()} on [${input}]`);
      [x, whole, tiled].forEach((t) => t.dispose());
      fcn.dispose();
      net.model.dispose();
    }
  });

  it('tiling lowers the peak memory; it refuses training mode and classifiers', async () => {
    const { model } = smallVgg(engine, 121);
    const fcn = model.toFullyConvolutional([3, 16, 16]).eval();
    const x = randomInput(engine, [1, 3, 96, 80], 122);
    const peakOf = async (opts: { maxActivationBytes?: number }): Promise<number> => {
      fcn.forward(x, opts).dispose();
      await engine.flush();
      engine.resetPeak();
      const base = engine.stats().liveBytes;
      const y = fcn.forward(x, opts);
      await engine.flush();
      y.dispose();
      return engine.stats().peakLiveBytes - base;
    };
    const whole = await peakOf({});
    const tiled = await peakOf({ maxActivationBytes: 8 * 96 * 80 });
    ok(tiled < 0.6 * whole, `tiled peak ${tiled} vs whole ${whole} bytes`);
    fcn.train();
    throws(() => fcn.forward(x, { maxActivationBytes: 1000 }), /call model.eval\(\) first/, OptionError);
    const classifier = model.eval();
    const batch = randomInput(engine, [1, 3, 16, 16], 123);
    throws(() => classifier.forward(batch, { maxActivationBytes: 1000 }), /needs a fully convolutional model.*Flatten/, OptionError);
    throws(() => fcn.eval().forward(x, { maxActivationBytes: 10 }), /even a tile of one output cell needs/);
    [x, batch].forEach((t) => t.dispose());
    fcn.dispose();
    model.dispose();
  });
});
