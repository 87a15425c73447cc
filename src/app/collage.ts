// Sample pictures for the fully convolutional demo: Fashion-MNIST crops (from the demo's sprite)
// or, without it, synthetic silhouettes, white on black at the training scale, one item per class
// at known, jittered places, so the score map can be checked against where things are.
import { makeRng } from '../nn/init.js';

export interface CollageItem {
  label: number;
  className: string;
  /** Top-left corner of the item's tile and its side, in pixels. */
  x: number;
  y: number;
  size: number;
}

export interface Collage {
  width: number;
  height: number;
  rgba: Uint8Array;
  items: CollageItem[];
}

export interface SpriteSheet {
  width: number;
  rgba: Uint8Array;
  tileHeight: number;
  tileWidth: number;
  perClass: number;
  classes: string[];
}

/** Cell of the layout grid: each item sits somewhere inside its own cell, so windows see one item. */
const CELL = 44;
const COLUMNS = 5;

function layout(count: number, tile: number, classes: string[], seed: number): { width: number; height: number; items: CollageItem[] } {
  const random = makeRng(seed);
  const rows = Math.ceil(count / COLUMNS);
  const items = Array.from({ length: count }, (_, label): CollageItem => {
    const col = label % COLUMNS;
    const row = Math.floor(label / COLUMNS);
    const slack = CELL - tile;
    return { label, className: classes[label] ?? String(label), x: col * CELL + Math.floor(random() * (slack + 1)), y: row * CELL + Math.floor(random() * (slack + 1)), size: tile };
  });
  return { width: COLUMNS * CELL, height: rows * CELL, items };
}

function blank(width: number, height: number): Uint8Array {
  const rgba = new Uint8Array(width * height * 4);
  for (let i = 3; i < rgba.length; i += 4) rgba[i] = 255;
  return rgba;
}

function paint(rgba: Uint8Array, width: number, x: number, y: number, grey: number): void {
  const at = (y * width + x) * 4;
  const v = Math.max(rgba[at]!, grey);
  rgba[at] = rgba[at + 1] = rgba[at + 2] = v;
}

/** One crop of each class from the sprite (row = class, column = sample; sample picked by seed). */
export function spriteCollage(sheet: SpriteSheet, seed = 1): Collage {
  const tile = sheet.tileWidth;
  const { width, height, items } = layout(sheet.classes.length, tile, sheet.classes, seed);
  const rgba = blank(width, height);
  const random = makeRng(seed ^ 0x5bd1e995);
  for (const item of items) {
    const sample = Math.floor(random() * sheet.perClass);
    for (let ty = 0; ty < sheet.tileHeight; ty++) {
      for (let tx = 0; tx < tile; tx++) {
        const grey = sheet.rgba[((item.label * sheet.tileHeight + ty) * sheet.width + sample * tile + tx) * 4]!;
        paint(rgba, width, item.x + tx, item.y + ty, grey);
      }
    }
  }
  return { width, height, rgba, items };
}

/** Inside-tests of rough silhouettes on a 28×28 tile, by Fashion-MNIST label. */
const SHAPES: ((x: number, y: number) => boolean)[] = [
  (x, y) => (y >= 4 && y < 24 && x >= 8 && x < 20) || (y >= 4 && y < 10 && x >= 3 && x < 25), // T-shirt
  (x, y) => y >= 2 && y < 26 && ((x >= 8 && x < 13) || (x >= 15 && x < 20) || (y < 7 && x >= 8 && x < 20)), // trouser
  (x, y) => (y >= 3 && y < 24 && x >= 8 && x < 20) || (y >= 3 && y < 22 && ((x >= 3 && x < 8) || (x >= 20 && x < 25))), // pullover
  (x, y) => y >= 2 && y < 26 && Math.abs(x - 13.5) < 3 + (y - 2) / 3, // dress
  (x, y) => y >= 2 && y < 26 && x >= 4 && x < 24 && x !== 13 && x !== 14, // coat
  (x, y) => y >= 16 && y < 22 && x >= 2 && x < 26 && (x % 4 < 2 || y >= 20), // sandal
  (x, y) => (y >= 4 && y < 25 && x >= 7 && x < 21 && !(y < 8 && x >= 12 && x < 16)) || (y >= 4 && y < 18 && ((x >= 3 && x < 7) || (x >= 21 && x < 25))), // shirt
  (x, y) => y >= 15 && y < 22 && x >= 2 && x < 26 && (y >= 18 || x >= 12), // sneaker
  (x, y) => (y >= 10 && y < 25 && x >= 4 && x < 24) || (y >= 4 && y < 10 && (x === 8 || x === 19 || (y < 6 && x >= 8 && x <= 19))), // bag
  (x, y) => (y >= 6 && y < 23 && x >= 12 && x < 20) || (y >= 17 && y < 23 && x >= 3 && x < 20), // ankle boot
];

/** One synthetic silhouette per class, for when the Fashion-MNIST sprite is not at hand. */
export function syntheticCollage(classes: string[], seed = 1): Collage {
  const { width, height, items } = layout(Math.min(classes.length, SHAPES.length), 28, classes, seed);
  const rgba = blank(width, height);
  for (const item of items) {
    const inside = SHAPES[item.label]!;
    for (let ty = 0; ty < 28; ty++) for (let tx = 0; tx < 28; tx++) if (inside(tx, ty)) paint(rgba, width, item.x + tx, item.y + ty, 230);
  }
  return { width, height, rgba, items };
}
