// Seedable parameter initialisation: the same seed gives the same weights in Node and the browser.

/** mulberry32: a small seeded generator of uniform numbers in [0, 1). */
export function makeRng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Values drawn from U(-bound, bound) for a tensor of `shape`. */
export function uniformInit(rng: () => number, shape: readonly number[], bound: number): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (2 * rng() - 1) * bound;
  return out;
}
