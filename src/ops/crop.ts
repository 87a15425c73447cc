// Window copies of NCHW tensors: crop2d (one window), extractPatches (a strided grid of windows,
// the sliding-window baseline's batch), pasteWindow (stitching a tile's output into a larger map).
import { OptionError, ShapeError } from '../errors.js';
import { resolvePair, type PairOption } from '../geometry.js';
import { Kernel } from '../runtime/kernels.js';
import type { Tensor } from '../tensor.js';
import { checkRank, checkTensor } from './util.js';
import source from '../../shaders/crop.wgsl';

const windowsKernel = new Kernel('crop.wgsl', source, 'windows');
const pasteKernel = new Kernel('crop.wgsl', source, 'paste');

function checkInt(op: string, name: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new OptionError(`${op}: ${name} must be an integer >= ${min}, got ${String(value)}`);
  }
  return value;
}

/** ShapeError unless [start, start + size) lies within [0, limit) along `axis`. */
function checkInside(op: string, axis: string, start: number, size: number, limit: number, what: string): void {
  if (start + size > limit) {
    throw new ShapeError(`${op}: the window ${axis} ${start} + ${size} = ${start + size} goes past the ${what} ${axis} ${limit}`);
  }
}

/** x[:, :, top:top+h, left:left+w] as a new [N, C, h, w] tensor; the window must lie inside x. */
export function crop2d(x: Tensor, top: number, left: number, h: number, w: number): Tensor {
  const op = 'crop2d';
  checkTensor(op, 'x', x);
  checkRank(op, 'x', x, 4);
  const [N, C, H, W] = x.shape as [number, number, number, number];
  checkInt(op, 'top', top, 0);
  checkInt(op, 'left', left, 0);
  checkInt(op, 'h', h, 1);
  checkInt(op, 'w', w, 1);
  checkInside(op, 'height', top, h, H, 'input');
  checkInside(op, 'width', left, w, W, 'input');
  return runWindows(x, [N, C, h, w], { patchesH: 1, patchesW: 1, strideH: 1, strideW: 1, top, left });
}

/**
 * Every size×size window at stride steps, as a batch [N * PH * PW, C, kh, kw] ordered
 * (n, row of windows, column of windows): PH = floor((H - kh) / sh) + 1, likewise PW.
 */
export function extractPatches(x: Tensor, size: PairOption, stride?: PairOption): Tensor {
  const op = 'extractPatches';
  checkTensor(op, 'x', x);
  checkRank(op, 'x', x, 4);
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const [kh, kw] = resolvePair(op, 'size', size, 1, 1);
  const [sh, sw] = stride === undefined ? [kh, kw] : resolvePair(op, 'stride', stride, 1, 1);
  checkInside(op, 'height', 0, kh, H, 'input');
  checkInside(op, 'width', 0, kw, W, 'input');
  const patchesH = Math.floor((H - kh) / sh) + 1;
  const patchesW = Math.floor((W - kw) / sw) + 1;
  return runWindows(x, [N * patchesH * patchesW, C, kh, kw], { patchesH, patchesW, strideH: sh, strideW: sw, top: 0, left: 0 });
}

function runWindows(x: Tensor, outShape: [number, number, number, number],
  grid: { patchesH: number; patchesW: number; strideH: number; strideW: number; top: number; left: number }): Tensor {
  const [, C, outH, outW] = outShape;
  const out = x.engine.empty(outShape, 'float32', 'crop2d');
  const total = out.size;
  x.engine.run(windowsKernel, { x, out }, { C, H: x.shape[2]!, W: x.shape[3]!, outH, outW, ...grid, total }, Math.ceil(total / 256));
  return out;
}

/**
 * Copies src[:, :, srcTop:srcTop+h, srcLeft:srcLeft+w] into dst[:, :, dstTop:..., dstLeft:...]
 * in place (queued). N and C must match; both windows must lie inside their tensors.
 */
export function pasteWindow(src: Tensor, srcTop: number, srcLeft: number, dst: Tensor, dstTop: number, dstLeft: number, h: number, w: number): void {
  const op = 'pasteWindow';
  checkTensor(op, 'src', src);
  checkTensor(op, 'dst', dst, src.engine);
  checkRank(op, 'src', src, 4);
  checkRank(op, 'dst', dst, 4);
  const [N, C, srcH, srcW] = src.shape as [number, number, number, number];
  const [dstN, dstC, dstH, dstW] = dst.shape as [number, number, number, number];
  if (N !== dstN || C !== dstC) throw new ShapeError(`${op}: src [${src.shape}] and dst [${dst.shape}] must agree on N and C`);
  for (const [name, value, min] of [['srcTop', srcTop, 0], ['srcLeft', srcLeft, 0], ['dstTop', dstTop, 0], ['dstLeft', dstLeft, 0], ['h', h, 1], ['w', w, 1]] as const) {
    checkInt(op, name, value, min);
  }
  checkInside(op, 'height', srcTop, h, srcH, 'src');
  checkInside(op, 'width', srcLeft, w, srcW, 'src');
  checkInside(op, 'height', dstTop, h, dstH, 'dst');
  checkInside(op, 'width', dstLeft, w, dstW, 'dst');
  const total = N * C * h * w;
  src.engine.run(pasteKernel, { src, dst }, { srcH, srcW, dstH, dstW, srcTop, srcLeft, dstTop, dstLeft, h, w, total }, Math.ceil(total / 256));
}
