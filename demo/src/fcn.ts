// The two ways to classify every window of an image: the fully convolutional model in one pass,
// timed per layer and in total, and the original classifier on every crop (sliding window).
import { slidingWindow, type Engine, type Sequential, type Tensor } from '../../src/index.js';
import type { DemoModel } from './model.js';

export interface LayerTiming {
  name: string;
  outputShape: number[];
  ms: number;
}

export interface ActivationSnapshot {
  name: string;
  shape: number[];
  /** The first `channels` planes of the layer's output (batch 0). */
  channels: number;
  data: Float32Array;
}

export interface ScoreMap {
  /** Raw scores [K, h, w] read back from the GPU. */
  data: Float32Array;
  K: number;
  h: number;
  w: number;
  ms: number;
}

/** Planes per layer kept for the activation view. */
const ACTIVATION_PLANES = 8;
/** Layer outputs larger than this (elements) are not read back for the activation view. */
const MAX_SNAPSHOT_ELEMENTS = 16 * 1024 * 1024;

/**
 * Runs the model layer by layer, waiting for the GPU after each, to time them one by one
 * (a Conv2d followed by a ReLU runs fused, as Sequential.forward does in eval mode).
 */
export async function forwardByLayer(model: Sequential, x: Tensor): Promise<{ layers: LayerTiming[]; activations: ActivationSnapshot[]; skipped: string | null }> {
  const engine = model.engine;
  const layers: LayerTiming[] = [];
  const activations: ActivationSnapshot[] = [];
  const list = model.layers;
  let current = x;
  try {
    // A layer output over one storage buffer's limit: the whole pass still runs (Sequential tiles
    // the image by itself), but not layer by layer.
    const limitBytes = Math.min(engine.limits.maxStorageBufferBindingSize, engine.limits.maxBufferSize);
    const tooLarge = model.shapesFor(x.shape).find((shape) => shape.reduce((a, b) => a * b, 4) > limitBytes);
    if (tooLarge) return { layers, activations, skipped: `a layer output [${tooLarge.join(', ')}] is over the device's ${limitBytes} bytes for one buffer` };
    for (let i = 0; i < list.length; i++) {
      const layer = list[i]!;
      const next = list[i + 1];
      const fuse = (layer.type === 'Conv2d' || layer.type === 'Linear') && next?.type === 'ReLU';
      const started = performance.now();
      const out = layer.forward(current, false, fuse ? 'relu' : undefined);
      await engine.flush();
      const ms = performance.now() - started;
      out.saved?.dispose();
      const name = fuse ? `${layer.describe()} + ReLU` : layer.describe();
      layers.push({ name, outputShape: [...out.y.shape], ms });
      activations.push(await snapshot(name, out.y));
      if (current !== x && out.y.storage !== current.storage) current.dispose();
      current = out.y;
      if (fuse) i++;
    }
  } finally {
    if (current !== x) current.dispose();
  }
  return { layers, activations, skipped: null };
}

async function snapshot(name: string, y: Tensor): Promise<ActivationSnapshot> {
  const shape = [...y.shape];
  const [, C = 1, H = 1, W = 1] = shape.length === 4 ? shape : [1, shape[1] ?? 1, 1, 1];
  // Reading back a huge map would only stall the page: show its shape, not its planes.
  const channels = y.size > MAX_SNAPSHOT_ELEMENTS ? 0 : Math.min(C, ACTIVATION_PLANES);
  if (channels === 0) return { name, shape, channels, data: new Float32Array(0) };
  const all = (await y.read()) as Float32Array;
  return { name, shape, channels, data: all.slice(0, channels * H * W) };
}

async function readScores(scores: Tensor, ms: number): Promise<ScoreMap> {
  const [, K, h, w] = scores.shape as [number, number, number, number];
  const data = (await scores.read()) as Float32Array;
  return { data, K, h, w, ms };
}

/** The whole fully convolutional pass, one submit, timed until the GPU is done. */
export async function runFullyConvolutional(m: DemoModel, x: Tensor): Promise<ScoreMap> {
  const started = performance.now();
  const scores = m.fcn.forward(x);
  await m.fcn.engine.flush();
  const ms = performance.now() - started;
  try {
    return await readScores(scores, ms);
  } finally {
    scores.dispose();
  }
}

/** The original classifier on every crop at the network's stride, timed until the GPU is done. */
export async function runSlidingWindow(m: DemoModel, x: Tensor): Promise<ScoreMap> {
  const started = performance.now();
  const scores = slidingWindow(m.classifier, x, m.inputShape);
  await m.classifier.engine.flush();
  const ms = performance.now() - started;
  try {
    return await readScores(scores, ms);
  } finally {
    scores.dispose();
  }
}

/** Compiles every pipeline both paths use on the smallest input, so timings measure running, not compiling. */
export async function warmUp(engine: Engine, m: DemoModel): Promise<number> {
  const started = performance.now();
  const [C, H, W] = m.inputShape;
  const x = engine.zeros([1, C, H + 4, W + 4]);
  try {
    const a = m.fcn.forward(x);
    const b = slidingWindow(m.classifier, x, m.inputShape);
    await engine.flush();
    a.dispose();
    b.dispose();
    const { activations } = await forwardByLayer(m.fcn, x);
    void activations;
  } finally {
    x.dispose();
  }
  return performance.now() - started;
}

/** Per-cell softmax over the K channels of a score map [K, h, w]. */
export function softmaxCells(s: ScoreMap): Float32Array {
  const { data, K, h, w } = s;
  const cells = h * w;
  const out = new Float32Array(data.length);
  for (let c = 0; c < cells; c++) {
    let max = -Infinity;
    for (let k = 0; k < K; k++) max = Math.max(max, data[k * cells + c]!);
    let sum = 0;
    for (let k = 0; k < K; k++) sum += Math.exp(data[k * cells + c]! - max);
    for (let k = 0; k < K; k++) out[k * cells + c] = Math.exp(data[k * cells + c]! - max) / sum;
  }
  return out;
}

export function argmaxCells(s: ScoreMap): Int32Array {
  const { data, K, h, w } = s;
  const cells = h * w;
  const out = new Int32Array(cells);
  for (let c = 0; c < cells; c++) {
    let best = 0;
    for (let k = 1; k < K; k++) if (data[k * cells + c]! > data[best * cells + c]!) best = k;
    out[c] = best;
  }
  return out;
}

/** How far apart the two answers are: the largest score difference and the share of cells whose class agrees. */
export function compareScoreMaps(a: ScoreMap, b: ScoreMap): { maxAbsDiff: number; maxAbsScore: number; agreement: number } {
  if (a.K !== b.K || a.h !== b.h || a.w !== b.w) return { maxAbsDiff: Infinity, maxAbsScore: 0, agreement: 0 };
  let maxAbsDiff = 0;
  let maxAbsScore = 0;
  for (let i = 0; i < a.data.length; i++) {
    maxAbsDiff = Math.max(maxAbsDiff, Math.abs(a.data[i]! - b.data[i]!));
    maxAbsScore = Math.max(maxAbsScore, Math.abs(a.data[i]!));
  }
  const ca = argmaxCells(a);
  const cb = argmaxCells(b);
  let same = 0;
  for (let i = 0; i < ca.length; i++) if (ca[i] === cb[i]) same++;
  return { maxAbsDiff, maxAbsScore, agreement: same / Math.max(1, ca.length) };
}
