// Fashion-MNIST has no "background" class, so a window over empty black gets some class anyway.
// The argmax view can show those windows as "no ink" instead: an extra channel that wins exactly
// where the window's mean brightness (as the network sees the picture: inverted when asked) is tiny.
import type { ModelGeometry } from '../../src/index.js';
import type { ScoreMap } from './fcn.js';

/** Mean brightness (0..1) below which a window counts as empty. */
export const EMPTY_WINDOW_MEAN = 0.03;

/** Per score-map cell, whether its receptive window over `gray` (H×W in [0, 1]) is nearly empty. */
export function emptyWindows(gray: Float32Array, width: number, height: number, s: ScoreMap, g: ModelGeometry): Uint8Array {
  // Summed-area table: any window's sum in four reads.
  const sat = new Float64Array((width + 1) * (height + 1));
  for (let y = 0; y < height; y++) {
    let row = 0;
    for (let x = 0; x < width; x++) {
      row += gray[y * width + x]!;
      sat[(y + 1) * (width + 1) + x + 1] = sat[y * (width + 1) + x + 1]! + row;
    }
  }
  const empty = new Uint8Array(s.h * s.w);
  const [rfH, rfW] = g.receptiveField;
  for (let i = 0; i < s.h; i++) {
    // The window of cell (i, j) is centred at offset + jump·(i, j); clip it to the picture.
    const top = Math.max(0, Math.round(g.offset[0] + g.jump[0] * i - (rfH - 1) / 2));
    const bottom = Math.min(height, top + rfH);
    for (let j = 0; j < s.w; j++) {
      const left = Math.max(0, Math.round(g.offset[1] + g.jump[1] * j - (rfW - 1) / 2));
      const right = Math.min(width, left + rfW);
      const area = Math.max(1, (bottom - top) * (right - left));
      const sum = sat[bottom * (width + 1) + right]! - sat[top * (width + 1) + right]! - sat[bottom * (width + 1) + left]! + sat[top * (width + 1) + left]!;
      empty[i * s.w + j] = sum / area < EMPTY_WINDOW_MEAN ? 1 : 0;
    }
  }
  return empty;
}

/** K class probabilities per cell plus a (K+1)-th "no ink" channel: 1 on empty cells, where the classes drop to 0. */
export function withEmptyChannel(probabilities: Float32Array, s: ScoreMap, empty: Uint8Array): Float32Array {
  const cells = s.h * s.w;
  const out = new Float32Array((s.K + 1) * cells);
  out.set(probabilities);
  for (let c = 0; c < cells; c++) {
    if (!empty[c]) continue;
    for (let k = 0; k < s.K; k++) out[k * cells + c] = 0;
    out[s.K * cells + c] = 1;
  }
  return out;
}
