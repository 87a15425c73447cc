// Activation maps: the first planes of each layer's output for the current image.
import { drawPlane } from './draw.js';
import type { ActivationSnapshot } from './fcn.js';

export interface NetworkInput {
  data: Float32Array;
  width: number;
  height: number;
  mean: number;
  std: number;
}

export function renderActivations(root: HTMLElement, input: NetworkInput | null, snapshots: readonly ActivationSnapshot[]): void {
  const blocks: HTMLElement[] = [];
  const block = (title: string, planes: HTMLCanvasElement[]): void => {
    const div = document.createElement('div');
    div.className = 'layer';
    const h = document.createElement('h3');
    h.textContent = title;
    const maps = document.createElement('div');
    maps.className = 'maps';
    maps.append(...planes);
    div.append(h, maps);
    blocks.push(div);
  };
  if (input) {
    const c = document.createElement('canvas');
    c.className = 'pixelated';
    drawPlane(c, input.data, input.width, input.height);
    const normalised = input.mean !== 0 || input.std !== 1 ? `, normalised as in training: (x − ${input.mean}) / ${input.std}` : '';
    block(`input [1, 1, ${input.height}, ${input.width}] as the network sees it${normalised}`, [c]);
  }
  for (const s of snapshots) {
    const H = s.shape.length === 4 ? s.shape[2]! : 1;
    const W = s.shape.length === 4 ? s.shape[3]! : 1;
    const planes: HTMLCanvasElement[] = [];
    for (let c = 0; c < s.channels; c++) {
      const canvas = document.createElement('canvas');
      canvas.className = 'pixelated';
      const range = drawPlane(canvas, s.data, W, H, c * H * W);
      canvas.title = `channel ${c}: min ${range.min.toPrecision(3)}, max ${range.max.toPrecision(3)}`;
      planes.push(canvas);
    }
    const total = s.shape[1] ?? 1;
    const note = s.channels === 0 ? ' (too large to read back)' : total > s.channels ? ` (first ${s.channels} of ${total} channels)` : '';
    block(`${s.name} → [${s.shape.join(', ')}]${note}`, planes);
  }
  root.replaceChildren(...blocks);
}
