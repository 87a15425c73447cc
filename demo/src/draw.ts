// Canvas drawing for maps: single-channel planes to pixels, class colours, a heat ramp.

/** Ten distinguishable class colours (Tableau 10), RGB. */
export const CLASS_COLORS: readonly [number, number, number][] = [
  [31, 119, 180], [255, 127, 14], [44, 160, 44], [214, 39, 40], [148, 103, 189],
  [140, 86, 75], [227, 119, 194], [127, 127, 127], [188, 189, 34], [23, 190, 207],
];

export function cssColor(rgb: readonly [number, number, number]): string {
  return `rgb(${rgb[0]}, ${rgb[1]}, ${rgb[2]})`;
}

/** A perceptual dark-to-bright ramp (approximates inferno) for t in [0, 1]. */
export function heatColor(t: number): [number, number, number] {
  const stops: [number, number, number][] = [[0, 0, 4], [87, 16, 110], [188, 55, 84], [249, 142, 9], [252, 255, 164]];
  const x = Math.min(1, Math.max(0, t)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const f = x - i;
  const a = stops[i]!;
  const b = stops[i + 1]!;
  return [a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f];
}

export function context2d(canvas: HTMLCanvasElement): CanvasRenderingContext2D {
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  if (!ctx) throw new Error('no 2d canvas context');
  return ctx;
}

/**
 * Draws one plane into `canvas` (resized to W×H). Signed data gets a diverging blue–white–red map
 * around 0; non-negative data a gray ramp from 0 to its maximum.
 */
export function drawPlane(canvas: HTMLCanvasElement, data: ArrayLike<number>, width: number, height: number, offset = 0): { min: number; max: number } {
  canvas.width = width;
  canvas.height = height;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < width * height; i++) {
    const v = data[offset + i]!;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const img = new ImageData(width, height);
  const signed = min < 0;
  const scale = signed ? Math.max(-min, max) || 1 : max || 1;
  for (let i = 0; i < width * height; i++) {
    const v = data[offset + i]! / scale;
    const o = 4 * i;
    if (signed) {
      const t = Math.min(1, Math.abs(v));
      const fade = Math.round(255 * (1 - t));
      img.data[o] = v > 0 ? 255 : fade;
      img.data[o + 1] = fade;
      img.data[o + 2] = v < 0 ? 255 : fade;
    } else {
      const g = Math.round(255 * v);
      img.data[o] = g;
      img.data[o + 1] = g;
      img.data[o + 2] = g;
    }
    img.data[o + 3] = 255;
  }
  context2d(canvas).putImageData(img, 0, 0);
  return { min, max };
}

/** Reads a canvas as gray levels in [0, 1] (mean of R, G, B), optionally inverted. */
export function canvasToGray(canvas: HTMLCanvasElement, invert: boolean): Float32Array {
  const { width, height } = canvas;
  const rgba = context2d(canvas).getImageData(0, 0, width, height).data;
  const gray = new Float32Array(width * height);
  for (let i = 0; i < gray.length; i++) {
    const v = (rgba[4 * i]! + rgba[4 * i + 1]! + rgba[4 * i + 2]!) / (3 * 255);
    gray[i] = invert ? 1 - v : v;
  }
  return gray;
}
