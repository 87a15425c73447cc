// Score maps and class maps to pictures: RGBA8 pixels packed one per int32 element, ready for
// ImageData, a canvas or a PNG (bytes R, G, B, A per pixel in memory order).
import type { Engine } from '../engine.js';
import { OptionError, ShapeError } from '../errors.js';
import { checkOptions } from '../geometry.js';
import { checkTensor } from '../ops/util.js';
import { Kernel } from '../runtime/kernels.js';
import type { Tensor } from '../tensor.js';
import source from '../../shaders/colorize.wgsl';

const heatKernel = new Kernel('colorize.wgsl', source, 'heat');
const heatOverKernel = new Kernel('colorize.wgsl', source, 'heat_over');
const classesKernel = new Kernel('colorize.wgsl', source, 'classes_plain');
const classesOverKernel = new Kernel('colorize.wgsl', source, 'classes_over');

export type RGB = readonly [number, number, number];

/** The heat ramp's stops, evenly spaced from low to high scores: an inferno-like black → purple → red → orange → pale yellow. */
export const HEAT_STOPS: readonly RGB[] = [
  [0, 0, 4], [40, 11, 84], [101, 21, 110], [159, 42, 99], [212, 72, 66],
  [245, 125, 21], [250, 193, 39], [252, 255, 164],
];

/** Class colours (matplotlib's tab10, then tab20's light tones); class k gets entry k % length. */
export const CLASS_PALETTE: readonly RGB[] = [
  [31, 119, 180], [255, 127, 14], [44, 160, 44], [214, 39, 40], [148, 103, 189],
  [140, 86, 75], [227, 119, 194], [127, 127, 127], [188, 189, 34], [23, 190, 207],
  [174, 199, 232], [255, 187, 120], [152, 223, 138], [255, 152, 150], [197, 176, 213],
  [196, 156, 148], [247, 182, 210], [199, 199, 199], [219, 219, 141], [158, 218, 229],
];

export interface BlendOptions {
  /** Packed RGBA8 pixels to draw over (rgbaTensor), int32 [H, W] or [N, H, W]. */
  image?: Tensor;
  /** Weight of the colour over the image, 0..1 (default 0.5). */
  opacity?: number;
}

export interface HeatmapOptions extends BlendOptions {
  /** Which channel of the score map to show (default 0). */
  channel?: number;
  /** Scores mapped to the ramp's ends (default [0, 1], for probabilities). */
  range?: readonly [number, number];
}

export interface ClassColorOptions extends BlendOptions {
  /** Colours, [r, g, b] each 0..255 (default CLASS_PALETTE). */
  palette?: readonly RGB[];
}

/** One channel of scores [N, K, H, W] through the heat ramp -> packed RGBA8 int32 [N, H, W]. */
export function colorizeHeatmap(scores: Tensor, opts: HeatmapOptions = {}): Tensor {
  const op = 'colorizeHeatmap';
  checkTensor(op, 'scores', scores);
  checkOptions(op, opts, ['channel', 'range', 'image', 'opacity']);
  const [N, K, H, W] = mapShape(op, 'scores', scores.shape);
  const channel = opts.channel ?? 0;
  if (!Number.isSafeInteger(channel) || channel < 0 || channel >= K) {
    throw new OptionError(`${op}: channel must be an integer in [0, ${K - 1}] for scores [${scores.shape}], got ${String(channel)}`);
  }
  const range = opts.range ?? [0, 1];
  if (!Array.isArray(range) || range.length !== 2 || !range.every(Number.isFinite) || !(range[1] > range[0])) {
    throw new OptionError(`${op}: range must be [lo, hi] with finite lo < hi, got ${JSON.stringify(range)}`);
  }
  return draw(op, scores.engine, opts, [N, H, W], opts.image ? heatOverKernel : heatKernel, { scores }, HEAT_STOPS, {
    channels: K, channel, lo: range[0], invRange: 1 / (range[1] - range[0]),
  });
}

/** A class map int32 [N, 1, H, W] (argmaxChannels) through the palette -> packed RGBA8 int32 [N, H, W]. */
export function colorizeClasses(classes: Tensor, opts: ClassColorOptions = {}): Tensor {
  const op = 'colorizeClasses';
  checkTensor(op, 'classes', classes, undefined, 'int32');
  checkOptions(op, opts, ['palette', 'image', 'opacity']);
  const [N, C, H, W] = mapShape(op, 'classes', classes.shape);
  if (C !== 1) throw new ShapeError(`${op}: classes must be [N, 1, H, W], got [${classes.shape}]`);
  const palette = opts.palette ?? CLASS_PALETTE;
  if (!Array.isArray(palette) || palette.length === 0) throw new OptionError(`${op}: palette must be a non-empty array of [r, g, b], got ${JSON.stringify(palette)}`);
  return draw(op, classes.engine, opts, [N, H, W], opts.image ? classesOverKernel : classesKernel, { classes }, palette, {
    channels: 1, channel: 0, lo: 0, invRange: 1,
  });
}

/** Packs RGBA8 bytes (ImageData.data, a decoded PNG) into an int32 [height, width] tensor for blending. */
export function rgbaTensor(engine: Engine, width: number, height: number, rgba: Uint8Array | Uint8ClampedArray): Tensor {
  if (!Number.isSafeInteger(width) || !Number.isSafeInteger(height) || width < 1 || height < 1) {
    throw new ShapeError(`rgbaTensor: width and height must be integers >= 1, got ${width} x ${height}`);
  }
  if (rgba.length !== width * height * 4) {
    throw new ShapeError(`rgbaTensor: ${width} x ${height} RGBA needs ${width * height * 4} bytes, got ${rgba.length}`);
  }
  return engine.tensor(packedPixels(rgba), [height, width]);
}

/** Reads a packed RGBA8 tensor back as bytes, R, G, B, A per pixel. */
export async function readRGBA(pixels: Tensor): Promise<Uint8Array> {
  checkTensor('readRGBA', 'pixels', pixels, undefined, 'int32');
  const data = await pixels.read();
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** RGBA bytes viewed (or, when unaligned, copied) as one int32 per pixel. */
export function packedPixels(rgba: Uint8Array | Uint8ClampedArray): Int32Array {
  if (rgba.byteOffset % 4 === 0) return new Int32Array(rgba.buffer, rgba.byteOffset, rgba.length / 4);
  return new Int32Array(new Uint8Array(rgba).buffer);
}

function mapShape(op: string, name: string, shape: readonly number[]): [number, number, number, number] {
  if (shape.length !== 4) throw new ShapeError(`${op}: ${name} must be [N, C, H, W], got [${shape}]`);
  return shape as [number, number, number, number];
}

function draw(
  op: string, engine: Engine, opts: BlendOptions, outShape: [number, number, number], kernel: Kernel,
  input: Record<string, Tensor>, colours: readonly RGB[], uniforms: Record<string, number>,
): Tensor {
  const [N, H, W] = outShape;
  const opacity = opts.opacity ?? 0.5;
  if (typeof opacity !== 'number' || !(opacity >= 0 && opacity <= 1)) throw new OptionError(`${op}: opacity must be a number in [0, 1], got ${String(opacity)}`);
  const bindings: Record<string, Tensor> = { ...input };
  if (opts.image !== undefined) {
    const image = checkTensor(op, 'image', opts.image, engine, 'int32');
    const s = image.shape;
    const fits = s.length >= 2 && s[s.length - 2] === H && s[s.length - 1] === W && image.size === N * H * W;
    if (!fits) throw new ShapeError(`${op}: image [${s}] must be packed RGBA [${N > 1 ? `${N}, ` : ''}${H}, ${W}] (rgbaTensor) to match the map`);
    bindings.image = image;
  }
  const lut = engine.tensor(lutData(op, colours), [colours.length, 4]);
  const y = engine.empty(outShape, 'int32', op);
  const count = N * H * W;
  engine.run(kernel, { ...bindings, lut, y }, {
    plane: H * W, count, opacity, lutSize: colours.length, ...uniforms,
  }, Math.ceil(count / 256));
  lut.dispose();
  return y;
}

function lutData(op: string, colours: readonly RGB[]): Float32Array {
  const data = new Float32Array(colours.length * 4);
  colours.forEach((c, i) => {
    if (!Array.isArray(c) || c.length !== 3 || !c.every((v) => typeof v === 'number' && v >= 0 && v <= 255)) {
      throw new OptionError(`${op}: colour ${i} must be [r, g, b] with each 0..255, got ${JSON.stringify(c)}`);
    }
    data.set([c[0] / 255, c[1] / 255, c[2] / 255, 1], i * 4);
  });
  return data;
}
