// Tile-by-tile inference for images whose activations exceed one storage binding or a budget.
// Tiles start at multiples of the network's total stride (jump), so every layer's grid lines up
// with the whole image's; each tile carries a halo of (receptive field - jump) input pixels, and
// only the cells whose whole receptive field lies in the tile (or meets the real image border,
// where the tile's padding is the image's) are pasted into the stitched score map.
import { FullconvError, LimitError, OptionError } from '../errors.js';
import { checkOptions, type LayerGeom, type Pair } from '../geometry.js';
import { crop2d, pasteWindow } from '../ops/crop.js';
import { checkTensor } from '../ops/util.js';
import type { Tensor } from '../tensor.js';
import type { Sequential } from './sequential.js';

export interface TiledForwardOptions {
  /** Largest activation allowed in bytes: a tile's input crop and every intermediate activation. */
  maxActivationBytes: number;
}

function bytesOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 4);
}

/** Whether an intermediate activation (not the input, not the output) is over `maxBytes`. */
export function needsTiling(shapes: readonly (readonly number[])[], maxBytes: number): boolean {
  return shapes.slice(1, -1).some((s) => bytesOf(s) > maxBytes);
}

/** One axis of the plan: the input window [start, end) a tile reads for output cells [first, last). */
export interface AxisTile {
  first: number;
  last: number;
  start: number;
  end: number;
}

/** A tiling of an input: tiles of up to `cells` output cells, each with its input window. */
export interface TilePlan {
  /** Output cells per tile [h, w] (the last row and column of tiles may hold fewer). */
  cells: [number, number];
  tiles: { rows: AxisTile; cols: AxisTile }[];
  /** The largest activation (tile input or intermediate) of the worst tile, in bytes. */
  largestActivationBytes: number;
}

/**
 * Splits the output of `model` for an input of `xShape` into the fewest tiles whose every
 * activation fits maxActivationBytes.
 */
export function planTiles(model: Sequential, xShape: readonly number[], maxActivationBytes: number): TilePlan {
  const op = 'forwardTiled';
  if (typeof maxActivationBytes !== 'number' || !(maxActivationBytes > 0)) {
    throw new OptionError(`${op}: maxActivationBytes must be a positive number, got ${String(maxActivationBytes)}`);
  }
  const shapes = model.shapesFor(xShape, op);
  const L = model.layers.length;
  shapes.forEach((s, i) => {
    if (s.length !== 4) {
      throw new OptionError(`${op}: tiling needs a fully convolutional model, but ${i === 0 ? 'the input' : `layer ${i - 1} ${model.layers[i - 1]!.describe()}`} ` +
        `gives [${s.join(', ')}]; convert the model with toFullyConvolutional first`);
    }
  });
  const [N, C, H, W] = xShape as [number, number, number, number];
  const g = model.geometry(xShape);
  const outShape = shapes[L]!;
  const [outH, outW] = [outShape[2]!, outShape[3]!];
  // Input pixels before cell 0's receptive field (the padding it reaches into), per axis.
  const reachBefore = [0, 1].map((a) => (g.receptiveField[a]! - 1) / 2 - g.offset[a]!);
  const min = model.minInputShape;
  const axisPlan = (axis: 0 | 1, first: number, last: number): AxisTile => {
    const size = axis === 0 ? H : W;
    const jump = g.jump[axis];
    const rf = g.receptiveField[axis];
    let start = Math.floor(Math.max(0, first * jump - reachBefore[axis]!) / jump) * jump;
    let end = Math.min(size, (last - 1) * jump - reachBefore[axis]! + rf);
    const minSize = min ? min[axis + 1]! : 1;
    if (end - start < minSize) end = Math.min(size, start + minSize);
    if (end - start < minSize) start = Math.floor(Math.max(0, end - minSize) / jump) * jump;
    return { first, last, start, end };
  };
  const largestFor = (extentH: number, extentW: number): number =>
    Math.max(...model.shapesFor([N, C, extentH, extentW], op).slice(0, L).map(bytesOf));
  // The longest input window over the tiles of `cells` cells along an axis (windows only grow with cells).
  const longest = (axis: 0 | 1, cells: number): number => {
    const total = axis === 0 ? outH : outW;
    let extent = 0;
    for (let first = 0; first < total; first += cells) {
      const t = axisPlan(axis, first, Math.min(total, first + cells));
      extent = Math.max(extent, t.end - t.start);
    }
    return extent;
  };
  // Tile sizes worth trying per axis: ceil(total / k) for k tiles, each distinct size once.
  const sizes = (total: number): number[] => {
    const out: number[] = [];
    for (let k = 1; k <= total; k++) {
      const cells = Math.ceil(total / k);
      if (out[out.length - 1] !== cells) out.push(cells);
    }
    return out;
  };
  // Fewest tiles (then most cells per tile) whose worst tile fits the budget.
  let best: { tileH: number; tileW: number; count: number; need: number } | null = null;
  const widths = sizes(outW);
  for (const tileH of sizes(outH)) {
    const extentH = longest(0, tileH);
    // Widths shrink along the list and the need with them: binary search the first that fits.
    let lo = 0;
    let hi = widths.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (largestFor(extentH, longest(1, widths[mid]!)) <= maxActivationBytes) hi = mid;
      else lo = mid + 1;
    }
    if (lo === widths.length) continue;
    const tileW = widths[lo]!;
    const count = Math.ceil(outH / tileH) * Math.ceil(outW / tileW);
    if (!best || count < best.count) best = { tileH, tileW, count, need: largestFor(extentH, longest(1, tileW)) };
  }
  if (!best) {
    const need = largestFor(longest(0, 1), longest(1, 1));
    throw new LimitError(`${op}: even a tile of one output cell needs an activation of ${need} bytes, over maxActivationBytes ${maxActivationBytes} ` +
      `(input [${xShape.join(', ')}], receptive field ${g.receptiveField.join('×')})`);
  }
  const { tileH, tileW, need } = best;
  const tiles: TilePlan['tiles'] = [];
  for (let r0 = 0; r0 < outH; r0 += tileH) {
    const rows = axisPlan(0, r0, Math.min(outH, r0 + tileH));
    for (let c0 = 0; c0 < outW; c0 += tileW) tiles.push({ rows, cols: axisPlan(1, c0, Math.min(outW, c0 + tileW)) });
  }
  return { cells: [tileH, tileW], tiles, largestActivationBytes: need };
}

/** The model's output from x, computed tile by tile within maxActivationBytes (eval semantics). */
export function forwardTiled(model: Sequential, x: Tensor, opts: TiledForwardOptions): Tensor {
  const op = 'forwardTiled';
  checkTensor(op, 'x', x, model.engine);
  checkOptions(op, opts, ['maxActivationBytes']);
  const plan = planTiles(model, x.shape, opts?.maxActivationBytes);
  const shapes = model.shapesFor(x.shape, op);
  const wholeSteps = model.receptiveSteps(shapes);
  const jump = model.geometry(x.shape).jump;
  const out = model.engine.empty(shapes[shapes.length - 1]!, 'float32', op);
  const wasTraining = model.training;
  model.training = false;
  try {
    for (const { rows, cols } of plan.tiles) runTile(model, x, out, rows, cols, wholeSteps, jump, op);
  } catch (e) {
    out.dispose();
    throw e;
  } finally {
    model.training = wasTraining;
  }
  return out;
}

function runTile(model: Sequential, x: Tensor, out: Tensor, rows: AxisTile, cols: AxisTile,
  wholeSteps: readonly LayerGeom[], jump: Pair, op: string): void {
  const [N, C] = x.shape as [number, number];
  const shapes = model.shapesFor([N, C, rows.end - rows.start, cols.end - cols.start], op);
  model.receptiveSteps(shapes).forEach((step, i) => {
    const whole = wholeSteps[i]!;
    if (step.padBegin[0] !== whole.padBegin[0] || step.padBegin[1] !== whole.padBegin[1]) {
      throw new OptionError(`${op}: layer ${i} ${model.layers[i]!.describe()} pads a tile by [${step.padBegin.join(', ')}] at the top/left ` +
        `but the whole image by [${whole.padBegin.join(', ')}] ('same' padding with a stride depends on the input size); ` +
        'give that layer explicit padding to tile');
    }
  });
  const tile = crop2d(x, rows.start, cols.start, rows.end - rows.start, cols.end - cols.start);
  const tileOut = model.forwardWhole(tile, shapes);
  tile.dispose();
  const rowShift = rows.start / jump[0]!;
  const colShift = cols.start / jump[1]!;
  const [, , th, tw] = tileOut.shape as [number, number, number, number];
  if (rows.last - rowShift > th || cols.last - colShift > tw) {
    tileOut.dispose();
    throw new FullconvError(`${op}: internal: a tile [${rows.start}, ${rows.end}) × [${cols.start}, ${cols.end}) gave ${th}×${tw} cells, ` +
      `too few for cells [${rows.first}, ${rows.last}) × [${cols.first}, ${cols.last})`);
  }
  pasteWindow(tileOut, rows.first - rowShift, cols.first - colShift, out, rows.first, cols.first, rows.last - rows.first, cols.last - cols.first);
  tileOut.dispose();
}
