// Lp pooling over features (channels), and its gradient. A window of `size` channels at one
// pixel is a (size × 1) window over each sample's [C, H*W] matrix, so the 2-D pool kernels
// serve it unchanged (no kernel of its own, no reshape: the buffer layout is the same).
import { channelPoolGeometry, channelPoolGradGeometry, type ChannelLpPoolOptions, type ChannelPoolGeometry } from '../geometry.js';
import type { Tensor } from '../tensor.js';
import { POOL_MODE, runLpPoolGrad, runPoolForward, type PoolWindows } from './pool.js';
import { checkTensor } from './util.js';

export type { ChannelLpPoolOptions } from '../geometry.js';

function channelWindows(g: ChannelPoolGeometry): PoolWindows {
  return {
    planes: g.N, inH: g.C, inW: g.H * g.W, outH: g.outC, outW: g.H * g.W,
    kH: g.size, kW: 1, strideH: g.stride, strideW: 1, dilationH: 1, dilationW: 1,
    padTop: g.padBegin, padLeft: 0, padBottom: g.padEnd, padRight: 0,
    countIncludePad: true, divisorOverride: 0, p: g.p,
  };
}

/** y[n, oc, h, w] = (Σ over the window's channels c of |x[n, c, h, w]|^p)^(1/p). */
export function channelLpPool(x: Tensor, opts: ChannelLpPoolOptions): Tensor {
  checkTensor('channelLpPool', 'x', x);
  const g = channelPoolGeometry(x.shape, opts);
  return runPoolForward('channelLpPool', x, channelWindows(g), POOL_MODE.lp, g.outputShape);
}

/** dx = Σ over the windows holding a channel of dy · sign(x)·|x|^(p-1) / y^(p-1). */
export function channelLpPoolGrad(dy: Tensor, x: Tensor, y: Tensor, opts: ChannelLpPoolOptions): Tensor {
  const op = 'channelLpPoolGrad';
  checkTensor(op, 'dy', dy);
  checkTensor(op, 'x', x, dy.engine);
  checkTensor(op, 'y', y, dy.engine);
  const g = channelPoolGradGeometry(dy.shape, x.shape, y.shape, opts);
  return runLpPoolGrad(op, dy, x, y, channelWindows(g));
}
