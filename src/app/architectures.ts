// Built-in architectures the CLI knows by name (--arch), the networks scripts/train.mjs trains:
// LeNet-style for 28×28 grey images, conv 5×5 1→16, pool, conv 5×5 16→32, pool, 512→128→10.
import type { LayerSpec, ModelSpec } from '../nn/spec.js';

export const FASHION_MNIST_CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];

/** Fashion-MNIST's training-set pixel mean and std after scaling to [0, 1]. */
const FASHION_NORM = { mean: [0.286], std: [0.353] };

function lenet(pool: LayerSpec): ModelSpec {
  return {
    inputShape: [1, 28, 28],
    layers: [
      { type: 'Conv2d', cin: 1, cout: 16, kernel: 5 }, { type: 'ReLU' }, pool,
      { type: 'Conv2d', cin: 16, cout: 32, kernel: 5 }, { type: 'ReLU' }, pool,
      { type: 'Flatten' }, { type: 'Linear', in: 512, out: 128 }, { type: 'ReLU' }, { type: 'Linear', in: 128, out: 10 },
    ],
    classes: FASHION_MNIST_CLASSES,
    ...FASHION_NORM,
  };
}

export const ARCHITECTURES: Record<string, ModelSpec> = {
  lenet: lenet({ type: 'MaxPool2d', kernel: 2, stride: 2 }),
  'lenet-l2': lenet({ type: 'LpPool2d', p: 2, kernel: 2, stride: 2 }),
};
