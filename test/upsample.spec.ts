// Score map to picture: bilinear up-sampling (PyTorch's F.interpolate) and the per-pixel argmax,
// against float64 references written straight from the definitions.
import fc from 'fast-check';
import { Engine, OptionError, ShapeError, Tensor } from '../src/index.js';
import { upsampleBilinear, upsampleScoreMap } from '../src/ops/upsample.js';
import { argmaxChannels } from '../src/ops/argmax.js';
import { allClose, makeRng, randomArray, zeros, type RefArray } from './reference.js';
import { getEngine } from './setup.js';
import { deepEqual, equal, ok, throws } from './assert.js';

const SEED = 20240611;

/** One axis of PyTorch's upsample_bilinear2d: the two source indices and the second one's weight. */
function torchTap(o: number, inSize: number, outSize: number, alignCorners: boolean): [number, number, number] {
  let src: number;
  if (alignCorners) src = outSize > 1 ? (o * (inSize - 1)) / (outSize - 1) : 0;
  else src = Math.max(((o + 0.5) * inSize) / outSize - 0.5, 0); // area_pixel_compute_source_index, clamped at 0
  const i0 = Math.min(Math.floor(src), inSize - 1);
  const i1 = i0 < inSize - 1 ? i0 + 1 : i0;
  return [i0, i1, src - i0];
}

/** Each output pixel mixes its 2 x 2 source pixels with weights (1 - l, l) per axis. */
function refResample(x: RefArray, outH: number, outW: number, tapH: (o: number) => [number, number, number], tapW: (o: number) => [number, number, number]): RefArray {
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const y = zeros([N, C, outH, outW]);
  for (let p = 0; p < N * C; p++) {
    for (let oy = 0; oy < outH; oy++) {
      const [h0, h1, lh] = tapH(oy);
      for (let ox = 0; ox < outW; ox++) {
        const [w0, w1, lw] = tapW(ox);
        const at = (h: number, w: number) => x.data[(p * H + h) * W + w]!;
        y.data[(p * outH + oy) * outW + ox] =
          (1 - lh) * ((1 - lw) * at(h0, w0) + lw * at(h0, w1)) + lh * ((1 - lw) * at(h1, w0) + lw * at(h1, w1));
      }
    }
  }
  return y;
}

function refBilinear(x: RefArray, outH: number, outW: number, alignCorners = false): RefArray {
  const [, , H, W] = x.shape as [number, number, number, number];
  return refResample(x, outH, outW, (o) => torchTap(o, H, outH, alignCorners), (o) => torchTap(o, W, outW, alignCorners));
}

/** Pixel p reads the map at (p - offset) / jump, clamped to the outer cells. */
function refScoreMap(x: RefArray, outH: number, outW: number, jump: [number, number], offset: [number, number]): RefArray {
  const [, , H, W] = x.shape as [number, number, number, number];
  const tap = (o: number, n: number, axis: 0 | 1): [number, number, number] => {
    const src = Math.min(Math.max((o - offset[axis]) / jump[axis], 0), n - 1);
    const i0 = Math.floor(src);
    return [i0, Math.min(i0 + 1, n - 1), src - i0];
  };
  return refResample(x, outH, outW, (o) => tap(o, H, 0), (o) => tap(o, W, 1));
}

function refArgmax(x: RefArray): Int32Array {
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const y = new Int32Array(N * H * W);
  for (let n = 0; n < N; n++) {
    for (let p = 0; p < H * W; p++) {
      let best = 0;
      for (let c = 1; c < C; c++) if (x.data[(n * C + c) * H * W + p]! > x.data[(n * C + best) * H * W + p]!) best = c;
      y[n * H * W + p] = best;
    }
  }
  return y;
}

const TWO_BY_TWO = { shape: [1, 1, 2, 2], data: Float64Array.from([1, 2, 3, 4]) };
/** torch.nn.functional.interpolate(torch.tensor([[[[1., 2.], [3., 4.]]]]), size=(4, 4), mode='bilinear'), derived by hand. */
const TORCH_2x2_TO_4x4 = [1, 1.25, 1.75, 2, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3, 3.25, 3.75, 4];
/** The same with align_corners=True: steps of 1/3 across, 2/3 down. */
const TORCH_2x2_TO_4x4_ALIGNED = [1, 4 / 3, 5 / 3, 2, 5 / 3, 2, 7 / 3, 8 / 3, 7 / 3, 8 / 3, 3, 10 / 3, 3, 10 / 3, 11 / 3, 4];

describe('upsample: bilinear score maps to pictures', () => {
  let engine: Engine;
  before(async () => {
    engine = await getEngine();
  });

  async function gpu(x: RefArray, run: (t: Tensor) => Tensor): Promise<Float32Array> {
    const t = engine.tensor(Float32Array.from(x.data), x.shape);
    const y = run(t);
    const data = (await y.read()) as Float32Array;
    t.dispose();
    y.dispose();
    return data;
  }

  it('the reference reproduces PyTorch on 2x2 -> 4x4 (both corner modes) and 1x3 -> 1x5', () => {
    ok(allClose(refBilinear(TWO_BY_TWO, 4, 4).data, TORCH_2x2_TO_4x4, 1e-12, 1e-12) === null);
    ok(allClose(refBilinear(TWO_BY_TWO, 4, 4, true).data, TORCH_2x2_TO_4x4_ALIGNED, 1e-12, 1e-12) === null);
    // F.interpolate(torch.tensor([[[[0., 10., 20.]]]]), size=(1, 5), mode='bilinear'): src = (o + .5) * 3/5 - .5
    const row = { shape: [1, 1, 1, 3], data: Float64Array.from([0, 10, 20]) };
    ok(allClose(refBilinear(row, 1, 5).data, [0, 4, 10, 16, 20], 1e-12, 1e-12) === null);
  });

  it('matches PyTorch on 2x2 -> 4x4 with and without alignCorners', async () => {
    ok(allClose(await gpu(TWO_BY_TWO, (t) => upsampleBilinear(t, 4, 4)), TORCH_2x2_TO_4x4) === null);
    const aligned = await gpu(TWO_BY_TWO, (t) => upsampleBilinear(t, 4, 4, { alignCorners: true }));
    const err = allClose(aligned, TORCH_2x2_TO_4x4_ALIGNED);
    ok(err === null, err ?? '');
  });

  it('same size is a copy; 1x1 spreads; down-sampling samples', async () => {
    const rng = makeRng(SEED);
    const x = randomArray([2, 3, 5, 7], rng);
    deepEqual(Array.from(await gpu(x, (t) => upsampleBilinear(t, 5, 7))), Array.from(Float32Array.from(x.data)));
    const one = randomArray([1, 2, 1, 1], rng);
    const spread = await gpu(one, (t) => upsampleBilinear(t, 3, 4));
    ok(allClose(spread, refBilinear(one, 3, 4).data) === null && spread[0] === Math.fround(one.data[0]!) && spread[12] === Math.fround(one.data[1]!));
    const down = await gpu(x, (t) => upsampleBilinear(t, 3, 2, { alignCorners: true }));
    ok(allClose(down, refBilinear(x, 3, 2, true).data) === null);
  });

  it('matches the reference on random shapes, sizes and corner modes', async () => {
    const rng = makeRng(SEED + 1);
    await fc.assert(fc.asyncProperty(
      fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 6 }),
      fc.integer({ min: 1, max: 17 }), fc.integer({ min: 1, max: 17 }), fc.boolean(),
      async (N, C, h, w, outH, outW, alignCorners) => {
        const x = randomArray([N, C, h, w], rng, -3, 3);
        const got = await gpu(x, (t) => upsampleBilinear(t, outH, outW, { alignCorners }));
        const err = allClose(got, refBilinear(x, outH, outW, alignCorners).data);
        ok(err === null, `[${N},${C},${h},${w}] -> ${outH}x${outW} align ${alignCorners}: ${err}`);
      },
    ), { seed: SEED, numRuns: 30 });
  });

  it('places score cells at their receptive fields\' centres', async () => {
    const rng = makeRng(SEED + 2);
    // LeNet-like: jump 4, offset 13.5, a 3x5 map over a 36x44 image
    const x = randomArray([1, 2, 3, 5], rng);
    const got = await gpu(x, (t) => upsampleScoreMap(t, 36, 44, { jump: 4, offset: 13.5 }));
    const exp = refScoreMap(x, 36, 44, [4, 4], [13.5, 13.5]);
    ok(allClose(got, exp.data) === null);
    ok(Math.abs(got[0]! - x.data[0]!) < 1e-6, 'pixels before the first centre take the first cell');
    // With an integer offset, pixel offset + jump * i sits on cell i's centre and takes its score.
    const centred = await gpu(x, (t) => upsampleScoreMap(t, 36, 44, { jump: 4, offset: 12 }));
    for (const [c, i, j] of [[0, 0, 0], [1, 2, 4], [0, 1, 3]] as const) {
      const cell = x.data[(c * 3 + i) * 5 + j]!;
      ok(Math.abs(centred[(c * 36 + 12 + 4 * i) * 44 + 12 + 4 * j]! - cell) < 1e-6, `cell ${c},${i},${j}`);
    }
    const wide = randomArray([2, 1, 4, 2], rng);
    ok(allClose(await gpu(wide, (t) => upsampleScoreMap(t, 19, 9, { jump: [3, 2], offset: [2, -0.5] })), refScoreMap(wide, 19, 9, [3, 2], [2, -0.5]).data) === null);
  });

  it('rejects bad sizes, options and tensors', () => {
    const t = engine.zeros([1, 1, 2, 2]);
    throws(() => upsampleBilinear(t, 0, 4), /outH must be an integer >= 1, got 0/, OptionError);
    throws(() => upsampleBilinear(t, 4, 2.5), /outW must be an integer >= 1, got 2.5/, OptionError);
    throws(() => upsampleBilinear(t, 4, 4, { alignCorner: true } as never), /unknown option 'alignCorner' \(did you mean 'alignCorners'\?\)/, OptionError);
    throws(() => upsampleBilinear(t, 4, 4, { alignCorners: 1 } as never), /alignCorners must be true or false/, OptionError);
    throws(() => upsampleBilinear(engine.zeros([2, 2]), 4, 4), /'x' must have rank 4/, ShapeError);
    throws(() => upsampleScoreMap(t, 4, 4, { jump: 0, offset: 1 }), /jump must be a finite number > 0/, OptionError);
    throws(() => upsampleScoreMap(t, 4, 4, { jump: 2, offset: [1] as never }), /offset must be a finite number/, OptionError);
    t.dispose();
  });
});

describe('upsample: argmaxChannels', () => {
  let engine: Engine;
  before(async () => {
    engine = await getEngine();
  });

  it('matches the reference on random maps, ties to the lowest class', async () => {
    const rng = makeRng(SEED + 3);
    await fc.assert(fc.asyncProperty(
      fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 9 }), fc.boolean(),
      async (N, C, H, W, coarse) => {
        const x = randomArray([N, C, H, W], rng, -5, 5);
        // Coarse values (3 levels) make ties common.
        if (coarse) for (let i = 0; i < x.data.length; i++) x.data[i] = Math.floor(x.data[i]! / 4);
        const t = engine.tensor(Float32Array.from(x.data), x.shape);
        const y = argmaxChannels(t);
        deepEqual(y.shape, [N, 1, H, W]);
        equal(y.dtype, 'int32');
        deepEqual(Array.from(await y.read()), Array.from(refArgmax(x)), `[${N},${C},${H},${W}]`);
        t.dispose();
        y.dispose();
      },
    ), { seed: SEED, numRuns: 25 });
  });

  it('all equal gives class 0; one channel gives 0', async () => {
    const t = engine.tensor(new Float32Array(2 * 4 * 3).fill(7), [2, 4, 3, 1]);
    deepEqual(Array.from(await argmaxChannels(t).read()), new Array(6).fill(0));
    const one = engine.tensor([3, -1, 2], [1, 1, 1, 3]);
    deepEqual(Array.from(await argmaxChannels(one).read()), [0, 0, 0]);
  });

  it('minScore leaves low-scoring pixels without a class (-1)', async () => {
    const rng = makeRng(SEED + 4);
    const x = randomArray([2, 4, 3, 5], rng, 0, 1);
    const t = engine.tensor(Float32Array.from(x.data), x.shape);
    const exp = refArgmax(x);
    const got = await argmaxChannels(t, { minScore: 0.7 }).read();
    for (let n = 0; n < 2; n++) {
      for (let p = 0; p < 15; p++) {
        const best = x.data[(n * 4 + exp[n * 15 + p]!) * 15 + p]!;
        ok(got[n * 15 + p] === (Math.fround(best) < Math.fround(0.7) ? -1 : exp[n * 15 + p]), `pixel ${n},${p}`);
      }
    }
    ok(Array.from(got).includes(-1) && Array.from(got).some((c) => c >= 0), 'both kinds occur');
    t.dispose();
  });

  it('rejects int32, wrong ranks and bad options', () => {
    throws(() => argmaxChannels(engine.zeros([1, 2, 1, 1]), { minScore: Number.NaN }), /minScore must be a number/, OptionError);
    throws(() => argmaxChannels(engine.zeros([1, 2, 1, 1]), { min: 0 } as never), /unknown option 'min'/, OptionError);
    throws(() => argmaxChannels(engine.tensor(new Int32Array(4), [1, 1, 2, 2])), /'x' must be float32/, OptionError);
    throws(() => argmaxChannels(engine.zeros([3, 4])), /rank 4/, ShapeError);
  });
});
