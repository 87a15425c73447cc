// A score map to a picture in one call: class probabilities (softmax), placed over the image's
// pixels (bilinear, each cell at its receptive field's centre), then a heat map of one class or
// the colour of the most likely class per pixel, optionally drawn over the image.
import { OptionError } from '../errors.js';
import { checkOptions } from '../geometry.js';
import { argmaxChannels } from '../ops/argmax.js';
import { softmax } from '../ops/softmax.js';
import { upsampleBilinear, upsampleScoreMap, type ScoreMapPlacement } from '../ops/upsample.js';
import { checkRank, checkTensor } from '../ops/util.js';
import type { Tensor } from '../tensor.js';
import { colorizeClasses, colorizeHeatmap, type RGB } from './colorize.js';

export interface ScoreMapPictureOptions {
  /** The picture's [H, W]. */
  size: readonly [number, number];
  /** A class index: heat map of that class; 'argmax': each pixel in its best class's colour. */
  show: number | 'argmax';
  /** Where the cells sit over the picture (model.geometry's jump and offset); default: the map stretched over it. */
  placement?: ScoreMapPlacement;
  /** Apply softmax over classes first (default true: the scores are logits). */
  softmax?: boolean;
  /** Heat map: scores at the ramp's ends (default [0, 1]). */
  range?: readonly [number, number];
  /** argmax: pixels whose best score is below this stay uncoloured. */
  minScore?: number;
  palette?: readonly RGB[];
  /** Packed RGBA pixels to draw over (rgbaTensor), [H, W] or [N, H, W]. */
  image?: Tensor;
  opacity?: number;
}

const OPTIONS = ['size', 'show', 'placement', 'softmax', 'range', 'minScore', 'palette', 'image', 'opacity'];

/** scores [N, K, h, w] -> packed RGBA8 int32 [N, H, W] (readRGBA gives the bytes). */
export function scoreMapPicture(scores: Tensor, opts: ScoreMapPictureOptions): Tensor {
  const op = 'scoreMapPicture';
  checkTensor(op, 'scores', scores);
  checkRank(op, 'scores', scores, 4);
  if (opts === undefined) throw new OptionError(`${op}: options { size, show } are required`);
  checkOptions(op, opts, OPTIONS);
  const size = opts.size;
  if (!Array.isArray(size) || size.length !== 2) throw new OptionError(`${op}: size must be [H, W], got ${JSON.stringify(size)}`);
  const show = opts.show;
  const K = scores.shape[1]!;
  if (show !== 'argmax' && !(Number.isSafeInteger(show) && show >= 0 && show < K)) {
    throw new OptionError(`${op}: show must be 'argmax' or a class index in [0, ${K - 1}], got ${JSON.stringify(show)}`);
  }
  const useSoftmax = opts.softmax ?? true;
  if (typeof useSoftmax !== 'boolean') throw new OptionError(`${op}: softmax must be true or false, got ${String(useSoftmax)}`);
  const [H, W] = size;
  const probs = useSoftmax ? softmax(scores) : scores;
  const dense = opts.placement ? upsampleScoreMap(probs, H, W, opts.placement) : upsampleBilinear(probs, H, W);
  if (probs !== scores) probs.dispose();
  const blend = { ...(opts.image ? { image: opts.image } : {}), ...(opts.opacity === undefined ? {} : { opacity: opts.opacity }) };
  try {
    if (show === 'argmax') {
      const classes = argmaxChannels(dense, opts.minScore === undefined ? {} : { minScore: opts.minScore });
      const picture = colorizeClasses(classes, { ...blend, ...(opts.palette ? { palette: opts.palette } : {}) });
      classes.dispose();
      return picture;
    }
    return colorizeHeatmap(dense, { ...blend, channel: show, ...(opts.range ? { range: opts.range } : {}) });
  } finally {
    dense.dispose();
  }
}
