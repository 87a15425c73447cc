// Helpers both convolution-gradient launchers share (conv_gather.ts, conv_weight_gemm.ts).
import type { Engine } from '../engine.js';
import { Kernel } from '../runtime/kernels.js';
import type { Tensor } from '../tensor.js';
import gradWeightSource from '../../shaders/conv2d_grad_weight.wgsl';

const padPlanesKernel = new Kernel('conv2d_grad_weight.wgsl', gradWeightSource, 'pad_planes');

/** The channel block (1, 2, 4, 8 or 16, up to `largest`) that wastes least: a block's registers share its loads. */
export function channelBlock(perGroup: number, largest = 8): number {
  let best = 1;
  let bestScore = 0;
  for (const block of [16, 8, 4, 2, 1].filter((b) => b <= largest)) {
    const blocks = Math.ceil(perGroup / block);
    // Useful outputs per unit of work, counting loads (~2 channels' worth) shared by the block.
    const score = perGroup / (blocks * (block + 2));
    if (score > bestScore + 1e-9) [best, bestScore] = [block, score];
  }
  return best;
}

/** `planes` planes of inH x inW placed at (top, left) in zeroed planes of outH x outW; `t` itself when that changes nothing. */
export function padPlanes(engine: Engine, t: Tensor, planes: number, inH: number, inW: number, outH: number, outW: number, top: number, left: number): Tensor {
  if (top === 0 && left === 0 && outH === inH && outW === inW) return t;
  const count = planes * outH * outW;
  const padded = engine.empty([count], 'float32', 'zero-padded planes');
  engine.run(padPlanesKernel, { source: t, padded }, { inH, inW, outH, outW, top, left, count }, Math.ceil(count / 256));
  return padded;
}
