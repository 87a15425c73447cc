// Shape math and call-time validation (src/geometry.ts). Runs in Node and in the
// browser, so it uses a tiny local assert instead of node:assert.
import fc from 'fast-check';
import { FullconvError, OptionError, ShapeError } from '../src/errors.js';
import {
  avgPoolGeometry, avgPoolGradGeometry, channelPoolGeometry, channelPoolGradGeometry, checkOptions,
  checkSameShape, checkShape, composeReceptiveField, conv2dGeometry, conv2dGradBiasGeometry,
  conv2dGradInputGeometry, conv2dGradWeightGeometry, convOutputSize, convTranspose2dGeometry,
  convTranspose2dGradInputGeometry, convTranspose2dGradWeightGeometry, globalPoolGeometry,
  globalPoolGradGeometry, identityLayer, lpPoolGeometry, lpPoolGradGeometry, maxPoolGeometry,
  maxPoolGradGeometry, poolGeometry, resolveLpNorm, resolvePadding, resolvePair, samePadding, toLayerGeom,
  type LayerGeom, type Pair,
} from '../src/geometry.js';

// ------------------------------------------------------------------ helpers

function ok(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

function eq(got: unknown, expected: unknown, what = 'value'): void {
  const [g, e] = [JSON.stringify(got), JSON.stringify(expected)];
  ok(g === e, `${what}: expected ${e}, got ${g}`);
}

type ErrorClass = abstract new (...args: never[]) => Error;

/** Runs fn, expects an instance of `cls` whose message contains every part. */
function throwsLike(fn: () => unknown, cls: ErrorClass, ...parts: string[]): Error {
  let caught: unknown = null;
  try { fn(); } catch (error) { caught = error; }
  ok(caught !== null, `expected ${cls.name}, but nothing was thrown`);
  ok(caught instanceof cls, `expected ${cls.name}, got ${String(caught)}`);
  ok(caught instanceof FullconvError, `expected a FullconvError, got ${String(caught)}`);
  for (const part of parts) ok(caught.message.includes(part), `message "${caught.message}" lacks "${part}"`);
  return caught;
}

/** Lets a test pass deliberately wrong values through the typed signatures. */
function untyped<T>(value: unknown): T {
  return value as T;
}

const CONV = 'conv2d';
const conv = (x: number[], w: number[], opts?: object, bias: number[] | null = null) =>
  conv2dGeometry(CONV, x, w, bias, untyped(opts));

// ------------------------------------------------------------ output sizes

describe('geometry: convOutputSize', () => {
  it('lecture: 7x7 input, 3x3 filter, stride 1 -> 5, stride 2 -> 3, stride 3 -> 2 (floor)', () => {
    eq(convOutputSize(7, 0, 0, 3, 1, 1), 5);
    eq(convOutputSize(7, 0, 0, 3, 2, 1), 3);
    eq(convOutputSize(7, 0, 0, 3, 3, 1), 2);
  });

  it('lecture: 32x32, 5x5 filter, padding 2 keeps 32', () => {
    eq(convOutputSize(32, 2, 2, 5, 1, 1), 32);
  });

  it('lecture: AlexNet conv1, 227 with 11x11 stride 4 -> 55', () => {
    eq(convOutputSize(227, 0, 0, 11, 4, 1), 55);
    eq(conv([1, 3, 227, 227], [96, 3, 11, 11], { stride: 4 }).outputShape, [1, 96, 55, 55]);
  });

  it('dilation widens the kernel to d*(k-1)+1', () => {
    eq(convOutputSize(7, 0, 0, 3, 1, 2), 3); // extent 5
    eq(convOutputSize(7, 0, 0, 3, 1, 3), 1); // extent 7 = input
  });

  it('kernel equal to the input gives 1; a 1x1 input with a 1x1 kernel gives 1', () => {
    eq(convOutputSize(5, 0, 0, 5, 1, 1), 1);
    eq(convOutputSize(1, 0, 0, 1, 3, 1), 1);
  });

  it('ceil mode matches PyTorch, including its drop of a window starting in the right padding', () => {
    eq(convOutputSize(4, 1, 1, 2, 2, 1, true), 3); // ceil(4/2)+1 = 3; 2*2 = 4 < 4+1 keeps it
    eq(convOutputSize(5, 0, 0, 3, 2, 1, true), 2); // ceil(2/2)+1 = 2
    eq(convOutputSize(6, 0, 0, 3, 2, 1, true), 3); // ceil(3/2)+1 = 3 (floor gives 2)
    eq(convOutputSize(6, 0, 0, 3, 2, 1, false), 2);
    eq(convOutputSize(7, 0, 0, 2, 2, 1, true), 4); // ceil(5/2)+1 = 4 (floor 3)
    eq(convOutputSize(5, 1, 1, 2, 2, 1, true), 3); // ceil(5/2)+1 = 4, but 3*2 = 6 >= 5+1: dropped
    eq(convOutputSize(5, 1, 1, 3, 3, 1, true), 2); // ceil(4/3)+1 = 3, but 2*3 = 6 >= 5+1: dropped
    eq(convOutputSize(6, 0, 0, 1, 4, 1, true), 2); // ceil(5/4)+1 = 3, but 2*4 = 8 >= 6: dropped
    eq(convOutputSize(112, 0, 0, 3, 2, 1, true), 56); // GoogLeNet pool: floor gives 55
    eq(convOutputSize(112, 1, 1, 3, 2, 1, false), 56); // ResNet stem pool
  });

  it('matches a brute-force count of window start positions (floor mode)', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 40 }), fc.integer({ min: 0, max: 9 }), fc.integer({ min: 0, max: 9 }),
      fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 4 }),
      (inSize, padBegin, padEnd, kernel, stride, dilation) => {
        const extent = dilation * (kernel - 1) + 1;
        const padded = inSize + padBegin + padEnd;
        fc.pre(extent <= padded);
        let count = 0;
        for (let start = 0; start + extent <= padded; start += stride) count++;
        eq(convOutputSize(inSize, padBegin, padEnd, kernel, stride, dilation), count, 'floor count');
      }), { numRuns: 2000 });
  });

  it('matches a brute-force count of window start positions (ceil mode, pads < extent)', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 40 }), fc.integer({ min: 0, max: 9 }), fc.integer({ min: 0, max: 9 }),
      fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 4 }),
      (inSize, padBegin, padEnd, kernel, stride, dilation) => {
        const extent = dilation * (kernel - 1) + 1;
        const padded = inSize + padBegin + padEnd;
        fc.pre(extent <= padded && padBegin < extent && padEnd < extent);
        // Ceil mode adds a window while the previous one has not reached the padded end,
        // but never one that starts in the right padding.
        let count = 0;
        for (let j = 0; ; j++) {
          const previousReachedEnd = j > 0 && (j - 1) * stride + extent >= padded;
          if (previousReachedEnd || j * stride >= inSize + padBegin) break;
          count++;
        }
        eq(convOutputSize(inSize, padBegin, padEnd, kernel, stride, dilation, true), count, 'ceil count');
      }), { numRuns: 2000 });
  });
});

// ------------------------------------------------------------- padding

describe('geometry: padding', () => {
  it("resolves number, [h, w], [t, l, b, r] and 'valid'", () => {
    const args = [[9, 9], [3, 3], [1, 1], [1, 1]] as const;
    eq(resolvePadding('op', 2, ...args), [2, 2, 2, 2]);
    eq(resolvePadding('op', [1, 2], ...args), [1, 2, 1, 2]);
    eq(resolvePadding('op', [1, 2, 3, 0], ...args), [1, 2, 3, 0]);
    eq(resolvePadding('op', 'valid', ...args), [0, 0, 0, 0]);
    eq(resolvePadding('op', undefined, ...args), [0, 0, 0, 0]);
  });

  it("'same' with an even kernel and stride 2 puts the extra pad at the bottom/right", () => {
    eq(samePadding(7, 4, 2, 1), [1, 2]); // out 4, total (4-1)*2+4-7 = 3
    eq(samePadding(8, 4, 2, 1), [1, 1]); // out 4, total 2
    eq(samePadding(6, 2, 2, 1), [0, 0]);
    eq(samePadding(5, 2, 1, 1), [0, 1]);
    eq(samePadding(10, 3, 1, 2), [2, 2]); // dilated extent 5
    eq(samePadding(1, 3, 2, 1), [1, 1]);
    eq(resolvePadding('op', 'same', [7, 8], [4, 4], [2, 2], [1, 1]), [1, 1, 2, 1]);
    eq(conv([1, 1, 7, 8], [1, 1, 4, 4], { stride: 2, padding: 'same' }).outputShape, [1, 1, 4, 4]);
  });

  it("'same' always gives ceil(in / stride), minimal total, end >= begin by at most 1", () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 50 }), fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 5 }),
      fc.integer({ min: 1, max: 4 }),
      (inSize, kernel, stride, dilation) => {
        const [begin, end] = samePadding(inSize, kernel, stride, dilation);
        const want = Math.ceil(inSize / stride);
        eq(convOutputSize(inSize, begin, end, kernel, stride, dilation), want, 'same output');
        ok(end - begin === 0 || end - begin === 1, `pads ${begin}, ${end}`);
        const total = begin + end;
        if (total > 0) ok(convOutputSize(inSize, 0, total - 1, kernel, stride, dilation) < want, 'not minimal');
      }), { numRuns: 1000 });
  });

  it('rejects bad padding values with OptionError naming padding and the value', () => {
    const args = [[9, 9], [3, 3], [1, 1], [1, 1]] as const;
    throwsLike(() => resolvePadding('conv2d', -1, ...args), OptionError, 'conv2d', 'padding', '-1', '>= 0');
    throwsLike(() => resolvePadding('conv2d', 0.5, ...args), OptionError, 'padding', '0.5', 'integer');
    throwsLike(() => resolvePadding('conv2d', untyped([1, 2, 3]), ...args), OptionError, 'padding', '[1, 2, 3]');
    throwsLike(() => resolvePadding('conv2d', [1, -2], ...args), OptionError, 'padding', '[1, -2]', '-2');
    throwsLike(() => resolvePadding('conv2d', untyped('full'), ...args), OptionError, 'padding', "'full'", "'same'");
    throwsLike(() => resolvePadding('conv2d', untyped(NaN), ...args), OptionError, 'padding', 'NaN');
  });
});

// ------------------------------------------------------- options and shapes

describe('geometry: options and shapes', () => {
  it('checkOptions accepts allowed keys and undefined', () => {
    checkOptions('op', undefined, ['a']);
    checkOptions('op', {}, ['a']);
    checkOptions('op', { a: 1 }, ['a', 'b']);
  });

  it("a typo such as 'strides' throws, naming the key and the allowed keys", () => {
    throwsLike(() => conv([1, 1, 5, 5], [1, 1, 3, 3], { strides: 2 }), OptionError,
      "'strides'", "did you mean 'stride'", 'stride, padding, dilation, groups, activation');
    throwsLike(() => checkOptions('op', { zzzzzz: 1 }, ['a']), OptionError, "'zzzzzz'", 'allowed options: a');
  });

  it('options that are not an object throw OptionError', () => {
    throwsLike(() => checkOptions('conv2d', 5, ['stride']), OptionError, 'conv2d', 'options', '5');
    throwsLike(() => checkOptions('conv2d', null, ['stride']), OptionError, 'null');
    throwsLike(() => checkOptions('conv2d', [1], ['stride']), OptionError, '[1]');
  });

  it('resolvePair: scalar, pair, default, min', () => {
    eq(resolvePair('op', 'stride', undefined, 1, 1), [1, 1]);
    eq(resolvePair('op', 'stride', 3, 1, 1), [3, 3]);
    eq(resolvePair('op', 'stride', [2, 3], 1, 1), [2, 3]);
    eq(resolvePair('op', 'outputPadding', 0, 0, 0), [0, 0]);
  });

  it('resolvePair rejects fractional, negative, below-min, non-number and wrong-length values', () => {
    throwsLike(() => resolvePair('conv2d', 'stride', 1.5, 1, 1), OptionError, 'conv2d', 'stride', '1.5');
    throwsLike(() => resolvePair('conv2d', 'stride', -1, 1, 1), OptionError, 'stride', '-1', '>= 1');
    throwsLike(() => resolvePair('conv2d', 'stride', 0, 1, 1), OptionError, 'stride', '0', '>= 1');
    throwsLike(() => resolvePair('conv2d', 'dilation', [1, 0], 1, 1), OptionError, 'dilation', '[1, 0]');
    throwsLike(() => resolvePair('conv2d', 'stride', untyped([1, 2, 3]), 1, 1), OptionError, 'stride', '[1, 2, 3]');
    throwsLike(() => resolvePair('conv2d', 'stride', untyped('2'), 1, 1), OptionError, 'stride', "'2'");
    throwsLike(() => resolvePair('conv2d', 'stride', Infinity, 1, 1), OptionError, 'stride', 'Infinity');
    throwsLike(() => resolvePair('conv2d', 'stride', NaN, 1, 1), OptionError, 'stride', 'NaN');
  });

  it('checkShape: rank and sizes must be integers >= 1', () => {
    checkShape('op', 'x', [1, 2, 3, 4], 4);
    checkShape('op', 'x', [7]);
    throwsLike(() => checkShape('conv2d', 'x', [1, 2, 3], 4), ShapeError, 'conv2d', 'x', 'rank 4', 'rank 3', '[1, 2, 3]');
    throwsLike(() => checkShape('conv2d', 'x', [1, 0, 3, 3], 4), ShapeError, 'x', '[1, 0, 3, 3]', 'size 0', 'dim 1');
    throwsLike(() => checkShape('conv2d', 'x', [1, 2.5, 3, 3], 4), ShapeError, 'x', '2.5');
    throwsLike(() => checkShape('conv2d', 'x', [1, -2, 3, 3], 4), ShapeError, 'x', '-2');
    throwsLike(() => checkShape('conv2d', 'x', 'abc', 4), ShapeError, 'x', "'abc'");
  });

  it('checkSameShape names both arguments and shapes', () => {
    checkSameShape('reluGrad', 'dy', [1, 2], 'x', [1, 2]);
    throwsLike(() => checkSameShape('reluGrad', 'dy', [1, 2], 'x', [2, 1]), ShapeError, 'reluGrad', 'dy', '[1, 2]', 'x', '[2, 1]');
    throwsLike(() => checkSameShape('reluGrad', 'dy', [1, 2], 'x', [1, 2, 1]), ShapeError, '[1, 2, 1]');
  });

  it('resolveLpNorm: default 2; finite and > 0', () => {
    eq(resolveLpNorm('op', undefined), 2);
    eq(resolveLpNorm('op', 0.5), 0.5);
    for (const bad of [0, -1, Infinity, NaN, '2']) {
      throwsLike(() => resolveLpNorm('globalLpPool', bad), OptionError, 'globalLpPool', 'p', String(bad));
    }
  });
});

// ------------------------------------------------------------------ conv2d

describe('geometry: conv2d', () => {
  it('fills every field', () => {
    const g = conv([2, 4, 9, 10], [6, 2, 3, 2], { stride: [2, 1], padding: [1, 0, 2, 1], dilation: [1, 2], groups: 2, activation: 'relu' }, [6]);
    eq(g, {
      N: 2, Cin: 4, H: 9, W: 10, Cout: 6, groups: 2, cinPerGroup: 2, coutPerGroup: 3, kH: 3, kW: 2,
      strideH: 2, strideW: 1, dilationH: 1, dilationW: 2, padTop: 1, padLeft: 0, padBottom: 2, padRight: 1,
      outH: 5, outW: 9, relu: true, outputShape: [2, 6, 5, 9], // W: (10 + 0 + 1 - 3) / 1 + 1
    });
  });

  it('depthwise conv and the FC-as-conv layer', () => {
    eq(conv([1, 32, 112, 112], [32, 1, 3, 3], { padding: 1, groups: 32 }).outputShape, [1, 32, 112, 112]);
    eq(conv([1, 512, 7, 7], [4096, 512, 7, 7]).outputShape, [1, 4096, 1, 1]);
  });

  it('padding larger than the kernel is allowed for conv (PyTorch does)', () => {
    eq(conv([1, 1, 3, 3], [1, 1, 1, 1], { padding: 2 }).outputShape, [1, 1, 7, 7]);
  });

  it('bad option values throw OptionError naming the option and the value', () => {
    const [x, w] = [[1, 2, 5, 5], [2, 2, 3, 3]];
    throwsLike(() => conv(x, w, { stride: 0 }), OptionError, 'conv2d', 'stride', '0');
    throwsLike(() => conv(x, w, { stride: 1.5 }), OptionError, 'stride', '1.5');
    throwsLike(() => conv(x, w, { dilation: -1 }), OptionError, 'dilation', '-1');
    throwsLike(() => conv(x, w, { groups: 0 }), OptionError, 'groups', '0');
    throwsLike(() => conv(x, w, { groups: 1.5 }), OptionError, 'groups', '1.5');
    throwsLike(() => conv(x, w, { padding: -1 }), OptionError, 'padding', '-1');
    throwsLike(() => conv(x, w, { padding: 1.5 }), OptionError, 'padding', '1.5');
    throwsLike(() => conv(x, w, { activation: 'sigmoid' }), OptionError, 'activation', "'sigmoid'");
  });

  it('rank and size errors throw ShapeError naming the argument', () => {
    throwsLike(() => conv([1, 2, 5], [2, 2, 3, 3]), ShapeError, 'conv2d', 'x', 'rank 4', '[1, 2, 5]');
    throwsLike(() => conv([1, 2, 5, 5], [2, 2, 3]), ShapeError, 'weight', 'rank 4', '[2, 2, 3]');
    throwsLike(() => conv([1, 2, 0, 5], [2, 2, 3, 3]), ShapeError, 'x', 'size 0');
    throwsLike(() => conv([1, 2, 5, 5], [2, 2, 3, 0.5]), ShapeError, 'weight', '0.5');
  });

  it('channel and group mismatches throw ShapeError with the numbers', () => {
    throwsLike(() => conv([1, 3, 5, 5], [4, 2, 3, 3]), ShapeError, 'x has 3 channels', '[4, 2, 3, 3]', '= 2');
    throwsLike(() => conv([1, 3, 5, 5], [4, 1, 3, 3], { groups: 2 }), ShapeError, 'groups 2', '3 input channels');
    throwsLike(() => conv([1, 4, 5, 5], [3, 2, 3, 3], { groups: 2 }), ShapeError, 'groups 2', '3 output channels');
    throwsLike(() => conv([1, 4, 5, 5], [4, 1, 3, 3], { groups: 2 }), ShapeError, 'x has 4 channels', 'groups 2', '= 2');
  });

  it('bias must be [Cout]', () => {
    conv([1, 2, 5, 5], [4, 2, 3, 3], {}, [4]);
    throwsLike(() => conv([1, 2, 5, 5], [4, 2, 3, 3], {}, [5]), ShapeError, 'bias', '[5]', '[4]');
    throwsLike(() => conv([1, 2, 5, 5], [4, 2, 3, 3], {}, [4, 1]), ShapeError, 'bias', 'rank 1');
  });

  it('a kernel larger than the padded input throws ShapeError with the numbers', () => {
    throwsLike(() => conv([1, 1, 3, 3], [1, 1, 5, 5]), ShapeError,
      'conv2d', 'kernel height 5', 'larger than the padded input height', '3 + 0 + 0 = 3');
    eq(conv([1, 1, 3, 3], [1, 1, 5, 5], { padding: 1 }).outputShape, [1, 1, 1, 1]);
    throwsLike(() => conv([1, 1, 9, 4], [1, 1, 3, 3], { dilation: 2 }), ShapeError,
      'kernel width 3', 'dilation 2: extent 5', 'input width 4 + 0 + 0 = 4');
    throwsLike(() => conv([1, 1, 9, 4], [1, 1, 3, 6], { padding: [0, 1, 0, 0] }), ShapeError, '4 + 1 + 0 = 5');
  });
});

// --------------------------------------------------------- convTranspose2d

describe('geometry: convTranspose2d', () => {
  const convT = (x: number[], w: number[], opts?: object, bias: number[] | null = null) =>
    convTranspose2dGeometry('convTranspose2d', x, w, bias, untyped(opts));

  it('out = (in-1)*s - pB - pE + d*(k-1) + outputPadding + 1', () => {
    eq(convT([1, 2, 3, 3], [2, 4, 3, 3], { stride: 2 }).outputShape, [1, 4, 7, 7]);
    eq(convT([1, 2, 3, 3], [2, 4, 3, 3], { stride: 2, padding: 1, outputPadding: 1 }).outputShape, [1, 4, 6, 6]);
    eq(convT([1, 2, 3, 3], [2, 4, 3, 3], { padding: 'valid' }).outputShape, [1, 4, 5, 5]);
    const g = convT([1, 4, 5, 6], [4, 3, 2, 3], { stride: [2, 3], padding: [0, 1, 1, 0], dilation: [1, 2], outputPadding: [1, 2], groups: 2 }, [6]);
    eq(g, {
      N: 1, Cin: 4, H: 5, W: 6, Cout: 6, groups: 2, cinPerGroup: 2, coutPerGroup: 3, kH: 2, kW: 3,
      strideH: 2, strideW: 3, dilationH: 1, dilationW: 2, padTop: 0, padLeft: 1, padBottom: 1, padRight: 0,
      outH: 4 * 2 - 1 + 1 + 1 + 1, outW: 5 * 3 - 1 + 4 + 2 + 1, relu: false, outputShape: [1, 6, 10, 21],
      outPadH: 1, outPadW: 2,
    });
  });

  it("rejects 'same', unknown keys, and outputPadding >= max(stride, dilation)", () => {
    throwsLike(() => convT([1, 1, 3, 3], [1, 1, 3, 3], { padding: 'same' }), OptionError, 'convTranspose2d', "'same'");
    throwsLike(() => convT([1, 1, 3, 3], [1, 1, 3, 3], { activation: 'relu' }), OptionError, "'activation'");
    throwsLike(() => convT([1, 1, 3, 3], [1, 1, 3, 3], { stride: 2, outputPadding: 2 }), OptionError,
      'outputPadding', '2', 'max(stride 2, dilation 1) = 2');
    throwsLike(() => convT([1, 1, 3, 3], [1, 1, 3, 3], { outputPadding: [0, 1] }), OptionError, 'outputPadding', '[0, 1]', 'width');
    throwsLike(() => convT([1, 1, 3, 3], [1, 1, 3, 3], { outputPadding: -1 }), OptionError, 'outputPadding', '-1');
    eq(convT([1, 1, 3, 3], [1, 1, 3, 3], { dilation: 2, outputPadding: 1 }).outputShape, [1, 1, 8, 8]);
  });

  it('channel, group and bias mismatches throw ShapeError', () => {
    throwsLike(() => convT([1, 3, 3, 3], [2, 4, 3, 3]), ShapeError, 'x has 3 channels', 'weight[0] = 2');
    throwsLike(() => convT([1, 3, 3, 3], [3, 4, 3, 3], { groups: 2 }), ShapeError, 'groups 2', '3 input channels');
    throwsLike(() => convT([1, 2, 3, 3], [2, 4, 3, 3], {}, [3]), ShapeError, 'bias', '[3]', '[4]');
  });

  it('padding that crops away the whole output throws ShapeError with the formula', () => {
    throwsLike(() => convT([1, 1, 1, 1], [1, 1, 1, 1], { padding: 1 }), ShapeError,
      'crops away', '(1 - 1) * 1 - 1 - 1 + 1 * (1 - 1) + 0 + 1 = -1');
  });

  it('undoes conv2d sizes: transposed conv with the same settings maps out back to in', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 30 }), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 4 }),
      fc.integer({ min: 1, max: 3 }), fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 4 }),
      (inSize, kernel, stride, dilation, padBegin, padEnd) => {
        const extent = dilation * (kernel - 1) + 1;
        fc.pre(extent <= inSize + padBegin + padEnd);
        const padding = [padBegin, 0, padEnd, 0];
        const fwd = conv([1, 1, inSize, 1], [1, 1, kernel, 1], { stride: [stride, 1], padding, dilation: [dilation, 1] });
        const outputPadding = (inSize + padBegin + padEnd - extent) % stride;
        const back = convT([1, 1, fwd.outH, 1], [1, 1, kernel, 1],
          { stride: [stride, 1], padding, dilation: [dilation, 1], outputPadding: [outputPadding, 0] });
        eq(back.outH, inSize, 'round trip');
      }), { numRuns: 1000 });
  });
});

// --------------------------------------------------------------- gradients

describe('geometry: conv gradients', () => {
  const opts = { stride: 2, padding: 1 };

  it('conv2dGradInput/Weight resolve the forward and accept the matching dy', () => {
    const g = conv2dGradInputGeometry([2, 8, 4, 4], [8, 3, 3, 3], [2, 3, 8, 8], opts);
    eq([g.H, g.W, g.outH, g.outW, g.Cin, g.Cout], [8, 8, 4, 4, 3, 8]);
    eq(conv2dGradWeightGeometry([2, 8, 4, 4], [2, 3, 8, 8], [8, 3, 3, 3], opts).outputShape, [2, 8, 4, 4]);
    eq(conv2dGradInputGeometry([2, 8, 4, 4], [8, 3, 3, 3], [2, 3, 8, 8], { ...opts, activation: 'none' }).relu, false);
  });

  it('a dy that is not the forward output throws ShapeError naming both shapes', () => {
    throwsLike(() => conv2dGradInputGeometry([2, 8, 5, 4], [8, 3, 3, 3], [2, 3, 8, 8], opts), ShapeError,
      'conv2dGradInput', 'dy', '[2, 8, 5, 4]', '[2, 8, 4, 4]', '[2, 3, 8, 8]');
    throwsLike(() => conv2dGradWeightGeometry([2, 7, 4, 4], [2, 3, 8, 8], [8, 3, 3, 3], opts), ShapeError,
      'conv2dGradWeight', 'dy', '[2, 7, 4, 4]', '[2, 8, 4, 4]');
    throwsLike(() => conv2dGradWeightGeometry([2, 8, 4], [2, 3, 8, 8], [8, 3, 3, 3], opts), ShapeError, 'dy', 'rank 4');
  });

  it('inputShape errors name inputShape; a fused relu is refused', () => {
    throwsLike(() => conv2dGradInputGeometry([2, 8, 4, 4], [8, 3, 3, 3], [2, 3, 8], opts), ShapeError, 'inputShape', 'rank 4');
    throwsLike(() => conv2dGradInputGeometry([2, 8, 4, 4], [8, 3, 3, 3], [2, 4, 8, 8], opts), ShapeError, 'inputShape has 4 channels');
    throwsLike(() => conv2dGradInputGeometry([2, 8, 4, 4], [8, 3, 3, 3], [2, 3, 8, 8], { ...opts, activation: 'relu' }),
      OptionError, "activation 'relu'", 'reluGrad');
    throwsLike(() => conv2dGradWeightGeometry([2, 8, 4, 4], [2, 3, 8, 8], [8, 3, 3, 3], untyped({ strides: 2 })), OptionError, "'strides'");
  });

  it('convTranspose2d gradients check dy against the transposed forward', () => {
    const t = { stride: 2, padding: 1, outputPadding: 1 };
    eq(convTranspose2dGradInputGeometry([1, 4, 6, 6], [2, 4, 3, 3], [1, 2, 3, 3], t).outputShape, [1, 4, 6, 6]);
    eq(convTranspose2dGradWeightGeometry([1, 4, 6, 6], [1, 2, 3, 3], [2, 4, 3, 3], t).outPadH, 1);
    throwsLike(() => convTranspose2dGradInputGeometry([1, 4, 5, 5], [2, 4, 3, 3], [1, 2, 3, 3], t), ShapeError,
      'convTranspose2dGradInput', 'dy', '[1, 4, 5, 5]', '[1, 4, 6, 6]');
    throwsLike(() => convTranspose2dGradWeightGeometry([1, 4, 5, 5], [1, 2, 3, 3], [2, 4, 3, 3], t), ShapeError,
      'convTranspose2dGradWeight', '[1, 4, 6, 6]');
  });

  it('conv2dGradBias takes any rank-4 dy', () => {
    eq(conv2dGradBiasGeometry([2, 5, 3, 3]), { N: 2, C: 5, H: 3, W: 3 });
    throwsLike(() => conv2dGradBiasGeometry([2, 5]), ShapeError, 'conv2dGradBias', 'dy');
  });
});

// ----------------------------------------------------------------- 2-D pools

describe('geometry: 2-D pools', () => {
  const maxPool = (x: number[], opts: object) => maxPoolGeometry(x, untyped(opts));

  it('stride defaults to the kernel, per axis', () => {
    const g = maxPool([1, 2, 8, 9], { kernel: [2, 3] });
    eq([g.strideH, g.strideW, g.outH, g.outW], [2, 3, 4, 3]);
    eq(maxPool([1, 64, 112, 112], { kernel: 3, stride: 2, padding: 1 }).outputShape, [1, 64, 56, 56]);
  });

  it('ceil mode, including the PyTorch drop', () => {
    eq(maxPool([1, 1, 4, 4], { kernel: 2, stride: 2, padding: 1, ceilMode: true }).outH, 3);
    eq(maxPool([1, 1, 5, 5], { kernel: 3, stride: 2, ceilMode: true }).outH, 2);
    eq(maxPool([1, 1, 6, 6], { kernel: 3, stride: 2, ceilMode: true }).outH, 3);
    eq(maxPool([1, 1, 5, 5], { kernel: 2, stride: 2, padding: 1, ceilMode: true }).outH, 3);
    eq(maxPool([1, 1, 5, 5], { kernel: 2, stride: 2, padding: 1 }).outH, 3);
    eq(maxPool([1, 1, 7, 7], { kernel: 2, ceilMode: true }).outputShape, [1, 1, 4, 4]);
    eq(maxPool([1, 1, 6, 6], { kernel: 1, stride: 4, ceilMode: true }).outH, 2);
  });

  it("'same' pads like SAME_UPPER and yields ceil(in/stride)", () => {
    const g = maxPool([1, 1, 7, 5], { kernel: [3, 2], stride: [2, 1], padding: 'same' });
    eq([g.padTop, g.padLeft, g.padBottom, g.padRight, g.outH, g.outW], [1, 0, 1, 1, 4, 5]);
  });

  it('kernel is required; unknown and misplaced options throw', () => {
    throwsLike(() => maxPoolGeometry([1, 1, 4, 4], untyped(undefined)), OptionError, 'maxPool2d', "'kernel' is required");
    throwsLike(() => maxPool([1, 1, 4, 4], { stride: 2 }), OptionError, "'kernel' is required");
    throwsLike(() => maxPool([1, 1, 4, 4], { kernel: 2, kernal: 2 }), OptionError, "'kernal'", "did you mean 'kernel'");
    throwsLike(() => avgPoolGeometry([1, 1, 4, 4], untyped({ kernel: 2, dilation: 2 })), OptionError, 'avgPool2d', "'dilation'");
    throwsLike(() => lpPoolGeometry([1, 1, 4, 4], untyped({ kernel: 2, dilation: 2 })), OptionError, 'lpPool2d', "'dilation'");
    throwsLike(() => maxPool([1, 1, 4, 4], { kernel: 2, p: 2 }), OptionError, "'p'");
  });

  it('bad values throw OptionError naming the option and the value', () => {
    throwsLike(() => maxPool([1, 1, 4, 4], { kernel: 0 }), OptionError, 'kernel', '0');
    throwsLike(() => maxPool([1, 1, 4, 4], { kernel: 2.5 }), OptionError, 'kernel', '2.5');
    throwsLike(() => maxPool([1, 1, 4, 4], { kernel: 2, stride: -2 }), OptionError, 'stride', '-2');
    throwsLike(() => maxPool([1, 1, 4, 4], { kernel: 2, ceilMode: 'yes' }), OptionError, 'ceilMode', "'yes'");
    throwsLike(() => maxPool([1, 1, 4, 4], { kernel: 2, padding: -1 }), OptionError, 'padding', '-1');
  });

  it('each padding side must be < the dilated kernel extent', () => {
    throwsLike(() => maxPool([1, 1, 8, 8], { kernel: 2, padding: 2 }), OptionError,
      'maxPool2d', 'padding 2', 'extent 1 * (2 - 1) + 1 = 2');
    throwsLike(() => maxPool([1, 1, 8, 8], { kernel: 3, padding: [0, 0, 0, 3] }), OptionError, '[0, 0, 0, 3]', 'width');
    eq(maxPool([1, 1, 8, 8], { kernel: 2, dilation: 2, padding: 2 }).outH, 5); // extent 3 > 2; (12 - 3) / 2 + 1
  });

  it('a kernel larger than the padded input throws ShapeError', () => {
    throwsLike(() => maxPool([1, 1, 3, 8], { kernel: 5 }), ShapeError,
      'maxPool2d', 'kernel height 5', 'larger than the padded input height', '3 + 0 + 0 = 3');
  });

  it('a window whose dilated taps all land in padding throws ShapeError', () => {
    // input occupies padded rows 1..2; the taps of window 0 are rows 0 and 3
    throwsLike(() => maxPool([1, 1, 2, 8], { kernel: [2, 1], dilation: [3, 1], padding: [1, 0] }), ShapeError,
      'maxPool2d', 'window 0 along height holds no input element');
  });

  it('throws for an empty window exactly when a brute-force scan finds one', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }),
      fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 6 }), fc.boolean(),
      (inSize, kernel, stride, dilation, padBegin, padEnd, ceilMode) => {
        const extent = dilation * (kernel - 1) + 1;
        fc.pre(padBegin < extent && padEnd < extent && extent <= inSize + padBegin + padEnd);
        const out = convOutputSize(inSize, padBegin, padEnd, kernel, stride, dilation, ceilMode);
        let hasEmpty = false;
        for (let j = 0; j < out; j++) {
          let holds = false;
          for (let t = 0; t < kernel; t++) {
            const row = j * stride + t * dilation - padBegin; // input row of this tap
            if (row >= 0 && row < inSize) holds = true;
          }
          if (!holds) hasEmpty = true;
        }
        const opts = { kernel: [kernel, 1], stride: [stride, 1], dilation: [dilation, 1], padding: [padBegin, 0, padEnd, 0], ceilMode };
        if (hasEmpty) {
          throwsLike(() => maxPool([1, 1, inSize, 1], opts), ShapeError, 'holds no input element');
        } else {
          eq(maxPool([1, 1, inSize, 1], opts).outH, out, 'outH');
        }
      }), { numRuns: 2000 });
  });

  it('avgPool2d: countIncludePad default true, divisorOverride positive integer', () => {
    const g = avgPoolGeometry([1, 1, 4, 4], { kernel: 2 });
    eq([g.countIncludePad, g.divisorOverride, g.dilationH, g.outH], [true, null, 1, 2]);
    const h = avgPoolGeometry([1, 1, 4, 4], { kernel: 2, countIncludePad: false, divisorOverride: 3 });
    eq([h.countIncludePad, h.divisorOverride], [false, 3]);
    throwsLike(() => avgPoolGeometry([1, 1, 4, 4], { kernel: 2, divisorOverride: 0 }), OptionError, 'divisorOverride', '0');
    throwsLike(() => avgPoolGeometry([1, 1, 4, 4], { kernel: 2, divisorOverride: 1.5 }), OptionError, 'divisorOverride', '1.5');
    throwsLike(() => avgPoolGeometry([1, 1, 4, 4], untyped({ kernel: 2, countIncludePad: 1 })), OptionError, 'countIncludePad', '1');
  });

  it('lpPool2d: p default 2, finite and > 0', () => {
    eq(lpPoolGeometry([1, 1, 4, 4], { kernel: 2 }).p, 2);
    eq(lpPoolGeometry([1, 1, 4, 4], { kernel: 2, p: 3 }).p, 3);
    for (const p of [0, -1, Infinity, NaN]) {
      throwsLike(() => lpPoolGeometry([1, 1, 4, 4], { kernel: 2, p }), OptionError, 'lpPool2d', 'p', String(p));
    }
  });

  it('poolGeometry takes the op name and its allowed keys', () => {
    eq(poolGeometry('myPool', [1, 1, 4, 4], { kernel: 2 }, ['kernel']).outputShape, [1, 1, 2, 2]);
    throwsLike(() => poolGeometry('myPool', [1, 1, 4, 4], { kernel: 2, stride: 1 }, ['kernel']), OptionError, 'myPool', "'stride'");
    throwsLike(() => poolGeometry('myPool', [1, 4, 4], { kernel: 2 }, ['kernel']), ShapeError, 'myPool', 'x', 'rank 4');
  });

  it('pool gradients check dy (and y) against the forward output', () => {
    eq(maxPoolGradGeometry([1, 2, 2, 2], [1, 2, 2, 2], [1, 2, 4, 5]).outW, 2);
    throwsLike(() => maxPoolGradGeometry([1, 2, 2, 2], [1, 2, 2, 3], [1, 2, 4, 4]), ShapeError, 'indices', '[1, 2, 2, 3]');
    throwsLike(() => maxPoolGradGeometry([1, 2, 2, 2], [1, 2, 2, 2], [1, 3, 4, 4]), ShapeError, 'N and C');
    eq(avgPoolGradGeometry([1, 1, 2, 2], [1, 1, 4, 4], { kernel: 2 }).outH, 2);
    throwsLike(() => avgPoolGradGeometry([1, 1, 3, 2], [1, 1, 4, 4], { kernel: 2 }), ShapeError,
      'avgPool2dGrad', 'dy', '[1, 1, 3, 2]', '[1, 1, 2, 2]');
    eq(lpPoolGradGeometry([1, 1, 2, 2], [1, 1, 4, 4], [1, 1, 2, 2], { kernel: 2 }).p, 2);
    throwsLike(() => lpPoolGradGeometry([1, 1, 2, 2], [1, 1, 4, 4], [1, 1, 2, 1], { kernel: 2 }), ShapeError, 'y', '[1, 1, 2, 1]');
  });
});

// ------------------------------------------------------- channel and global

describe('geometry: channel and global pools', () => {
  const channel = (x: number[], opts: object) => channelPoolGeometry(x, untyped(opts));

  it('outC = floor((C + b + e - size) / stride) + 1', () => {
    eq(channel([1, 6, 2, 3], { size: 3 }), {
      N: 1, C: 6, H: 2, W: 3, p: 2, size: 3, stride: 1, padBegin: 0, padEnd: 0, outC: 4, outputShape: [1, 4, 2, 3],
    });
    eq(channel([1, 6, 2, 2], { size: 3, stride: 3 }).outC, 2);
    eq(channel([1, 6, 2, 2], { size: 3, padding: 1 }).outC, 6);
    eq(channel([1, 6, 2, 2], { size: 2, padding: [1, 0], p: 1 }).outC, 6);
    eq(channel([1, 2, 2, 2], { size: 3, padding: [1, 0] }).outC, 1);
  });

  it('option errors', () => {
    throwsLike(() => channel([1, 6, 2, 2], {}), OptionError, 'channelLpPool', "'size' is required");
    throwsLike(() => channel([1, 6, 2, 2], { size: 0 }), OptionError, 'size', '0');
    throwsLike(() => channel([1, 6, 2, 2], { size: 2, stride: 0 }), OptionError, 'stride', '0');
    throwsLike(() => channel([1, 6, 2, 2], { size: 2, stride: 1.5 }), OptionError, 'stride', '1.5');
    throwsLike(() => channel([1, 6, 2, 2], { size: 2, padding: 2 }), OptionError, 'padding', '2', '< size 2');
    throwsLike(() => channel([1, 6, 2, 2], { size: 3, padding: [0, 3] }), OptionError, '[0, 3]');
    throwsLike(() => channel([1, 6, 2, 2], { size: 2, padding: -1 }), OptionError, 'padding', '-1');
    throwsLike(() => channel([1, 6, 2, 2], { size: 2, p: 0 }), OptionError, 'p', '0');
    throwsLike(() => channel([1, 6, 2, 2], { size: 2, sizes: 2 }), OptionError, "'sizes'");
  });

  it('size larger than the padded channel count throws ShapeError', () => {
    throwsLike(() => channel([1, 3, 2, 2], { size: 5 }), ShapeError, 'size 5', 'channel count 3 + 0 + 0 = 3');
    throwsLike(() => channel([1, 3, 2, 2], { size: 5, padding: [1, 0] }), ShapeError, '3 + 1 + 0 = 4');
    throwsLike(() => channel([1, 3, 2], { size: 1 }), ShapeError, 'x', 'rank 4');
  });

  it('channelLpPoolGrad checks dy and y', () => {
    eq(channelPoolGradGeometry([1, 4, 2, 2], [1, 6, 2, 2], [1, 4, 2, 2], untyped({ size: 3 })).outC, 4);
    throwsLike(() => channelPoolGradGeometry([1, 5, 2, 2], [1, 6, 2, 2], [1, 4, 2, 2], untyped({ size: 3 })),
      ShapeError, 'channelLpPoolGrad', 'dy', '[1, 5, 2, 2]', '[1, 4, 2, 2]');
  });

  it('global pools map [N, C, H, W] to [N, C, 1, 1]', () => {
    eq(globalPoolGeometry('globalAvgPool', [2, 3, 4, 5]), { N: 2, C: 3, H: 4, W: 5, outputShape: [2, 3, 1, 1] });
    throwsLike(() => globalPoolGeometry('globalMaxPool', [2, 3, 4]), ShapeError, 'globalMaxPool', 'x', 'rank 4');
    eq(globalPoolGradGeometry('globalLpPoolGrad', [2, 3, 1, 1], [2, 3, 4, 5], [2, 3, 1, 1]).H, 4);
    throwsLike(() => globalPoolGradGeometry('globalAvgPoolGrad', [2, 3, 2, 1], [2, 3, 4, 5]), ShapeError,
      'globalAvgPoolGrad', 'dy', '[2, 3, 2, 1]', '[2, 3, 1, 1]');
    throwsLike(() => globalPoolGradGeometry('globalLpPoolGrad', [2, 3, 1, 1], [2, 3, 4, 5], [2, 4, 1, 1]), ShapeError, 'y');
  });
});

// ------------------------------------------------------- receptive fields

describe('geometry: receptive field', () => {
  const layer = (kernel: number, stride = 1, padBegin = 0, dilation = 1): LayerGeom =>
    ({ kernel: [kernel, kernel], stride: [stride, stride], dilation: [dilation, dilation], padBegin: [padBegin, padBegin] });

  it('lecture: conv K then pool P (stride P) sees P + K - 1 pixels', () => {
    for (const [K, P] of [[3, 2], [5, 2], [5, 3], [1, 4]] as const) {
      const r = composeReceptiveField([layer(K), layer(P, P)]);
      eq(r.receptiveField, [P + K - 1, P + K - 1], `K=${K} P=${P}`);
      eq(r.jump, [P, P]);
      eq(r.offset, [(P + K - 2) / 2, (P + K - 2) / 2]);
    }
  });

  it('no layers and identity layers leave one pixel centred at 0', () => {
    eq(composeReceptiveField([]), { receptiveField: [1, 1], jump: [1, 1], offset: [0, 0] });
    eq(composeReceptiveField([identityLayer(), identityLayer()]).receptiveField, [1, 1]);
  });

  it('stacked padded 3x3 convs grow by 2 and stay centred; AlexNet conv1 is 11 wide, jump 4', () => {
    eq(composeReceptiveField([layer(3, 1, 1), layer(3, 1, 1), layer(3, 1, 1)]).receptiveField, [7, 7]);
    eq(composeReceptiveField([layer(3, 1, 1), layer(3, 1, 1)]).offset, [0, 0]);
    eq(composeReceptiveField([layer(11, 4)]), { receptiveField: [11, 11], jump: [4, 4], offset: [5, 5] });
  });

  it('toLayerGeom reads a conv or pool geometry', () => {
    const g = conv([1, 1, 9, 9], [1, 1, 3, 5], { stride: [2, 1], padding: [1, 2, 1, 2], dilation: [1, 2] });
    eq(toLayerGeom(g), { kernel: [3, 5], stride: [2, 1], dilation: [1, 2], padBegin: [1, 2] });
    eq(toLayerGeom(maxPoolGeometry([1, 1, 8, 8], { kernel: 2 })).stride, [2, 2]);
  });

  it('matches the input span of output cells 0 and 1, traced back layer by layer', () => {
    const arbLayer = fc.record({
      kernel: fc.integer({ min: 1, max: 5 }), stride: fc.integer({ min: 1, max: 3 }),
      dilation: fc.integer({ min: 1, max: 3 }), pad: fc.integer({ min: 0, max: 3 }),
    });
    fc.assert(fc.property(fc.array(arbLayer, { maxLength: 6 }), (specs) => {
      const layers = specs.map((s) => layer(s.kernel, s.stride, s.pad, s.dilation));
      // output cells [a, b] of a layer read its input cells [a*s - p, b*s - p + d*(k-1)]
      const span = (cell: number): Pair => {
        let [a, b] = [cell, cell];
        for (const l of [...layers].reverse()) {
          const [k, s, d, p] = [l.kernel[0], l.stride[0], l.dilation[0], l.padBegin[0]];
          [a, b] = [a * s - p, b * s - p + d * (k - 1)];
        }
        return [a, b];
      };
      const [a0, b0] = span(0);
      const [a1, b1] = span(1);
      const r = composeReceptiveField(layers);
      eq(r.receptiveField[0], b0 - a0 + 1, 'receptive field');
      eq(r.offset[0], (a0 + b0) / 2, 'offset');
      eq(r.jump[0], (a1 + b1) / 2 - (a0 + b0) / 2, 'jump');
    }), { numRuns: 1000 });
  });
});
