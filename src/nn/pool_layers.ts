// Pooling layers: 2-D max / average / Lp pools and Lp pooling across channels.
import {
  AVG_POOL2D_OPTIONS, LP_POOL2D_OPTIONS, MAX_POOL2D_OPTIONS, avgPoolGeometry, channelPoolGeometry, checkOptions,
  lpPoolGeometry, maxPoolGeometry, toLayerGeom,
  type AvgPool2dOptions, type ChannelLpPoolOptions, type LayerGeom, type LpPool2dOptions, type MaxPool2dOptions,
} from '../geometry.js';
import {
  avgPool2d, avgPool2dGrad, lpPool2d, lpPool2dGrad, maxPool2d, maxPool2dGrad, maxPool2dWithIndices,
} from '../ops/pool.js';
import { channelLpPool, channelLpPoolGrad } from '../ops/channel_pool.js';
import type { Tensor } from '../tensor.js';
import { Layer, type BackwardInput, type LayerGradients, type LayerOutput } from './layer.js';

/** A plane the window certainly fits, to check options at construction (input sizes come later). */
const ROOMY = 4096;

function describeOptions(name: string, opts: object): string {
  const parts = Object.entries(opts).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  return `${name}(${parts.join(', ')})`;
}

export class MaxPool2d extends Layer {
  readonly type = 'MaxPool2d';

  constructor(readonly options: MaxPool2dOptions) {
    super();
    checkOptions('MaxPool2d', options, MAX_POOL2D_OPTIONS);
    maxPoolGeometry([1, 1, ROOMY, ROOMY], options, 'MaxPool2d');
  }

  outputShape(inShape: readonly number[]): number[] {
    return [...maxPoolGeometry(inShape, this.options, 'MaxPool2d').outputShape];
  }

  override receptive(inShape: readonly number[]): LayerGeom {
    return toLayerGeom(maxPoolGeometry(inShape, this.options, 'MaxPool2d'));
  }

  forward(x: Tensor, training: boolean): LayerOutput {
    if (!training) return { y: maxPool2d(x, this.options) };
    // Training keeps the argmax indices: the gradient router needs them, not x.
    const { output, indices } = maxPool2dWithIndices(x, this.options);
    return { y: output, saved: indices };
  }

  backward(dy: Tensor, input: BackwardInput): LayerGradients {
    return { dx: maxPool2dGrad(dy, input.saved!, input.xShape), params: [] };
  }

  clone(): MaxPool2d {
    return new MaxPool2d({ ...this.options });
  }

  describe(): string {
    return describeOptions('MaxPool2d', this.options);
  }
}

export class AvgPool2d extends Layer {
  readonly type = 'AvgPool2d';

  constructor(readonly options: AvgPool2dOptions) {
    super();
    checkOptions('AvgPool2d', options, AVG_POOL2D_OPTIONS);
    avgPoolGeometry([1, 1, ROOMY, ROOMY], options, 'AvgPool2d');
  }

  outputShape(inShape: readonly number[]): number[] {
    return [...avgPoolGeometry(inShape, this.options, 'AvgPool2d').outputShape];
  }

  override receptive(inShape: readonly number[]): LayerGeom {
    return toLayerGeom({ ...avgPoolGeometry(inShape, this.options, 'AvgPool2d') });
  }

  forward(x: Tensor): LayerOutput {
    return { y: avgPool2d(x, this.options) };
  }

  backward(dy: Tensor, input: BackwardInput): LayerGradients {
    return { dx: avgPool2dGrad(dy, input.xShape, this.options), params: [] };
  }

  clone(): AvgPool2d {
    return new AvgPool2d({ ...this.options });
  }

  describe(): string {
    return describeOptions('AvgPool2d', this.options);
  }
}

/** The lecture's Lp pooling, (Σ |x|^p)^(1/p) over each window (p = 2: L2 pooling). */
export class LpPool2d extends Layer {
  readonly type = 'LpPool2d';
  override readonly needsInput = true;
  override readonly needsOutput = true;

  constructor(readonly options: LpPool2dOptions) {
    super();
    checkOptions('LpPool2d', options, LP_POOL2D_OPTIONS);
    lpPoolGeometry([1, 1, ROOMY, ROOMY], options, 'LpPool2d');
  }

  outputShape(inShape: readonly number[]): number[] {
    return [...lpPoolGeometry(inShape, this.options, 'LpPool2d').outputShape];
  }

  override receptive(inShape: readonly number[]): LayerGeom {
    return toLayerGeom(lpPoolGeometry(inShape, this.options, 'LpPool2d'));
  }

  forward(x: Tensor): LayerOutput {
    return { y: lpPool2d(x, this.options) };
  }

  backward(dy: Tensor, input: BackwardInput): LayerGradients {
    return { dx: lpPool2dGrad(dy, input.x!, input.y!, this.options), params: [] };
  }

  clone(): LpPool2d {
    return new LpPool2d({ ...this.options });
  }

  describe(): string {
    return describeOptions('LpPool2d', this.options);
  }
}

/** Lp pooling over windows of channels at each pixel (L2 pooling over features). */
export class ChannelLpPool extends Layer {
  readonly type = 'ChannelLpPool';
  override readonly needsInput = true;
  override readonly needsOutput = true;

  constructor(readonly options: ChannelLpPoolOptions) {
    super();
    channelPoolGeometry([1, ROOMY, 1, 1], options, 'ChannelLpPool');
  }

  outputShape(inShape: readonly number[]): number[] {
    return [...channelPoolGeometry(inShape, this.options, 'ChannelLpPool').outputShape];
  }

  forward(x: Tensor): LayerOutput {
    return { y: channelLpPool(x, this.options) };
  }

  backward(dy: Tensor, input: BackwardInput): LayerGradients {
    return { dx: channelLpPoolGrad(dy, input.x!, input.y!, this.options), params: [] };
  }

  clone(): ChannelLpPool {
    return new ChannelLpPool({ ...this.options });
  }

  describe(): string {
    return describeOptions('ChannelLpPool', this.options);
  }
}
