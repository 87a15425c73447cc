// Softmax over dim 1 (classes) of [N, K] logits or a [N, K, H, W] score map, and its gradient.
import { ShapeError } from '../errors.js';
import { Kernel } from '../runtime/kernels.js';
import type { Tensor } from '../tensor.js';
import { checkTensor, sameShape } from './util.js';
import source from '../../shaders/softmax.wgsl';

const forwardKernel = new Kernel('softmax.wgsl', source, 'forward');
const backwardKernel = new Kernel('softmax.wgsl', source, 'backward');

/** K and S (= H*W, or 1) of a rank-2 or rank-4 tensor, else ShapeError. */
function classLayout(op: string, name: string, shape: readonly number[]): { K: number; S: number; columns: number } {
  if (shape.length !== 2 && shape.length !== 4) {
    throw new ShapeError(`${op}: '${name}' must be [N, K] or [N, K, H, W] (softmax over dim 1), got shape [${shape.join(', ')}]`);
  }
  const [N, K] = shape as [number, number];
  const S = shape.length === 4 ? shape[2]! * shape[3]! : 1;
  return { K, S, columns: N * S };
}

/** y = exp(x - max) / sum(exp(x - max)) along dim 1. */
export function softmax(x: Tensor): Tensor {
  checkTensor('softmax', 'x', x);
  const u = classLayout('softmax', 'x', x.shape);
  const y = x.engine.empty(x.shape, 'float32', 'softmax');
  x.engine.run(forwardKernel, { x, y }, u, Math.ceil(u.columns / 64));
  return y;
}

/** dx = y * (dy - sum_k dy_k y_k) along dim 1, from the forward's output y. */
export function softmaxGrad(dy: Tensor, y: Tensor): Tensor {
  checkTensor('softmaxGrad', 'dy', dy);
  checkTensor('softmaxGrad', 'y', y, dy.engine);
  const u = classLayout('softmaxGrad', 'y', y.shape);
  if (!sameShape(dy.shape, y.shape)) throw new ShapeError(`softmaxGrad: dy [${dy.shape}] and y [${y.shape}] must have the same shape`);
  const dx = dy.engine.empty(y.shape, 'float32', 'softmaxGrad');
  dy.engine.run(backwardKernel, { probs: y, dy, dx }, u, Math.ceil(u.columns / 64));
  return dx;
}
