// Bilinear resampling of NCHW maps: PyTorch's F.interpolate(mode='bilinear'), and the placement
// of a score map over the image it came from (each cell at its receptive field's centre).
import { OptionError } from '../errors.js';
import { checkOptions } from '../geometry.js';
import { Kernel } from '../runtime/kernels.js';
import type { Tensor } from '../tensor.js';
import { checkRank, checkTensor } from './util.js';
import source from '../../shaders/upsample.wgsl';

const upsampleKernel = new Kernel('upsample.wgsl', source, 'main');

export interface UpsampleOptions {
  /** PyTorch's align_corners (default false): corner pixels' centres coincide. */
  alignCorners?: boolean;
}

export interface ScoreMapPlacement {
  /** Input pixels between neighbouring cells, [h, w] or one number (model.geometry's jump). */
  jump: number | readonly [number, number];
  /** Input coordinate of cell (0, 0)'s centre, [h, w] or one number (model.geometry's offset). */
  offset: number | readonly [number, number];
}

/** y = F.interpolate(x, size=(outH, outW), mode='bilinear', align_corners) for x [N, C, h, w]. */
export function upsampleBilinear(x: Tensor, outH: number, outW: number, opts: UpsampleOptions = {}): Tensor {
  const op = 'upsampleBilinear';
  checkTensor(op, 'x', x);
  checkRank(op, 'x', x, 4);
  checkSize(op, 'outH', outH);
  checkSize(op, 'outW', outW);
  checkOptions(op, opts, ['alignCorners']);
  const align = opts.alignCorners ?? false;
  if (typeof align !== 'boolean') throw new OptionError(`${op}: alignCorners must be true or false, got ${String(align)}`);
  const [, , inH, inW] = x.shape as [number, number, number, number];
  const axis = (inSize: number, outSize: number): [number, number] => {
    if (align) return [outSize > 1 ? (inSize - 1) / (outSize - 1) : 0, 0];
    const scale = inSize / outSize;
    return [scale, scale / 2 - 0.5];
  };
  return resample(op, x, outH, outW, axis(inH, outH), axis(inW, outW));
}

/**
 * Resamples a score map [N, K, h, w] onto the input image's pixel grid [N, K, outH, outW]: pixel
 * (py, px) reads the map at ((py - offset) / jump, (px - offset) / jump), bilinear between cell
 * centres and the nearest cell beyond the outer ones. With model.geometry's jump and offset each
 * score lands over the centre of the pixels it saw.
 */
export function upsampleScoreMap(scores: Tensor, outH: number, outW: number, placement: ScoreMapPlacement): Tensor {
  const op = 'upsampleScoreMap';
  checkTensor(op, 'scores', scores);
  checkRank(op, 'scores', scores, 4);
  checkSize(op, 'outH', outH);
  checkSize(op, 'outW', outW);
  checkOptions(op, placement, ['jump', 'offset']);
  if (placement === undefined) throw new OptionError(`${op}: placement { jump, offset } is required`);
  const jump = numberPair(op, 'jump', placement.jump, (v) => v > 0, 'a finite number > 0');
  const offset = numberPair(op, 'offset', placement.offset, () => true, 'a finite number');
  return resample(op, scores, outH, outW, [1 / jump[0], -offset[0] / jump[0]], [1 / jump[1], -offset[1] / jump[1]]);
}

function resample(op: string, x: Tensor, outH: number, outW: number, h: [number, number], w: [number, number]): Tensor {
  const [N, C, inH, inW] = x.shape as [number, number, number, number];
  const y = x.engine.empty([N, C, outH, outW], 'float32', op);
  const count = N * C * outH * outW;
  x.engine.run(upsampleKernel, { x, y }, {
    inH, inW, outH, outW, count, scaleH: h[0], biasH: h[1], scaleW: w[0], biasW: w[1],
  }, Math.ceil(count / 256));
  return y;
}

function checkSize(op: string, name: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new OptionError(`${op}: ${name} must be an integer >= 1, got ${String(value)}`);
  }
}

function numberPair(op: string, name: string, value: unknown, valid: (v: number) => boolean, rule: string): [number, number] {
  const pair = typeof value === 'number' ? [value, value] : value;
  if (!Array.isArray(pair) || pair.length !== 2 || !pair.every((v) => typeof v === 'number' && Number.isFinite(v) && valid(v))) {
    throw new OptionError(`${op}: ${name} must be ${rule} or a pair [h, w] of them, got ${JSON.stringify(value)}`);
  }
  return [pair[0] as number, pair[1] as number];
}
