// FC→conv: a classifier's Flatten + Linear(M·M·N -> K) becomes a Conv2d of K kernels M×M×N, and
// each later Linear a 1×1 Conv2d, on reshaped views of the same weights (torch's flatten order
// C, H, W is exactly OIHW's). On the training size the output is the logits as [N, K, 1, 1]; on a
// larger image, a dense score map.
import { ShapeError } from '../errors.js';
import { Flatten } from './basic_layers.js';
import { Conv2d, Linear } from './conv_layers.js';
import type { Layer } from './layer.js';

/**
 * New layers (parameters bound as views of the old ones) for a model whose layer inputs, for
 * the training input, have `shapes` (shapes[i] is layer i's input).
 */
export function convertToFullyConvolutional(layers: readonly Layer[], shapes: readonly (readonly number[])[]): Layer[] {
  const op = 'toFullyConvolutional';
  const out: Layer[] = [];
  for (let i = 0; i < layers.length; i++) {
    const layer = layers[i]!;
    if (layer instanceof Flatten) {
      const next = layers[i + 1];
      if (!(next instanceof Linear)) {
        throw new ShapeError(`${op}: layer ${i} Flatten must be followed directly by a Linear, but ` +
          (next ? `layer ${i + 1} is ${next.describe()}` : 'it is the last layer'));
      }
      const inShape = shapes[i]!;
      // Rank 2 ([N, F]: a Flatten after a Flatten) is a plane of 1×1.
      const [C, kh, kw] = inShape.length === 4 ? [inShape[1]!, inShape[2]!, inShape[3]!] : [inShape.slice(1).reduce((a, b) => a * b, 1), 1, 1];
      if (C * kh * kw !== next.inFeatures) {
        throw new ShapeError(`${op}: the training shape reaches layer ${i} Flatten as [${inShape.slice(1).join(', ')}] = ` +
          `${C * kh * kw} features, but layer ${i + 1} ${next.describe()} expects ${next.inFeatures}`);
      }
      out.push(linearAsConv(next, C, kh, kw));
      i++;
    } else if (layer instanceof Linear) {
      out.push(linearAsConv(layer, layer.inFeatures, 1, 1));
    } else {
      const copy = layer.clone();
      copy.params = layer.params.map((p) => p.reshape([...p.shape]));
      out.push(copy);
    }
  }
  return out;
}

/** A Linear(C·kh·kw -> K) as Conv2d(C, K, [kh, kw]) whose weight is a [K, C, kh, kw] view of the Linear's. */
function linearAsConv(linear: Linear, C: number, kh: number, kw: number): Conv2d {
  const conv = new Conv2d(C, linear.outFeatures, [kh, kw], { bias: linear.hasBias });
  const [weight, bias] = linear.params;
  conv.params = [weight!.reshape([linear.outFeatures, C, kh, kw])];
  if (bias) conv.params.push(bias.reshape([linear.outFeatures]));
  return conv;
}
