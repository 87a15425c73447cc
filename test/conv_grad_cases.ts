// Random convolution and transposed-convolution configurations for the gradient specs, and the
// helpers that run many GPU ops at once and compare each with the float64 reference.
import type { GradWeightGeometry } from '../src/ops/conv_weight_gemm.js';
import fc from 'fast-check';
import type { Engine, Tensor } from '../src/index.js';
import { allClose, fromValues, makeRng, randomArray, type Pad4, type Pair, type RefArray } from './reference.js';

export type PaddingOption = number | [number, number] | [number, number, number, number] | 'same' | 'valid';

export interface ConvCase {
  N: number; Cin: number; Cout: number; H: number; W: number; kH: number; kW: number;
  stride: Pair; dilation: Pair; groups: number;
  /** What the op is called with. */
  padding: PaddingOption;
  /** The same padding resolved independently of src/geometry.ts, for the reference. */
  pad: Pad4;
  outH: number; outW: number; seed: number;
}

export interface ConvTransposeCase extends Omit<ConvCase, 'padding'> {
  padding: Exclude<PaddingOption, 'same'>;
  outputPadding: Pair;
}

/** Keeps the float64 reference loops (and the test) fast. */
const MAX_MACS = 600_000;

/** SAME_UPPER per axis, from the formula in API.md: out = ceil(in / s), the odd pixel at the end. */
function samePad(inSize: number, k: number, s: number, d: number): Pair {
  const total = Math.max((Math.ceil(inSize / s) - 1) * s + d * (k - 1) + 1 - inSize, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

function explicitPad(p: Exclude<PaddingOption, 'same'>): Pad4 {
  if (p === 'valid') return [0, 0, 0, 0];
  if (typeof p === 'number') return [p, p, p, p];
  return p.length === 2 ? [p[0], p[1], p[0], p[1]] : [...p];
}

/** Channels: plain, grouped, or depthwise with channel multiplier 1 or 2. */
const arbChannels = fc.oneof(
  fc.record({ groups: fc.constant(1), cinPerGroup: fc.integer({ min: 1, max: 12 }), coutPerGroup: fc.integer({ min: 1, max: 12 }) }),
  fc.record({ groups: fc.integer({ min: 2, max: 4 }), cinPerGroup: fc.integer({ min: 1, max: 3 }), coutPerGroup: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ groups: fc.integer({ min: 1, max: 12 }), cinPerGroup: fc.constant(1), coutPerGroup: fc.constantFrom(1, 2) }),
);

const arbPadding: fc.Arbitrary<Exclude<PaddingOption, 'same'>> = fc.oneof(
  fc.constant('valid' as const),
  fc.integer({ min: 0, max: 3 }),
  fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 })),
  fc.tuple(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 4 })),
);

const arbShape = fc.record({
  N: fc.integer({ min: 1, max: 3 }),
  channels: arbChannels,
  H: fc.integer({ min: 1, max: 30 }), W: fc.integer({ min: 1, max: 30 }),
  kH: fc.integer({ min: 1, max: 5 }), kW: fc.integer({ min: 1, max: 5 }),
  stride: fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 })),
  dilation: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
  seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
});

/** conv2d configurations whose kernel fits the padded input; 'same' in about one in six. */
export function convCases(count: number, seed: number): ConvCase[] {
  const arb = fc.record({ shape: arbShape, padding: fc.oneof(arbPadding, fc.constant('same' as const)) }).map(({ shape, padding }) => {
    const { groups, cinPerGroup, coutPerGroup } = shape.channels;
    const { H, W, kH, kW, stride, dilation } = shape;
    const pad: Pad4 = padding === 'same'
      ? (() => { const [t, b] = samePad(H, kH, stride[0], dilation[0]); const [l, r] = samePad(W, kW, stride[1], dilation[1]); return [t, l, b, r] as Pad4; })()
      : explicitPad(padding);
    const outH = Math.floor((H + pad[0] + pad[2] - dilation[0] * (kH - 1) - 1) / stride[0]) + 1;
    const outW = Math.floor((W + pad[1] + pad[3] - dilation[1] * (kW - 1) - 1) / stride[1]) + 1;
    return {
      N: shape.N, Cin: groups * cinPerGroup, Cout: groups * coutPerGroup, H, W, kH, kW, stride, dilation, groups,
      padding, pad, outH, outW, seed: shape.seed,
    } satisfies ConvCase;
  }).filter((c) => {
    const fits = c.dilation[0] * (c.kH - 1) + 1 <= c.H + c.pad[0] + c.pad[2] && c.dilation[1] * (c.kW - 1) + 1 <= c.W + c.pad[1] + c.pad[3];
    return fits && c.N * c.Cout * c.outH * c.outW * (c.Cin / c.groups) * c.kH * c.kW <= MAX_MACS;
  });
  return fc.sample(arb, { seed, numRuns: count });
}

/** convTranspose2d configurations: outputPadding < max(stride, dilation), the crop leaves >= 1 pixel. */
export function convTransposeCases(count: number, seed: number): ConvTransposeCase[] {
  const arb = fc.record({
    shape: arbShape, padding: arbPadding,
    outputPadding: fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 })),
    smallInput: fc.tuple(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 12 })),
  }).map(({ shape, padding, outputPadding, smallInput }) => {
    const { groups, cinPerGroup, coutPerGroup } = shape.channels;
    const { kH, kW, stride, dilation } = shape;
    // A transposed conv grows its input about stride times: smaller inputs keep the output near 30.
    const H = Math.min(shape.H, smallInput[0]);
    const W = Math.min(shape.W, smallInput[1]);
    const op: Pair = [outputPadding[0] % Math.max(stride[0], dilation[0]), outputPadding[1] % Math.max(stride[1], dilation[1])];
    const pad = explicitPad(padding);
    const outH = (H - 1) * stride[0] - pad[0] - pad[2] + dilation[0] * (kH - 1) + op[0] + 1;
    const outW = (W - 1) * stride[1] - pad[1] - pad[3] + dilation[1] * (kW - 1) + op[1] + 1;
    return {
      N: shape.N, Cin: groups * cinPerGroup, Cout: groups * coutPerGroup, H, W, kH, kW, stride, dilation, groups,
      padding, pad, outputPadding: op, outH, outW, seed: shape.seed,
    } satisfies ConvTransposeCase;
  }).filter((c) => c.outH >= 1 && c.outW >= 1 &&
    c.N * c.Cin * c.H * c.W * (c.Cout / c.groups) * c.kH * c.kW <= MAX_MACS);
  return fc.sample(arb, { seed, numRuns: count });
}

/** A reference array and the same float32 values on the GPU. */
export interface Pairing { ref: RefArray; gpu: Tensor }

export function randomPair(engine: Engine, shape: number[], rng: () => number): Pairing {
  const f32 = Float32Array.from(randomArray(shape, rng).data);
  return { ref: fromValues(shape, f32), gpu: engine.tensor(f32, shape) };
}

export function rngFor(seed: number): () => number {
  return makeRng(seed);
}

export interface Pending { what: string; got: Tensor; expected: () => RefArray; owned: Tensor[] }

/**
 * Reads every queued result (one submit for the lot), compares each with its reference, and
 * frees the tensors; throws one error listing every mismatch.
 */
export async function checkAll(pending: Pending[]): Promise<void> {
  const failures: string[] = [];
  for (const p of pending) {
    const got = await p.got.read();
    const exp = p.expected();
    if (got.length !== exp.data.length) failures.push(`${p.what}: ${got.length} values, expected ${exp.data.length}`);
    else {
      const msg = allClose(got, exp.data);
      if (msg !== null) failures.push(`${p.what}: ${msg}`);
    }
    p.got.dispose();
    for (const t of p.owned) t.dispose();
  }
  if (failures.length > 0) throw new Error(`${failures.length} of ${pending.length} cases failed:\n${failures.slice(0, 8).join('\n')}`);
}

/** How a case reads in a failure message: every option, so it can be rerun alone. */
export function describeCase(c: ConvCase | ConvTransposeCase): string {
  const extra = 'outputPadding' in c ? ` outputPadding [${c.outputPadding}]` : '';
  return `N${c.N} ${c.Cin}->${c.Cout} ${c.H}x${c.W} k${c.kH}x${c.kW} stride [${c.stride}] dilation [${c.dilation}] ` +
    `groups ${c.groups} padding ${JSON.stringify(c.padding)}${extra} seed ${c.seed}`;
}

/** Options of explicitCase: per-axis stride and dilation, [top, left, bottom, right] padding. */
export interface ExplicitCaseOptions {
  stride?: [number, number]; dilation?: [number, number]; pad?: [number, number, number, number]; seed?: number;
}

/** A conv case with explicit padding (default none); output size from API.md's formula. */
export function explicitCase(
  N: number, Cin: number, Cout: number, H: number, W: number, kH: number, kW: number, groups: number,
  o: ExplicitCaseOptions = {},
): ConvCase {
  const stride = o.stride ?? [1, 1];
  const dilation = o.dilation ?? [1, 1];
  const pad = o.pad ?? [0, 0, 0, 0];
  const outH = Math.floor((H + pad[0] + pad[2] - dilation[0] * (kH - 1) - 1) / stride[0]) + 1;
  const outW = Math.floor((W + pad[1] + pad[3] - dilation[1] * (kW - 1) - 1) / stride[1]) + 1;
  return { N, Cin, Cout, H, W, kH, kW, stride, dilation, groups, padding: pad, pad, outH, outW, seed: o.seed ?? N * 1000 + Cin * 10 + H };
}

/** The grad-weight router's view of a case (a = dy, b = x), for the route predicates. */
export function gradWeightGeometry(c: ConvCase): GradWeightGeometry {
  return {
    N: c.N, aC: c.Cout, aH: c.outH, aW: c.outW, bC: c.Cin, bH: c.H, bW: c.W, groups: c.groups, kH: c.kH, kW: c.kW,
    strideH: c.stride[0], strideW: c.stride[1], dilationH: c.dilation[0], dilationW: c.dilation[1], padTop: c.pad[0], padLeft: c.pad[1],
  };
}
