// Parameter-free layers that keep the spatial layout: ReLU, Softmax (over dim 1), Flatten.
import { ShapeError } from '../errors.js';
import type { LayerGeom } from '../geometry.js';
import { relu, reluGrad } from '../ops/activation.js';
import { softmax, softmaxGrad } from '../ops/softmax.js';
import type { Tensor } from '../tensor.js';
import { Layer, type BackwardInput, type LayerGradients, type LayerOutput } from './layer.js';

function checkRanks(op: string, inShape: readonly number[], ranks: readonly number[]): void {
  if (!ranks.includes(inShape.length)) {
    throw new ShapeError(`${op}: input must have rank ${ranks.join(' or ')}, got shape [${inShape.join(', ')}]`);
  }
}

export class ReLU extends Layer {
  readonly type = 'ReLU';
  // reluGrad(dy, y) equals reluGrad(dy, x): y > 0 exactly where x > 0. Keeping y lets the
  // next layer's saved input be the same tensor.
  override readonly needsOutput = true;

  outputShape(inShape: readonly number[]): number[] {
    return [...inShape];
  }

  forward(x: Tensor): LayerOutput {
    return { y: relu(x) };
  }

  backward(dy: Tensor, input: BackwardInput): LayerGradients {
    return { dx: reluGrad(dy, input.y!), params: [] };
  }

  clone(): ReLU {
    return new ReLU();
  }

  describe(): string {
    return 'ReLU()';
  }
}

/** Softmax over dim 1: class probabilities of [N, K] logits or of each cell of a [N, K, H, W] map. */
export class Softmax extends Layer {
  readonly type = 'Softmax';
  override readonly needsOutput = true;

  outputShape(inShape: readonly number[]): number[] {
    checkRanks('Softmax', inShape, [2, 4]);
    return [...inShape];
  }

  forward(x: Tensor): LayerOutput {
    return { y: softmax(x) };
  }

  backward(dy: Tensor, input: BackwardInput): LayerGradients {
    return { dx: softmaxGrad(dy, input.y!), params: [] };
  }

  clone(): Softmax {
    return new Softmax();
  }

  describe(): string {
    return 'Softmax(dim=1)';
  }
}

/** [N, C, H, W] -> [N, C*H*W] in C, H, W order (torch's flatten(1)); a view, no copy. */
export class Flatten extends Layer {
  readonly type = 'Flatten';

  outputShape(inShape: readonly number[]): number[] {
    checkRanks('Flatten', inShape, [2, 3, 4]);
    return [inShape[0]!, inShape.slice(1).reduce((a, b) => a * b, 1)];
  }

  /** Geometrically a window over the whole remaining plane: what its FC→conv replacement sees. */
  override receptive(inShape: readonly number[]): LayerGeom {
    const [kh, kw] = inShape.length === 4 ? [inShape[2]!, inShape[3]!] : [1, 1];
    return { kernel: [kh, kw], stride: [1, 1], dilation: [1, 1], padBegin: [0, 0] };
  }

  forward(x: Tensor): LayerOutput {
    return { y: x.reshape(this.outputShape(x.shape)) };
  }

  backward(dy: Tensor, input: BackwardInput): LayerGradients {
    return { dx: dy.reshape([...input.xShape]), params: [] };
  }

  clone(): Flatten {
    return new Flatten();
  }

  describe(): string {
    return 'Flatten(start_dim=1)';
  }
}
