// Pictures of the two answers: the score map placed over the image (each cell at the centre of the
// pixels it saw), as an argmax segmentation or one class's heat map, plus the timing tables.
import {
  CLASS_PALETTE, argmaxChannels, colorizeClasses, colorizeHeatmap, readRGBA, rgbaTensor, upsampleScoreMap,
  type Engine, type ModelGeometry, type Tensor,
} from './lib.js';
import { context2d } from './draw.js';
import type { PlacedItem } from './collage.js';
import type { LayerTiming, ScoreMap } from './fcn.js';

export interface ViewSettings {
  mode: 'argmax' | 'heat';
  classIndex: number;
  opacity: number;
}

export interface Overlay {
  /** Class per image pixel, row-major H×W (the argmax of the up-sampled probabilities). */
  labels: Int32Array;
  width: number;
  height: number;
}

export function cssColor(k: number): string {
  const c = CLASS_PALETTE[k % CLASS_PALETTE.length]!;
  return `rgb(${c[0]}, ${c[1]}, ${c[2]})`;
}

/** Up-samples the cell probabilities to the image's pixels on the GPU, colours them over the image and draws the result. */
export async function drawOverlay(
  engine: Engine, target: HTMLCanvasElement, image: HTMLCanvasElement, probabilities: Float32Array, s: ScoreMap,
  geometry: ModelGeometry, view: ViewSettings, items: readonly PlacedItem[],
): Promise<Overlay> {
  const { width, height } = image;
  const owned: Tensor[] = [];
  try {
    const cells = engine.tensor(probabilities, [1, s.K, s.h, s.w]);
    owned.push(cells);
    const up = upsampleScoreMap(cells, height, width, { jump: geometry.jump, offset: geometry.offset });
    owned.push(up);
    const classes = argmaxChannels(up);
    owned.push(classes);
    const background = rgbaTensor(engine, width, height, context2d(image).getImageData(0, 0, width, height).data);
    owned.push(background);
    const coloured = view.mode === 'argmax'
      ? colorizeClasses(classes, { image: background, opacity: view.opacity })
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
      ctx.strokeRect(it.x + 0.5, it.y + 0.5, it.size - 1, it.size - 1);
    }
    return { labels, width, height };
  } finally {
    for (const t of owned) t.dispose();
  }
}

export function renderLegend(root: HTMLElement, classes: readonly string[]): void {
  root.replaceChildren(...classes.map((name, k) => {
    const entry = document.createElement('span');
    const swatch = document.createElement('i');
    swatch.style.background = cssColor(k);
    entry.append(swatch, `${k} ${name}`);
    return entry;
  }));
}

const ms = (t: number): string => (t >= 100 ? t.toFixed(0) : t.toFixed(1));

export function renderTimings(table: HTMLTableElement, layers: readonly LayerTiming[], onePassMs: number, compileMs: number | null): void {
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
    row(['sum of the layers, each waited for', '', ms(sum)], 'total'),
    row(['the whole pass, one submit', '', ms(onePassMs)], 'total'),
    ...(compileMs !== null ? [row(['first run, compiling the pipelines (once)', '', ms(compileMs)])] : []),
  );
}

export { ms as formatMs };
