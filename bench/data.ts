// Deterministic inputs shared by every engine, and the layout changes between NCHW (fullconv,
// ONNX Runtime) and NHWC (TensorFlow.js's native layout). Layout changes happen on the CPU,
// outside every timed region.
import { makeRng } from '../test/reference.js';

export function randomFloats(count: number, seed: number, lo = -1, hi = 1): Float32Array {
  const rng = makeRng(seed);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = lo + (hi - lo) * rng();
  return out;
}

/** Distinct values in [-1, 1), shuffled: max pooling has no ties, so every engine agrees exactly. */
export function distinctFloats(count: number, seed: number): Float32Array {
  const rng = makeRng(seed);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = (2 * i - count) / count;
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const t = out[i]!;
    out[i] = out[j]!;
    out[j] = t;
  }
  return out;
}

/** Weights scaled like torch's default init (uniform ±1/sqrt(fan-in)) so activations stay O(1). */
export function randomWeights(shape: readonly number[], seed: number): Float32Array {
  const fanIn = shape.slice(1).reduce((a, b) => a * b, 1);
  const bound = 1 / Math.sqrt(fanIn);
  return randomFloats(numel(shape), seed, -bound, bound);
}

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** [N, C, H, W] -> [N, H, W, C]. */
export function nchwToNhwc(x: Float32Array, shape: readonly number[]): Float32Array {
  const [n, c, h, w] = shape as [number, number, number, number];
  const out = new Float32Array(x.length);
  for (let b = 0; b < n; b++)
    for (let ch = 0; ch < c; ch++)
      for (let i = 0; i < h; i++)
        for (let j = 0; j < w; j++) out[((b * h + i) * w + j) * c + ch] = x[((b * c + ch) * h + i) * w + j]!;
  return out;
}

/** [N, H, W, C] -> [N, C, H, W], given the NCHW shape. */
export function nhwcToNchw(x: ArrayLike<number>, shape: readonly number[]): Float32Array {
  const [n, c, h, w] = shape as [number, number, number, number];
  const out = new Float32Array(x.length);
  for (let b = 0; b < n; b++)
    for (let ch = 0; ch < c; ch++)
      for (let i = 0; i < h; i++)
        for (let j = 0; j < w; j++) out[((b * c + ch) * h + i) * w + j] = x[((b * h + i) * w + j) * c + ch]!;
  return out;
}

/** Conv weight OIHW -> TensorFlow's HWIO. */
export function oihwToHwio(w: Float32Array, shape: readonly number[]): Float32Array {
  const [o, i, kh, kw] = shape as [number, number, number, number];
  const out = new Float32Array(w.length);
  for (let a = 0; a < o; a++)
    for (let b = 0; b < i; b++)
      for (let y = 0; y < kh; y++)
        for (let x = 0; x < kw; x++) out[((y * kw + x) * i + b) * o + a] = w[((a * i + b) * kh + y) * kw + x]!;
  return out;
}

/** TensorFlow's HWIO -> OIHW, given the OIHW shape. */
export function hwioToOihw(w: ArrayLike<number>, shape: readonly number[]): Float32Array {
  const [o, i, kh, kw] = shape as [number, number, number, number];
  const out = new Float32Array(w.length);
  for (let a = 0; a < o; a++)
    for (let b = 0; b < i; b++)
      for (let y = 0; y < kh; y++)
        for (let x = 0; x < kw; x++) out[((a * i + b) * kh + y) * kw + x] = w[((y * kw + x) * i + b) * o + a]!;
  return out;
}

/** Depthwise weight [C, 1, kH, kW] -> TensorFlow's [kH, kW, C, 1]. */
export function depthwiseToTf(w: Float32Array, shape: readonly number[]): Float32Array {
  const [c, , kh, kw] = shape as [number, number, number, number];
  const out = new Float32Array(w.length);
  for (let ch = 0; ch < c; ch++)
    for (let y = 0; y < kh; y++)
      for (let x = 0; x < kw; x++) out[(y * kw + x) * c + ch] = w[(ch * kh + y) * kw + x]!;
  return out;
}

/** Linear weight [out, C*H*W] (NCHW flatten order) -> [H*W*C, out] for an NHWC flatten. */
export function linearWeightForNhwc(w: Float32Array, out: number, c: number, h: number, wd: number): Float32Array {
  const res = new Float32Array(w.length);
  for (let o = 0; o < out; o++)
    for (let ch = 0; ch < c; ch++)
      for (let i = 0; i < h; i++)
        for (let j = 0; j < wd; j++) res[((i * wd + j) * c + ch) * out + o] = w[o * c * h * wd + (ch * h + i) * wd + j]!;
  return res;
}
