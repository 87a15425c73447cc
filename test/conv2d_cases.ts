// Random conv2d configurations for test/conv2d.spec.ts, drawn with fast-check, and the helpers that
// run one through a forced kernel and compare it with the float64 reference.
import fc from 'fast-check';
import type { Engine, Tensor } from '../src/index.js';
import type { Conv2dOptions, PaddingOption } from '../src/geometry.js';
import { conv2dWith, type Conv2dPlan } from '../src/ops/conv.js';
import { allClose, conv2d as refConv2d, makeRng, numel, randomArray, type Pad4, type RefArray } from './reference.js';

export interface ConvCase {
  N: number; Cin: number; H: number; W: number; Cout: number; kH: number; kW: number;
  stride: [number, number]; dilation: [number, number]; groups: number;
  padding: PaddingOption; bias: boolean; relu: boolean; seed: number;
}

/** The case's options as a user would write them. */
export function caseOptions(c: ConvCase): Conv2dOptions {
  const opts: Conv2dOptions = { padding: c.padding, groups: c.groups };
  if (c.stride[0] !== c.stride[1]) opts.stride = c.stride;
  else if (c.stride[0] !== 1) opts.stride = c.stride[0];
  if (c.dilation[0] !== 1 || c.dilation[1] !== 1) opts.dilation = c.dilation;
  if (c.relu) opts.activation = 'relu';
  return opts;
}

/** SAME_UPPER, worked out here independently of src/geometry.ts. */
function samePad(inSize: number, k: number, s: number, d: number): [number, number] {
  const out = Math.ceil(inSize / s);
  const total = Math.max(0, (out - 1) * s + d * (k - 1) + 1 - inSize);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

export function resolvedPads(c: ConvCase): Pad4 {
  const p = c.padding;
  if (p === 'valid') return [0, 0, 0, 0];
  if (p === 'same') {
    const [t, b] = samePad(c.H, c.kH, c.stride[0], c.dilation[0]);
    const [l, r] = samePad(c.W, c.kW, c.stride[1], c.dilation[1]);
    return [t, l, b, r];
  }
  if (typeof p === 'number') return [p, p, p, p];
  if (p.length === 2) return [p[0], p[1], p[0], p[1]];
  return [p[0], p[1], p[2], p[3]];
}

export function outputShape(c: ConvCase): number[] {
  const [t, l, b, r] = resolvedPads(c);
  const oh = Math.floor((c.H + t + b - c.dilation[0] * (c.kH - 1) - 1) / c.stride[0]) + 1;
  const ow = Math.floor((c.W + l + r - c.dilation[1] * (c.kW - 1) - 1) / c.stride[1]) + 1;
  return [c.N, c.Cout, oh, ow];
}

function macs(c: ConvCase): number {
  return numel(outputShape(c)) * (c.Cin / c.groups) * c.kH * c.kW;
}

const arbPair = (max: number) => fc.tuple(fc.integer({ min: 1, max }), fc.integer({ min: 1, max }));

const arbPadding: fc.Arbitrary<PaddingOption> = fc.oneof(
  fc.tuple(fc.nat(3), fc.nat(3), fc.nat(3), fc.nat(3)),
  fc.tuple(fc.nat(3), fc.nat(3)),
  fc.nat(3),
  fc.constantFrom<PaddingOption>('same', 'valid'),
);

/** Grows H and W until the dilated kernel fits the padded input (the op would rightly refuse). */
function fitInput(c: ConvCase): ConvCase {
  if (c.padding === 'same') return c;
  const [t, l, b, r] = resolvedPads(c);
  const needH = c.dilation[0] * (c.kH - 1) + 1 - t - b;
  const needW = c.dilation[1] * (c.kW - 1) + 1 - l - r;
  return { ...c, H: Math.max(c.H, needH), W: Math.max(c.W, needW) };
}

/** General layers: N 1-3, C 1-16, H/W 1-40, kernels 1-7, strides 1-4, dilation 1-3, any padding, groups. */
export function generalCases(count: number, seed: number): ConvCase[] {
  const arb = fc.record({
    N: fc.constantFrom(1, 1, 1, 2, 3),
    groupKind: fc.constantFrom('plain', 'plain', 'plain', 'grouped', 'depthwise'),
    groups: fc.integer({ min: 2, max: 4 }),
    cin: fc.integer({ min: 1, max: 16 }),
    cout: fc.integer({ min: 1, max: 16 }),
    multiplier: fc.constantFrom(1, 2),
    H: fc.integer({ min: 1, max: 40 }),
    W: fc.integer({ min: 1, max: 40 }),
    kernel: arbPair(7),
    stride: arbPair(4),
    dilation: fc.oneof(fc.constant<[number, number]>([1, 1]), arbPair(3)),
    padding: arbPadding,
    bias: fc.boolean(),
    relu: fc.boolean(),
    seed: fc.nat(),
  }).map((d): ConvCase => {
    let groups = 1;
    let Cin = d.cin;
    let Cout = d.cout;
    if (d.groupKind === 'grouped') {
      groups = d.groups;
      Cin = Math.max(1, Math.floor(d.cin / groups)) * groups;
      Cout = Math.max(1, Math.floor(d.cout / groups)) * groups;
    } else if (d.groupKind === 'depthwise') {
      groups = Cin;
      Cout = Cin * d.multiplier;   // channel multiplier 1 or 2
    }
    return fitInput({
      N: d.N, Cin, H: d.H, W: d.W, Cout, kH: d.kernel[0], kW: d.kernel[1], stride: d.stride,
      dilation: d.dilation, groups, padding: d.padding, bias: d.bias, relu: d.relu, seed: d.seed,
    });
  }).filter((c) => macs(c) <= 120_000 && c.H <= 48 && c.W <= 48);
  return fc.sample(arb, { seed, numRuns: count });
}

/** Depthwise layers: groups == Cin, channel multiplier 1-3. */
export function depthwiseCases(count: number, seed: number): ConvCase[] {
  const arb = fc.record({
    N: fc.constantFrom(1, 2), C: fc.integer({ min: 1, max: 16 }), multiplier: fc.constantFrom(1, 2, 3),
    H: fc.integer({ min: 1, max: 40 }), W: fc.integer({ min: 1, max: 40 }), kernel: arbPair(7), stride: arbPair(4),
    dilation: fc.oneof(fc.constant<[number, number]>([1, 1]), arbPair(3)), padding: arbPadding,
    bias: fc.boolean(), relu: fc.boolean(), seed: fc.nat(),
  }).map((d): ConvCase => fitInput({
    N: d.N, Cin: d.C, H: d.H, W: d.W, Cout: d.C * d.multiplier, kH: d.kernel[0], kW: d.kernel[1], stride: d.stride,
    dilation: d.dilation, groups: d.C, padding: d.padding, bias: d.bias, relu: d.relu, seed: d.seed,
  })).filter((c) => macs(c) <= 120_000 && c.groups > 1);
  return fc.sample(arb, { seed, numRuns: count });
}

/**
 * Depthwise 3x3 stride 1 or 2 undilated (the depthwise3x3 kernel's layers): any padding (asymmetric,
 * > 1, 'same', 'valid'), sizes below and past its 8 x 8 block, C 1 (groups 1) to 12.
 */
export function depthwise3x3Cases(count: number, seed: number): ConvCase[] {
  const arb = fc.record({
    N: fc.constantFrom(1, 1, 2, 3), C: fc.integer({ min: 1, max: 12 }), multiplier: fc.constantFrom(1, 2, 3),
    H: fc.integer({ min: 1, max: 40 }), W: fc.integer({ min: 1, max: 40 }), stride: fc.constantFrom(1, 2), padding: arbPadding,
    bias: fc.boolean(), relu: fc.boolean(), seed: fc.nat(),
  }).map((d): ConvCase => fitInput({
    N: d.N, Cin: d.C, H: d.H, W: d.W, Cout: d.C * d.multiplier, kH: 3, kW: 3, stride: [d.stride, d.stride],
    dilation: [1, 1], groups: d.C, padding: d.padding, bias: d.bias, relu: d.relu, seed: d.seed,
  })).filter((c) => macs(c) <= 120_000);
  return fc.sample(arb, { seed, numRuns: count });
}

/** 1x1 stride-1 unpadded layers (GEMMs over the pixels), some grouped. */
export function pointwiseCases(count: number, seed: number): ConvCase[] {
  const arb = fc.record({
    N: fc.constantFrom(1, 2, 3), groups: fc.constantFrom(1, 1, 2), cinPerGroup: fc.integer({ min: 1, max: 8 }),
    coutPerGroup: fc.integer({ min: 1, max: 20 }), H: fc.integer({ min: 1, max: 30 }), W: fc.integer({ min: 1, max: 30 }),
    bias: fc.boolean(), relu: fc.boolean(), seed: fc.nat(),
  }).map((d): ConvCase => ({
    N: d.N, Cin: d.cinPerGroup * d.groups, H: d.H, W: d.W, Cout: d.coutPerGroup * d.groups, kH: 1, kW: 1,
    stride: [1, 1], dilation: [1, 1], groups: d.groups, padding: 'valid', bias: d.bias, relu: d.relu, seed: d.seed,
  })).filter((c) => macs(c) <= 120_000);
  return fc.sample(arb, { seed, numRuns: count });
}

/** Kernel == input, no padding: fully connected layers as convs (output 1x1). */
export function fcCases(count: number, seed: number): ConvCase[] {
  const arb = fc.record({
    N: fc.constantFrom(1, 1, 2, 5), groups: fc.constantFrom(1, 1, 2), cinPerGroup: fc.integer({ min: 1, max: 8 }),
    coutPerGroup: fc.integer({ min: 1, max: 21 }), H: fc.integer({ min: 1, max: 7 }), W: fc.integer({ min: 1, max: 7 }),
    stride: arbPair(3), bias: fc.boolean(), relu: fc.boolean(), seed: fc.nat(),
  }).map((d): ConvCase => ({
    N: d.N, Cin: d.cinPerGroup * d.groups, H: d.H, W: d.W, Cout: d.coutPerGroup * d.groups, kH: d.H, kW: d.W,
    stride: d.stride, dilation: [1, 1], groups: d.groups, padding: 'valid', bias: d.bias, relu: d.relu, seed: d.seed,
  }));
  return fc.sample(arb, { seed, numRuns: count });
}

export function describeCase(c: ConvCase): string {
  return `x [${c.N}, ${c.Cin}, ${c.H}, ${c.W}], weight [${c.Cout}, ${c.Cin / c.groups}, ${c.kH}, ${c.kW}], ` +
    `opts ${JSON.stringify(caseOptions(c))}, bias ${c.bias}, seed ${c.seed}`;
}

interface Prepared { x: Tensor; w: Tensor; b: Tensor | null; expected: RefArray }

export function prepare(engine: Engine, c: ConvCase): Prepared {
  const rng = makeRng(c.seed);
  const x = randomArray([c.N, c.Cin, c.H, c.W], rng);
  const w = randomArray([c.Cout, c.Cin / c.groups, c.kH, c.kW], rng);
  const b = c.bias ? randomArray([c.Cout], rng) : null;
  const expected = refConv2d(x, w, b, { stride: c.stride, pad: resolvedPads(c), dilation: c.dilation, groups: c.groups, relu: c.relu });
  return {
    x: engine.tensor(Float32Array.from(x.data), x.shape),
    w: engine.tensor(Float32Array.from(w.data), w.shape),
    b: b ? engine.tensor(Float32Array.from(b.data), b.shape) : null,
    expected,
  };
}

/**
 * Runs every case through every plan that `plansFor` gives it (all dispatched before any read, so the
 * GPU work is batched) and throws one error listing each mismatch with its case and plan.
 */
export async function checkCases(engine: Engine, cases: ConvCase[], plansFor: (c: ConvCase, i: number) => (Conv2dPlan | null)[]): Promise<number> {
  const failures: string[] = [];
  let runs = 0;
  const chunk = 24;
  for (let start = 0; start < cases.length; start += chunk) {
    const pending: { c: ConvCase; plan: Conv2dPlan | null; y: Tensor; expected: RefArray }[] = [];
    const inputs: Prepared[] = [];
    cases.slice(start, start + chunk).forEach((c, j) => {
      const p = prepare(engine, c);
      inputs.push(p);
      for (const plan of plansFor(c, start + j)) {
        pending.push({ c, plan, y: conv2dWith(plan, p.x, p.w, p.b, caseOptions(c)), expected: p.expected });
      }
    });
    const outputs = await Promise.all(pending.map((r) => r.y.read()));
    pending.forEach((r, i) => {
      runs++;
      const shapeOk = r.y.shape.join() === r.expected.shape.join();
      const msg = shapeOk ? allClose(outputs[i]!, r.expected.data) : `shape [${r.y.shape}], expected [${r.expected.shape}]`;
      if (msg !== null) failures.push(`${JSON.stringify(r.plan ?? 'auto')} on ${describeCase(r.c)}: ${msg}`);
      r.y.dispose();
    });
    for (const p of inputs) [p.x, p.w, p.b].forEach((t) => t?.dispose());
  }
  if (failures.length > 0) throw new Error(`${failures.length} of ${runs} runs differ from the reference:\n  ${failures.slice(0, 8).join('\n  ')}`);
  return runs;
}
