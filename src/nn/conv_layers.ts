// Conv2d and Linear layers. Linear runs as a 1×1 convolution on [N, in, 1, 1] views, so FC→conv
// conversion later is the very same math on the very same weights.
import { OptionError, ShapeError } from '../errors.js';
import {
  CONV2D_OPTIONS, checkOptions, conv2dGeometry, resolvePair, toLayerGeom,
  type Conv2dOptions, type LayerGeom, type PairOption, type PaddingOption,
} from '../geometry.js';
import { conv2d } from '../ops/conv.js';
import { conv2dGradBias, conv2dGradInput, conv2dGradWeight } from '../ops/conv_grad.js';
import type { Tensor } from '../tensor.js';
import { Layer, reshapeOwned, type BackwardInput, type LayerGradients, type LayerOutput, type ParamSpec } from './layer.js';

export interface Conv2dLayerOptions {
  stride?: PairOption;
  padding?: PaddingOption;
  dilation?: PairOption;
  groups?: number;
  /** Learn a bias (default true, as torch). */
  bias?: boolean;
}

const CONV2D_LAYER_OPTIONS = [...CONV2D_OPTIONS.filter((o) => o !== 'activation'), 'bias'];

function checkCount(op: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new OptionError(`${op}: ${name} must be an integer >= 1, got ${String(value)}`);
  }
  return value;
}

function checkBiasFlag(op: string, value: unknown): boolean {
  if (value === undefined) return true;
  if (typeof value !== 'boolean') throw new OptionError(`${op}: bias must be true or false, got ${String(value)}`);
  return value;
}

export class Conv2d extends Layer {
  readonly type = 'Conv2d';
  override readonly needsInput = true;
  readonly kernel: [number, number];
  readonly hasBias: boolean;
  /** The conv options passed to conv2d (no bias flag, no activation). */
  readonly convOptions: Conv2dOptions;

  constructor(readonly inChannels: number, readonly outChannels: number, kernel: PairOption, opts: Conv2dLayerOptions = {}) {
    super();
    const op = 'Conv2d';
    checkCount(op, 'inChannels', inChannels);
    checkCount(op, 'outChannels', outChannels);
    checkOptions(op, opts, CONV2D_LAYER_OPTIONS);
    this.kernel = resolvePair(op, 'kernel', kernel, 1, 1);
    this.hasBias = checkBiasFlag(op, opts.bias);
    const groups = checkCount(op, 'groups', opts.groups ?? 1);
    for (const [name, count] of [['inChannels', inChannels], ['outChannels', outChannels]] as const) {
      if (count % groups !== 0) throw new ShapeError(`${op}: groups ${groups} does not divide ${name} ${count}`);
    }
    const { bias: _bias, ...convOptions } = opts;
    this.convOptions = convOptions;
    // Everything but the input size is checkable now: run the geometry on an input the kernel fits.
    const extent = this.kernel.map((k, i) => resolvePair(op, 'dilation', opts.dilation, 1, 1)[i]! * (k - 1) + 1);
    conv2dGeometry(op, [1, inChannels, extent[0]!, extent[1]!], this.weightShape(), null, convOptions);
  }

  weightShape(): [number, number, number, number] {
    const groups = this.convOptions.groups ?? 1;
    return [this.outChannels, this.inChannels / groups, this.kernel[0], this.kernel[1]];
  }

  override paramSpecs(): ParamSpec[] {
    const w = this.weightShape();
    const fanIn = w[1] * w[2] * w[3];
    const specs: ParamSpec[] = [{ name: 'weight', shape: w, fanIn }];
    if (this.hasBias) specs.push({ name: 'bias', shape: [this.outChannels], fanIn });
    return specs;
  }

  private geometry(inShape: readonly number[]) {
    return conv2dGeometry('Conv2d', inShape, this.weightShape(), this.hasBias ? [this.outChannels] : null, this.convOptions);
  }

  outputShape(inShape: readonly number[]): number[] {
    return [...this.geometry(inShape).outputShape];
  }

  override receptive(inShape: readonly number[]): LayerGeom {
    return toLayerGeom(this.geometry(inShape));
  }

  forward(x: Tensor, _training: boolean, fused?: 'relu'): LayerOutput {
    const opts: Conv2dOptions = fused === 'relu' ? { ...this.convOptions, activation: 'relu' } : this.convOptions;
    return { y: conv2d(x, this.params[0]!, this.hasBias ? this.params[1]! : null, opts) };
  }

  backward(dy: Tensor, input: BackwardInput): LayerGradients {
    const weight = this.params[0]!;
    const dx = conv2dGradInput(dy, weight, input.xShape, this.convOptions);
    const grads = [conv2dGradWeight(dy, input.x!, weight.shape, this.convOptions)];
    if (this.hasBias) grads.push(conv2dGradBias(dy));
    return { dx, params: grads };
  }

  clone(): Conv2d {
    return new Conv2d(this.inChannels, this.outChannels, this.kernel, { ...this.convOptions, bias: this.hasBias });
  }

  describe(): string {
    const o = this.convOptions;
    const extra = [
      o.stride !== undefined ? `stride=${JSON.stringify(o.stride)}` : '',
      o.padding !== undefined ? `padding=${JSON.stringify(o.padding)}` : '',
      o.dilation !== undefined ? `dilation=${JSON.stringify(o.dilation)}` : '',
      o.groups !== undefined ? `groups=${o.groups}` : '',
      this.hasBias ? '' : 'bias=False',
    ].filter((s) => s !== '');
    return `Conv2d(${this.inChannels}, ${this.outChannels}, kernel_size=(${this.kernel.join(', ')})${extra.map((s) => `, ${s}`).join('')})`;
  }
}

export interface LinearOptions {
  /** Learn a bias (default true, as torch). */
  bias?: boolean;
}

/** y = x W^T + b with W torch's [out, in]; x is [N, in]. */
export class Linear extends Layer {
  readonly type = 'Linear';
  override readonly needsInput = true;
  readonly hasBias: boolean;

  constructor(readonly inFeatures: number, readonly outFeatures: number, opts: LinearOptions = {}) {
    super();
    checkCount('Linear', 'inFeatures', inFeatures);
    checkCount('Linear', 'outFeatures', outFeatures);
    checkOptions('Linear', opts, ['bias']);
    this.hasBias = checkBiasFlag('Linear', opts.bias);
  }

  override paramSpecs(): ParamSpec[] {
    const specs: ParamSpec[] = [{ name: 'weight', shape: [this.outFeatures, this.inFeatures], fanIn: this.inFeatures }];
    if (this.hasBias) specs.push({ name: 'bias', shape: [this.outFeatures], fanIn: this.inFeatures });
    return specs;
  }

  outputShape(inShape: readonly number[]): number[] {
    if (inShape.length !== 2) {
      throw new ShapeError(`Linear: input must be [N, ${this.inFeatures}] (put a Flatten before it), got shape [${inShape.join(', ')}]`);
    }
    if (inShape[1] !== this.inFeatures) {
      throw new ShapeError(`Linear: input [${inShape.join(', ')}] has ${inShape[1]} features, but this Linear expects in = ${this.inFeatures}`);
    }
    return [inShape[0]!, this.outFeatures];
  }

  /** The weight as a 1×1 conv kernel [out, in, 1, 1] (a view). */
  private weight4(): Tensor {
    return this.params[0]!.reshape([this.outFeatures, this.inFeatures, 1, 1]);
  }

  forward(x: Tensor, _training: boolean, fused?: 'relu'): LayerOutput {
    const N = this.outputShape(x.shape)[0]!;
    const x4 = x.reshape([N, this.inFeatures, 1, 1]);
    const y4 = conv2d(x4, this.weight4(), this.hasBias ? this.params[1]! : null, fused === 'relu' ? { activation: 'relu' } : {});
    return { y: reshapeOwned(y4, [N, this.outFeatures]) };
  }

  backward(dy: Tensor, input: BackwardInput): LayerGradients {
    const N = input.xShape[0]!;
    const dy4 = dy.reshape([N, this.outFeatures, 1, 1]);
    const weight4 = this.weight4();
    const dx4 = conv2dGradInput(dy4, weight4, [N, this.inFeatures, 1, 1], {});
    const grads = [conv2dGradWeight(dy4, input.x!.reshape([N, this.inFeatures, 1, 1]), weight4.shape, {})];
    if (this.hasBias) grads.push(conv2dGradBias(dy4));
    return { dx: reshapeOwned(dx4, [N, this.inFeatures]), params: grads };
  }

  clone(): Linear {
    return new Linear(this.inFeatures, this.outFeatures, { bias: this.hasBias });
  }

  describe(): string {
    return `Linear(in_features=${this.inFeatures}, out_features=${this.outFeatures}${this.hasBias ? '' : ', bias=False'})`;
  }
}
