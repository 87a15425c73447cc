// Pictures to network inputs: float32 NCHW [1, C, H, W] in [0, 1], then (x - mean) / std per
// channel. Every source ends as RGBA8 pixels in a GPU buffer that one kernel (shaders/image.wgsl)
// resizes, converts to grey when asked and normalises. Browser sources go through
// copyExternalImageToTexture; a GPUTexture is copied to a buffer; bytes (ImageData, decodeImage in
// Node) are uploaded as they are.
import type { Engine } from '../engine.js';
import { LimitError, OptionError, ShapeError } from '../errors.js';
import { checkOptions } from '../geometry.js';
import { Kernel } from '../runtime/kernels.js';
import type { Tensor } from '../tensor.js';
import { packedPixels } from './colorize.js';
import source from '../../shaders/image.wgsl';

const imageKernel = new Kernel('image.wgsl', source, 'main');

/** RGBA8 pixels in memory, row by row: ImageData has this shape (`data`), decodeImage returns `rgba`. */
export interface RGBAImage {
  width: number;
  height: number;
  data?: Uint8Array | Uint8ClampedArray;
  rgba?: Uint8Array | Uint8ClampedArray;
}

export type ImageSource = RGBAImage | GPUTexture | GPUCopyExternalImageSource;

export interface ImageTensorOptions {
  /** Subtracted per channel after scaling to [0, 1] (one number for all; default 0). */
  mean?: number | readonly number[];
  /** Divides per channel after the mean (default 1). */
  std?: number | readonly number[];
  /** 3: RGB (default); 1: grey, ITU-R BT.601 luma. */
  channels?: 1 | 3;
  /** Output [H, W] (or one number for both), resampled bilinearly; default the source's size. */
  size?: number | readonly [number, number];
}

/** Texture formats whose texels copy out as 4 bytes R, G, B, A (or B, G, R, A). */
const TEXTURE_FORMATS: Record<string, boolean> = {
  rgba8unorm: false, 'rgba8unorm-srgb': false, bgra8unorm: true, 'bgra8unorm-srgb': true,
};

/** Makes [1, C, H, W] from a picture; queued like every op (a texture copy is submitted at once). */
export function tensorFromImage(engine: Engine, image: ImageSource, opts: ImageTensorOptions = {}): Tensor {
  const op = 'tensorFromImage';
  engine.assertAlive(op);
  checkOptions(op, opts, ['mean', 'std', 'channels', 'size']);
  if (image === null || typeof image !== 'object') throw new OptionError(`${op}: image must be an ImageData, ImageBitmap, canvas, image element, VideoFrame, GPUTexture or { width, height, rgba }, got ${image === null ? 'null' : typeof image}`);
  if (isTexture(image)) return fromTexture(op, engine, image, opts);
  const bytes = (image as RGBAImage).rgba ?? (image as RGBAImage).data;
  if (bytes instanceof Uint8Array || bytes instanceof Uint8ClampedArray) {
    const { width, height } = image as RGBAImage;
    checkImageSize(op, width, height);
    if (bytes.length !== width * height * 4) {
      throw new ShapeError(`${op}: a ${width} x ${height} RGBA image needs ${width * height * 4} bytes, got ${bytes.length}`);
    }
    const pixels = engine.tensor(packedPixels(bytes), [height * width]);
    const y = decode(op, engine, pixels, { width, height, pitch: width, swapRB: false }, opts);
    pixels.dispose();
    return y;
  }
  return fromExternal(op, engine, image as GPUCopyExternalImageSource, opts);
}

interface PixelLayout { width: number; height: number; pitch: number; swapRB: boolean }

function decode(op: string, engine: Engine, pixels: Tensor | GPUBuffer, src: PixelLayout, opts: ImageTensorOptions): Tensor {
  const channels = opts.channels ?? 3;
  if (channels !== 1 && channels !== 3) throw new OptionError(`${op}: channels must be 1 or 3, got ${String(channels)}`);
  const mean = perChannel(op, 'mean', opts.mean, 0, channels, () => true, 'finite');
  const std = perChannel(op, 'std', opts.std, 1, channels, (v) => v > 0, 'finite and > 0');
  const [outH, outW] = outputSize(op, opts.size, src);
  const y = engine.empty([1, channels, outH, outW], 'float32', op);
  const scaleH = src.height / outH;
  const scaleW = src.width / outW;
  const count = outH * outW;
  engine.run(imageKernel, { pixels, y }, {
    inH: src.height, inW: src.width, pitch: src.pitch, outH, outW, count, channels, swapRB: src.swapRB ? 1 : 0,
    scaleH, scaleW, biasH: scaleH / 2 - 0.5, biasW: scaleW / 2 - 0.5,
    mean: [...mean, 0, 0, 0].slice(0, 4), invStd: [...std.map((s) => 1 / s), 1, 1, 1].slice(0, 4),
  }, Math.ceil(count / 256));
  return y;
}

function fromTexture(op: string, engine: Engine, texture: GPUTexture, opts: ImageTensorOptions): Tensor {
  const swapRB = TEXTURE_FORMATS[texture.format];
  if (swapRB === undefined) {
    throw new OptionError(`${op}: a GPUTexture of format '${texture.format}' is not supported; use ${Object.keys(TEXTURE_FORMATS).join(', ')}`);
  }
  if (texture.dimension !== '2d' || texture.sampleCount !== 1) {
    throw new OptionError(`${op}: the GPUTexture must be 2d with sampleCount 1, got ${texture.dimension} with ${texture.sampleCount}`);
  }
  if (!(texture.usage & GPUTextureUsage.COPY_SRC)) throw new OptionError(`${op}: the GPUTexture needs GPUTextureUsage.COPY_SRC to be read`);
  return copyOut(op, engine, texture, texture.width, texture.height, swapRB, opts, () => undefined);
}

function fromExternal(op: string, engine: Engine, image: GPUCopyExternalImageSource, opts: ImageTensorOptions): Tensor {
  const [width, height] = externalSize(op, image);
  const texture = engine.device.createTexture({
    size: [width, height], format: 'rgba8unorm',
    usage: GPUTextureUsage.COPY_DST | GPUTextureUsage.RENDER_ATTACHMENT | GPUTextureUsage.COPY_SRC,
  });
  engine.device.queue.copyExternalImageToTexture({ source: image }, { texture }, [width, height]);
  // Submitted work keeps using a destroyed texture until it finishes (WebGPU destroy()).
  return copyOut(op, engine, texture, width, height, false, opts, () => texture.destroy());
}

/**
 * Copies the texture's texels into a private buffer (rows padded to 256 bytes) and submits that at
 * once: the buffer is new, so no work the engine has queued can be reading it. The decode that reads
 * it is queued after, and the buffer is destroyed when that work is done.
 */
function copyOut(
  op: string, engine: Engine, texture: GPUTexture, width: number, height: number, swapRB: boolean,
  opts: ImageTensorOptions, afterCopy: () => void,
): Tensor {
  checkImageSize(op, width, height);
  const bytesPerRow = Math.ceil((width * 4) / 256) * 256;
  const bytes = bytesPerRow * height;
  const limit = Math.min(engine.limits.maxBufferSize, engine.limits.maxStorageBufferBindingSize);
  if (bytes > limit) throw new LimitError(`${op}: a ${width} x ${height} texture needs ${bytes} bytes of staging, over the device's limit of ${limit}`);
  const staging = engine.device.createBuffer({ size: bytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
  try {
    const encoder = engine.device.createCommandEncoder();
    encoder.copyTextureToBuffer({ texture }, { buffer: staging, bytesPerRow, rowsPerImage: height }, [width, height]);
    engine.device.queue.submit([encoder.finish()]);
    afterCopy();
    const y = decode(op, engine, staging, { width, height, pitch: bytesPerRow / 4, swapRB }, opts);
    void engine.flush().catch(() => undefined).finally(() => staging.destroy());
    return y;
  } catch (e) {
    staging.destroy();
    throw e;
  }
}

function isTexture(image: object): image is GPUTexture {
  const t = image as Partial<GPUTexture>;
  return typeof t.createView === 'function' && typeof t.format === 'string' && typeof t.usage === 'number';
}

function externalSize(op: string, image: GPUCopyExternalImageSource): [number, number] {
  const g = globalThis as Record<string, unknown>;
  const is = (name: string): boolean => typeof g[name] === 'function' && image instanceof (g[name] as new () => object);
  if (is('HTMLImageElement')) {
    const img = image as HTMLImageElement;
    if (!img.complete || img.naturalWidth === 0) throw new OptionError(`${op}: the image element has not loaded (or failed to): await img.decode() first`);
    return [img.naturalWidth, img.naturalHeight];
  }
  if (is('HTMLVideoElement')) {
    const video = image as HTMLVideoElement;
    if (video.videoWidth === 0) throw new OptionError(`${op}: the video element has no frame yet (readyState ${video.readyState})`);
    return [video.videoWidth, video.videoHeight];
  }
  if (is('VideoFrame')) {
    const frame = image as VideoFrame;
    return [frame.displayWidth, frame.displayHeight];
  }
  if (is('ImageBitmap') || is('HTMLCanvasElement') || is('OffscreenCanvas')) {
    const sized = image as { width: number; height: number };
    return [sized.width, sized.height];
  }
  const name = (image as { constructor?: { name?: string } }).constructor?.name ?? typeof image;
  throw new OptionError(`${op}: unsupported image source ${name}; use ImageData, ImageBitmap, a canvas, an image or video element, a VideoFrame, a GPUTexture or { width, height, rgba }`);
}

function checkImageSize(op: string, width: unknown, height: unknown): asserts width is number {
  const valid = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 1;
  if (!valid(width) || !valid(height)) throw new ShapeError(`${op}: image width and height must be integers >= 1, got ${String(width)} x ${String(height)}`);
}

function outputSize(op: string, size: ImageTensorOptions['size'], src: PixelLayout): [number, number] {
  if (size === undefined) return [src.height, src.width];
  const pair = typeof size === 'number' ? [size, size] : size;
  if (!Array.isArray(pair) || pair.length !== 2 || !pair.every((v) => Number.isSafeInteger(v) && v >= 1)) {
    throw new OptionError(`${op}: size must be an integer >= 1 or a pair [H, W] of them, got ${JSON.stringify(size)}`);
  }
  return [pair[0] as number, pair[1] as number];
}

function perChannel(op: string, name: string, value: unknown, dflt: number, channels: number, valid: (v: number) => boolean, rule: string): number[] {
  if (value === undefined) return new Array<number>(channels).fill(dflt);
  const list = typeof value === 'number' ? new Array<unknown>(channels).fill(value) : value;
  if (!Array.isArray(list) || list.length !== channels || !list.every((v) => typeof v === 'number' && Number.isFinite(v) && valid(v))) {
    throw new OptionError(`${op}: ${name} must be a number or ${channels} numbers (one per channel), each ${rule}; got ${JSON.stringify(value)}`);
  }
  return list as number[];
}
