// Pictures in and out: tensorFromImage (RGBA bytes, GPUTexture, and in Chromium the DOM sources)
// and the colouring kernels, against float64 references; the sliding-window baseline vs the
// fully convolutional model.
import fc from 'fast-check';
import { AvgPool2d, Conv2d, Engine, Flatten, Linear, MaxPool2d, OptionError, ReLU, Sequential, ShapeError } from '../src/index.js';
import { CLASS_PALETTE, HEAT_STOPS, colorizeClasses, colorizeHeatmap, readRGBA, rgbaTensor, type RGB } from '../src/app/colorize.js';
import { tensorFromImage } from '../src/app/image.js';
import { slidingWindow } from '../src/app/sliding_window.js';
import { modelFromSpec, parseModelSpec, specOf, type ModelSpec } from '../src/nn/spec.js';
import { allClose, makeRng } from './reference.js';
import { getEngine, RUNTIME } from './setup.js';
import { deepEqual, ok, throws } from './assert.js';

const SEED = 7031;

function randomBytes(n: number, rng: () => number): Uint8Array<ArrayBuffer> {
  return Uint8Array.from({ length: n }, () => Math.floor(rng() * 256));
}

/** PyTorch's align_corners=False source taps along one axis. */
function tap(o: number, inSize: number, outSize: number): [number, number, number] {
  const src = Math.max(((o + 0.5) * inSize) / outSize - 0.5, 0);
  const i0 = Math.min(Math.floor(src), inSize - 1);
  return [i0, i0 < inSize - 1 ? i0 + 1 : i0, src - i0];
}

/** RGBA bytes -> [1, C, outH, outW]: bilinear resize of x / 255, BT.601 luma for C = 1, then (x - mean) / std. */
function refImage(w: number, h: number, rgba: Uint8Array, outH: number, outW: number, channels: 1 | 3, mean: number[], std: number[]): Float64Array {
  const out = new Float64Array(channels * outH * outW);
  const sample = (c: number, oy: number, ox: number): number => {
    const [h0, h1, lh] = tap(oy, h, outH);
    const [w0, w1, lw] = tap(ox, w, outW);
    const at = (y: number, x: number) => rgba[(y * w + x) * 4 + c]! / 255;
    return (1 - lh) * ((1 - lw) * at(h0, w0) + lw * at(h0, w1)) + lh * ((1 - lw) * at(h1, w0) + lw * at(h1, w1));
  };
  for (let oy = 0; oy < outH; oy++) {
    for (let ox = 0; ox < outW; ox++) {
      const rgb = [0, 1, 2].map((c) => sample(c, oy, ox));
      if (channels === 1) out[oy * outW + ox] = (0.299 * rgb[0]! + 0.587 * rgb[1]! + 0.114 * rgb[2]! - mean[0]!) / std[0]!;
      else for (let c = 0; c < 3; c++) out[(c * outH + oy) * outW + ox] = (rgb[c]! - mean[c]!) / std[c]!;
    }
  }
  return out;
}

/** The heat ramp in float64: piecewise linear through the stops. */
function refHeat(v: number, lo: number, hi: number): number[] {
  const t = Math.min(Math.max((v - lo) / (hi - lo), 0), 1);
  const pos = t * (HEAT_STOPS.length - 1);
  const k = Math.min(Math.floor(pos), HEAT_STOPS.length - 2);
  const f = pos - k;
  return [0, 1, 2].map((c) => (HEAT_STOPS[k]![c]! * (1 - f) + HEAT_STOPS[k + 1]![c]! * f) / 255);
}

/** Colour over image: rgb = image + (colour - image) * opacity * colourAlpha, alpha the image's. */
function refPixel(colour: number[], alpha: number, image: Uint8Array | null, at: number, opacity: number): number[] {
  if (!image) return [...colour.map((c) => Math.round(c * 255)), Math.round(alpha * 255)];
  const a = opacity * alpha;
  return [...[0, 1, 2].map((c) => Math.round((image[at + c]! / 255 + (colour[c]! - image[at + c]! / 255) * a) * 255)), image[at + 3]!];
}

function maxByteError(got: Uint8Array, exp: number[]): number {
  let worst = got.length === exp.length ? 0 : Infinity;
  for (let i = 0; i < exp.length; i++) worst = Math.max(worst, Math.abs(got[i]! - exp[i]!));
  return worst;
}

describe('app: tensorFromImage', () => {
  let engine: Engine;
  before(async () => {
    engine = await getEngine();
  });

  it('RGBA bytes to normalised NCHW, RGB and grey, with and without resizing (random sizes)', async () => {
    const rng = makeRng(SEED);
    await fc.assert(fc.asyncProperty(
      fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 9 }), fc.constantFrom<1 | 3>(1, 3), fc.boolean(),
      fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 12 }),
      async (w, h, channels, resize, outH, outW) => {
        const rgba = randomBytes(w * h * 4, rng);
        const mean = Array.from({ length: channels }, () => rng() - 0.2);
        const std = Array.from({ length: channels }, () => 0.2 + rng());
        const size: [number, number] = resize ? [outH, outW] : [h, w];
        const t = tensorFromImage(engine, { width: w, height: h, rgba }, { mean, std, channels, ...(resize ? { size } : {}) });
        deepEqual(t.shape, [1, channels, ...size]);
        const err = allClose(await t.read(), refImage(w, h, rgba, size[0], size[1], channels, mean, std));
        ok(err === null, `${w}x${h} -> ${size} C${channels}: ${err}`);
        t.dispose();
      },
    ), { seed: SEED, numRuns: 20 });
  });

  it('scalar mean/std, grey from ImageData-shaped { data } with unaligned bytes', async () => {
    const rng = makeRng(SEED + 1);
    const backing = randomBytes(1 + 5 * 3 * 4, rng);
    const data = backing.subarray(1); // byteOffset 1: copied, not viewed
    const t = tensorFromImage(engine, { width: 5, height: 3, data: new Uint8ClampedArray(data.buffer, 1, 60) }, { channels: 1, mean: 0.5, std: 0.25 });
    ok(allClose(await t.read(), refImage(5, 3, data, 3, 5, 1, [0.5], [0.25])) === null);
    // pure colours give the BT.601 weights
    const primaries = Uint8Array.from([255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255]);
    const grey = await tensorFromImage(engine, { width: 3, height: 1, rgba: primaries }, { channels: 1 }).read();
    ok(allClose(grey, [0.299, 0.587, 0.114]) === null, `luma ${Array.from(grey)}`);
  });

  it('reads rgba8unorm and bgra8unorm GPUTextures', async () => {
    const rng = makeRng(SEED + 2);
    const [w, h] = [70, 5]; // 280-byte rows: the copy pads them to 512
    const rgba = randomBytes(w * h * 4, rng);
    for (const format of ['rgba8unorm', 'bgra8unorm'] as const) {
      const texture = engine.device.createTexture({ size: [w, h], format, usage: GPUTextureUsage.COPY_DST | GPUTextureUsage.COPY_SRC | GPUTextureUsage.TEXTURE_BINDING });
      const texels = format === 'rgba8unorm' ? rgba : rgba.map((_, i) => rgba[i - (i % 4) + [2, 1, 0, 3][i % 4]!]!);
      engine.device.queue.writeTexture({ texture }, texels, { bytesPerRow: w * 4 }, [w, h]);
      const t = tensorFromImage(engine, texture, { size: [4, 33], mean: [0.1, 0.2, 0.3], std: 0.5 });
      const err = allClose(await t.read(), refImage(w, h, rgba, 4, 33, 3, [0.1, 0.2, 0.3], [0.5, 0.5, 0.5]));
      ok(err === null, `${format}: ${err}`);
      t.dispose();
      texture.destroy();
    }
  });

  it('rejects bad options, sizes, sources and texture formats', () => {
    const img = { width: 2, height: 2, rgba: new Uint8Array(16) };
    throws(() => tensorFromImage(engine, img, { channels: 2 as never }), /channels must be 1 or 3, got 2/, OptionError);
    throws(() => tensorFromImage(engine, img, { std: [1, 0, 1] }), /std must be .* each finite and > 0/, OptionError);
    throws(() => tensorFromImage(engine, img, { mean: [0, 0] }), /mean must be a number or 3 numbers/, OptionError);
    throws(() => tensorFromImage(engine, img, { size: [0, 4] }), /size must be an integer >= 1/, OptionError);
    throws(() => tensorFromImage(engine, img, { sizes: 4 } as never), /unknown option 'sizes' \(did you mean 'size'\?\)/, OptionError);
    throws(() => tensorFromImage(engine, { width: 3, height: 2, rgba: new Uint8Array(16) }), /3 x 2 RGBA image needs 24 bytes, got 16/, ShapeError);
    throws(() => tensorFromImage(engine, { width: 0, height: 2, rgba: new Uint8Array(0) }), /width and height must be integers >= 1/, ShapeError);
    throws(() => tensorFromImage(engine, { width: 2, height: 2 } as never), /unsupported image source/, OptionError);
    const float = engine.device.createTexture({ size: [2, 2], format: 'rgba16float', usage: GPUTextureUsage.COPY_SRC });
    throws(() => tensorFromImage(engine, float), /format 'rgba16float' is not supported; use rgba8unorm/, OptionError);
    const unreadable = engine.device.createTexture({ size: [2, 2], format: 'rgba8unorm', usage: GPUTextureUsage.TEXTURE_BINDING });
    throws(() => tensorFromImage(engine, unreadable), /needs GPUTextureUsage.COPY_SRC/, OptionError);
    float.destroy();
    unreadable.destroy();
  });

  if (RUNTIME === 'browser') {
    it('reads ImageData, ImageBitmap, canvases and an <img> in Chromium', async () => {
      const rng = makeRng(SEED + 3);
      const [w, h] = [13, 6];
      const rgba = randomBytes(w * h * 4, rng);
      for (let i = 3; i < rgba.length; i += 4) rgba[i] = 255; // opaque: canvases premultiply alpha
      const imageData = new ImageData(new Uint8ClampedArray(rgba), w, h);
      const exp = refImage(w, h, rgba, h, w, 3, [0, 0, 0], [1, 1, 1]);
      const offscreen = new OffscreenCanvas(w, h);
      offscreen.getContext('2d')!.putImageData(imageData, 0, 0);
      const canvas = document.createElement('canvas');
      [canvas.width, canvas.height] = [w, h];
      canvas.getContext('2d')!.putImageData(imageData, 0, 0);
      const bitmap = await createImageBitmap(imageData, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
      const img = new Image();
      img.src = canvas.toDataURL('image/png');
      await img.decode();
      const sources: [string, Parameters<typeof tensorFromImage>[1]][] = [
        ['ImageData', imageData], ['OffscreenCanvas', offscreen], ['HTMLCanvasElement', canvas], ['ImageBitmap', bitmap], ['HTMLImageElement', img],
      ];
      for (const [name, source] of sources) {
        const t = tensorFromImage(engine, source);
        const err = allClose(await t.read(), exp, 0, 1 / 255 + 1e-6); // a browser may round a channel by one step
        ok(err === null, `${name}: ${err}`);
        t.dispose();
      }
      throws(() => tensorFromImage(engine, new Image()), /has not loaded/, OptionError);
    });
  }
});

describe('app: colorize', () => {
  let engine: Engine;
  before(async () => {
    engine = await getEngine();
  });

  it('heat maps one channel through the ramp, plain and over an image', async () => {
    const rng = makeRng(SEED + 4);
    const [N, K, H, W] = [2, 3, 5, 7];
    const scores = Float32Array.from({ length: N * K * H * W }, () => rng() * 3 - 1);
    const x = engine.tensor(scores, [N, K, H, W]);
    const image = randomBytes(N * H * W * 4, rng);
    const imageTensor = engine.tensor(new Int32Array(image.buffer), [N, H, W]);
    for (const [channel, range, over] of [[0, [0, 1], false], [2, [-1, 2], false], [1, [0.5, 0.75], true]] as const) {
      const opacity = 0.35;
      const y = colorizeHeatmap(x, { channel, range: [...range], ...(over ? { image: imageTensor, opacity } : {}) });
      deepEqual(y.shape, [N, H, W]);
      const exp: number[] = [];
      for (let n = 0; n < N; n++) {
        for (let p = 0; p < H * W; p++) {
          const v = scores[(n * K + channel) * H * W + p]!;
          exp.push(...refPixel(refHeat(v, range[0], range[1]), 1, over ? image : null, (n * H * W + p) * 4, opacity));
        }
      }
      const worst = maxByteError(await readRGBA(y), exp);
      ok(worst <= 1, `channel ${channel} range ${range}: a byte is off by ${worst}`);
      y.dispose();
    }
  });

  it('the ramp runs from its first stop to its last, brighter as scores grow', async () => {
    const x = engine.tensor(Float32Array.from({ length: 11 }, (_, i) => i * 0.12 - 0.1), [1, 1, 1, 11]);
    const bytes = await readRGBA(colorizeHeatmap(x));
    deepEqual(Array.from(bytes.subarray(0, 3)), [...HEAT_STOPS[0]!], 'below the range');
    deepEqual(Array.from(bytes.subarray(40, 43)), [...HEAT_STOPS[HEAT_STOPS.length - 1]!]);
    const luma = Array.from({ length: 11 }, (_, i) => 0.299 * bytes[i * 4]! + 0.587 * bytes[i * 4 + 1]! + 0.114 * bytes[i * 4 + 2]!);
    ok(luma.every((l, i) => i === 0 || l > luma[i - 1]!), `luma rises: ${luma.map((l) => l.toFixed(0))}`);
  });

  it('class maps through the palette, wrapping, negative classes transparent', async () => {
    const rng = makeRng(SEED + 5);
    const [N, H, W] = [1, 4, 9];
    const classes = Int32Array.from({ length: N * H * W }, () => Math.floor(rng() * 25) - 2);
    const t = engine.tensor(classes, [N, 1, H, W]);
    const image = randomBytes(N * H * W * 4, rng);
    const palette: RGB[] = [[255, 0, 0], [0, 255, 0], [10, 20, 30]];
    for (const [colours, over] of [[CLASS_PALETTE, false], [palette, true]] as const) {
      const y = colorizeClasses(t, { ...(colours === palette ? { palette } : {}), ...(over ? { image: rgbaTensor(engine, W, H, image), opacity: 0.6 } : {}) });
      const exp: number[] = [];
      classes.forEach((c, p) => {
        const colour = c < 0 ? [0, 0, 0] : colours[c % colours.length]!.map((v) => v / 255);
        exp.push(...refPixel(colour, c < 0 ? 0 : 1, over ? image : null, p * 4, 0.6));
      });
      const worst = maxByteError(await readRGBA(y), exp);
      ok(worst <= 1, `a byte is off by ${worst}`);
    }
  });

  it('rejects bad channels, ranges, palettes and images', () => {
    const x = engine.zeros([1, 3, 2, 2]);
    throws(() => colorizeHeatmap(x, { channel: 3 }), /channel must be an integer in \[0, 2\]/, OptionError);
    throws(() => colorizeHeatmap(x, { range: [1, 1] }), /range must be \[lo, hi\] with finite lo < hi/, OptionError);
    throws(() => colorizeHeatmap(x, { opacity: 2 }), /opacity must be a number in \[0, 1\]/, OptionError);
    throws(() => colorizeHeatmap(x, { image: engine.tensor(new Int32Array(6), [2, 3]) }), /image \[2,3\] must be packed RGBA \[2, 2\]/, ShapeError);
    throws(() => colorizeHeatmap(x, { image: engine.zeros([2, 2]) }), /'image' must be int32/, OptionError);
    throws(() => colorizeHeatmap(engine.zeros([3, 2, 2])), /scores must be \[N, C, H, W\]/, ShapeError);
    const classes = engine.tensor(new Int32Array(4), [1, 1, 2, 2]);
    throws(() => colorizeClasses(x), /'classes' must be int32/, OptionError);
    throws(() => colorizeClasses(classes, { palette: [] }), /palette must be a non-empty array/, OptionError);
    throws(() => colorizeClasses(classes, { palette: [[0, 0, 300]] }), /colour 0 must be \[r, g, b\] with each 0..255/, OptionError);
    throws(() => rgbaTensor(engine, 2, 2, new Uint8Array(15)), /2 x 2 RGBA needs 16 bytes, got 15/, ShapeError);
  });
});

describe('app: slidingWindow', () => {
  let engine: Engine;
  before(async () => {
    engine = await getEngine();
  });

  /** A small LeNet-like classifier for [2, 14, 13] crops: jump 4, no padding. */
  function smallNet(seed: number): Sequential {
    return new Sequential(engine, [
      new Conv2d(2, 4, 3), new ReLU(), new MaxPool2d({ kernel: 2 }),
      new Conv2d(4, 6, [3, 2]), new ReLU(), new AvgPool2d({ kernel: 2 }),
      new Flatten(), new Linear(6 * 2 * 2, 5),
    ], { seed });
  }

  it('equals the fully convolutional model on an image (batched, chunks of window rows and columns)', async () => {
    const model = smallNet(11);
    const trained: [number, number, number] = [2, 14, 13];
    const fcn = model.toFullyConvolutional(trained);
    const rng = makeRng(SEED + 6);
    const [N, H, W] = [2, 27, 30];
    const x = engine.tensor(Float32Array.from({ length: N * 2 * H * W }, () => rng() * 2 - 1), [N, 2, H, W]);
    const dense = fcn.forward(x);
    const exp = await dense.read();
    for (const batch of [256, 7, 1]) {
      const y = slidingWindow(model, x, trained, { batch });
      deepEqual(y.shape, dense.shape, `batch ${batch}`);
      deepEqual(y.shape, [N, 5, Math.floor((H - 14) / 4) + 1, Math.floor((W - 13) / 4) + 1]);
      const err = allClose(await y.read(), exp);
      ok(err === null, `batch ${batch}: ${err}`);
      y.dispose();
    }
    ok(model.training, 'the model\'s mode is restored');
    for (const t of [dense, x]) t.dispose();
    fcn.dispose();
    model.dispose();
  });

  it('another stride: each cell is the classifier on that crop (cut on the CPU)', async () => {
    const model = smallNet(12).eval();
    const rng = makeRng(SEED + 7);
    const [H, W] = [19, 21];
    const data = Float32Array.from({ length: 2 * H * W }, () => rng());
    const x = engine.tensor(data, [1, 2, H, W]);
    const y = slidingWindow(model, x, [2, 14, 13], { stride: [2, 3], batch: 4 });
    deepEqual(y.shape, [1, 5, 3, 3]);
    const got = await y.read();
    for (const [i, j] of [[0, 0], [2, 1], [1, 2], [2, 2]] as const) {
      const crop = new Float32Array(2 * 14 * 13);
      for (let c = 0; c < 2; c++) for (let r = 0; r < 14; r++) crop.set(data.subarray((c * H + 2 * i + r) * W + 3 * j, (c * H + 2 * i + r) * W + 3 * j + 13), (c * 14 + r) * 13);
      const cropTensor = engine.tensor(crop, [1, 2, 14, 13]);
      const scores = model.forward(cropTensor);
      const exp = await scores.read();
      const cell = Array.from({ length: 5 }, (_, k) => got[(k * 3 + i) * 3 + j]!);
      ok(allClose(cell, exp) === null, `cell ${i},${j}: ${cell} vs ${Array.from(exp)}`);
      for (const t of [cropTensor, scores]) t.dispose();
    }
    for (const t of [x, y]) t.dispose();
    model.dispose();
  });

  it('rejects images smaller than the crop, wrong channels, bad options', () => {
    const model = smallNet(13);
    throws(() => slidingWindow(model, engine.zeros([1, 2, 10, 20]), [2, 14, 13]), /x 10×20 is smaller than the crop 14×13/, ShapeError);
    throws(() => slidingWindow(model, engine.zeros([1, 3, 20, 20]), [2, 14, 13]), /x has 3 channels, the classifier takes 2/, ShapeError);
    throws(() => slidingWindow(model, engine.zeros([1, 2, 20, 20]), [2, 14, 13], { batch: 0 }), /batch must be an integer >= 1/, OptionError);
    throws(() => slidingWindow(model, engine.zeros([1, 2, 20, 20]), [2, 14, 13], { strides: 2 } as never), /unknown option 'strides'/, OptionError);
    throws(() => slidingWindow(model, engine.zeros([1, 2, 20, 20]), [2, 18, 13]), /36 features, but this Linear expects in = 24/, ShapeError);
    model.dispose();
  });
});

describe('app: model spec (JSON architecture)', () => {
  let engine: Engine;
  before(async () => {
    engine = await getEngine();
  });

  const LENET: ModelSpec = {
    inputShape: [1, 28, 28],
    layers: [
      { type: 'Conv2d', cin: 1, cout: 6, kernel: 5 }, { type: 'ReLU' }, { type: 'MaxPool2d', kernel: 2 },
      { type: 'Conv2d', cin: 6, cout: 16, kernel: [5, 5], stride: 1, padding: 0, bias: false }, { type: 'ReLU' },
      { type: 'LpPool2d', p: 2, kernel: 2, stride: 2 }, { type: 'Flatten' },
      { type: 'Linear', in: 256, out: 120 }, { type: 'ReLU' }, { type: 'Linear', in: 120, out: 10, bias: false }, { type: 'Softmax' },
    ],
  };

  it('builds the layers it names, and specOf gives the spec back', () => {
    const model = modelFromSpec(engine, JSON.stringify(LENET), { seed: 1 });
    deepEqual(model.namedParameters().map(([n, t]) => `${n}:${t.shape}`), ['0.weight:6,1,5,5', '0.bias:6', '3.weight:16,6,5,5', '7.weight:120,256', '7.bias:120', '9.weight:10,120']);
    deepEqual(model.geometry([1, 28, 28]).outputShape, [10]);
    const back = specOf(model, [1, 28, 28]);
    deepEqual(back.layers[0], { type: 'Conv2d', cin: 1, cout: 6, kernel: 5 });
    deepEqual(back.layers[3], { type: 'Conv2d', cin: 6, cout: 16, kernel: 5, stride: 1, padding: 0, bias: false });
    deepEqual(specOf(modelFromSpec(engine, back)), { layers: back.layers });
    const fcn = model.toFullyConvolutional([1, 28, 28]);
    deepEqual(specOf(fcn).inputShape, [1, 28, 28]);
    fcn.dispose();
    model.dispose();
  });

  it('reads a training record (scripts/train.mjs) and the constructors\' field names', () => {
    const record = {
      name: 'lenet-max', epochsCompleted: 3,
      architecture: { inputShape: [1, 28, 28], layers: [
        { type: 'Conv2d', inChannels: 1, outChannels: 4, kernel: 5 }, { type: 'MaxPool2d', kernel: 4 }, { type: 'Flatten' },
        { type: 'Linear', inFeatures: 144, outFeatures: 3 }] },
      input: { channels: 1, size: [28, 28], mean: 0.286, std: 0.353 }, classes: ['a', 'b', 'c'],
    };
    const spec = parseModelSpec(JSON.stringify(record));
    deepEqual(spec, {
      inputShape: [1, 28, 28],
      layers: [{ type: 'Conv2d', kernel: 5, cin: 1, cout: 4 }, { type: 'MaxPool2d', kernel: 4 }, { type: 'Flatten' }, { type: 'Linear', in: 144, out: 3 }],
      classes: ['a', 'b', 'c'], mean: [0.286], std: [0.353],
    });
    const model = modelFromSpec(engine, spec);
    deepEqual(model.geometry([1, 28, 28]).outputShape, [3]);
    model.dispose();
    throws(() => parseModelSpec({ layers: [{ type: 'Linear', in: 2, inFeatures: 2, out: 1 }] }), /gives both 'in' and 'inFeatures'/, OptionError);
  });

  it('names the field of a bad spec', () => {
    throws(() => parseModelSpec('{"layers": ['), /not valid JSON/, OptionError);
    throws(() => parseModelSpec({ layer: [] }), /unknown option 'layer' \(did you mean 'layers'\?\)/, OptionError);
    throws(() => parseModelSpec({ layers: [{ type: 'Conv3d' }] }), /layers\[0\]\.type must be one of Conv2d, Linear/, OptionError);
    throws(() => parseModelSpec({ layers: [{ type: 'ReLU' }, { type: 'Conv2d', cin: 1, cout: 2 }] }), /layers\[1\] \(Conv2d\) needs 'kernel'/, OptionError);
    throws(() => parseModelSpec({ layers: [{ type: 'Linear', in: 2, out: 3, stride: 1 }] }), /layers\[0\] \(Linear\): unknown option 'stride'/, OptionError);
    throws(() => parseModelSpec({ inputShape: [28, 28], layers: [] }), /inputShape must be \[C, H, W\]/, ShapeError);
    throws(() => parseModelSpec({ layers: [], std: [0] }), /std must be a non-empty array of finite numbers > 0/, OptionError);
    throws(() => modelFromSpec(engine, { layers: [{ type: 'Conv2d', cin: 1, cout: 2, kernel: 0 }] }), /layers\[0\]: .*kernel/, OptionError);
    throws(() => modelFromSpec(engine, { inputShape: [1, 28, 28], layers: [{ type: 'Flatten' }, { type: 'Linear', in: 100, out: 2 }] }), /784 features, but this Linear expects in = 100/, ShapeError);
  });
});
