// Random pool configurations (fast-check, fixed seed) and the batched GPU-vs-reference check
// shared by pool2d.spec.ts, pool_grad.spec.ts and global_pool.spec.ts.
import fc from 'fast-check';
import type { Engine, Tensor } from '../src/index.js';
import { avgPoolGeometry, channelPoolGeometry, lpPoolGeometry, maxPoolGeometry, type PaddingOption } from '../src/geometry.js';
import * as ref from './reference.js';

export const SEED = 424242;
/** Cases queued before their read-backs are awaited: one submit for many cases. */
const CHUNK = 50;

export type PoolKind = 'max' | 'avg' | 'lp';
export const P_VALUES = [1, 2, 3, 1.5] as const;

export interface PoolCase {
  kind: PoolKind;
  N: number; C: number; H: number; W: number;
  kernel: [number, number]; stride: [number, number] | undefined; dilation: [number, number];
  padding: PaddingOption; ceilMode: boolean; countIncludePad: boolean; divisorOverride: number | undefined;
  p: number; integers: boolean; seed: number;
  /** Resolved by geometry.ts: [top, left, bottom, right]. */
  pad: ref.Pad4;
}

const pair = (max: number) => fc.tuple(fc.integer({ min: 1, max }), fc.integer({ min: 1, max }));
const side = fc.integer({ min: 0, max: 4 });
const padding: fc.Arbitrary<PaddingOption> = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(side, side, side, side) },
  { weight: 1, arbitrary: fc.tuple(side, side) },
  { weight: 1, arbitrary: side },
  { weight: 1, arbitrary: fc.constantFrom<'same' | 'valid'>('same', 'valid') },
);

function rawCase(kind: PoolKind) {
  return fc.record({
    N: fc.integer({ min: 1, max: 3 }), C: fc.integer({ min: 1, max: 6 }),
    H: fc.integer({ min: 1, max: 20 }), W: fc.integer({ min: 1, max: 20 }),
    kernel: pair(5), stride: fc.option(pair(4), { freq: 5 }), dilation: kind === 'max' ? pair(3) : fc.constant<[number, number]>([1, 1]),
    padding, ceilMode: fc.boolean(), countIncludePad: fc.boolean(),
    divisorOverride: kind === 'avg' ? fc.option(fc.integer({ min: 1, max: 30 }), { freq: 4 }) : fc.constant(null),
    p: fc.constantFrom(...P_VALUES), integers: fc.boolean(), seed: fc.nat(),
  });
}

/**
 * Draws whose width fits the vec4 kernels of pool2d.wgsl (rows of a multiple of 4 elements and
 * the common window-width patterns: kernel width <= 3, stride <= 2, no dilation, left padding
 * <= 1); the height side stays free.
 */
function widthPattern(kind: PoolKind) {
  return fc.record({
    N: fc.integer({ min: 1, max: 3 }), C: fc.integer({ min: 1, max: 6 }),
    H: fc.integer({ min: 1, max: 20 }), W: fc.integer({ min: 1, max: 5 }).map((q) => 4 * q),
    kernel: fc.tuple(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 3 })),
    stride: fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 2 })).map((s) => s as [number, number] | null),
    dilation: kind === 'max' ? fc.tuple(fc.integer({ min: 1, max: 3 }), fc.constant(1)) : fc.constant<[number, number]>([1, 1]),
    padding: fc.tuple(side, fc.integer({ min: 0, max: 1 }), side, side).map((p) => p as PaddingOption),
    ceilMode: fc.boolean(), countIncludePad: fc.boolean(),
    divisorOverride: kind === 'avg' ? fc.option(fc.integer({ min: 1, max: 30 }), { freq: 4 }) : fc.constant(null),
    p: fc.constantFrom(...P_VALUES), integers: fc.boolean(), seed: fc.nat(),
  });
}

/**
 * Draws around the fixed-window kernels (2x2 stride 2 unpadded; max 3x3 stride 2 padding 1):
 * widths of a multiple of 4 (half of them giving output rows of a multiple of 4, which the
 * kernels take, half not), odd heights, ceil mode (partial windows: the general kernels), batch > 1.
 */
function fixedPatternCase(kind: PoolKind) {
  const k3 = kind === 'max';
  return fc.record({
    N: fc.integer({ min: 1, max: 3 }), C: fc.integer({ min: 1, max: 5 }),
    H: fc.integer({ min: 2, max: 19 }), W: fc.integer({ min: 1, max: 6 }).map((q) => 4 * q),
    kernel: k3 ? fc.constantFrom<[number, number]>([2, 2], [3, 3]) : fc.constant<[number, number]>([2, 2]),
    stride: fc.constant<[number, number] | null>([2, 2]),
    dilation: fc.constant<[number, number]>([1, 1]),
    padding: fc.constant<PaddingOption>(0),
    ceilMode: fc.boolean(), countIncludePad: fc.boolean(),
    divisorOverride: kind === 'avg' ? fc.option(fc.integer({ min: 1, max: 30 }), { freq: 4 }) : fc.constant(null),
    p: fc.constantFrom(...P_VALUES), integers: fc.boolean(), seed: fc.nat(),
  }).map((r) => (r.kernel[0] === 3 ? { ...r, padding: 1 as PaddingOption } : r));
}

/**
 * `count` valid configurations of one pool kind (invalid draws, which geometry.ts rejects, are
 * skipped); `widths` true draws only widths the vec4 kernels take, 'fixed' the fixed-window patterns.
 */
export function poolCases(kind: PoolKind, count: number, seed = SEED, widths: boolean | 'fixed' = false): PoolCase[] {
  const arbitrary = widths === 'fixed' ? fixedPatternCase(kind) : widths ? widthPattern(kind) : rawCase(kind);
  const drawn = fc.sample(arbitrary, { seed, numRuns: count * 8 });
  const cases: PoolCase[] = [];
  for (const r of drawn) {
    if (cases.length === count) break;
    const c: PoolCase = {
      ...r, kind, stride: r.stride ?? undefined, divisorOverride: r.divisorOverride ?? undefined, pad: [0, 0, 0, 0],
      integers: kind === 'max' && r.integers,
    };
    try {
      const g = kind === 'max' ? maxPoolGeometry(shapeOf(c), maxOpts(c))
        : kind === 'avg' ? avgPoolGeometry(shapeOf(c), avgOpts(c)) : lpPoolGeometry(shapeOf(c), lpOpts(c));
      c.pad = [g.padTop, g.padLeft, g.padBottom, g.padRight];
      cases.push(c);
    } catch {
      // an invalid geometry (a window in padding only, a kernel over the padded input): draw again
    }
  }
  if (cases.length < count) throw new Error(`only ${cases.length} valid ${kind} cases of ${count}`);
  return cases;
}

export function shapeOf(c: { N: number; C: number; H: number; W: number }): number[] {
  return [c.N, c.C, c.H, c.W];
}

export function maxOpts(c: PoolCase) {
  return { kernel: c.kernel, stride: c.stride, padding: c.padding, dilation: c.dilation, ceilMode: c.ceilMode };
}
export function avgOpts(c: PoolCase) {
  return { kernel: c.kernel, stride: c.stride, padding: c.padding, ceilMode: c.ceilMode, countIncludePad: c.countIncludePad, divisorOverride: c.divisorOverride };
}
export function lpOpts(c: PoolCase) {
  return { kernel: c.kernel, stride: c.stride, padding: c.padding, ceilMode: c.ceilMode, p: c.p };
}

export function refMaxOpts(c: PoolCase): ref.MaxPoolOpts {
  return { kernel: c.kernel, stride: c.stride ?? c.kernel, pad: c.pad, dilation: c.dilation, ceilMode: c.ceilMode };
}
export function refAvgOpts(c: PoolCase): ref.AvgPoolOpts {
  return { kernel: c.kernel, stride: c.stride ?? c.kernel, pad: c.pad, ceilMode: c.ceilMode, countIncludePad: c.countIncludePad, divisorOverride: c.divisorOverride };
}
export function refLpOpts(c: PoolCase): ref.LpPoolOpts {
  return { kernel: c.kernel, stride: c.stride ?? c.kernel, pad: c.pad, ceilMode: c.ceilMode, p: c.p };
}

export function describePool(c: PoolCase): string {
  const extra = c.kind === 'max' ? ` dilation [${c.dilation}]${c.integers ? ' integer values' : ''}`
    : c.kind === 'avg' ? ` countIncludePad ${c.countIncludePad} divisorOverride ${c.divisorOverride}` : ` p ${c.p}`;
  return `${c.kind} [${shapeOf(c)}] kernel [${c.kernel}] stride ${JSON.stringify(c.stride)} padding ${JSON.stringify(c.padding)} ` +
    `(pad [${c.pad}]) ceilMode ${c.ceilMode}${extra} seed ${c.seed}`;
}

// ---- channel pooling -------------------------------------------------------------------------

export interface ChannelCase {
  N: number; C: number; H: number; W: number; size: number; stride: number; padding: [number, number];
  p: number; seed: number;
}

export function channelCases(count: number, seed = SEED): ChannelCase[] {
  const arb = fc.record({
    N: fc.integer({ min: 1, max: 3 }), C: fc.integer({ min: 1, max: 12 }),
    H: fc.integer({ min: 1, max: 8 }), W: fc.integer({ min: 1, max: 8 }),
    size: fc.integer({ min: 1, max: 5 }), stride: fc.integer({ min: 1, max: 3 }),
    padding: fc.tuple(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 4 })),
    p: fc.constantFrom(...P_VALUES), seed: fc.nat(),
  });
  const cases: ChannelCase[] = [];
  for (const c of fc.sample(arb, { seed, numRuns: count * 8 })) {
    if (cases.length === count) break;
    try {
      channelPoolGeometry(shapeOf(c), channelOpts(c));
      cases.push(c);
    } catch {
      // invalid: draw again
    }
  }
  if (cases.length < count) throw new Error(`only ${cases.length} valid channel cases of ${count}`);
  return cases;
}

export function channelOpts(c: ChannelCase) {
  return { size: c.size, stride: c.stride, padding: c.padding, p: c.p };
}
export function refChannelOpts(c: ChannelCase): ref.ChannelLpPoolOpts {
  return { size: c.size, stride: c.stride, pad: c.padding, p: c.p };
}

// ---- data and checks ---------------------------------------------------------------------------

export interface Pairing { ref: ref.RefArray; gpu: Tensor }

/** The same float32 values on the GPU and in the float64 reference. */
export function pairFrom(engine: Engine, shape: number[], values: Float32Array): Pairing {
  return { ref: ref.fromValues(shape, values), gpu: engine.tensor(values, shape) };
}

/** Uniform in [-1, 1), or small integers in [-2, 2] (ties), as float32. */
export function randomPair(engine: Engine, shape: number[], rng: () => number, integers = false): Pairing {
  const values = new Float32Array(ref.numel(shape));
  for (let i = 0; i < values.length; i++) values[i] = integers ? Math.floor(rng() * 5) - 2 : rng() * 2 - 1;
  return pairFrom(engine, shape, values);
}

export function rngFor(seed: number): () => number {
  return ref.makeRng(seed);
}

export interface Expected { shape: readonly number[]; data: ArrayLike<number> }

/** One GPU result against the reference: `exact` for max values and indices, else API.md's tolerance. */
export interface Pending {
  what: string;
  got: Tensor;
  expected: () => Expected;
  exact?: boolean;
  owned: Tensor[];
}

export function compare(what: string, got: ArrayLike<number>, gotShape: readonly number[], exp: Expected, exact = false, tol = 1e-5): string | null {
  if (gotShape.join() !== exp.shape.join()) return `${what}: shape [${gotShape}], expected [${exp.shape}]`;
  if (exact) {
    for (let i = 0; i < exp.data.length; i++) {
      if (!Object.is(got[i], exp.data[i]) && !(got[i] === 0 && exp.data[i] === 0)) {
        return `${what}: element ${i} is ${got[i]}, expected exactly ${exp.data[i]}`;
      }
    }
    return null;
  }
  const msg = ref.allClose(got, exp.data, tol, tol);
  return msg === null ? null : `${what}: ${msg}`;
}

/** Reads every pending result and compares; throws listing the first failures. */
export async function checkAll(pending: Pending[]): Promise<void> {
  const failures: string[] = [];
  for (let i = 0; i < pending.length; i += CHUNK) {
    const chunk = pending.slice(i, i + CHUNK);
    const reads = await Promise.all(chunk.map((p) => p.got.read()));
    chunk.forEach((p, j) => {
      const msg = compare(p.what, reads[j]!, p.got.shape, p.expected(), p.exact);
      if (msg !== null) failures.push(msg);
      p.got.dispose();
      for (const t of p.owned) t.dispose();
    });
  }
  if (failures.length > 0) throw new Error(`${failures.length} of ${pending.length} checks failed:\n${failures.slice(0, 6).join('\n')}`);
}

/** Queues `make(case)` for each case in chunks (bounded memory) and checks them all. */
export async function checkCases<C extends { seed: number }>(cases: C[], make: (c: C, rng: () => number) => Pending[]): Promise<void> {
  const failures: string[] = [];
  for (let i = 0; i < cases.length; i += CHUNK) {
    try {
      await checkAll(cases.slice(i, i + CHUNK).flatMap((c) => make(c, rngFor(c.seed))));
    } catch (e) {
      failures.push(e instanceof Error ? e.message : String(e));
    }
  }
  if (failures.length > 0) throw new Error(failures.join('\n'));
}
