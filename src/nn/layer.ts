// The layer contract Sequential drives: shape inference (validating), receptive-field geometry,
// forward, and backward as a vector–Jacobian product that also returns the parameter gradients.
import { identityLayer, type LayerGeom } from '../geometry.js';
import { Tensor } from '../tensor.js';

/** A parameter a layer declares: its torch name, shape and fan-in (for torch's default init range). */
export interface ParamSpec {
  name: 'weight' | 'bias';
  shape: number[];
  fanIn: number;
}

export interface LayerOutput {
  y: Tensor;
  /** What backward needs beyond x and y (max-pool indices); owned by the model. */
  saved?: Tensor;
}

export interface BackwardInput {
  /** The forward's input; null unless the layer declares needsInput. */
  x: Tensor | null;
  xShape: readonly number[];
  /** The forward's output; null unless the layer declares needsOutput. */
  y: Tensor | null;
  saved: Tensor | null;
}

export interface LayerGradients {
  dx: Tensor;
  /** One gradient per parameter, in parameters() order; fresh tensors the caller disposes. */
  params: Tensor[];
}

export abstract class Layer {
  /** The class name as PyTorch spells it, for errors and descriptions. */
  abstract readonly type: string;
  /** Whether backward reads the forward's input x / output y (the model frees what no one reads). */
  readonly needsInput: boolean = false;
  readonly needsOutput: boolean = false;
  /** Parameter tensors in paramSpecs() order, set by the Sequential that owns the layer. */
  params: Tensor[] = [];
  /** @internal the Sequential this layer belongs to. */
  owner: object | null = null;

  paramSpecs(): ParamSpec[] {
    return [];
  }

  /** The output shape for an input shape; throws a FullconvError naming the rule broken. */
  abstract outputShape(inShape: readonly number[]): number[];

  /** How the layer moves and widens the view of the input (identity unless it slides a window). */
  receptive(_inShape: readonly number[]): LayerGeom {
    return identityLayer();
  }

  /** `fused` asks a layer that supports it to apply ReLU to its output (eval-mode Conv2d + ReLU). */
  abstract forward(x: Tensor, training: boolean, fused?: 'relu'): LayerOutput;

  abstract backward(dy: Tensor, input: BackwardInput): LayerGradients;

  /** A fresh layer with the same configuration and no parameters bound. */
  abstract clone(): Layer;

  /** PyTorch-style text, e.g. Conv2d(1, 6, kernel_size=(5, 5)). */
  abstract describe(): string;
}

/**
 * A reshape that takes over `t`'s storage instead of viewing it: disposing the result frees the
 * buffer, so an op output reshaped for the caller never leaks. `t` must not be used afterwards.
 */
export function reshapeOwned(t: Tensor, shape: readonly number[]): Tensor {
  if (t.isView) return t.reshape([...shape]);
  t.reshape([...shape]).dispose(); // validates the element count and t's state
  return new Tensor(t.engine, t.storage, shape, t.dtype);
}
