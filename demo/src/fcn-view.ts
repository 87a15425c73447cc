// Pictures of the two answers: the score map placed over the image (each cell at the centre of the
// pixels it saw), as an argmax segmentation or one class's heat map, plus the timing tables.
import {
  CLASS_PALETTE, HEAT_STOPS, argmaxChannels, colorizeClasses, colorizeHeatmap, readRGBA, rgbaTensor, upsampleScoreMap,
  type Engine, type ModelGeometry, type RGB, type Tensor,
} from '../../src/index.js';
import { context2d } from './draw.js';
import type { PlacedItem } from './collage.js';
import type { LayerTiming, ScoreMap } from './fcn.js';

export interface ViewSettings {
  mode: 'argmax' | 'heat';
  classIndex: number;
  opacity: number;
}

export interface Overlay {
  /** Class per overlay pixel, row-major (the argmax of the up-sampled probabilities). */
  labels: Int32Array;
  width: number;
  height: number;
  /** Overlay pixels per image pixel (1 unless the image is large). */
  scale: number;
}

/** The overlay's longest side in pixels (the image's own size up to this). */
const MAX_OVERLAY_SIDE = 1600;

function scaledPixels(image: HTMLCanvasElement, width: number, height: number): Uint8ClampedArray {
  if (width === image.width && height === image.height) return context2d(image).getImageData(0, 0, width, height).data;
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const ctx = context2d(canvas);
  ctx.drawImage(image, 0, 0, width, height);
  return ctx.getImageData(0, 0, width, height).data;
}

export function cssColor(k: number): string {
  const c = CLASS_PALETTE[k % CLASS_PALETTE.length]!;
  return `rgb(${c[0]}, ${c[1]}, ${c[2]})`;
}

/** Up-samples the cell probabilities to the image's pixels on the GPU, colours them over the image and draws the result. */
/** The colour of the "no ink" channel, when the argmax view masks empty windows. */
export const EMPTY_COLOR: RGB = [20, 20, 24];

/**
 * `probabilities` holds `channels` planes of s.h × s.w cells: the K classes, or K + 1 with the
 * "no ink" channel last (coloured EMPTY_COLOR).
 */
export async function drawOverlay(
  engine: Engine, target: HTMLCanvasElement, image: HTMLCanvasElement, probabilities: Float32Array, channels: number, s: ScoreMap,
  geometry: ModelGeometry, view: ViewSettings, items: readonly PlacedItem[],
): Promise<Overlay> {
  // Large images get a smaller overlay: K up-sampled channels per pixel add up fast.
  const scale = Math.min(1, MAX_OVERLAY_SIDE / Math.max(image.width, image.height));
  const width = Math.max(1, Math.round(image.width * scale));
  const height = Math.max(1, Math.round(image.height * scale));
  // Overlay pixel p sees image coordinate (p + 0.5) / scale - 0.5; cell i sits at offset + jump·i.
  const placement = {
    jump: [geometry.jump[0] * scale, geometry.jump[1] * scale] as const,
    offset: [(geometry.offset[0] + 0.5) * scale - 0.5, (geometry.offset[1] + 0.5) * scale - 0.5] as const,
  };
  const owned: Tensor[] = [];
  try {
    const cells = engine.tensor(probabilities, [1, channels, s.h, s.w]);
    owned.push(cells);
    const up = upsampleScoreMap(cells, height, width, placement);
    owned.push(up);
    const classes = argmaxChannels(up);
    owned.push(classes);
    const background = rgbaTensor(engine, width, height, scaledPixels(image, width, height));
    owned.push(background);
    const coloured = view.mode === 'argmax'
      ? colorizeClasses(classes, { image: background, opacity: view.opacity, palette: [...CLASS_PALETTE.slice(0, s.K), EMPTY_COLOR] })
      : colorizeHeatmap(up, { channel: view.classIndex, image: background, opacity: view.opacity, range: [0, 1] });
    owned.push(coloured);
    const rgba = await readRGBA(coloured);
    const labels = (await classes.read()) as Int32Array;
    target.width = width;
    target.height = height;
    const ctx = context2d(target);
    const picture = new ImageData(width, height);
    picture.data.set(rgba);
    ctx.putImageData(picture, 0, 0);
    // The truth, for collages: each item's outline in its class colour.
    ctx.lineWidth = 1;
    for (const it of items) {
      ctx.strokeStyle = cssColor(it.label);
      ctx.strokeRect(it.x * scale + 0.5, it.y * scale + 0.5, it.size * scale - 1, it.size * scale - 1);
    }
    return { labels, width, height, scale };
  } finally {
    for (const t of owned) t.dispose();
  }
}

/** The class colours for the argmax view; the heat ramp with its probability scale for the heat view. */
export function renderLegend(root: HTMLElement, classes: readonly string[], view: ViewSettings, maskEmpty: boolean): void {
  if (view.mode === 'heat') {
    const ramp = document.createElement('i');
    ramp.className = 'ramp';
    ramp.style.background = `linear-gradient(to right, ${HEAT_STOPS.map((c) => `rgb(${c[0]}, ${c[1]}, ${c[2]})`).join(', ')})`;
    const entry = document.createElement('span');
    entry.append(`P(${classes[view.classIndex] ?? view.classIndex}) per window: 0`, ramp, '1 (softmax of the scores, up-sampled)');
    root.replaceChildren(entry);
    return;
  }
  const entry = (colour: string, text: string): HTMLElement => {
    const span = document.createElement('span');
    const swatch = document.createElement('i');
    swatch.style.background = colour;
    span.append(swatch, text);
    return span;
  };
  root.replaceChildren(
    ...classes.map((name, k) => entry(cssColor(k), `${k} ${name}`)),
    ...(maskEmpty ? [entry(`rgb(${EMPTY_COLOR.join(', ')})`, 'no ink in the window')] : []),
  );
}

const ms = (t: number): string => (t >= 100 ? t.toFixed(0) : t.toFixed(1));

export function renderTimings(table: HTMLTableElement, layers: readonly LayerTiming[], onePassMs: number, compileMs: number | null, skipped: string | null): void {
  const row = (cells: string[], cls?: string): HTMLTableRowElement => {
    const tr = document.createElement('tr');
    if (cls) tr.className = cls;
    cells.forEach((text, i) => {
      const td = document.createElement(i === 0 && cls === 'head' ? 'th' : 'td');
      td.textContent = text;
      if (i === 2) td.className = 'ms';
      tr.append(td);
    });
    return tr;
  };
  const sum = layers.reduce((a, l) => a + l.ms, 0);
  table.replaceChildren(
    row(['layer', 'output', 'ms'], 'head'),
    ...layers.map((l) => row([l.name, `[${l.outputShape.join(', ')}]`, ms(l.ms)])),
    ...(skipped ? [row([`no per-layer timing: ${skipped}; the whole pass ran tile by tile`, '', ''])] : [row(['sum of the layers, each waited for', '', ms(sum)], 'total')]),
    row(['the whole pass, one submit', '', ms(onePassMs)], 'total'),
    ...(compileMs !== null ? [row(['first run, compiling the pipelines (once)', '', ms(compileMs)])] : []),
  );
}

export { ms as formatMs };
