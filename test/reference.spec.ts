// Checks of the float64 oracle itself: the lecture's hand-computed cases,
// PyTorch's pooling rules worked out by hand, and finite-difference checks of
// every gradient (L = Σ dy ⊙ f(x) with random dy).
import {
  allClose, avgPool2d, avgPool2dGrad, channelLpPool, channelLpPoolGrad, conv2d,
  conv2dGradBias, conv2dGradInput, conv2dGradWeight, convOutSize, convTranspose2d,
  convTranspose2dGradInput, convTranspose2dGradWeight, dot, finiteDifference, fromValues,
  globalAvgPool, globalAvgPoolGrad, globalLpPool, globalLpPoolGrad, globalMaxPool,
  globalMaxPoolGrad, linear, lpPool2d, lpPool2dGrad, makeRng, maxPool2d, maxPool2dGrad,
  numel, poolOutSize, randomArray, relu, reluGrad, softmaxCrossEntropy, zeros,
} from './reference';
import type {
  AvgPoolOpts, ChannelLpPoolOpts, ConvOpts, ConvTransposeOpts, LpPoolOpts, MaxPoolOpts, RefArray,
} from './reference';

function check(cond: boolean, message: string): void {
  if (!cond) throw new Error(message);
}

function checkEqual(got: number, exp: number, what: string): void {
  if (got !== exp) throw new Error(`${what}: got ${got}, expected ${exp}`);
}

function checkShape(got: readonly number[], exp: readonly number[], what: string): void {
  const same = got.length === exp.length && got.every((v, i) => v === exp[i]);
  if (!same) throw new Error(`${what}: shape [${got.join(', ')}], expected [${exp.join(', ')}]`);
}

function checkClose(got: ArrayLike<number>, exp: ArrayLike<number>, what: string, tol = 1e-5): void {
  const msg = allClose(got, exp, tol, tol);
  if (msg !== null) throw new Error(`${what}: ${msg}`);
}

function checkExact(got: ArrayLike<number>, exp: ArrayLike<number>, what: string): void {
  checkEqual(got.length, exp.length, `${what} length`);
  for (let i = 0; i < exp.length; i++) {
    if (!Object.is(got[i], exp[i])) throw new Error(`${what}[${i}]: got ${got[i]}, expected ${exp[i]}`);
  }
}

/**
 * Finite-difference check of a vector–Jacobian product: for a random dy,
 * grad(dy) must equal ∂/∂x Σ dy ⊙ f(x).
 */
function checkVjp(
  what: string, x: RefArray, f: (x: RefArray) => RefArray, grad: (dy: RefArray) => RefArray,
  rng: () => number, eps = 1e-6,
): void {
  const dy = randomArray(f(x).shape, rng);
  const loss = (data: Float64Array): number => dot(dy.data, f({ shape: x.shape, data }).data);
  const numeric = finiteDifference(loss, x.data.slice(), eps);
  const analytic = grad(dy);
  checkShape(analytic.shape, x.shape, `${what} gradient`);
  check(numeric.some((v) => Math.abs(v) > 1e-3), `${what}: numeric gradient is all ~0`);
  checkClose(analytic.data, numeric, `${what} vs finite differences`, 1e-6);
}

/** Random values with |v| in [0.2, 1) and random sign: away from non-smooth points at 0. */
function awayFromZero(shape: number[], rng: () => number): RefArray {
  const a = randomArray(shape, rng, 0.2, 1);
  for (let i = 0; i < a.data.length; i++) if (rng() < 0.5) a.data[i] = -a.data[i];
  return a;
}

/** Distinct values 0.01 apart in shuffled order: no ties, no near-ties within eps. */
function distinctShuffled(shape: number[], rng: () => number): RefArray {
  const n = numel(shape);
  const a = zeros(shape);
  for (let i = 0; i < n; i++) a.data[i] = (i - n / 2) * 0.01;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const t = a.data[i];
    a.data[i] = a.data[j];
    a.data[j] = t;
  }
  return a;
}

const conv = (stride: [number, number], pad: [number, number, number, number],
  dilation: [number, number] = [1, 1], groups = 1): ConvOpts => ({ stride, pad, dilation, groups });

/** The transposed conv that maps conv2d's output back onto inputShape. */
function transposeOf(o: ConvOpts, inputShape: number[], wShape: number[]): ConvTransposeOpts {
  const outputPadding: [number, number] = [0, 0];
  for (let a = 0; a < 2; a++) {
    const inSize = inputShape[2 + a];
    const k = wShape[2 + a];
    const out = convOutSize(inSize, k, o.stride[a], o.pad[a], o.pad[a + 2], o.dilation[a]);
    outputPadding[a] = inSize - ((out - 1) * o.stride[a] - o.pad[a] - o.pad[a + 2] + o.dilation[a] * (k - 1) + 1);
  }
  return { stride: o.stride, pad: o.pad, dilation: o.dilation, groups: o.groups, outputPadding };
}

describe('reference: convolution, lecture cases', () => {
  const x7 = randomArray([1, 1, 7, 7], makeRng(1));
  const w3 = randomArray([1, 1, 3, 3], makeRng(2));

  it('7x7 input, 3x3 filter: stride 1 -> 5x5, stride 2 -> 3x3, stride 3 -> 2x2', () => {
    checkShape(conv2d(x7, w3, null, conv([1, 1], [0, 0, 0, 0])).shape, [1, 1, 5, 5], 'stride 1');
    checkShape(conv2d(x7, w3, null, conv([2, 2], [0, 0, 0, 0])).shape, [1, 1, 3, 3], 'stride 2');
    checkShape(conv2d(x7, w3, null, conv([3, 3], [0, 0, 0, 0])).shape, [1, 1, 2, 2], 'stride 3');
    checkEqual(convOutSize(7, 3, 3, 0, 0, 1), 2, 'floor((7 - 3) / 3) + 1');
  });

  it('stride 3 on 7x7 loses the last row and column', () => {
    const o = conv([3, 3], [0, 0, 0, 0]);
    const y = conv2d(x7, w3, null, o);
    const changed = fromValues(x7.shape, x7.data);
    for (let i = 0; i < 7; i++) {
      changed.data[i * 7 + 6] += 10; // last column
      changed.data[6 * 7 + i] += 10; // last row
    }
    checkExact(conv2d(changed, w3, null, o).data, y.data, 'output after changing row/col 6');
    const dx = conv2dGradInput(randomArray(y.shape, makeRng(3)), w3, x7.shape, o);
    for (let i = 0; i < 7; i++) {
      checkEqual(dx.data[i * 7 + 6], 0, `dx[${i}, 6]`);
      checkEqual(dx.data[6 * 7 + i], 0, `dx[6, ${i}]`);
    }
  });

  it('32x32x3 input, ten 5x5 filters, pad 2 -> 32x32x10 with 760 parameters', () => {
    const rng = makeRng(4);
    const x = randomArray([1, 3, 32, 32], rng);
    const w = randomArray([10, 3, 5, 5], rng);
    const b = randomArray([10], rng);
    const y = conv2d(x, w, b, conv([1, 1], [2, 2, 2, 2]));
    checkShape(y.shape, [1, 10, 32, 32], 'output');
    checkEqual(numel(w.shape) + numel(b.shape), 760, 'parameters 10 * (5*5*3 + 1)');
  });

  it('a tiny conv by hand: 3x3 input, 2x2 filter, bias, padding, stride, relu', () => {
    const x = fromValues([1, 1, 3, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const w = fromValues([1, 1, 2, 2], [1, 2, 3, 4]);
    const b = fromValues([1], [1]);
    // (0,0): 1*1 + 2*2 + 4*3 + 5*4 = 37, then + bias 1.
    checkExact(conv2d(x, w, b, conv([1, 1], [0, 0, 0, 0])).data, [38, 48, 68, 78], 'valid');
    // pad 1, stride 2: windows start at rows/cols -1 and 1.
    checkExact(conv2d(x, w, null, conv([2, 2], [1, 1, 1, 1])).data, [4, 18, 36, 77], 'pad 1 stride 2');
    const wn = fromValues([1, 1, 2, 2], [1, 0, 0, -1]);
    const o: ConvOpts = { ...conv([1, 1], [0, 0, 0, 0]), relu: true };
    checkExact(conv2d(x, wn, fromValues([1], [2]), o).data, [0, 0, 0, 0], 'relu of -4 + 2');
    checkExact(conv2d(x, wn, fromValues([1], [5]), o).data, [1, 1, 1, 1], 'relu of -4 + 5');
  });

  it('dilation 2 by hand: 5x5 ramp, 2x2 ones -> 3x3', () => {
    const x = fromValues([1, 1, 5, 5], Array.from({ length: 25 }, (_, i) => i));
    const w = fromValues([1, 1, 2, 2], [1, 1, 1, 1]);
    const y = conv2d(x, w, null, conv([1, 1], [0, 0, 0, 0], [2, 2]));
    // (i, j): x[i][j] + x[i][j+2] + x[i+2][j] + x[i+2][j+2] = 4*(5i + j) + 24
    checkExact(y.data, [24, 28, 32, 44, 48, 52, 64, 68, 72], 'dilated');
  });

  it('groups: each group sees only its own channels (depthwise = per-channel convs)', () => {
    const rng = makeRng(5);
    const x = randomArray([2, 3, 5, 6], rng);
    const w = randomArray([3, 1, 3, 2], rng);
    const o = conv([2, 1], [1, 0, 1, 1], [1, 2], 3);
    const y = conv2d(x, w, null, o);
    for (let c = 0; c < 3; c++) {
      for (let n = 0; n < 2; n++) {
        const xc = fromValues([1, 1, 5, 6], x.data.subarray((n * 3 + c) * 30, (n * 3 + c + 1) * 30));
        const wc = fromValues([1, 1, 3, 2], w.data.subarray(c * 6, (c + 1) * 6));
        const yc = conv2d(xc, wc, null, { ...o, groups: 1 });
        const plane = yc.data.length;
        checkClose(y.data.subarray((n * 3 + c) * plane, (n * 3 + c + 1) * plane), yc.data, `n ${n} c ${c}`);
      }
    }
  });

  it('transposed conv by hand: 2x2 input, 2x2 kernel, stride 1, crop and outputPadding', () => {
    const x = fromValues([1, 1, 2, 2], [1, 2, 3, 4]);
    const w = fromValues([1, 1, 2, 2], [1, 2, 3, 4]);
    const t = (pad: [number, number, number, number], stride: [number, number] = [1, 1],
      outputPadding: [number, number] = [0, 0]): ConvTransposeOpts =>
      ({ stride, pad, dilation: [1, 1], groups: 1, outputPadding });
    checkExact(convTranspose2d(x, w, null, t([0, 0, 0, 0])).data, [1, 4, 4, 6, 20, 16, 9, 24, 16], 'full');
    checkExact(convTranspose2d(x, w, null, t([1, 1, 1, 1])).data, [20], 'cropped by 1');
    checkExact(convTranspose2d(x, w, fromValues([1], [0.5]), t([1, 0, 0, 1])).data, [6.5, 20.5, 9.5, 24.5],
      'asymmetric crop + bias');
    // stride 2: each input pixel stamps the kernel into its own 2x2 block.
    const y2 = convTranspose2d(x, w, null, t([0, 0, 0, 0], [2, 2], [1, 0]));
    checkShape(y2.shape, [1, 1, 5, 4], '(2-1)*2 + 1 + 1 + outputPadding');
    checkExact(y2.data, [1, 2, 2, 4, 3, 4, 6, 8, 3, 6, 4, 8, 9, 12, 12, 16, 0, 0, 0, 0], 'stride 2');
  });
});

describe('reference: transposed conv is the adjoint of conv', () => {
  const cases: { name: string; x: number[]; w: number[]; o: ConvOpts }[] = [
    { name: 'stride 2, asymmetric pad', x: [2, 3, 7, 6], w: [4, 3, 3, 3], o: conv([2, 2], [1, 2, 0, 1]) },
    { name: 'dilation 2, groups 2', x: [2, 4, 7, 5], w: [6, 2, 3, 2], o: conv([1, 2], [2, 1, 1, 0], [2, 2], 2) },
    { name: 'stride 3 dropping rows', x: [3, 2, 8, 7], w: [3, 2, 2, 3], o: conv([3, 1], [0, 0, 0, 0], [1, 2]) },
  ];
  for (const c of cases) {
    it(`${c.name}: <conv(x), y> == <x, convT(y)>, conv2dGradInput == convTranspose2d`, () => {
      const rng = makeRng(10);
      const x = randomArray(c.x, rng);
      const w = randomArray(c.w, rng);
      const y = conv2d(x, w, null, c.o);
      const dy = randomArray(y.shape, rng);
      const oT = transposeOf(c.o, c.x, c.w);
      const back = convTranspose2d(dy, w, null, oT);
      checkShape(back.shape, c.x, 'convT output');
      const lhs = dot(y.data, dy.data);
      const rhs = dot(x.data, back.data);
      check(Math.abs(lhs - rhs) <= 1e-9 * Math.max(1, Math.abs(lhs)), `adjoint: ${lhs} vs ${rhs}`);
      checkClose(conv2dGradInput(dy, w, c.x, c.o).data, back.data, 'conv2dGradInput vs convTranspose2d');
      // And the other way round: convT's input gradient is the forward conv,
      // convT's weight gradient is conv's weight gradient with roles swapped.
      checkClose(convTranspose2dGradInput(x, w, dy.shape, oT).data, y.data, 'convTranspose2dGradInput vs conv2d');
      checkClose(convTranspose2dGradWeight(x, dy, c.w, oT).data, conv2dGradWeight(dy, x, c.w, c.o).data,
        'convTranspose2dGradWeight vs conv2dGradWeight');
    });
  }
});

describe('reference: convolution gradients by finite differences', () => {
  const cases: { name: string; x: number[]; w: number[]; o: ConvOpts }[] = [
    { name: 'stride 2, asymmetric padding', x: [2, 3, 7, 6], w: [4, 3, 3, 3], o: conv([2, 2], [1, 2, 0, 1]) },
    { name: 'dilation 2, groups 2', x: [2, 4, 7, 5], w: [6, 2, 3, 2], o: conv([1, 2], [2, 1, 1, 0], [2, 2], 2) },
    { name: 'stride 3 not dividing, dilation [1, 2]', x: [3, 2, 8, 7], w: [3, 2, 2, 3], o: conv([3, 1], [0, 0, 0, 0], [1, 2]) },
  ];
  for (const c of cases) {
    it(`conv2d ${c.name}: input, weight and bias`, () => {
      const rng = makeRng(20);
      const x = randomArray(c.x, rng);
      const w = randomArray(c.w, rng);
      const b = randomArray([c.w[0]], rng);
      checkVjp('conv2dGradInput', x, (v) => conv2d(v, w, b, c.o), (dy) => conv2dGradInput(dy, w, c.x, c.o), rng);
      checkVjp('conv2dGradWeight', w, (v) => conv2d(x, v, b, c.o), (dy) => conv2dGradWeight(dy, x, c.w, c.o), rng);
      checkVjp('conv2dGradBias', b, (v) => conv2d(x, w, v, c.o), (dy) => conv2dGradBias(dy), rng);
    });
  }

  const tcases: { name: string; x: number[]; w: number[]; o: ConvTransposeOpts }[] = [
    {
      name: 'stride [2, 3], crop, outputPadding [1, 2]', x: [2, 4, 3, 4], w: [4, 3, 2, 3],
      o: { stride: [2, 3], pad: [1, 0, 0, 2], dilation: [1, 1], groups: 1, outputPadding: [1, 2] },
    },
    {
      name: 'dilation [2, 1], groups 2', x: [2, 4, 4, 3], w: [4, 1, 3, 2],
      o: { stride: [1, 2], pad: [1, 1, 2, 0], dilation: [2, 1], groups: 2, outputPadding: [1, 0] },
    },
  ];
  for (const c of tcases) {
    it(`convTranspose2d ${c.name}: input, weight and bias`, () => {
      const rng = makeRng(30);
      const x = randomArray(c.x, rng);
      const w = randomArray(c.w, rng);
      const b = randomArray([c.w[1] * c.o.groups], rng);
      checkVjp('convTranspose2dGradInput', x, (v) => convTranspose2d(v, w, b, c.o),
        (dy) => convTranspose2dGradInput(dy, w, c.x, c.o), rng);
      checkVjp('convTranspose2dGradWeight', w, (v) => convTranspose2d(x, v, b, c.o),
        (dy) => convTranspose2dGradWeight(dy, x, c.w, c.o), rng);
      checkVjp('convTranspose2d bias (conv2dGradBias)', b, (v) => convTranspose2d(x, w, v, c.o),
        (dy) => conv2dGradBias(dy), rng);
    });
  }
});

describe('reference: pooling by hand (PyTorch rules)', () => {
  it('pool output sizes with ceil mode', () => {
    checkEqual(poolOutSize(5, 2, 2, 0, 0, 1, false), 2, 'in 5 k 2 s 2 floor');
    checkEqual(poolOutSize(5, 2, 2, 0, 0, 1, true), 3, 'in 5 k 2 s 2 ceil');
    // ceil((5 + 2 - 2) / 2) + 1 = 4, but window 3 would start at 6 >= 5 + 1: dropped.
    checkEqual(poolOutSize(5, 2, 2, 1, 1, 1, true), 3, 'in 5 k 2 s 2 pad 1 ceil');
    checkEqual(poolOutSize(6, 3, 2, 1, 1, 1, true), 4, 'in 6 k 3 s 2 pad 1 ceil');
    checkEqual(poolOutSize(7, 3, 2, 0, 0, 2, false), 2, 'dilation 2: (7 - 4 - 1) / 2 + 1');
  });

  it('max pool: ties go to the first max in row-major window order', () => {
    const x = fromValues([1, 1, 3, 4], [1, 3, 3, 0, 3, 2, 1, 3, 0, 1, 2, 2]);
    const floor = maxPool2d(x, { kernel: [2, 2], stride: [2, 2], pad: [0, 0, 0, 0] });
    checkExact(floor.output.data, [3, 3], 'floor values');
    checkExact(floor.indices.data, [1, 2], 'floor indices');
    const ceil = maxPool2d(x, { kernel: [2, 2], stride: [2, 2], pad: [0, 0, 0, 0], ceilMode: true });
    checkShape(ceil.output.shape, [1, 1, 2, 2], 'ceil shape');
    checkExact(ceil.output.data, [3, 3, 1, 2], 'ceil values');
    checkExact(ceil.indices.data, [1, 2, 9, 10], 'ceil indices');
    const same = fromValues([1, 1, 2, 2], [-5, -5, -5, -5]);
    const padded = maxPool2d(same, { kernel: [2, 2], stride: [1, 1], pad: [1, 1, 0, 0] });
    checkExact(padded.output.data, [-5, -5, -5, -5], 'padding (-Infinity) never wins');
    checkExact(padded.indices.data, [0, 0, 0, 0], 'first in-input element');
    const dx = maxPool2dGrad(fromValues([1, 1, 2, 2], [1, 2, 3, 4]), padded.indices, same.shape);
    checkExact(dx.data, [10, 0, 0, 0], 'all routed to index 0');
  });

  it('avg pool 1-D ceil mode: in 5, k 2, s 2 -> 3 outputs, last divisor 1', () => {
    const x = fromValues([1, 1, 1, 5], [1, 2, 3, 4, 5]);
    for (const countIncludePad of [true, false]) {
      const y = avgPool2d(x, { kernel: [1, 2], stride: [1, 2], pad: [0, 0, 0, 0], ceilMode: true, countIncludePad });
      checkExact(y.data, [1.5, 3.5, 5], `countIncludePad ${countIncludePad}`);
    }
  });

  it('avg pool ceil mode with padding: the divisor never counts overhang beyond the padding', () => {
    // in 6, k 3, s 2, pad 1, ceil: windows [-1,2) [1,4) [3,6) [5,8); the last is
    // clipped to [5,7): x5 and one padding cell; 7 lies beyond the padding.
    const x = fromValues([1, 1, 1, 6], [1, 2, 3, 4, 5, 6]);
    const base: AvgPoolOpts = { kernel: [1, 3], stride: [1, 2], pad: [0, 1, 0, 1], ceilMode: true, countIncludePad: true };
    checkExact(avgPool2d(x, base).data, [1, 3, 5, 3], 'countIncludePad');
    checkExact(avgPool2d(x, { ...base, countIncludePad: false }).data, [1.5, 3, 5, 6], 'no countIncludePad');
    checkExact(avgPool2d(x, { ...base, divisorOverride: 4 }).data, [0.75, 2.25, 3.75, 1.5], 'divisorOverride 4');
    // in 6, k 2, s 2, pad 1, ceil: last window [5,7) lies within input + padding.
    const k2: AvgPoolOpts = { kernel: [1, 2], stride: [1, 2], pad: [0, 1, 0, 1], ceilMode: true, countIncludePad: true };
    checkExact(avgPool2d(x, k2).data, [0.5, 2.5, 4.5, 3], 'k 2 countIncludePad');
    checkExact(avgPool2d(x, { ...k2, countIncludePad: false }).data, [1, 2.5, 4.5, 6], 'k 2 no countIncludePad');
  });

  it('avg pool 2-D with asymmetric padding', () => {
    const x = fromValues([1, 1, 3, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const topLeft: AvgPoolOpts = { kernel: [2, 2], stride: [2, 2], pad: [1, 1, 0, 0], countIncludePad: true };
    checkExact(avgPool2d(x, topLeft).data, [0.25, 1.25, 2.75, 7], 'top/left, countIncludePad');
    checkExact(avgPool2d(x, { ...topLeft, countIncludePad: false }).data, [1, 2.5, 5.5, 7], 'top/left, exclude');
    const bottomRight: AvgPoolOpts = { kernel: [2, 2], stride: [2, 2], pad: [0, 0, 1, 1], ceilMode: true, countIncludePad: true };
    checkExact(avgPool2d(x, bottomRight).data, [3, 4.5 / 2, 7.5 / 2, 9 / 4], 'bottom/right, countIncludePad');
    checkExact(avgPool2d(x, { ...bottomRight, countIncludePad: false }).data, [3, 4.5, 7.5, 9], 'bottom/right, exclude');
  });

  it('Lp pool: p = 2 is the square root of the sum of squares; padding adds nothing, no rescaling', () => {
    const rng = makeRng(40);
    const x = randomArray([2, 3, 4, 6], rng);
    const y = lpPool2d(x, { p: 2, kernel: [2, 3], stride: [2, 3], pad: [0, 0, 0, 0] });
    checkShape(y.shape, [2, 3, 2, 2], 'shape');
    const exp: number[] = [];
    for (let plane = 0; plane < 6; plane++) {
      for (let oh = 0; oh < 2; oh++) {
        for (let ow = 0; ow < 2; ow++) {
          let s = 0;
          for (let i = 0; i < 2; i++) {
            for (let j = 0; j < 3; j++) s += x.data[plane * 24 + (oh * 2 + i) * 6 + ow * 3 + j] ** 2;
          }
          exp.push(Math.sqrt(s));
        }
      }
    }
    checkClose(y.data, exp, 'sqrt of sum of squares', 1e-12);
    const small = fromValues([1, 1, 1, 3], [3, -4, 12]);
    const partial = lpPool2d(small, { p: 2, kernel: [1, 2], stride: [1, 2], pad: [0, 0, 0, 0], ceilMode: true });
    checkExact(partial.data, [5, 12], 'partial ceil window: (12^2)^(1/2), not rescaled');
    const p1 = lpPool2d(small, { p: 1, kernel: [1, 3], stride: [1, 1], pad: [0, 1, 0, 1] });
    checkExact(p1.data, [7, 19, 16], 'p = 1 sums |x|, padding adds nothing');
    const zero = zeros([1, 1, 2, 2]);
    const yz = lpPool2d(zero, { p: 2, kernel: [2, 2], stride: [2, 2], pad: [0, 0, 0, 0] });
    const gz = lpPool2dGrad(fromValues([1, 1, 1, 1], [1]), zero, yz,
      { p: 2, kernel: [2, 2], stride: [2, 2], pad: [0, 0, 0, 0] });
    checkExact(gz.data, [0, 0, 0, 0], 'all-zero window: gradient 0, not NaN');
  });

  it('channel Lp pool by hand: C 5, size 3, stride 2, pad [1, 1]', () => {
    const x = fromValues([1, 5, 1, 1], [1, 2, 3, 4, 5]);
    const y = channelLpPool(x, { p: 2, size: 3, stride: 2, pad: [1, 1] });
    checkShape(y.shape, [1, 3, 1, 1], 'floor((5 + 2 - 3) / 2) + 1 = 3 channels');
    checkClose(y.data, [Math.sqrt(5), Math.sqrt(29), Math.sqrt(41)], 'values', 1e-12);
  });

  it('global pools by hand', () => {
    const x = fromValues([1, 2, 2, 2], [1, 4, 4, -2, 3, -4, 0, 0]);
    const m = globalMaxPool(x);
    checkExact(m.output.data, [4, 3], 'max');
    checkExact(m.indices.data, [1, 0], 'first max');
    checkExact(globalMaxPoolGrad(fromValues([1, 2, 1, 1], [7, 8]), x).data, [0, 7, 0, 0, 8, 0, 0, 0], 'max grad');
    checkExact(globalAvgPool(x).data, [7 / 4, -1 / 4], 'avg');
    checkClose(globalLpPool(x, 2).data, [Math.sqrt(37), 5], 'l2', 1e-12);
    checkClose(globalLpPool(x, 1).data, [11, 7], 'l1', 1e-12);
  });

  it('relu and softmax cross-entropy by hand', () => {
    checkExact(relu(fromValues([4], [-1, 0, 0.5, 2])).data, [0, 0, 0.5, 2], 'relu');
    checkExact(reluGrad(fromValues([4], [1, 2, 3, 4]), fromValues([4], [-1, 0, 0.5, 2])).data, [0, 0, 3, 4], 'reluGrad');
    const { loss, dLogits } = softmaxCrossEntropy(fromValues([2, 2], [0, 0, Math.log(3), 0]), Int32Array.from([0, 1]));
    checkClose([loss], [1.5 * Math.log(2)], 'loss (ln 2 + ln 4) / 2', 1e-12);
    checkClose(dLogits.data, [-0.25, 0.25, 0.375, -0.375], 'dLogits', 1e-12);
    const bad = softmaxCrossEntropy(fromValues([2, 2], [0, 0, 1, 2]), Int32Array.from([0, 5]));
    check(Number.isNaN(bad.loss), 'out-of-range label gives NaN loss');
    checkClose(bad.dLogits.data, [-0.25, 0.25, 0, 0], 'its gradient is dropped', 1e-12);
  });

  it('linear by hand', () => {
    const y = linear(fromValues([2, 3], [1, 2, 3, 4, 5, 6]), fromValues([2, 3], [1, 0, -1, 0.5, 0.5, 0.5]),
      fromValues([2], [10, 20]));
    checkExact(y.data, [8, 23, 8, 27.5], 'x w^T + b');
  });
});

describe('reference: pooling and activation gradients by finite differences', () => {
  it('max pool (distinct values, overlapping dilated windows, ceil mode)', () => {
    const rng = makeRng(50);
    const x = distinctShuffled([2, 3, 7, 6], rng);
    const o: MaxPoolOpts = { kernel: [3, 2], stride: [2, 1], pad: [1, 1, 1, 0], dilation: [1, 2], ceilMode: true };
    checkVjp('maxPool2dGrad', x, (v) => maxPool2d(v, o).output,
      (dy) => maxPool2dGrad(dy, maxPool2d(x, o).indices, x.shape), rng);
  });

  for (const countIncludePad of [true, false]) {
    it(`avg pool (asymmetric pad, ceil mode, countIncludePad ${countIncludePad})`, () => {
      const rng = makeRng(60);
      const x = randomArray([2, 3, 7, 6], rng);
      const o: AvgPoolOpts = { kernel: [3, 2], stride: [2, 2], pad: [1, 0, 1, 1], ceilMode: true, countIncludePad };
      checkVjp('avgPool2dGrad', x, (v) => avgPool2d(v, o), (dy) => avgPool2dGrad(dy, x.shape, o), rng);
      const od: AvgPoolOpts = { ...o, divisorOverride: 5 };
      checkVjp('avgPool2dGrad divisorOverride', x, (v) => avgPool2d(v, od), (dy) => avgPool2dGrad(dy, x.shape, od), rng);
    });
  }

  for (const p of [2, 3, 1.5, 1]) {
    it(`Lp pool p = ${p} (asymmetric pad, ceil mode)`, () => {
      const rng = makeRng(70);
      const x = awayFromZero([2, 2, 7, 5], rng);
      const o: LpPoolOpts = { p, kernel: [2, 3], stride: [2, 2], pad: [0, 1, 1, 0], ceilMode: true };
      checkVjp('lpPool2dGrad', x, (v) => lpPool2d(v, o), (dy) => lpPool2dGrad(dy, x, lpPool2d(x, o), o), rng);
    });
  }

  for (const p of [2, 3]) {
    it(`channel Lp pool p = ${p}`, () => {
      const rng = makeRng(80);
      const x = awayFromZero([2, 7, 3, 4], rng);
      const o: ChannelLpPoolOpts = { p, size: 3, stride: 2, pad: [1, 1] };
      checkVjp('channelLpPoolGrad', x, (v) => channelLpPool(v, o),
        (dy) => channelLpPoolGrad(dy, x, channelLpPool(x, o), o), rng);
    });
  }

  it('global max, avg and Lp pools', () => {
    const rng = makeRng(90);
    const xm = distinctShuffled([3, 2, 5, 3], rng);
    checkVjp('globalMaxPoolGrad', xm, (v) => globalMaxPool(v).output, (dy) => globalMaxPoolGrad(dy, xm), rng);
    const xa = randomArray([3, 2, 5, 3], rng);
    checkVjp('globalAvgPoolGrad', xa, globalAvgPool, (dy) => globalAvgPoolGrad(dy, xa.shape), rng);
    const xl = awayFromZero([3, 2, 5, 3], rng);
    for (const p of [2, 3, 1.5]) {
      checkVjp(`globalLpPoolGrad p ${p}`, xl, (v) => globalLpPool(v, p),
        (dy) => globalLpPoolGrad(dy, xl, globalLpPool(xl, p), p), rng);
    }
  });

  it('relu away from 0', () => {
    const rng = makeRng(100);
    const x = awayFromZero([2, 3, 5, 3], rng);
    checkVjp('reluGrad', x, relu, (dy) => reluGrad(dy, x), rng);
  });

  it('softmax cross-entropy, [N, K] and [N, K, H, W]', () => {
    const rng = makeRng(110);
    for (const shape of [[3, 5], [2, 4, 3, 2]]) {
      const logits = randomArray(shape, rng, -3, 3);
      const count = shape[0] * (shape.length === 4 ? shape[2] * shape[3] : 1);
      const labels = Int32Array.from({ length: count }, () => Math.floor(rng() * shape[1]));
      const numeric = finiteDifference(
        (data) => softmaxCrossEntropy({ shape, data }, labels).loss, logits.data.slice(), 1e-6);
      checkClose(softmaxCrossEntropy(logits, labels).dLogits.data, numeric, `dLogits [${shape.join(', ')}]`, 1e-6);
    }
  });
});

describe('reference: helpers', () => {
  it('allClose reports the first mismatch and the count', () => {
    check(allClose([1, 2, 3], [1, 2, 3 + 1e-6]) === null, 'within tolerance');
    const msg = allClose([1, 2.1, 3, 5], [1, 2, 3, 4]);
    check(msg !== null && msg.includes('2 of 4') && msg.includes('index 1'), `message: ${msg}`);
    check(allClose([NaN], [NaN]) === null, 'NaN matches NaN');
    check(allClose([0], [NaN]) !== null, 'NaN expected');
    check(allClose([1, 2], [1]) !== null, 'length mismatch');
  });

  it('makeRng is deterministic and randomArray is not constant', () => {
    const a = randomArray([5, 7], makeRng(123));
    const b = randomArray([5, 7], makeRng(123));
    checkExact(a.data, b.data, 'same seed');
    check(new Set(a.data).size === 35, 'distinct values');
    check(a.data.every((v) => v >= -1 && v < 1), 'range [-1, 1)');
  });
});
