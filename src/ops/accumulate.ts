// In-place acc += alpha * x (queued): how parameter gradients add up across backward passes.
import { ShapeError } from '../errors.js';
import { Kernel } from '../runtime/kernels.js';
import type { Tensor } from '../tensor.js';
import { checkTensor } from './util.js';
import source from '../../shaders/axpy.wgsl';

const axpyKernel = new Kernel('axpy.wgsl', source, 'main');

/** acc += alpha * x element-wise; shapes may differ (views), element counts may not. */
export function accumulate(acc: Tensor, x: Tensor, alpha = 1): void {
  checkTensor('accumulate', 'acc', acc);
  checkTensor('accumulate', 'x', x, acc.engine);
  if (acc.size !== x.size) throw new ShapeError(`accumulate: acc [${acc.shape}] has ${acc.size} elements, x [${x.shape}] has ${x.size}`);
  acc.engine.run(axpyKernel, { x, acc }, { count: acc.size, alpha }, Math.ceil(acc.size / 256));
}
