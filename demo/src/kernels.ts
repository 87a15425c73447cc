// The playground's filter presets (3×3 or 5×5), as row-major weights.

export interface KernelPreset {
  name: string;
  size: 3 | 5;
  weights: number[];
}

const gaussian5 = [1, 4, 6, 4, 1].flatMap((a) => [1, 4, 6, 4, 1].map((b) => (a * b) / 256));

export const KERNEL_PRESETS: Record<string, KernelPreset> = {
  edge: { name: 'edge (Laplacian)', size: 3, weights: [-1, -1, -1, -1, 8, -1, -1, -1, -1] },
  sobelX: { name: 'vertical edges (Sobel x)', size: 3, weights: [-1, 0, 1, -2, 0, 2, -1, 0, 1] },
  sobelY: { name: 'horizontal edges (Sobel y)', size: 3, weights: [-1, -2, -1, 0, 0, 0, 1, 2, 1] },
  blur: { name: 'blur (box 3×3)', size: 3, weights: new Array<number>(9).fill(1 / 9) },
  gaussian: { name: 'blur (Gaussian 5×5)', size: 5, weights: gaussian5 },
  sharpen: { name: 'sharpen', size: 3, weights: [0, -1, 0, -1, 5, -1, 0, -1, 0] },
  emboss: { name: 'emboss', size: 3, weights: [-2, -1, 0, -1, 1, 1, 0, 1, 2] },
  custom3: { name: 'custom 3×3', size: 3, weights: [0, 0, 0, 0, 1, 0, 0, 0, 0] },
  custom5: { name: 'custom 5×5', size: 5, weights: Array.from({ length: 25 }, (_, i) => (i === 12 ? 1 : 0)) },
};
