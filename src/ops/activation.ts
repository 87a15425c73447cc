// Element-wise activations and their gradients.
import { ShapeError } from '../errors.js';
import { Kernel } from '../runtime/kernels.js';
import type { Tensor } from '../tensor.js';
import { checkTensor, sameShape } from './util.js';
import source from '../../shaders/activation.wgsl';

const reluKernel = new Kernel('activation.wgsl', source, 'relu');
const reluGradKernel = new Kernel('activation.wgsl', source, 'relu_grad');

export function relu(x: Tensor): Tensor {
  checkTensor('relu', 'x', x);
  const y = x.engine.empty(x.shape, 'float32', 'relu');
  x.engine.run(reluKernel, { x, y }, { count: x.size }, Math.ceil(x.size / 256));
  return y;
}

/** dx = dy where x > 0, else 0 (the lecture's max gate routes the gradient). */
export function reluGrad(dy: Tensor, x: Tensor): Tensor {
  checkTensor('reluGrad', 'dy', dy);
  checkTensor('reluGrad', 'x', x, dy.engine);
  if (!sameShape(dy.shape, x.shape)) throw new ShapeError(`reluGrad: dy [${dy.shape}] and x [${x.shape}] must have the same shape`);
  const dx = dy.engine.empty(x.shape, 'float32', 'reluGrad');
  dy.engine.run(reluGradKernel, { x, dy, y: dx }, { count: x.size }, Math.ceil(x.size / 256));
  return dx;
}
