// Softmax cross-entropy: the mean loss and its gradient in one pass over the logits.
import { OptionError } from '../errors.js';
import { checkLabelValues, checkLabelsShape, softmaxCrossEntropyGeometry } from '../geometry.js';
import { Kernel } from '../runtime/kernels.js';
import { Tensor } from '../tensor.js';
import { checkTensor } from './util.js';
import source from '../../shaders/loss.wgsl';

const xentKernel = new Kernel('loss.wgsl', source, 'softmax_xent');
const meanKernel = new Kernel('loss.wgsl', source, 'mean');
const PIXELS_PER_WORKGROUP = 256;

export interface SoftmaxCrossEntropyResult {
  /** [1]: the mean over N (and H, W) of -log softmax(logits)[label]. */
  loss: Tensor;
  /** d(mean loss)/d(logits) = (softmax - onehot) / count, the logits' shape. */
  dLogits: Tensor;
}

/**
 * logits [N, K] with labels [N], or [N, K, H, W] with labels [N, H, W]. Int32Array labels are
 * range-checked here; a labels Tensor only for shape and dtype — an out-of-range value there
 * makes its loss term NaN and drops its gradient, never reading or writing out of bounds.
 */
export function softmaxCrossEntropy(logits: Tensor, labels: Int32Array | Tensor): SoftmaxCrossEntropyResult {
  const op = 'softmaxCrossEntropy';
  checkTensor(op, 'logits', logits);
  const engine = logits.engine;
  const g = softmaxCrossEntropyGeometry(logits.shape, op);
  let labelTensor: Tensor;
  let ownsLabels = false;
  if (labels instanceof Int32Array) {
    checkLabelValues(op, labels, g);
    labelTensor = engine.tensor(labels, g.labelsShape);
    ownsLabels = true;
  } else if (labels instanceof Tensor) {
    checkTensor(op, 'labels', labels, engine, 'int32');
    checkLabelsShape(op, labels.shape, g);
    labelTensor = labels;
  } else {
    const name = (labels as { constructor?: { name?: string } } | null)?.constructor?.name ?? typeof labels;
    throw new OptionError(`${op}: labels must be an Int32Array or an int32 Tensor, got ${name}`);
  }
  const groups = Math.ceil(g.count / PIXELS_PER_WORKGROUP);
  const dLogits = engine.empty(logits.shape, 'float32', op);
  const partials = engine.empty([groups], 'float32', op);
  const loss = engine.empty([1], 'float32', op);
  const invCount = 1 / g.count;
  engine.run(xentKernel, { logits, labels: labelTensor, dLogits, partials },
    { count: g.count, classes: g.K, plane: g.plane, invCount }, groups);
  engine.run(meanKernel, { partialSums: partials, loss }, { partialCount: groups, invCount }, 1);
  // Both are safe to release while the queued dispatches still read them.
  partials.dispose();
  if (ownsLabels) labelTensor.dispose();
  return { loss, dLogits };
}
