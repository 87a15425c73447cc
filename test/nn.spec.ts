import {
  Conv2d, Flatten, Linear, MaxPool2d, OptionError, ReLU, Sequential, ShapeError, Softmax, TensorStateError,
  accumulate, crop2d, decodeSafetensors, extractPatches, loadSafetensors, pasteWindow, saveSafetensors,
  softmax, softmaxGrad, type Engine,
} from '../src/index.js';
import * as ref from './reference.js';
import * as nnRef from './nn_reference.js';
import { everyLayerNet, expectClose, lenet, parametersAsRef, smallVgg, upload, type TestNet } from './nn_models.js';
import { getEngine } from './setup.js';
import { bucketBytes } from '../src/runtime/buffers.js';
import { deepEqual, equal, ok, throws } from './assert.js';

async function checkForward(engine: Engine, net: TestNet, xShape: number[], seed: number): Promise<void> {
  const x = ref.randomArray(xShape, ref.makeRng(seed));
  const xt = upload(engine, x);
  const y = net.model.forward(xt);
  const exp = nnRef.forward(net.reference, await parametersAsRef(net.model), x).acts.at(-1)!;
  deepEqual(y.shape, exp.shape, 'output shape');
  expectClose(await y.read(), exp, 'forward');
  xt.dispose();
  y.dispose();
}

describe('nn: Sequential forward vs the float64 reference', () => {
  let engine: Engine;
  before(async () => {
    engine = await getEngine();
  });

  it('LeNet-like 1×28×28, batch 2, training and eval mode', async () => {
    const net = lenet(engine, 11);
    await checkForward(engine, net, [2, 1, 28, 28], 1);
    net.model.eval(); // eval fuses Conv2d/Linear + ReLU and frees as it goes: same numbers
    await checkForward(engine, net, [2, 1, 28, 28], 2);
    net.model.dispose();
  });

  it('small VGG-style 3×16×16 with softmax, batch 3', async () => {
    const net = smallVgg(engine, 12);
    await checkForward(engine, net, [3, 3, 16, 16], 3);
    net.model.dispose();
  });

  it('every layer kind (strided, padded, ceil-mode, Lp, channel Lp, avg), batch 2', async () => {
    const net = everyLayerNet(engine, 13);
    await checkForward(engine, net, [2, 2, 9, 11], 4);
    net.model.eval();
    await checkForward(engine, net, [2, 2, 9, 11], 5);
    net.model.dispose();
  });
});

describe('nn: Sequential backward', () => {
  let engine: Engine;
  before(async () => {
    engine = await getEngine();
  });

  it('dx and every parameter gradient equal the reference chain of gradients', async () => {
    const net = everyLayerNet(engine, 21);
    const rng = ref.makeRng(22);
    const x = ref.randomArray([2, 2, 9, 11], rng);
    const xt = upload(engine, x);
    const y = net.model.forward(xt);
    const dy = ref.randomArray([...y.shape], rng);
    const dyt = upload(engine, dy);
    const dx = net.model.backward(dyt);
    const params = await parametersAsRef(net.model);
    const trace = nnRef.forward(net.reference, params, x);
    const exp = nnRef.backward(net.reference, params, trace, dy);
    deepEqual(dx.shape, x.shape, 'dx shape');
    expectClose(await dx.read(), exp.dx, 'dx');
    const grads = net.model.gradients();
    equal(grads.length, exp.grads.length, 'gradient count');
    for (let i = 0; i < grads.length; i++) {
      deepEqual(grads[i]!.shape, net.model.parameters()[i]!.shape, `gradient ${i} shape`);
      expectClose(await grads[i]!.read(), exp.grads[i]!, `gradient of ${net.model.namedParameters()[i]![0]}`);
    }
    [xt, y, dyt, dx].forEach((t) => t.dispose());
    net.model.dispose();
  });

  it('LeNet gradients vs the reference; gradients are zeros first, accumulate, zeroGrad resets', async () => {
    const net = lenet(engine, 31);
    for (const g of net.model.gradients()) ok((await g.read()).every((v) => v === 0), 'zeros before any backward');
    const rng = ref.makeRng(32);
    const x = ref.randomArray([2, 1, 28, 28], rng);
    const dy = ref.randomArray([2, 10], rng);
    const xt = upload(engine, x);
    const dyt = upload(engine, dy);
    const params = await parametersAsRef(net.model);
    const exp = nnRef.backward(net.reference, params, nnRef.forward(net.reference, params, x), dy);
    const y1 = net.model.forward(xt);
    net.model.backward(dyt).dispose();
    net.model.backward(dyt).dispose(); // twice after one forward
    const y2 = net.model.forward(xt);
    net.model.backward(dyt).dispose(); // and once after another
    const grads = net.model.gradients();
    for (let i = 0; i < grads.length; i++) {
      const tripled = exp.grads[i]!.data.map((v) => 3 * v);
      expectClose(await grads[i]!.read(), tripled, `3 × gradient ${i}`);
    }
    net.model.zeroGrad();
    for (const g of grads) ok((await g.read()).every((v) => v === 0), 'zeroGrad');
    [xt, dyt, y1, y2].forEach((t) => t.dispose());
    net.model.dispose();
  });

  it('backward before forward, after an eval forward, with a wrong dy, or after the output it needs was disposed', () => {
    const net = smallVgg(engine, 41);
    const dy = engine.zeros([1, 10]);
    throws(() => net.model.backward(dy), /forward before backward/);
    const x = engine.zeros([1, 3, 16, 16]);
    net.model.eval();
    net.model.forward(x).dispose();
    throws(() => net.model.backward(dy), /eval mode/);
    net.model.train();
    const y = net.model.forward(x);
    throws(() => net.model.backward(engine.zeros([2, 10])), /dy has shape \[2, 10\].*\[1, 10\]/, ShapeError);
    y.dispose();
    throws(() => net.model.backward(dy), /output of forward was disposed.*Softmax/, TensorStateError);
    [x, dy].forEach((t) => t.dispose());
    net.model.dispose();
  });
});

describe('nn: parameters, names, initialisation', () => {
  let engine: Engine;
  before(async () => {
    engine = await getEngine();
  });

  it('namedParameters follow PyTorch nn.Sequential: index.weight / index.bias, torch shapes', () => {
    const { model } = lenet(engine, 1);
    deepEqual(model.namedParameters().map(([n, t]) => [n, t.shape]), [
      ['0.weight', [6, 1, 5, 5]], ['0.bias', [6]], ['3.weight', [16, 6, 5, 5]], ['3.bias', [16]],
      ['7.weight', [120, 256]], ['7.bias', [120]], ['9.weight', [84, 120]], ['9.bias', [84]],
      ['11.weight', [10, 84]], ['11.bias', [10]],
    ]);
    deepEqual(model.parameters().map((t) => t.shape), model.namedParameters().map(([, t]) => t.shape));
    const noBias = new Sequential(engine, [new Conv2d(4, 6, 3, { groups: 2, bias: false }), new Flatten(), new Linear(6, 2, { bias: false })], { seed: 1 });
    deepEqual(noBias.namedParameters().map(([n, t]) => [n, t.shape]), [['0.weight', [6, 2, 3, 3]], ['2.weight', [2, 6]]]);
    model.dispose();
    noBias.dispose();
  });

  it('fresh parameters: U(-1/sqrt(fan_in), 1/sqrt(fan_in)), reproducible by seed', async () => {
    const a = lenet(engine, 5).model;
    const b = lenet(engine, 5).model;
    const c = lenet(engine, 6).model;
    const fanIns = [25, 25, 150, 150, 256, 256, 120, 120, 84, 84];
    const pa = await Promise.all(a.parameters().map((t) => t.read()));
    const pb = await Promise.all(b.parameters().map((t) => t.read()));
    const pc = await Promise.all(c.parameters().map((t) => t.read()));
    pa.forEach((values, i) => {
      const bound = 1 / Math.sqrt(fanIns[i]!);
      const maxAbs = Array.from(values).reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      ok(maxAbs <= bound, `parameter ${i}: max |v| ${maxAbs} > bound ${bound}`);
      if (values.length >= 100) ok(maxAbs > 0.9 * bound, `parameter ${i}: max |v| ${maxAbs} far inside bound ${bound}`);
      deepEqual(Array.from(values), Array.from(pb[i]!), `same seed, parameter ${i}`);
      ok(values.some((v, k) => v !== pc[i]![k]), `another seed, parameter ${i}`);
    });
    [a, b, c].forEach((m) => m.dispose());
  });

  it('loadParameters is strict like torch and writes nothing on error', async () => {
    const { model } = lenet(engine, 7);
    const record: Record<string, Float32Array> = {};
    const rng = ref.makeRng(8);
    for (const [name, t] of model.namedParameters()) record[name] = Float32Array.from(ref.randomArray([t.size], rng).data);
    model.loadParameters(record);
    for (const [name, t] of model.namedParameters()) deepEqual(Array.from(await t.read()), Array.from(record[name]!), name);
    const before = await model.parameters()[0]!.read();
    const { ['3.bias']: _dropped, ...missing } = record;
    throws(() => model.loadParameters(missing), /missing parameter\(s\) '3.bias'/, OptionError);
    throws(() => model.loadParameters({ ...record, '12.weight': new Float32Array(1) }), /unknown parameter name\(s\) '12.weight'/, OptionError);
    const wrong = { ...record, '0.weight': new Float32Array(150).fill(9), '7.bias': new Float32Array(119) };
    throws(() => model.loadParameters(wrong), /'7.bias' has 119 values.*\[120\] has 120/, ShapeError);
    throws(() => model.loadParameters({ ...record, '0.bias': [1, 2, 3, 4, 5, 6] as unknown as Float32Array }), /'0.bias' must be a Float32Array/, OptionError);
    deepEqual(Array.from(await model.parameters()[0]!.read()), Array.from(before), 'nothing written');
    model.dispose();
  });
});

describe('nn: safetensors', () => {
  let engine: Engine;
  before(async () => {
    engine = await getEngine();
  });

  it('load(save(model)) gives identical parameters and outputs; the layout is safetensors', async () => {
    const a = lenet(engine, 51).model;
    const b = lenet(engine, 52).model;
    const bytes = await saveSafetensors(a, { format: 'pt' });
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const headerBytes = view.getUint32(0, true);
    equal(view.getUint32(4, true), 0, 'u64 header length, high word');
    equal((8 + headerBytes) % 8, 0, 'data 8-byte aligned');
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerBytes))) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
    deepEqual(header['__metadata__'], { format: 'pt' });
    deepEqual(header['3.weight'], { dtype: 'F32', shape: [16, 6, 5, 5], data_offsets: [600 + 6 * 4, 600 + 24 + 2400 * 4] });
    const w3 = new Float32Array(bytes.slice(8 + headerBytes + 624, 8 + headerBytes + 624 + 9600).buffer);
    deepEqual(Array.from(w3), Array.from(await a.parameters()[2]!.read()), 'raw little-endian float32 data');
    loadSafetensors(b, bytes);
    for (let i = 0; i < a.parameters().length; i++) {
      deepEqual(Array.from(await b.parameters()[i]!.read()), Array.from(await a.parameters()[i]!.read()), `parameter ${i}`);
    }
    const x = upload(engine, ref.randomArray([1, 1, 28, 28], ref.makeRng(53)));
    const ya = a.forward(x);
    const yb = b.forward(x);
    deepEqual(Array.from(await yb.read()), Array.from(await ya.read()), 'same outputs');
    equal(decodeSafetensors(bytes).tensors.size, 10);
    [x, ya, yb].forEach((t) => t.dispose());
    a.dispose();
    b.dispose();
  });

  it('clear errors: truncated, not JSON, other dtypes, wrong shapes, missing names', async () => {
    const a = new Sequential(engine, [new Conv2d(1, 2, 3)], { seed: 1 });
    const bytes = await saveSafetensors(a);
    throws(() => decodeSafetensors(bytes.subarray(0, 5)), /too short/, OptionError);
    throws(() => decodeSafetensors(bytes.subarray(0, 40)), /runs past/, OptionError);
    const corrupt = bytes.slice();
    corrupt[8] = 0x41;
    throws(() => decodeSafetensors(corrupt), /not JSON/, OptionError);
    const f16 = new TextEncoder().encode(JSON.stringify({ w: { dtype: 'F16', shape: [1], data_offsets: [0, 2] } }));
    const f16File = new Uint8Array(8 + f16.length + 2);
    new DataView(f16File.buffer).setUint32(0, f16.length, true);
    f16File.set(f16, 8);
    throws(() => decodeSafetensors(f16File), /'w' has dtype "F16"; fullconv reads F32 only/, OptionError);
    const other = new Sequential(engine, [new Conv2d(1, 2, 2)], { seed: 1 });
    throws(() => loadSafetensors(other, bytes), /'0.weight' has shape \[2, 1, 3, 3\] in the file, but the parameter is \[2, 1, 2, 2\]/, ShapeError);
    const noBias = new Sequential(engine, [new Conv2d(1, 2, 3, { bias: false })], { seed: 1 });
    throws(() => loadSafetensors(noBias, bytes), /unknown parameter name\(s\) '0.bias'/, OptionError);
    [a, other, noBias].forEach((m) => m.dispose());
  });
});

describe('nn: memory and pipelines', () => {
  let engine: Engine;
  before(async () => {
    engine = await getEngine();
  });

  /** Eight same-size conv + ReLU layers: the activations' sum is 8 (fused) to 16 activations. */
  function deepNet(): Sequential {
    const layers = [];
    for (let i = 0; i < 8; i++) layers.push(new Conv2d(8, 8, 3, { padding: 1 }), new ReLU());
    return new Sequential(engine, layers, { seed: 3 });
  }

  it('eval mode keeps the peak near the two largest activations, not their sum; training keeps what backward reads', async () => {
    const model = deepNet();
    const x = upload(engine, ref.randomArray([1, 8, 48, 48], ref.makeRng(4)));
    const activation = bucketBytes(x.byteLength); // the pool hands out bucket-sized buffers
    await engine.flush();
    model.eval();
    model.forward(x).dispose(); // warm the pool and pipelines
    await engine.flush();
    engine.resetPeak();
    const base = engine.stats().liveBytes;
    const y = model.forward(x);
    await engine.flush();
    const evalPeak = engine.stats().peakLiveBytes - base;
    y.dispose();
    // Input, output and the conv's zero-padded copy of its input at most; the sum would be 8 to 16.
    ok(evalPeak <= 3.5 * activation, `eval peak ${evalPeak / activation} activations of ${activation} bytes`);
    model.train();
    engine.resetPeak();
    const yt = model.forward(x);
    await engine.flush();
    const trainLive = engine.stats().liveBytes - base;
    // ReLU outputs (8: conv inputs and ReLU backward read them) stay; pre-ReLU conv outputs go.
    ok(trainLive >= 8 * activation && trainLive <= 8.5 * activation, `training keeps ${trainLive / activation} activations`);
    yt.dispose();
    x.dispose();
    model.dispose();
    await engine.flush();
  });
});

describe('nn: ops of the model layer (softmax, accumulate, crop)', () => {
  let engine: Engine;
  before(async () => {
    engine = await getEngine();
  });

  it('softmax over dim 1 of [N, K] and [N, K, H, W], stable for huge logits, and its gradient', async () => {
    const rng = ref.makeRng(61);
    for (const shape of [[3, 7], [2, 5, 3, 4], [1, 1], [1, 300, 1, 2]]) {
      const x = ref.randomArray(shape, rng, -5, 5);
      x.data[0] = 1000; // exp(1000) overflows without the max subtraction
      x.data[x.data.length - 1] = -1000;
      const xt = upload(engine, x);
      const y = softmax(xt);
      const exp = nnRef.softmax(x);
      expectClose(await y.read(), exp, `softmax [${shape}]`);
      const dy = ref.randomArray(shape, rng);
      const dyt = upload(engine, dy);
      const dx = softmaxGrad(dyt, y);
      expectClose(await dx.read(), nnRef.softmaxGrad(dy, exp), `softmaxGrad [${shape}]`);
      [xt, y, dyt, dx].forEach((t) => t.dispose());
    }
    const bad = engine.zeros([2, 3, 4]);
    throws(() => softmax(bad), /\[N, K\] or \[N, K, H, W\].*\[2, 3, 4\]/, ShapeError);
    bad.dispose();
  });

  it('accumulate: acc += alpha * x', async () => {
    const rng = ref.makeRng(62);
    const a = ref.randomArray([5, 7], rng);
    const b = ref.randomArray([35], rng);
    const at = upload(engine, a);
    const bt = upload(engine, b);
    accumulate(at, bt, -0.5);
    expectClose(await at.read(), a.data.map((v, i) => v - 0.5 * b.data[i]!), 'axpy');
    throws(() => accumulate(at, engine.zeros([3])), /35 elements.*3/, ShapeError);
    [at, bt].forEach((t) => t.dispose());
  });

  it('crop2d, extractPatches and pasteWindow copy the right windows', async () => {
    const rng = ref.makeRng(63);
    const [N, C, H, W] = [2, 3, 7, 9];
    const x = ref.randomArray([N, C, H, W], rng);
    const xt = upload(engine, x);
    const at = (n: number, c: number, h: number, w: number): number => x.data[((n * C + c) * H + h) * W + w]!;
    const crop = crop2d(xt, 2, 3, 4, 5);
    const expCrop: number[] = [];
    for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) for (let i = 0; i < 4; i++) for (let j = 0; j < 5; j++) expCrop.push(at(n, c, 2 + i, 3 + j));
    deepEqual(Array.from(await crop.read()), Array.from(Float32Array.from(expCrop)), 'crop2d');
    const patches = extractPatches(xt, [3, 4], [2, 3]); // 3 × 2 windows per image
    deepEqual(patches.shape, [N * 3 * 2, C, 3, 4]);
    const expPatches: number[] = [];
    for (let n = 0; n < N; n++) for (let pi = 0; pi < 3; pi++) for (let pj = 0; pj < 2; pj++)
      for (let c = 0; c < C; c++) for (let i = 0; i < 3; i++) for (let j = 0; j < 4; j++) expPatches.push(at(n, c, pi * 2 + i, pj * 3 + j));
    deepEqual(Array.from(await patches.read()), Array.from(Float32Array.from(expPatches)), 'extractPatches');
    const dst = engine.zeros([N, C, 5, 6]);
    pasteWindow(crop, 1, 2, dst, 3, 0, 2, 3);
    const got = await dst.read();
    for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) for (let i = 0; i < 5; i++) for (let j = 0; j < 6; j++) {
      const inside = i >= 3 && j < 3;
      const want = inside ? Math.fround(at(n, c, 2 + 1 + (i - 3), 3 + 2 + j)) : 0;
      equal(got[((n * C + c) * 5 + i) * 6 + j], want, `paste (${n}, ${c}, ${i}, ${j})`);
    }
    throws(() => crop2d(xt, 5, 0, 3, 2), /window height 5 \+ 3 = 8 goes past the input height 7/, ShapeError);
    throws(() => extractPatches(xt, 8), /height 0 \+ 8 = 8 goes past/, ShapeError);
    throws(() => pasteWindow(crop, 0, 0, dst, 4, 0, 2, 2), /dst height 5/, ShapeError);
    [xt, crop, patches, dst].forEach((t) => t.dispose());
  });
});

describe('nn: errors', () => {
  let engine: Engine;
  before(async () => {
    engine = await getEngine();
  });

  it('bad layer arguments throw at construction', () => {
    throws(() => new Conv2d(0, 4, 3), /inChannels must be an integer >= 1, got 0/, OptionError);
    throws(() => new Conv2d(3, 4, 3, { strides: 2 } as unknown as { stride: number }), /unknown option 'strides' \(did you mean 'stride'\?\)/, OptionError);
    throws(() => new Conv2d(3, 4, 3, { groups: 2 }), /groups 2 does not divide inChannels 3/, ShapeError);
    throws(() => new Conv2d(3, 4, 3, { bias: 1 as unknown as boolean }), /bias must be true or false/, OptionError);
    throws(() => new MaxPool2d({ kernel: 2, padding: 2 }), /each side must be </, OptionError);
    throws(() => new Linear(4, 2.5), /outFeatures must be an integer >= 1, got 2.5/, OptionError);
  });

  it('bad models and inputs name the layer', () => {
    throws(() => new Sequential(engine, [new ReLU(), {} as ReLU]), /layers\[1\] is not a layer/, OptionError);
    const shared = new ReLU();
    const m = new Sequential(engine, [shared]);
    throws(() => new Sequential(engine, [shared]), /already belongs to another Sequential/, OptionError);
    throws(() => new Sequential(engine, [new ReLU()], { sead: 1 } as unknown as { seed: number }), /unknown option 'sead'/, OptionError);
    const net = lenet(engine, 1).model;
    const x = engine.zeros([1, 1, 20, 20]);
    throws(() => net.forward(x), /layer 7 Linear\(in_features=256.*: Linear: input \[1, 64\] has 64 features/, ShapeError);
    const x3 = engine.zeros([1, 2, 28, 28]);
    throws(() => net.forward(x3), /layer 0 Conv2d\(1, 6/, ShapeError);
    const soft = new Sequential(engine, [new Softmax()]);
    const x5 = engine.zeros([2, 3, 4]);
    throws(() => soft.forward(x5), /layer 0 Softmax\(dim=1\): Softmax: input must have rank 2 or 4, got shape \[2, 3, 4\]/, ShapeError);
    [x, x3, x5].forEach((t) => t.dispose());
    [m, net, soft].forEach((model) => model.dispose());
  });
});
