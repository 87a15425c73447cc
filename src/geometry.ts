// Pure shape math and call-time validation for every op: padding resolution,
// output sizes, receptive fields, and the errors (with their numbers) that
// API.md promises. No GPU here; ops call these before allocating anything.
import { OptionError, ShapeError } from './errors.js';

export type Pair = [number, number];
/** [top, left, bottom, right], ONNX order. */
export type Padding4 = [number, number, number, number];
export type Shape4 = [number, number, number, number];
/** A scalar applies to both spatial axes; a pair is [h, w]. */
export type PairOption = number | Readonly<Pair>;
export type PaddingOption = number | Readonly<Pair> | Readonly<Padding4> | 'same' | 'valid';

// ---------------------------------------------------------------- formatting

/** A user value as it should read in a message: 1.5, [1, 2], 'same', undefined. */
function show(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(show).join(', ')}]`;
  if (typeof value === 'string') return `'${value}'`;
  if (ArrayBuffer.isView(value)) return `${value.constructor.name}(${(value as Int32Array).length})`;
  if (value !== null && typeof value === 'object') {
    try { return JSON.stringify(value); } catch { return String(value); }
  }
  return String(value);
}

/** A computed number, two decimals at most: 2.33, 3. */
function dec(x: number): string {
  return Number.isInteger(x) ? String(x) : String(Number(x.toFixed(2)));
}

const AXES = ['height', 'width'] as const;

// ------------------------------------------------------------ option checks

/** Throws OptionError for a non-object or any key outside `allowed` (a typo never passes silently). */
export function checkOptions(op: string, opts: unknown, allowed: readonly string[]): void {
  if (opts === undefined) return;
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) {
    throw new OptionError(`${op}: options must be an object with keys ${allowed.join(', ')}; got ${show(opts)}`);
  }
  for (const key of Object.keys(opts)) {
    if (allowed.includes(key)) continue;
    const near = nearestName(key, allowed);
    const hint = near === null ? '' : ` (did you mean '${near}'?)`;
    throw new OptionError(`${op}: unknown option '${key}'${hint}; allowed options: ${allowed.join(', ')}`);
  }
}

/** The allowed name within edit distance 2 of `key`, for "did you mean". */
function nearestName(key: string, allowed: readonly string[]): string | null {
  let best: string | null = null;
  let bestDistance = 3;
  for (const name of allowed) {
    const distance = editDistance(key.toLowerCase(), name.toLowerCase());
    if (distance < bestDistance) [best, bestDistance] = [name, distance];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/** An integer option value >= min; `whole` is what the user passed, for the message. */
function checkIntOption(op: string, name: string, value: unknown, min: number, whole: unknown = value): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    const what = whole === value ? show(value) : `${show(whole)} (element ${show(value)})`;
    throw new OptionError(`${op}: ${name} must be an integer >= ${min}, got ${what}`);
  }
  return value;
}

/** A scalar or [h, w] option as a pair of integers >= min; `dflt` when not given. */
export function resolvePair(
  op: string, name: string, value: number | Readonly<Pair> | undefined, dflt: number, min: number,
): Pair {
  if (value === undefined) return [dflt, dflt];
  if (typeof value === 'number') {
    const v = checkIntOption(op, name, value, min);
    return [v, v];
  }
  if (!Array.isArray(value) || value.length !== 2) {
    throw new OptionError(`${op}: ${name} must be an integer or a pair [h, w], got ${show(value)}`);
  }
  return [checkIntOption(op, name, value[0], min, value), checkIntOption(op, name, value[1], min, value)];
}

function resolveBoolean(op: string, name: string, value: unknown, dflt: boolean): boolean {
  if (value === undefined) return dflt;
  if (typeof value !== 'boolean') throw new OptionError(`${op}: ${name} must be true or false, got ${show(value)}`);
  return value;
}

/** Lp norm order: finite and > 0 (API.md), default 2. */
export function resolveLpNorm(op: string, p: unknown, name = 'p'): number {
  if (p === undefined) return 2;
  if (typeof p !== 'number' || !Number.isFinite(p) || p <= 0) {
    throw new OptionError(`${op}: ${name} must be a finite number > 0, got ${show(p)}`);
  }
  return p;
}

// ------------------------------------------------------------- shape checks

/** Throws ShapeError unless `shape` is an array of integers >= 1 (of rank `rank` when given). */
export function checkShape(op: string, argName: string, shape: unknown, rank?: number): asserts shape is readonly number[] {
  if (!Array.isArray(shape)) throw new ShapeError(`${op}: ${argName} must be a shape array, got ${show(shape)}`);
  if (rank !== undefined && shape.length !== rank) {
    throw new ShapeError(`${op}: ${argName} must have rank ${rank}, got rank ${shape.length}: ${show(shape)}`);
  }
  shape.forEach((size: unknown, dim) => {
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 1) {
      throw new ShapeError(`${op}: ${argName} ${show(shape)} has size ${show(size)} at dim ${dim}; sizes must be integers >= 1`);
    }
  });
}

/** Throws ShapeError unless the two shapes are equal. */
export function checkSameShape(op: string, aName: string, a: readonly number[], bName: string, b: readonly number[]): void {
  if (a.length !== b.length || a.some((size, i) => size !== b[i])) {
    throw new ShapeError(`${op}: ${aName} ${show(a)} and ${bName} ${show(b)} must have the same shape`);
  }
}

/** A gradient's dy (or a saved y) must be exactly the forward output. */
function checkForwardOutput(op: string, name: string, shape: unknown, expected: readonly number[], from: string): void {
  checkShape(op, name, shape, expected.length);
  if (shape.some((size, i) => size !== expected[i])) {
    throw new ShapeError(`${op}: ${name} has shape ${show(shape)}, but the forward output for ${from} is ${show(expected)}`);
  }
}

function checkBias(op: string, biasShape: readonly number[] | null | undefined, cout: number): void {
  if (biasShape === null || biasShape === undefined) return;
  checkShape(op, 'bias', biasShape, 1);
  if (biasShape[0] !== cout) {
    throw new ShapeError(`${op}: bias ${show(biasShape)} must have shape [${cout}] (one value per output channel)`);
  }
}

// ---------------------------------------------------------- size arithmetic

/**
 * Output length of a sliding window along one axis:
 * out = floor((in + pB + pE - d*(k-1) - 1) / s) + 1. Ceil mode uses ceil, then drops
 * a last window that starts at or beyond in + pB (PyTorch). Meaningful only when
 * the dilated kernel fits the padded input.
 */
export function convOutputSize(
  inSize: number, padBegin: number, padEnd: number, kernel: number, stride: number, dilation: number,
  ceilMode = false,
): number {
  const span = inSize + padBegin + padEnd - dilation * (kernel - 1) - 1;
  if (!ceilMode) return Math.floor(span / stride) + 1;
  let out = Math.ceil(span / stride) + 1;
  if ((out - 1) * stride >= inSize + padBegin) out -= 1; // the last window may not start in the right padding
  return out;
}

/** SAME_UPPER along one axis: out = ceil(in/s); total pad to reach it, the extra one at the end. */
export function samePadding(inSize: number, kernel: number, stride: number, dilation: number): Pair {
  const out = Math.ceil(inSize / stride);
  const total = Math.max((out - 1) * stride + dilation * (kernel - 1) + 1 - inSize, 0);
  const begin = Math.floor(total / 2);
  return [begin, total - begin];
}

/** number | [h, w] | [t, l, b, r] | 'valid' as [t, l, b, r]; 'same' passes through for the caller. */
function parsePadding(op: string, value: unknown): Padding4 | 'same' {
  if (value === undefined || value === 'valid') return [0, 0, 0, 0];
  if (value === 'same') return 'same';
  if (typeof value === 'number') {
    const v = checkIntOption(op, 'padding', value, 0);
    return [v, v, v, v];
  }
  if (Array.isArray(value) && (value.length === 2 || value.length === 4)) {
    const sides = value.map((side: unknown) => checkIntOption(op, 'padding', side, 0, value));
    return (sides.length === 2 ? [sides[0], sides[1], sides[0], sides[1]] : sides) as Padding4;
  }
  throw new OptionError(
    `${op}: padding must be an integer, [h, w], [top, left, bottom, right], 'same' or 'valid', got ${show(value)}`);
}

/** Resolves any padding form to [top, left, bottom, right]; `kernel` undilated, `dilation` separate. */
export function resolvePadding(
  op: string, value: PaddingOption | undefined, inSize: Readonly<Pair>, kernel: Readonly<Pair>,
  stride: Readonly<Pair>, dilation: Readonly<Pair>,
): Padding4 {
  const parsed = parsePadding(op, value);
  if (parsed !== 'same') return parsed;
  const [top, bottom] = samePadding(inSize[0], kernel[0], stride[0], dilation[0]);
  const [left, right] = samePadding(inSize[1], kernel[1], stride[1], dilation[1]);
  return [top, left, bottom, right];
}

/** ShapeError when the dilated kernel is longer than the padded input along one axis. */
function checkKernelFits(
  op: string, kernelLabel: string, inputLabel: string, inSize: number, kernel: number, dilation: number,
  padBegin: number, padEnd: number, stride: number,
): void {
  const extent = dilation * (kernel - 1) + 1;
  const padded = inSize + padBegin + padEnd;
  if (extent <= padded) return;
  const dilated = dilation > 1 ? ` (dilation ${dilation}: extent ${extent})` : '';
  const out = (padded - extent) / stride + 1;
  throw new ShapeError(
    `${op}: ${kernelLabel} ${kernel}${dilated} is larger than the padded ${inputLabel} ` +
    `${inSize} + ${padBegin} + ${padEnd} = ${padded}: (${padded} - ${extent}) / ${stride} + 1 = ${dec(out)} < 1`);
}

/** Index of the first window whose taps all fall in padding, or -1 (a max pool would emit -Infinity there). */
function firstEmptyWindow(
  inSize: number, padBegin: number, kernel: number, stride: number, dilation: number, out: number,
): number {
  for (let j = 0; j < out; j++) {
    const start = j * stride;
    const firstTapInside = Math.max(0, Math.ceil((padBegin - start) / dilation));
    const holdsInput = firstTapInside <= kernel - 1 && start + firstTapInside * dilation <= padBegin + inSize - 1;
    if (!holdsInput) return j;
  }
  return -1;
}

function checkWindowsHoldInput(
  op: string, axis: string, inSize: number, padBegin: number, padEnd: number, kernel: number,
  stride: number, dilation: number, out: number, kernelName = 'kernel',
): void {
  const empty = firstEmptyWindow(inSize, padBegin, kernel, stride, dilation, out);
  if (empty < 0) return;
  throw new ShapeError(
    `${op}: window ${empty} along ${axis} holds no input element (it starts at padded position ` +
    `${empty * stride}; input ${axis} ${inSize}, padding ${padBegin} + ${padEnd}, ${kernelName} ${kernel}, ` +
    `stride ${stride}, dilation ${dilation}); every window must hold at least one input element`);
}

// -------------------------------------------------------------- convolution

export interface Conv2dOptions {
  stride?: PairOption; padding?: PaddingOption; dilation?: PairOption; groups?: number;
  activation?: 'none' | 'relu';
}

export interface ConvTranspose2dOptions {
  stride?: PairOption; padding?: number | Readonly<Pair> | Readonly<Padding4> | 'valid';
  outputPadding?: PairOption; dilation?: PairOption; groups?: number;
}

export interface Conv2dGeometry {
  N: number; Cin: number; H: number; W: number; Cout: number;
  groups: number; cinPerGroup: number; coutPerGroup: number;
  kH: number; kW: number; strideH: number; strideW: number; dilationH: number; dilationW: number;
  padTop: number; padLeft: number; padBottom: number; padRight: number;
  outH: number; outW: number; relu: boolean; outputShape: Shape4;
}

export interface ConvTranspose2dGeometry extends Conv2dGeometry { outPadH: number; outPadW: number }

export const CONV2D_OPTIONS = ['stride', 'padding', 'dilation', 'groups', 'activation'] as const;
export const CONV_TRANSPOSE2D_OPTIONS = ['stride', 'padding', 'outputPadding', 'dilation', 'groups'] as const;

function resolveActivation(op: string, value: unknown): boolean {
  if (value === undefined || value === 'none') return false;
  if (value === 'relu') return true;
  throw new OptionError(`${op}: activation must be 'none' or 'relu', got ${show(value)}`);
}

/** groups must divide both channel counts; `cinName`/`coutName` say where each comes from. */
function checkGroups(op: string, groups: number, cin: number, cinName: string, cout: number, coutName: string): void {
  if (cin % groups !== 0) {
    throw new ShapeError(`${op}: groups ${groups} does not divide the ${cin} input channels (${cinName})`);
  }
  if (cout % groups !== 0) {
    throw new ShapeError(`${op}: groups ${groups} does not divide the ${cout} output channels (${coutName})`);
  }
}

/** Forward conv geometry; `xName` lets gradients name their inputShape argument. */
function convGeometry(
  op: string, xShape: unknown, wShape: unknown, biasShape: readonly number[] | null | undefined,
  opts: Conv2dOptions | undefined, xName: string,
): Conv2dGeometry {
  checkOptions(op, opts, CONV2D_OPTIONS);
  const o: Conv2dOptions = opts ?? {};
  const stride = resolvePair(op, 'stride', o.stride, 1, 1);
  const dilation = resolvePair(op, 'dilation', o.dilation, 1, 1);
  const groups = checkIntOption(op, 'groups', o.groups ?? 1, 1);
  const relu = resolveActivation(op, o.activation);
  checkShape(op, xName, xShape, 4);
  checkShape(op, 'weight', wShape, 4);
  const [N, Cin, H, W] = xShape as Shape4;
  const [Cout, cinPerGroup, kH, kW] = wShape as Shape4;
  checkGroups(op, groups, Cin, `${xName}[1]`, Cout, `weight[0]`);
  if (Cin !== cinPerGroup * groups) {
    throw new ShapeError(`${op}: ${xName} has ${Cin} channels, but weight ${show(wShape)} with groups ${groups} ` +
      `expects weight[1] * groups = ${cinPerGroup} * ${groups} = ${cinPerGroup * groups}`);
  }
  checkBias(op, biasShape, Cout);
  const [padTop, padLeft, padBottom, padRight] = resolvePadding(op, o.padding, [H, W], [kH, kW], stride, dilation);
  checkKernelFits(op, 'kernel height', 'input height', H, kH, dilation[0], padTop, padBottom, stride[0]);
  checkKernelFits(op, 'kernel width', 'input width', W, kW, dilation[1], padLeft, padRight, stride[1]);
  const outH = convOutputSize(H, padTop, padBottom, kH, stride[0], dilation[0]);
  const outW = convOutputSize(W, padLeft, padRight, kW, stride[1], dilation[1]);
  return {
    N, Cin, H, W, Cout, groups, cinPerGroup, coutPerGroup: Cout / groups, kH, kW,
    strideH: stride[0], strideW: stride[1], dilationH: dilation[0], dilationW: dilation[1],
    padTop, padLeft, padBottom, padRight, outH, outW, relu, outputShape: [N, Cout, outH, outW],
  };
}

/** conv2d: x [N, Cin, H, W], weight OIHW [Cout, Cin/groups, kH, kW], bias [Cout] or null. */
export function conv2dGeometry(
  op: string, xShape: readonly number[], wShape: readonly number[], biasShape: readonly number[] | null,
  opts?: Conv2dOptions,
): Conv2dGeometry {
  return convGeometry(op, xShape, wShape, biasShape, opts, 'x');
}

/** Transposed conv: weight [Cin, Cout/groups, kH, kW]; padding crops the full output. */
export function convTranspose2dGeometry(
  op: string, xShape: readonly number[], wShape: readonly number[], biasShape: readonly number[] | null,
  opts?: ConvTranspose2dOptions, xName = 'x',
): ConvTranspose2dGeometry {
  checkOptions(op, opts, CONV_TRANSPOSE2D_OPTIONS);
  const o: ConvTranspose2dOptions = opts ?? {};
  const stride = resolvePair(op, 'stride', o.stride, 1, 1);
  const dilation = resolvePair(op, 'dilation', o.dilation, 1, 1);
  const groups = checkIntOption(op, 'groups', o.groups ?? 1, 1);
  const outPad = resolvePair(op, 'outputPadding', o.outputPadding, 0, 0);
  const padding = parsePadding(op, o.padding);
  if (padding === 'same') {
    throw new OptionError(`${op}: padding 'same' is not supported for a transposed convolution; ` +
      `give explicit padding (number, [h, w] or [top, left, bottom, right]) or 'valid'`);
  }
  for (const i of [0, 1] as const) {
    const limit = Math.max(stride[i], dilation[i]);
    if (outPad[i] >= limit) {
      throw new OptionError(`${op}: outputPadding ${show(o.outputPadding)} must be < max(stride ${stride[i]}, ` +
        `dilation ${dilation[i]}) = ${limit} along ${AXES[i]}, got ${outPad[i]}`);
    }
  }
  checkShape(op, xName, xShape, 4);
  checkShape(op, 'weight', wShape, 4);
  const [N, Cin, H, W] = xShape as Shape4;
  const [weightCin, coutPerGroup, kH, kW] = wShape as Shape4;
  if (weightCin !== Cin) {
    throw new ShapeError(`${op}: ${xName} has ${Cin} channels, but weight ${show(wShape)} ` +
      `([Cin, Cout/groups, kH, kW]) has weight[0] = ${weightCin}`);
  }
  checkGroups(op, groups, Cin, `${xName}[1]`, coutPerGroup * groups, 'weight[1] * groups');
  const Cout = coutPerGroup * groups;
  checkBias(op, biasShape, Cout);
  const [padTop, padLeft, padBottom, padRight] = padding;
  const outH = transposedOutputSize(op, 'height', H, padTop, padBottom, kH, stride[0], dilation[0], outPad[0]);
  const outW = transposedOutputSize(op, 'width', W, padLeft, padRight, kW, stride[1], dilation[1], outPad[1]);
  return {
    N, Cin, H, W, Cout, groups, cinPerGroup: Cin / groups, coutPerGroup, kH, kW,
    strideH: stride[0], strideW: stride[1], dilationH: dilation[0], dilationW: dilation[1],
    padTop, padLeft, padBottom, padRight, outH, outW, relu: false, outputShape: [N, Cout, outH, outW],
    outPadH: outPad[0], outPadW: outPad[1],
  };
}

/** out = (in-1)*s - pB - pE + d*(k-1) + outputPadding + 1, which the crop must leave >= 1. */
function transposedOutputSize(
  op: string, axis: string, inSize: number, padBegin: number, padEnd: number, kernel: number,
  stride: number, dilation: number, outPad: number,
): number {
  const out = (inSize - 1) * stride - padBegin - padEnd + dilation * (kernel - 1) + outPad + 1;
  if (out < 1) {
    throw new ShapeError(`${op}: padding ${padBegin} + ${padEnd} crops away the whole output ${axis}: ` +
      `(${inSize} - 1) * ${stride} - ${padBegin} - ${padEnd} + ${dilation} * (${kernel} - 1) + ${outPad} + 1 = ${out} < 1`);
  }
  return out;
}

/** A gradient takes the forward's options, but not its fused activation: dy must already be through reluGrad. */
function withoutActivation(op: string, opts: Conv2dOptions | undefined): Conv2dOptions | undefined {
  if (opts === undefined || opts === null || typeof opts !== 'object' || opts.activation !== 'relu') return opts;
  throw new OptionError(`${op}: activation 'relu' is not part of this gradient; apply reluGrad to dy first ` +
    `and pass activation 'none' or leave it out`);
}

/** torch.nn.grad.conv2d_input: the forward from inputShape and weight must output dy's shape. */
export function conv2dGradInputGeometry(
  dyShape: readonly number[], wShape: readonly number[], inputShape: readonly number[], opts?: Conv2dOptions,
): Conv2dGeometry {
  const op = 'conv2dGradInput';
  const g = convGeometry(op, inputShape, wShape, null, withoutActivation(op, opts), 'inputShape');
  checkForwardOutput(op, 'dy', dyShape, g.outputShape, `inputShape ${show(inputShape)} and weight ${show(wShape)}`);
  return g;
}

/** torch.nn.grad.conv2d_weight: the forward from x and weightShape must output dy's shape. */
export function conv2dGradWeightGeometry(
  dyShape: readonly number[], xShape: readonly number[], weightShape: readonly number[], opts?: Conv2dOptions,
): Conv2dGeometry {
  const op = 'conv2dGradWeight';
  const g = convGeometry(op, xShape, weightShape, null, withoutActivation(op, opts), 'x');
  checkForwardOutput(op, 'dy', dyShape, g.outputShape, `x ${show(xShape)} and weightShape ${show(weightShape)}`);
  return g;
}

export function convTranspose2dGradInputGeometry(
  dyShape: readonly number[], wShape: readonly number[], inputShape: readonly number[], opts?: ConvTranspose2dOptions,
): ConvTranspose2dGeometry {
  const op = 'convTranspose2dGradInput';
  const g = convTranspose2dGeometry(op, inputShape, wShape, null, opts, 'inputShape');
  checkForwardOutput(op, 'dy', dyShape, g.outputShape, `inputShape ${show(inputShape)} and weight ${show(wShape)}`);
  return g;
}

export function convTranspose2dGradWeightGeometry(
  dyShape: readonly number[], xShape: readonly number[], weightShape: readonly number[], opts?: ConvTranspose2dOptions,
): ConvTranspose2dGeometry {
  const op = 'convTranspose2dGradWeight';
  const g = convTranspose2dGeometry(op, xShape, weightShape, null, opts);
  checkForwardOutput(op, 'dy', dyShape, g.outputShape, `x ${show(xShape)} and weightShape ${show(weightShape)}`);
  return g;
}

/** conv2dGradBias(dy): dy is any [N, C, H, W]; the result is [C]. */
export function conv2dGradBiasGeometry(dyShape: readonly number[]): { N: number; C: number; H: number; W: number } {
  checkShape('conv2dGradBias', 'dy', dyShape, 4);
  const [N, C, H, W] = dyShape as Shape4;
  return { N, C, H, W };
}

// ----------------------------------------------------------------- 2-D pools

export interface PoolWindowOptions {
  kernel?: PairOption; stride?: PairOption; padding?: PaddingOption; dilation?: PairOption; ceilMode?: boolean;
}
export interface MaxPool2dOptions extends PoolWindowOptions { kernel: PairOption }
export interface AvgPool2dOptions extends PoolWindowOptions {
  kernel: PairOption; countIncludePad?: boolean; divisorOverride?: number;
}
export interface LpPool2dOptions extends PoolWindowOptions { kernel: PairOption; p?: number }

export interface PoolGeometry {
  N: number; C: number; H: number; W: number;
  kH: number; kW: number; strideH: number; strideW: number; dilationH: number; dilationW: number;
  padTop: number; padLeft: number; padBottom: number; padRight: number;
  outH: number; outW: number; ceilMode: boolean; outputShape: Shape4;
}
export interface AvgPoolGeometry extends PoolGeometry { countIncludePad: boolean; divisorOverride: number | null }
export interface LpPoolGeometry extends PoolGeometry { p: number }

export const MAX_POOL2D_OPTIONS = ['kernel', 'stride', 'padding', 'dilation', 'ceilMode'] as const;
export const AVG_POOL2D_OPTIONS = ['kernel', 'stride', 'padding', 'ceilMode', 'countIncludePad', 'divisorOverride'] as const;
export const LP_POOL2D_OPTIONS = ['p', 'kernel', 'stride', 'padding', 'ceilMode'] as const;

/**
 * The window part shared by every 2-D pool: checks `opts` against `allowed`, resolves
 * kernel (required), stride (default kernel), padding, dilation, ceilMode. Each
 * padding side must be < the dilated kernel extent and every window must hold an input element.
 */
export function poolGeometry(
  op: string, xShape: readonly number[], opts: PoolWindowOptions | undefined, allowed: readonly string[],
): PoolGeometry {
  checkOptions(op, opts, allowed);
  if (opts === undefined || opts.kernel === undefined) {
    throw new OptionError(`${op}: option 'kernel' is required (an integer or [h, w]); options are ${allowed.join(', ')}`);
  }
  const kernel = resolvePair(op, 'kernel', opts.kernel, 1, 1);
  const stride = opts.stride === undefined ? kernel : resolvePair(op, 'stride', opts.stride, 1, 1);
  const dilation = resolvePair(op, 'dilation', opts.dilation, 1, 1);
  const ceilMode = resolveBoolean(op, 'ceilMode', opts.ceilMode, false);
  checkShape(op, 'x', xShape, 4);
  const [N, C, H, W] = xShape as Shape4;
  const pad = resolvePadding(op, opts.padding, [H, W], kernel, stride, dilation);
  const inSize: Pair = [H, W];
  const out: number[] = [];
  for (const i of [0, 1] as const) {
    const [padBegin, padEnd] = [pad[i], pad[i + 2]!];
    checkPoolPadding(op, AXES[i], padBegin, padEnd, kernel[i], dilation[i], opts.padding);
    checkKernelFits(op, `kernel ${AXES[i]}`, `input ${AXES[i]}`, inSize[i], kernel[i], dilation[i], padBegin, padEnd, stride[i]);
    const size = convOutputSize(inSize[i], padBegin, padEnd, kernel[i], stride[i], dilation[i], ceilMode);
    checkWindowsHoldInput(op, AXES[i], inSize[i], padBegin, padEnd, kernel[i], stride[i], dilation[i], size);
    out.push(size);
  }
  const [outH, outW] = out as Pair;
  return {
    N, C, H, W, kH: kernel[0], kW: kernel[1], strideH: stride[0], strideW: stride[1],
    dilationH: dilation[0], dilationW: dilation[1],
    padTop: pad[0], padLeft: pad[1], padBottom: pad[2], padRight: pad[3],
    outH, outW, ceilMode, outputShape: [N, C, outH, outW],
  };
}

/** A pool's padding side must be < the dilated kernel extent (else a window could sit wholly in padding). */
function checkPoolPadding(
  op: string, axis: string, padBegin: number, padEnd: number, kernel: number, dilation: number, given: unknown,
): void {
  const extent = dilation * (kernel - 1) + 1;
  for (const side of [padBegin, padEnd]) {
    if (side >= extent) {
      throw new OptionError(`${op}: padding ${show(given)} has a side of ${side} along ${axis}, but each side must be < ` +
        `the dilated kernel extent ${dilation} * (${kernel} - 1) + 1 = ${extent}`);
    }
  }
}

/** maxPool2d / maxPool2dWithIndices: kernel, stride, padding, dilation, ceilMode. */
export function maxPoolGeometry(xShape: readonly number[], opts: MaxPool2dOptions, op = 'maxPool2d'): PoolGeometry {
  return poolGeometry(op, xShape, opts, MAX_POOL2D_OPTIONS);
}

/** avgPool2d: no dilation; countIncludePad (default true); divisorOverride a positive integer or absent. */
export function avgPoolGeometry(xShape: readonly number[], opts: AvgPool2dOptions, op = 'avgPool2d'): AvgPoolGeometry {
  const g = poolGeometry(op, xShape, opts, AVG_POOL2D_OPTIONS);
  const countIncludePad = resolveBoolean(op, 'countIncludePad', opts.countIncludePad, true);
  const divisorOverride = opts.divisorOverride === undefined
    ? null : checkIntOption(op, 'divisorOverride', opts.divisorOverride, 1);
  return { ...g, countIncludePad, divisorOverride };
}

/** lpPool2d: no dilation; p finite > 0, default 2. */
export function lpPoolGeometry(xShape: readonly number[], opts: LpPool2dOptions, op = 'lpPool2d'): LpPoolGeometry {
  const g = poolGeometry(op, xShape, opts, LP_POOL2D_OPTIONS);
  return { ...g, p: resolveLpNorm(op, opts.p) };
}

/** maxPool2dGrad(dy, indices, inputShape): indices match dy; N and C match the input. */
export function maxPoolGradGeometry(
  dyShape: readonly number[], indicesShape: readonly number[], inputShape: readonly number[],
): { N: number; C: number; H: number; W: number; outH: number; outW: number; inputShape: Shape4 } {
  const op = 'maxPool2dGrad';
  checkShape(op, 'dy', dyShape, 4);
  checkShape(op, 'indices', indicesShape, 4);
  checkShape(op, 'inputShape', inputShape, 4);
  checkSameShape(op, 'dy', dyShape, 'indices', indicesShape);
  const [N, C, H, W] = inputShape as Shape4;
  if (dyShape[0] !== N || dyShape[1] !== C) {
    throw new ShapeError(`${op}: dy ${show(dyShape)} and inputShape ${show(inputShape)} must agree on N and C`);
  }
  return { N, C, H, W, outH: dyShape[2]!, outW: dyShape[3]!, inputShape: [N, C, H, W] };
}

export function avgPoolGradGeometry(
  dyShape: readonly number[], inputShape: readonly number[], opts: AvgPool2dOptions,
): AvgPoolGeometry {
  const op = 'avgPool2dGrad';
  const g = avgPoolGeometry(inputShape, opts, op);
  checkForwardOutput(op, 'dy', dyShape, g.outputShape, `inputShape ${show(inputShape)}`);
  return g;
}

/** lpPool2dGrad(dy, x, y, opts): dy and y are both the forward output. */
export function lpPoolGradGeometry(
  dyShape: readonly number[], xShape: readonly number[], yShape: readonly number[], opts: LpPool2dOptions,
): LpPoolGeometry {
  const op = 'lpPool2dGrad';
  const g = lpPoolGeometry(xShape, opts, op);
  checkForwardOutput(op, 'dy', dyShape, g.outputShape, `x ${show(xShape)}`);
  checkForwardOutput(op, 'y', yShape, g.outputShape, `x ${show(xShape)}`);
  return g;
}

// ------------------------------------------------------ channel and global

export interface ChannelLpPoolOptions { p?: number; size: number; stride?: number; padding?: number | Readonly<Pair> }
export interface ChannelPoolGeometry {
  N: number; C: number; H: number; W: number; p: number; size: number; stride: number;
  padBegin: number; padEnd: number; outC: number; outputShape: Shape4;
}
export const CHANNEL_LP_POOL_OPTIONS = ['p', 'size', 'stride', 'padding'] as const;

/** channelLpPool: windows of `size` along C; outC = floor((C + b + e - size) / stride) + 1. */
export function channelPoolGeometry(
  xShape: readonly number[], opts: ChannelLpPoolOptions, op = 'channelLpPool',
): ChannelPoolGeometry {
  checkOptions(op, opts, CHANNEL_LP_POOL_OPTIONS);
  if (opts === undefined || opts.size === undefined) {
    throw new OptionError(`${op}: option 'size' is required (an integer >= 1); options are ${CHANNEL_LP_POOL_OPTIONS.join(', ')}`);
  }
  const p = resolveLpNorm(op, opts.p);
  const size = checkIntOption(op, 'size', opts.size, 1);
  const stride = checkIntOption(op, 'stride', opts.stride ?? 1, 1);
  const [padBegin, padEnd] = resolvePair(op, 'padding', opts.padding, 0, 0);
  for (const side of [padBegin, padEnd]) {
    if (side >= size) {
      throw new OptionError(`${op}: padding ${show(opts.padding)} has a side of ${side}, but each side must be < size ${size}`);
    }
  }
  checkShape(op, 'x', xShape, 4);
  const [N, C, H, W] = xShape as Shape4;
  checkKernelFits(op, 'size', 'channel count', C, size, 1, padBegin, padEnd, stride);
  const outC = convOutputSize(C, padBegin, padEnd, size, stride, 1);
  checkWindowsHoldInput(op, 'channels', C, padBegin, padEnd, size, stride, 1, outC, 'size');
  return { N, C, H, W, p, size, stride, padBegin, padEnd, outC, outputShape: [N, outC, H, W] };
}

/** channelLpPoolGrad(dy, x, y, opts): dy and y are both the forward output. */
export function channelPoolGradGeometry(
  dyShape: readonly number[], xShape: readonly number[], yShape: readonly number[], opts: ChannelLpPoolOptions,
): ChannelPoolGeometry {
  const op = 'channelLpPoolGrad';
  const g = channelPoolGeometry(xShape, opts, op);
  checkForwardOutput(op, 'dy', dyShape, g.outputShape, `x ${show(xShape)}`);
  checkForwardOutput(op, 'y', yShape, g.outputShape, `x ${show(xShape)}`);
  return g;
}

export interface GlobalPoolGeometry { N: number; C: number; H: number; W: number; outputShape: Shape4 }

/** Global pools: x [N, C, H, W] -> [N, C, 1, 1]. */
export function globalPoolGeometry(op: string, xShape: readonly number[]): GlobalPoolGeometry {
  checkShape(op, 'x', xShape, 4);
  const [N, C, H, W] = xShape as Shape4;
  return { N, C, H, W, outputShape: [N, C, 1, 1] };
}

/** Global pool gradients: dy (and y, when given) must be [N, C, 1, 1] of the input. */
export function globalPoolGradGeometry(
  op: string, dyShape: readonly number[], inputShape: readonly number[], yShape?: readonly number[],
): GlobalPoolGeometry {
  const g = globalPoolGeometry(op, inputShape);
  checkForwardOutput(op, 'dy', dyShape, g.outputShape, `input ${show(inputShape)}`);
  if (yShape !== undefined) checkForwardOutput(op, 'y', yShape, g.outputShape, `input ${show(inputShape)}`);
  return g;
}

// ------------------------------------------------------- receptive fields

export interface LayerGeom { kernel: Pair; stride: Pair; dilation: Pair; padBegin: Pair }

/** The receptive-field view of a conv or pool geometry. */
export function toLayerGeom(g: Pick<PoolGeometry,
  'kH' | 'kW' | 'strideH' | 'strideW' | 'dilationH' | 'dilationW' | 'padTop' | 'padLeft'>): LayerGeom {
  return {
    kernel: [g.kH, g.kW], stride: [g.strideH, g.strideW],
    dilation: [g.dilationH, g.dilationW], padBegin: [g.padTop, g.padLeft],
  };
}

/** The identity: a layer that does not move, widen or subsample (ReLU, 1x1 conv). */
export function identityLayer(): LayerGeom {
  return { kernel: [1, 1], stride: [1, 1], dilation: [1, 1], padBegin: [0, 0] };
}

/**
 * Per axis, from input (rf 1, jump 1, offset 0 with pixel centres at integers):
 * rf += d*(k-1)*jump; offset += (d*(k-1)/2 - padBegin)*jump; jump *= s.
 * Output cell (i, j) is centred at offset + jump * (i, j) and sees rf input pixels.
 */
export function composeReceptiveField(layers: readonly LayerGeom[]): { receptiveField: Pair; jump: Pair; offset: Pair } {
  const receptiveField: Pair = [1, 1];
  const jump: Pair = [1, 1];
  const offset: Pair = [0, 0];
  for (const layer of layers) {
    for (const i of [0, 1] as const) {
      const span = layer.dilation[i] * (layer.kernel[i] - 1);
      receptiveField[i] += span * jump[i];
      offset[i] += (span / 2 - layer.padBegin[i]) * jump[i];
      jump[i] *= layer.stride[i];
    }
  }
  return { receptiveField, jump, offset };
}

// ------------------------------------------- softmax cross-entropy (loss, issue 7)

export interface SoftmaxCrossEntropyGeometry {
  N: number;
  /** Classes: the logits' axis 1. */
  K: number;
  /** H·W for [N, K, H, W] logits, 1 for [N, K]. */
  plane: number;
  /** Loss terms averaged: N·H·W. */
  count: number;
  /** [N] or [N, H, W]. */
  labelsShape: number[];
}

/** logits [N, K] or [N, K, H, W]; labels [N] or [N, H, W] (one class index per pixel). */
export function softmaxCrossEntropyGeometry(logitsShape: readonly number[], op = 'softmaxCrossEntropy'): SoftmaxCrossEntropyGeometry {
  checkShape(op, 'logits', logitsShape);
  if (logitsShape.length !== 2 && logitsShape.length !== 4) {
    throw new ShapeError(`${op}: logits must be [N, K] or [N, K, H, W], got rank ${logitsShape.length}: ${show(logitsShape)}`);
  }
  const [N, K] = logitsShape as Pair;
  const spatial = logitsShape.slice(2);
  const plane = spatial.reduce((a, b) => a * b, 1);
  return { N, K, plane, count: N * plane, labelsShape: [N, ...spatial] };
}

/** A labels tensor is checked for shape only (API.md): its values stay on the GPU. */
export function checkLabelsShape(op: string, labelsShape: readonly number[], g: SoftmaxCrossEntropyGeometry): void {
  if (labelsShape.length !== g.labelsShape.length || labelsShape.some((d, i) => d !== g.labelsShape[i])) {
    throw new ShapeError(`${op}: labels has shape ${show(labelsShape)}, but logits [N, K${g.labelsShape.length > 1 ? ', H, W' : ''}] need labels ${show(g.labelsShape)}`);
  }
}

/** Int32Array labels are checked at call time: one per pixel, each an index in [0, K). */
export function checkLabelValues(op: string, labels: Int32Array, g: SoftmaxCrossEntropyGeometry): void {
  if (labels.length !== g.count) {
    throw new ShapeError(`${op}: labels has ${labels.length} values, but logits need ${g.count} (${g.labelsShape.join(' x ')}, one class index per ${g.labelsShape.length > 1 ? 'pixel' : 'row'})`);
  }
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i]!;
    if (label < 0 || label >= g.K) {
      throw new OptionError(`${op}: labels[${i}] = ${label} is out of range: class indices are integers in [0, ${g.K - 1}] for K = ${g.K} classes`);
    }
  }
}
