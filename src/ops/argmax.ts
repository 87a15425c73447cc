// The class of each pixel of a score map: argmax over channels.
import { Kernel } from '../runtime/kernels.js';
import type { Tensor } from '../tensor.js';
import { checkRank, checkTensor } from './util.js';
import source from '../../shaders/argmax.wgsl';

const argmaxKernel = new Kernel('argmax.wgsl', source, 'main');

/** x [N, C, H, W] float32 -> int32 [N, 1, H, W]: the channel of the largest score, ties to the lowest. */
export function argmaxChannels(x: Tensor): Tensor {
  checkTensor('argmaxChannels', 'x', x);
  checkRank('argmaxChannels', 'x', x, 4);
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const y = x.engine.empty([N, 1, H, W], 'int32', 'argmaxChannels');
  const count = N * H * W;
  x.engine.run(argmaxKernel, { x, y }, { channels: C, plane: H * W, count }, Math.ceil(count / 256));
  return y;
}
