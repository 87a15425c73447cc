// The class of each pixel of a score map: argmax over channels.
import { OptionError } from '../errors.js';
import { checkOptions } from '../geometry.js';
import { Kernel } from '../runtime/kernels.js';
import type { Tensor } from '../tensor.js';
import { checkRank, checkTensor } from './util.js';
import source from '../../shaders/argmax.wgsl';

const argmaxKernel = new Kernel('argmax.wgsl', source, 'main');

export interface ArgmaxOptions {
  /** Pixels whose largest score is below this get class -1 (default: none, every pixel gets a class). */
  minScore?: number;
}

/** x [N, C, H, W] float32 -> int32 [N, 1, H, W]: the channel of the largest score, ties to the lowest. */
export function argmaxChannels(x: Tensor, opts: ArgmaxOptions = {}): Tensor {
  checkTensor('argmaxChannels', 'x', x);
  checkRank('argmaxChannels', 'x', x, 4);
  checkOptions('argmaxChannels', opts, ['minScore']);
  const minScore = opts.minScore ?? -Infinity;
  if (typeof minScore !== 'number' || Number.isNaN(minScore)) throw new OptionError(`argmaxChannels: minScore must be a number, got ${String(minScore)}`);
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const y = x.engine.empty([N, 1, H, W], 'int32', 'argmaxChannels');
  const count = N * H * W;
  x.engine.run(argmaxKernel, { x, y }, { channels: C, plane: H * W, count, minScore }, Math.ceil(count / 256));
  return y;
}
