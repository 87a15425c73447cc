// The current image: uploaded or dropped, a sample collage, or drawn by hand. Kept at its own
// resolution in `source`; shown scaled up with square pixels.
import { DEFAULT_COLLAGE, planCollage, renderCollage, type CollageOptions, type PlacedItem, type SpriteIndex } from './collage.js';
import { canvasToGray, context2d } from './draw.js';

export type ImageKind = 'collage' | 'upload' | 'drawing';

export interface GrayImage {
  data: Float32Array;
  width: number;
  height: number;
}

/** Uploads are shrunk to this longest side unless the user keeps the original size. */
const UPLOAD_MAX_SIDE = 320;
const DRAW_SIZE = { width: 224, height: 160 };

export class ImageInput {
  readonly display: HTMLCanvasElement;
  kind: ImageKind = 'collage';
  items: PlacedItem[] = [];
  /** Fashion-MNIST is a light object on black: photos usually want inverting. */
  invert = false;
  keepOriginalSize = false;
  brush = 3;
  private drawing = false;
  private listeners: (() => void)[] = [];

  constructor(display: HTMLCanvasElement, private readonly sprite: HTMLImageElement, private readonly index: SpriteIndex) {
    this.display = display;
    this.setupDrawing();
  }

  get width(): number {
    return this.display.width;
  }

  get height(): number {
    return this.display.height;
  }

  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  private changed(): void {
    for (const l of this.listeners) l();
  }

  /** Gray levels in [0, 1], inverted when asked. */
  gray(): GrayImage {
    return { data: canvasToGray(this.display, this.invert), width: this.width, height: this.height };
  }

  private show(canvas: HTMLCanvasElement, kind: ImageKind, items: PlacedItem[]): void {
    this.display.width = canvas.width;
    this.display.height = canvas.height;
    context2d(this.display).drawImage(canvas, 0, 0);
    this.kind = kind;
    this.items = items;
    this.changed();
  }

  collage(seed: number, opts: Partial<CollageOptions> = {}): PlacedItem[] {
    const full = { ...DEFAULT_COLLAGE, ...opts };
    const items = planCollage(seed, this.index, full);
    this.invert = false;
    this.show(renderCollage(this.sprite, this.index, items, full), 'collage', items);
    return items;
  }

  /** Decodes an image file (any size; shrunk to UPLOAD_MAX_SIDE unless keepOriginalSize). */
  async load(file: Blob): Promise<void> {
    const bitmap = await createImageBitmap(file);
    const shrink = this.keepOriginalSize ? 1 : Math.min(1, UPLOAD_MAX_SIDE / Math.max(bitmap.width, bitmap.height));
    const canvas = document.createElement('canvas');
    canvas.width = Math.max(1, Math.round(bitmap.width * shrink));
    canvas.height = Math.max(1, Math.round(bitmap.height * shrink));
    const ctx = context2d(canvas);
    ctx.imageSmoothingQuality = 'high';
    ctx.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    bitmap.close();
    this.show(canvas, 'upload', []);
  }

  /** Halves the image (the way out of a LimitError). */
  shrinkByHalf(): void {
    const canvas = document.createElement('canvas');
    canvas.width = Math.max(1, Math.floor(this.width / 2));
    canvas.height = Math.max(1, Math.floor(this.height / 2));
    context2d(canvas).drawImage(this.display, 0, 0, canvas.width, canvas.height);
    this.show(canvas, this.kind, []);
  }

  /** A black page to draw on with a white brush. */
  blank(): void {
    const canvas = document.createElement('canvas');
    canvas.width = DRAW_SIZE.width;
    canvas.height = DRAW_SIZE.height;
    const ctx = context2d(canvas);
    ctx.fillStyle = '#000';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    this.invert = false;
    this.show(canvas, 'drawing', []);
  }

  private setupDrawing(): void {
    const c = this.display;
    const at = (ev: PointerEvent): [number, number] => {
      const r = c.getBoundingClientRect();
      return [((ev.clientX - r.left) / r.width) * c.width, ((ev.clientY - r.top) / r.height) * c.height];
    };
    let last: [number, number] | null = null;
    c.addEventListener('pointerdown', (ev) => {
      if (this.kind !== 'drawing') return;
      this.drawing = true;
      c.setPointerCapture(ev.pointerId);
      last = at(ev);
      this.stroke(last, last);
    });
    c.addEventListener('pointermove', (ev) => {
      if (!this.drawing || !last) return;
      const p = at(ev);
      this.stroke(last, p);
      last = p;
    });
    const end = (): void => {
      if (!this.drawing) return;
      this.drawing = false;
      last = null;
      this.changed();
    };
    c.addEventListener('pointerup', end);
    c.addEventListener('pointercancel', end);
  }

  private stroke(from: [number, number], to: [number, number]): void {
    const ctx = context2d(this.display);
    ctx.strokeStyle = '#fff';
    ctx.lineWidth = this.brush;
    ctx.lineCap = 'round';
    ctx.beginPath();
    ctx.moveTo(from[0], from[1]);
    ctx.lineTo(to[0], to[1]);
    ctx.stroke();
  }
}
