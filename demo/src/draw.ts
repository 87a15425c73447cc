// Canvas drawing for maps: single-channel planes to pixels, and canvases back to gray levels.

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
