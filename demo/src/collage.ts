// Sample collages: Fashion-MNIST crops from the sprite at random, non-overlapping places and sizes.
// Seeded, so a seed always gives the same picture (the test relies on it).

export interface SpriteIndex {
  sprite: string;
  tileHeight: number;
  tileWidth: number;
  perClass: number;
  classes: string[];
}

export interface PlacedItem {
  label: number;
  className: string;
  /** Column of the crop in the sprite. */
  sample: number;
  /** Top-left corner and side in image pixels. */
  x: number;
  y: number;
  size: number;
  /** Centre in pixel coordinates (pixel i covers [i, i + 1)). */
  cx: number;
  cy: number;
}

export interface CollageOptions {
  width: number;
  height: number;
  count: number;
  minSize: number;
  maxSize: number;
  /** Free pixels kept between items, so each window sees one item. */
  gap: number;
}

export const DEFAULT_COLLAGE: CollageOptions = { width: 224, height: 160, count: 12, minSize: 28, maxSize: 40, gap: 6 };

/** mulberry32: a small, good-enough seeded generator. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Places up to `count` items by rejection sampling; fewer when the picture is full. */
export function planCollage(seed: number, index: SpriteIndex, opts: CollageOptions): PlacedItem[] {
  const random = seededRandom(seed);
  const items: PlacedItem[] = [];
  const overlaps = (x: number, y: number, size: number): boolean =>
    items.some((o) => x < o.x + o.size + opts.gap && o.x < x + size + opts.gap && y < o.y + o.size + opts.gap && o.y < y + size + opts.gap);
  for (let attempt = 0; attempt < opts.count * 200 && items.length < opts.count; attempt++) {
    const size = opts.minSize + Math.floor(random() * (opts.maxSize - opts.minSize + 1));
    if (size > opts.width || size > opts.height) break;
    const x = Math.floor(random() * (opts.width - size + 1));
    const y = Math.floor(random() * (opts.height - size + 1));
    // Cycle through the classes so every collage shows many of them.
    const label = (items.length + seed) % index.classes.length;
    const sample = Math.floor(random() * index.perClass);
    if (overlaps(x, y, size)) continue;
    items.push({ label, className: index.classes[label] ?? String(label), sample, x, y, size, cx: x + size / 2, cy: y + size / 2 });
  }
  return items;
}

/** Draws the items white-on-black (Fashion-MNIST's look) into a new canvas of the collage's size. */
export function renderCollage(sprite: CanvasImageSource, index: SpriteIndex, items: readonly PlacedItem[], opts: CollageOptions): HTMLCanvasElement {
  const canvas = document.createElement('canvas');
  canvas.width = opts.width;
  canvas.height = opts.height;
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('no 2d canvas context');
  ctx.fillStyle = '#000';
  ctx.fillRect(0, 0, opts.width, opts.height);
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = 'high';
  for (const it of items) {
    ctx.drawImage(sprite, it.sample * index.tileWidth, it.label * index.tileHeight, index.tileWidth, index.tileHeight, it.x, it.y, it.size, it.size);
  }
  return canvas;
}
