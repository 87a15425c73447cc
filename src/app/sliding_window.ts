// The sliding-window baseline: the ORIGINAL classifier run on every crop of the training size, at
// the network's total stride, in batches. Its score map is what the fully convolutional model
// computes in one pass, which is the point of the comparison (same numbers, far more work).
import { OptionError, ShapeError } from '../errors.js';
import { checkOptions, resolvePair, type PairOption } from '../geometry.js';
import { crop2d, extractPatches } from '../ops/crop.js';
import { checkRank, checkTensor } from '../ops/util.js';
import type { Sequential } from '../nn/sequential.js';
import { Kernel } from '../runtime/kernels.js';
import type { Tensor } from '../tensor.js';
import source from '../../shaders/patches.wgsl';

const scatterKernel = new Kernel('patches.wgsl', source, 'scatter');

export interface SlidingWindowOptions {
  /** Pixels between crops, [h, w] or one number (default: the network's jump, model.geometry). */
  stride?: PairOption;
  /** Crops per forward pass (default 256). */
  batch?: number;
}

const DEFAULT_BATCH = 256;

/**
 * Scores of `model` (a classifier for [C, H, W] inputs, output [B, K] or [B, K, 1, 1]) on every
 * H x W crop of x [N, C, H', W'] at `stride`: [N, K, outH, outW] with outH = floor((H' - H) / sh) + 1.
 * For a network without padding this equals model.toFullyConvolutional([C, H, W]).forward(x).
 * The model runs in eval mode (its previous mode is restored).
 */
export function slidingWindow(model: Sequential, x: Tensor, trainedShape: readonly [number, number, number], opts: SlidingWindowOptions = {}): Tensor {
  const op = 'slidingWindow';
  checkTensor(op, 'x', x, model.engine);
  checkRank(op, 'x', x, 4);
  checkOptions(op, opts, ['stride', 'batch']);
  if (!Array.isArray(trainedShape) || trainedShape.length !== 3 || !trainedShape.every((d) => Number.isSafeInteger(d) && d >= 1)) {
    throw new ShapeError(`${op}: trainedShape must be [C, H, W] of integers >= 1, got ${JSON.stringify(trainedShape)}`);
  }
  const [C, H, W] = trainedShape;
  const [N, xC, xH, xW] = x.shape as [number, number, number, number];
  if (xC !== C) throw new ShapeError(`${op}: x has ${xC} channels, the classifier takes ${C} (trainedShape [${trainedShape}])`);
  if (xH < H || xW < W) throw new ShapeError(`${op}: x ${xH}×${xW} is smaller than the crop ${H}×${W}`);
  const geometry = model.geometry([C, H, W]);
  const [sh, sw] = opts.stride === undefined ? geometry.jump : resolvePair(op, 'stride', opts.stride, 1, 1);
  const batch = opts.batch ?? DEFAULT_BATCH;
  if (!Number.isSafeInteger(batch) || batch < 1) throw new OptionError(`${op}: batch must be an integer >= 1, got ${String(batch)}`);
  const out = geometry.outputShape;
  const K = out[0]!;
  if (!(out.length === 1 || (out.length === 3 && out[1] === 1 && out[2] === 1))) {
    throw new ShapeError(`${op}: the classifier's output for one ${C}×${H}×${W} crop is [${out}]; it must be [K] or [K, 1, 1]`);
  }
  const outH = Math.floor((xH - H) / sh) + 1;
  const outW = Math.floor((xW - W) / sw) + 1;
  // A chunk is a block of window rows × window columns whose crops (for all N images) fit one batch.
  const perImage = Math.max(1, Math.floor(batch / N));
  const cols = Math.min(outW, perImage);
  const rows = Math.min(outH, Math.max(1, Math.floor(perImage / cols)));
  const scoreMap = x.engine.empty([N, K, outH, outW], 'float32', op);
  const wasTraining = model.training;
  model.eval();
  try {
    for (let top = 0; top < outH; top += rows) {
      for (let left = 0; left < outW; left += cols) {
        const r = Math.min(rows, outH - top);
        const c = Math.min(cols, outW - left);
        const region = crop2d(x, top * sh, left * sw, (r - 1) * sh + H, (c - 1) * sw + W);
        const crops = extractPatches(region, [H, W], [sh, sw]);
        region.dispose();
        const scores = model.forward(crops);
        crops.dispose();
        const count = N * K * r * c;
        x.engine.run(scatterKernel, { scores, scoreMap }, { K, rows: r, cols: c, outH, outW, top, left, count }, Math.ceil(count / 256));
        scores.dispose();
      }
    }
  } catch (e) {
    scoreMap.dispose();
    throw e;
  } finally {
    model.train(wasTraining);
  }
  return scoreMap;
}
